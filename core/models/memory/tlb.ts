// Set-associative TLBs with ASID and VMID tags and LRU replacement, in typed arrays:
// a lookup is a few array reads and no allocation. `TwoLevelTlb` puts an L1 in front
// of an L2, sized from a host profile.

export class Tlb {
  readonly sets: number;
  /** sets − 1 when the set count is a power of two (index by mask), else −1 (by modulo). */
  private readonly mask: number;
  private readonly vpn: Float64Array;
  private readonly ctx: Int32Array;
  private readonly frame: Float64Array;
  private readonly stamp: Float64Array;
  private clock = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly entries: number,
    readonly ways: number,
  ) {
    this.sets = Math.max(1, Math.floor(entries / ways));
    this.mask = (this.sets & (this.sets - 1)) === 0 ? this.sets - 1 : -1;
    const n = this.sets * ways;
    this.vpn = new Float64Array(n).fill(-1);
    this.ctx = new Int32Array(n);
    this.frame = new Float64Array(n);
    this.stamp = new Float64Array(n);
  }

  /** The frame of (vpn, ctx), or -1; ctx packs the VMID and ASID. */
  private set(vpn: number): number {
    return (this.mask >= 0 && vpn < 2147483648 ? vpn & this.mask : vpn % this.sets) * this.ways;
  }

  lookup(vpn: number, ctx: number): number {
    // The set index inline (this is the per-access hot path): by mask when possible.
    const base = (this.mask >= 0 && vpn < 2147483648 ? vpn & this.mask : vpn % this.sets) * this.ways;
    const tags = this.vpn;
    const ctxs = this.ctx;
    for (let i = base, end = base + this.ways; i < end; i++) {
      if (tags[i] === vpn && ctxs[i] === ctx) {
        this.stamp[i] = ++this.clock;
        this.hits++;
        return this.frame[i];
      }
    }
    this.misses++;
    return -1;
  }

  insert(vpn: number, ctx: number, frame: number): void {
    const base = this.set(vpn);
    let victim = base;
    for (let i = base; i < base + this.ways; i++) {
      if (this.vpn[i] === -1) {
        victim = i;
        break;
      }
      if (this.stamp[i] < this.stamp[victim]) victim = i;
    }
    this.vpn[victim] = vpn;
    this.ctx[victim] = ctx;
    this.frame[victim] = frame;
    this.stamp[victim] = ++this.clock;
  }

  /** Drops every entry, or those of one context, or one page of one context. */
  flush(ctx = -1, vpn = -1): void {
    for (let i = 0; i < this.vpn.length; i++) {
      if ((ctx < 0 || this.ctx[i] === ctx) && (vpn < 0 || this.vpn[i] === vpn)) this.vpn[i] = -1;
    }
  }

  save(): { vpn: Float64Array; ctx: Int32Array; frame: Float64Array; stamp: Float64Array; clock: number; hits: number; misses: number } {
    return { vpn: this.vpn.slice(), ctx: this.ctx.slice(), frame: this.frame.slice(), stamp: this.stamp.slice(), clock: this.clock, hits: this.hits, misses: this.misses };
  }

  load(s: ReturnType<Tlb['save']>): void {
    this.vpn.set(s.vpn);
    this.ctx.set(s.ctx);
    this.frame.set(s.frame);
    this.stamp.set(s.stamp);
    this.clock = s.clock;
    this.hits = s.hits;
    this.misses = s.misses;
  }
}

export class TwoLevelTlb {
  readonly l1: Tlb;
  readonly l2: Tlb;

  constructor(l1: { entries: number; ways: number }, l2: { entries: number; ways: number }) {
    this.l1 = new Tlb(l1.entries, l1.ways);
    this.l2 = new Tlb(l2.entries, l2.ways);
  }

  /** 1 for an L1 hit, 2 for an L2 hit (refilling L1), 0 for a miss. */
  probe(vpn: number, ctx: number): number {
    if (this.l1.lookup(vpn, ctx) >= 0) return 1;
    const f = this.l2.lookup(vpn, ctx);
    if (f >= 0) {
      this.l1.insert(vpn, ctx, f);
      return 2;
    }
    return 0;
  }

  fill(vpn: number, ctx: number, frame: number): void {
    this.l2.insert(vpn, ctx, frame);
    this.l1.insert(vpn, ctx, frame);
  }

  flush(ctx = -1, vpn = -1): void {
    this.l1.flush(ctx, vpn);
    this.l2.flush(ctx, vpn);
  }
}
