// The MMU strategies. Each is a small class over the shared machinery of mmu.ts; the
// mmu.* plugins register them. Costs are in cycles; walks count memory references:
//   native       n (guest table walked by hardware)
//   nested       n + (n+1)·m: every guest entry address and the final guest-physical
//                address go through the host table (24 for 4+4, 35 for 5+5)
//   shadow       n on the shadow table; page-table writes and root switches are VM exits
//   ssp          n on the shadow table; no write protection: flushes trap to machine mode
//                and resynchronize the flushed range; a root buffer avoids exits on switches
//   compromis    n; guest-physical addresses are translated by base + offset (no walk)
//   softmmu      an inline software-TLB check on every access, a helper walk on a miss
//   btmmu        a guest-tagged host TLB; misses enter a dedicated exception handler that
//                walks shadow tables kept per guest root

import { BaseMmu, type GuestKernel, type MmuContext } from './mmu';
import { F_VALID, PAGE, RadixTable, WalkResult, type PhysicalMemory } from './paging';
import { Tlb } from './tlb';

export class NativeMmu extends BaseMmu {
  readonly name = 'native';

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      const f = this.guestFrame(vm, vpn);
      this.chargeWalk(vm, vpn, this.pwcRefs(vm, vpn, vm.levels));
      this.tlb.fill(vpn, this.tag(vm, vm.processes[vm.current].asid), f);
    }
    return this.stats.cycles - before;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    return this.guestFrame(vm, vpn);
  }
}

/** Hypervisor-side backing of guest-physical frames by host frames (a host page table). */
class Ept {
  readonly table: RadixTable;
  private readonly w = new WalkResult();
  constructor(
    private readonly host: PhysicalMemory,
    levels: 3 | 4 | 5,
    root = -1,
  ) {
    this.table = new RadixTable(host, levels, root);
  }
  /** The host frame of a guest frame, mapping it on first use (an EPT violation). */
  frame(gframe: number): number {
    let f = this.table.walk(gframe, this.w).frame;
    if (f < 0) {
      f = this.host.alloc();
      this.table.map(gframe, f, 0);
    }
    return f;
  }
}

export class NestedMmu extends BaseMmu {
  readonly name = 'nested-paging';
  private readonly epts = new Map<number, Ept>();
  private readonly ntlb: Tlb | null;
  private readonly gw = new WalkResult();

  constructor(ctx: MmuContext) {
    super(ctx);
    this.ntlb = ctx.nestedTlb ? new Tlb(Math.max(16, ctx.profile.tlb.pwcEntries * 8), 4) : null;
  }

  override attach(vm: GuestKernel): void {
    this.epts.set(vm.vmid, new Ept(this.host, this.ctx.profile.memory.pageTableLevels));
  }

  /** References to translate one guest-physical frame through the host table. */
  private hostRefs(vm: GuestKernel, gframe: number): number {
    if (this.ntlb) {
      if (this.ntlb.lookup(gframe, vm.vmid) >= 0) return 0;
      this.ntlb.insert(gframe, vm.vmid, 1);
    }
    return this.ctx.profile.memory.pageTableLevels;
  }

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      const proc = vm.processes[vm.current];
      proc.table.walk(vpn, this.gw);
      const ept = this.epts.get(vm.vmid)!;
      let refs = 0;
      const guestRefs = this.pwcRefs(vm, vpn, this.gw.refs);
      // Each guest entry read: translate its guest-physical address, then read it.
      for (let i = this.gw.refs - guestRefs; i < this.gw.refs; i++) refs += this.hostRefs(vm, Math.floor(this.gw.entryAddrs[i] / PAGE)) + 1;
      // The final guest-physical address.
      refs += this.hostRefs(vm, this.gw.frame);
      this.chargeWalk(vm, vpn, refs);
      this.tlb.fill(vpn, this.tag(vm, proc.asid), ept.frame(this.gw.frame));
    }
    return this.stats.cycles - before;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    const g = this.guestFrame(vm, vpn);
    return g < 0 ? -1 : this.epts.get(vm.vmid)!.frame(g);
  }

  protected override saveExtra(): unknown {
    return { epts: [...this.epts].map(([vmid, e]) => [vmid, e.table.root, e.table.levels]), ntlb: this.ntlb?.save() ?? null };
  }

  protected override loadExtra(extra: unknown): void {
    const x = extra as { epts: Array<[number, number, 3 | 4 | 5]>; ntlb: ReturnType<Tlb['save']> | null };
    this.epts.clear();
    for (const [vmid, root, levels] of x.epts) this.epts.set(vmid, new Ept(this.host, levels, root));
    if (this.ntlb && x.ntlb) this.ntlb.load(x.ntlb);
  }
}

/** Shadow tables (guest virtual → host frame) per guest process, shared by shadow, SSP and BTMMU. */
class ShadowTables {
  readonly tables = new Map<string, RadixTable>();
  constructor(
    private readonly owner: BaseMmu,
    private readonly host: PhysicalMemory,
    private readonly backing: (vm: GuestKernel, gframe: number) => number,
  ) {}

  table(vm: GuestKernel, asid: number): RadixTable {
    const key = `${vm.vmid}:${asid}`;
    let t = this.tables.get(key);
    if (!t) {
      t = new RadixTable(this.host, vm.levels);
      this.tables.set(key, t);
    }
    return t;
  }

  /** Re-reads the guest entry of vpn and writes the shadow entry; returns 1 if it synced one. */
  sync(vm: GuestKernel, p: number, vpn: number, w: WalkResult): number {
    const proc = vm.processes[p];
    const shadow = this.table(vm, proc.asid);
    proc.table.walk(vpn, w);
    if (w.frame < 0) {
      shadow.unmap(vpn);
      return 1;
    }
    shadow.map(vpn, this.backing(vm, w.frame), w.flags & ~F_VALID);
    return 1;
  }

  drop(vm: GuestKernel, asid: number): void {
    this.tables.delete(`${vm.vmid}:${asid}`);
    void this.owner;
  }

  save(): Array<[string, number, 3 | 4 | 5]> {
    return [...this.tables].map(([k, t]) => [k, t.root, t.levels]);
  }

  load(s: Array<[string, number, 3 | 4 | 5]>): void {
    this.tables.clear();
    for (const [k, root, levels] of s) this.tables.set(k, new RadixTable(this.host, levels, root));
  }
}

/** The hypervisor's guest-physical backing for shadow schemes: a fixed offset per VM. */
function identityBacking(vm: GuestKernel, gframe: number): number {
  return vm.vmid * (1 << 22) + gframe;
}

abstract class ShadowBase extends BaseMmu {
  protected readonly shadows: ShadowTables;
  protected readonly sw = new WalkResult();

  constructor(ctx: MmuContext) {
    super(ctx);
    this.shadows = new ShadowTables(this, this.host, identityBacking);
  }

  /** A TLB miss walks the shadow table; an entry missing there is a hidden fault. */
  protected shadowWalk(vm: GuestKernel, vpn: number, onHiddenFault: () => number): void {
    const proc = vm.processes[vm.current];
    const shadow = this.shadows.table(vm, proc.asid);
    shadow.walk(vpn, this.sw);
    let refs = this.pwcRefs(vm, vpn, vm.levels);
    let extra = 0;
    if (this.sw.frame < 0) {
      this.stats.hiddenFaults++;
      this.ctx.hooks.memory.pageFault.call({ vcpu: vm.vmid, va: vpn * 4096, access: 'read', kind: 'hidden' });
      extra += onHiddenFault();
      // The hypervisor walks the guest table in software and fills the shadow entry.
      refs += vm.levels;
      this.stats.syncs += this.shadows.sync(vm, vm.current, vpn, this.sw);
      shadow.walk(vpn, this.sw);
    }
    this.chargeWalk(vm, vpn, refs, extra);
    this.tlb.fill(vpn, this.tag(vm, proc.asid), this.sw.frame);
  }

  protected override saveExtra(): unknown {
    return { shadows: this.shadows.save() };
  }

  protected override loadExtra(extra: unknown): void {
    this.shadows.load((extra as { shadows: ReturnType<ShadowTables['save']> }).shadows);
  }

  resolve(vm: GuestKernel, vpn: number): number {
    const proc = vm.processes[vm.current];
    const shadow = this.shadows.table(vm, proc.asid);
    shadow.walk(vpn, this.sw);
    if (this.sw.frame < 0) {
      this.shadows.sync(vm, vm.current, vpn, this.sw);
      shadow.walk(vpn, this.sw);
    }
    return this.sw.frame;
  }
}

export class ShadowMmu extends ShadowBase {
  readonly name = 'shadow-paging';

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) this.shadowWalk(vm, vpn, () => this.vmExit(vm, 'hidden-fault'));
    return this.stats.cycles - before;
  }

  /** Guest page-table pages are write-protected: every write traps, and the hypervisor syncs the entry. */
  override ptWrite(vm: GuestKernel, gpas: readonly number[], p: number, vpns: readonly number[]): number {
    super.ptWrite(vm, gpas, p, vpns);
    let cycles = 0;
    for (let i = 0; i < gpas.length; i++) cycles += this.vmExit(vm, 'pt-write');
    for (const vpn of vpns) this.stats.syncs += this.shadows.sync(vm, p, vpn, this.sw);
    return cycles;
  }

  override rootSwitch(vm: GuestKernel, p: number): number {
    super.rootSwitch(vm, p);
    return this.vmExit(vm, 'root-switch');
  }
}

export class SspMmu extends ShadowBase {
  readonly name = 'ssp';
  /** guest root → last use, for the root buffer (LRU). */
  private readonly roots = new Map<string, number>();
  private clock = 0;

  constructor(
    ctx: MmuContext,
    private readonly rootBuffer: number,
  ) {
    super(ctx);
  }

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) this.shadowWalk(vm, vpn, () => this.vmExit(vm, 'hidden-fault'));
    return this.stats.cycles - before;
  }

  /** No write protection: a page-table write costs nothing now; the shadow goes stale until a flush. */
  override ptWrite(vm: GuestKernel, gpas: readonly number[], p: number, vpns: readonly number[]): number {
    return super.ptWrite(vm, gpas, p, vpns);
  }

  protected override saveExtra(): unknown {
    return { shadows: super.saveExtra(), roots: [...this.roots], clock: this.clock };
  }

  protected override loadExtra(extra: unknown): void {
    const x = extra as { shadows: unknown; roots: Array<[string, number]>; clock: number };
    super.loadExtra(x.shadows);
    this.roots.clear();
    for (const [k, v] of x.roots) this.roots.set(k, v);
    this.clock = x.clock;
  }

  /** sfence.vma traps to machine mode, which resynchronizes the flushed range. */
  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    super.flush(vm, asid, vpn);
    this.stats.mmodeEntries++;
    this.stats.cycles += this.cost.mmodeTrap;
    const p = vm.processes.findIndex((x) => x.asid === asid);
    if (vpn >= 0 && p >= 0) this.stats.syncs += this.shadows.sync(vm, p, vpn, this.sw);
    else this.shadows.drop(vm, asid);
    return this.cost.mmodeTrap;
  }

  /** The satp write traps to machine mode; a root-buffer hit switches without a VM exit. */
  override rootSwitch(vm: GuestKernel, p: number): number {
    super.rootSwitch(vm, p);
    this.stats.mmodeEntries++;
    this.stats.cycles += this.cost.mmodeTrap;
    const key = `${vm.vmid}:${vm.processes[p].asid}`;
    const hit = this.roots.has(key);
    this.roots.set(key, ++this.clock);
    if (this.roots.size > this.rootBuffer) {
      let oldest = '';
      let t = Infinity;
      for (const [k, v] of this.roots) if (v < t) [oldest, t] = [k, v];
      this.roots.delete(oldest);
    }
    return this.cost.mmodeTrap + (hit ? 0 : this.vmExit(vm, 'root-switch'));
  }
}

export class CompromisMmu extends BaseMmu {
  readonly name = 'compromis';
  /** Per VM: the direct segment (base host frame, limit in frames). */
  private readonly segments = new Map<number, { base: number; limit: number }>();
  outOfSegment = 0;

  override attach(vm: GuestKernel): void {
    const base = this.host.allocContiguous(vm.mem.frames);
    if (base < 0) throw new Error(`no contiguous host region of ${vm.mem.frames} frames for VM ${vm.vmid}; the placement must provide one`);
    this.segments.set(vm.vmid, { base, limit: vm.mem.frames });
  }

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      const f = this.guestFrame(vm, vpn);
      // Guest-physical → host-physical is an add and a bounds check: only the guest walk touches memory.
      this.chargeWalk(vm, vpn, this.pwcRefs(vm, vpn, vm.levels));
      this.tlb.fill(vpn, this.tag(vm, vm.processes[vm.current].asid), this.hostFrame(vm, f));
    }
    return this.stats.cycles - before;
  }

  protected override saveExtra(): unknown {
    return { segments: [...this.segments], outOfSegment: this.outOfSegment };
  }

  protected override loadExtra(extra: unknown): void {
    const x = extra as { segments: Array<[number, { base: number; limit: number }]>; outOfSegment: number };
    this.segments.clear();
    for (const [k, v] of x.segments) this.segments.set(k, { ...v });
    this.outOfSegment = x.outOfSegment;
  }

  private hostFrame(vm: GuestKernel, gframe: number): number {
    const s = this.segments.get(vm.vmid)!;
    if (gframe < 0 || gframe >= s.limit) {
      this.outOfSegment++;
      this.vmExit(vm, 'segment-fault');
      return -1;
    }
    return s.base + gframe;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    const g = this.guestFrame(vm, vpn);
    return g < 0 ? -1 : this.segments.get(vm.vmid)!.base + g;
  }
}

export class SoftMmu extends BaseMmu {
  readonly name = 'softmmu';
  /** A direct-mapped software TLB per VM (QEMU's per-MMU-index table). */
  private readonly soft = new Map<number, { tag: Float64Array; frame: Float64Array }>();
  /** Cycles of entering and leaving the miss helper. */
  static readonly HELPER_CYCLES = 60;

  constructor(
    ctx: MmuContext,
    private readonly entries = 1024,
  ) {
    super(ctx);
  }

  override attach(vm: GuestKernel): void {
    this.soft.set(vm.vmid, { tag: new Float64Array(this.entries).fill(-1), frame: new Float64Array(this.entries) });
  }

  access(vm: GuestKernel, vpn: number): number {
    const s = this.stats;
    const t = this.soft.get(vm.vmid)!;
    s.accesses++;
    // The inline check: index, compare the tag, add the addend.
    let cycles = this.cost.softCheck;
    const i = vpn % this.entries;
    if (t.tag[i] === vpn) s.l1Hits++;
    else {
      s.misses++;
      this.ctx.hooks.memory.tlbMiss.call({ vcpu: vm.vmid, va: vpn * 4096, asid: vm.processes[vm.current].asid, level: 1 });
      const f = this.guestFrame(vm, vpn);
      // The helper walks the guest table in software: each reference costs a load and bookkeeping.
      const refs = vm.levels;
      const extra = SoftMmu.HELPER_CYCLES + refs * 10;
      s.walkRefs += refs;
      s.walkCycles += refs * this.cost.ref + extra;
      s.refsHistogram[refs]++;
      cycles += refs * this.cost.ref + extra;
      this.ctx.hooks.memory.pageWalk.call({ vcpu: vm.vmid, va: vpn * 4096, references: refs, cycles: refs * this.cost.ref + extra });
      t.tag[i] = vpn;
      t.frame[i] = f;
    }
    // The access itself then goes through the host MMU on the host address.
    const host = this.tlb.probe(t.frame[i], 0);
    if (host === 1) cycles += this.cost.l1;
    else if (host === 2) cycles += this.cost.l1 + this.cost.l2;
    else {
      const refs = this.ctx.profile.memory.pageTableLevels;
      cycles += this.cost.l1 + this.cost.l2 + refs * this.cost.ref;
      s.walkRefs += refs;
      s.walkCycles += refs * this.cost.ref;
      this.tlb.fill(t.frame[i], 0, t.frame[i]);
    }
    s.cycles += cycles;
    return cycles;
  }

  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    super.flush(vm, asid, vpn);
    this.soft.get(vm.vmid)!.tag.fill(-1);
    return 0;
  }

  protected override saveExtra(): unknown {
    return [...this.soft].map(([vmid, t]) => [vmid, t.tag.slice(), t.frame.slice()]);
  }

  protected override loadExtra(extra: unknown): void {
    for (const [vmid, tag, frame] of extra as Array<[number, Float64Array, Float64Array]>) {
      const t = this.soft.get(vmid);
      if (!t) continue;
      t.tag.set(tag);
      t.frame.set(frame);
    }
  }

  override rootSwitch(vm: GuestKernel, p: number): number {
    super.rootSwitch(vm, p);
    // The software TLB is not tagged with an address space: a switch empties it.
    this.soft.get(vm.vmid)!.tag.fill(-1);
    return 0;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    return this.guestFrame(vm, vpn);
  }
}

export class BtMmu extends ShadowBase {
  readonly name = 'btmmu';
  /** Cycles of the dedicated exception entry and return. */
  static readonly ENTRY_CYCLES = 40;

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      // A host TLB miss in the tagged guest space enters the kernel module directly.
      this.stats.mmodeEntries++;
      this.stats.cycles += BtMmu.ENTRY_CYCLES;
      this.shadowWalk(vm, vpn, () => 0);
    }
    return this.stats.cycles - before;
  }

  /** Guest flushes update the shadow tables (the translator sees them: no trap). */
  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    super.flush(vm, asid, vpn);
    const p = vm.processes.findIndex((x) => x.asid === asid);
    if (vpn >= 0 && p >= 0) this.stats.syncs += this.shadows.sync(vm, p, vpn, this.sw);
    else this.shadows.drop(vm, asid);
    return 0;
  }
}
