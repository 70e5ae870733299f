// The page walker and the caches a walk goes through, shared by every MMU strategy:
// a page-walk cache of upper-level entries (set-associative, keyed by the virtual
// prefix an entry covers), a nested TLB of guest-physical → host-physical frames,
// and the data cache lines that every reference reads (a hit costs the cached
// latency, a miss the DRAM latency). A walk reads the entries of a RadixTable from
// the level the page-walk cache lets it start at and counts each entry it reads:
// the references per miss are what the table and the caches make them, never a
// formula. All structures are typed arrays (Tlb); nothing allocates per walk.

import type { HostProfile } from '../datacenter/host-profile';
import { ENTRIES, PAGE, type GuestTable, type RadixTable, type WalkResult } from './paging';
import { Tlb } from './tlb';

/** 512^k for k = 0..6: the span of vpns one entry at a given depth covers. */
const SPAN = [1, 512, 512 ** 2, 512 ** 3, 512 ** 4, 512 ** 5, 512 ** 6];

/** Hit and miss counters of the walk structures, kept with a strategy's statistics. */
export interface WalkCounters {
  pwcHits: number;
  pwcMisses: number;
  ntlbHits: number;
  ntlbMisses: number;
  lineHits: number;
  lineMisses: number;
}

/**
 * Upper-level page-table entries cached by the virtual prefix they translate (Intel's
 * PML4/PDPT/PDE caches, AMD's page-walk cache): a walk whose prefix at level l hits
 * starts at level l + 1, skipping the references above it.
 */
export class PageWalkCache {
  readonly tlb: Tlb;
  constructor(entries: number, ways: number) {
    this.tlb = new Tlb(entries, Math.min(ways, entries));
  }

  /** The level a walk of vpn in a table of `levels` levels can start at: 0 when nothing is cached. */
  start(vpn: number, levels: number, ctx: number): number {
    for (let l = levels - 2; l >= 0; l--) {
      if (this.tlb.lookup(Math.floor(vpn / SPAN[levels - 1 - l]) * 8 + l, ctx) >= 0) return l + 1;
    }
    return 0;
  }

  /** Caches the non-leaf entries the walk read, from level `from` to level `to` (inclusive). */
  fill(vpn: number, levels: number, ctx: number, from: number, to: number): void {
    for (let l = from; l <= to && l < levels - 1; l++) this.tlb.insert(Math.floor(vpn / SPAN[levels - 1 - l]) * 8 + l, ctx, 1);
  }

  flush(ctx = -1): void {
    this.tlb.flush(ctx);
  }
}

/** The 64-byte lines of the data cache that walk references go through (keyed by host-physical line). */
export class WalkLineCache {
  readonly tlb: Tlb;
  constructor(lines: number, ways: number) {
    this.tlb = new Tlb(lines, Math.min(ways, lines));
  }

  /** True when the line of host-physical address `addr` was cached; it is cached afterwards. */
  touch(addr: number): boolean {
    const line = Math.floor(addr / 64);
    if (this.tlb.lookup(line, 0) >= 0) return true;
    this.tlb.insert(line, 0, 1);
    return false;
  }
}

/**
 * Walks radix tables through the page-walk cache and the data cache, counting every
 * reference. After `walk1d`, `refs` and `cycles` hold what that walk made and cost.
 */
export class Walker {
  /** References of the last walk. */
  refs = 0;
  /** Cycles of the last walk's references. */
  cycles = 0;
  readonly lines: WalkLineCache;
  /** Cycles of a reference that hits the data cache, and of one that goes to DRAM. */
  readonly hitCycles: number;
  readonly missCycles: number;

  constructor(
    profile: HostProfile,
    readonly pwc: PageWalkCache | null,
  ) {
    const ghz = profile.cpu.frequency / 1e9;
    this.hitCycles = profile.memory.cachedLatency * ghz;
    this.missCycles = profile.memory.latency * ghz;
    this.lines = new WalkLineCache(profile.memory.walkCacheLines, profile.memory.walkCacheWays);
  }

  /** Cycles of one reference to host-physical address `addr`, counted in `c`. */
  ref(addr: number, c: WalkCounters): number {
    if (this.lines.touch(addr)) {
      c.lineHits++;
      return this.hitCycles;
    }
    c.lineMisses++;
    return this.missCycles;
  }

  /**
   * The hardware walk of `table` for vpn: starts where the page-walk cache allows
   * (ctx tags its entries), reads each remaining entry at host-physical address
   * entry + `hostOffset` (where the table's memory sits in host memory), and caches
   * the upper-level entries it read. `out` holds the walk (all levels' entry
   * addresses, the frame); returns the level the walk started at.
   */
  walk1d(table: GuestTable, vpn: number, ctx: number, hostOffset: number, out: WalkResult, c: WalkCounters, usePwc = true): number {
    table.walk(vpn, out);
    const levels = table.levels;
    let start = 0;
    const pwc = usePwc ? this.pwc : null;
    if (pwc) {
      start = Math.min(pwc.start(vpn, levels, ctx), out.refs - 1);
      if (start > 0) c.pwcHits++;
      else c.pwcMisses++;
    }
    let cycles = 0;
    for (let i = start; i < out.refs; i++) cycles += this.ref(out.entryAddrs[i] + hostOffset, c);
    // Entries before the last one read were valid upper-level entries: cache them.
    if (pwc && out.refs - 2 >= start) pwc.fill(vpn, levels, ctx, start, out.refs - 2);
    this.refs = out.refs - start;
    this.cycles = cycles;
    return start;
  }

  /** A walk done in software (a hypervisor or translator helper): every level read, no page-walk cache. */
  softWalk(table: GuestTable, vpn: number, hostOffset: number, out: WalkResult, c: WalkCounters): void {
    this.walk1d(table, vpn, 0, hostOffset, out, c, false);
  }
}

/**
 * A host page table that backs a VM's guest-physical frames with host frames (an
 * EPT/NPT/G-stage table, or the translator process's own page table): built when the
 * VM is created, as a hypervisor with preallocated guest memory does, so a walk
 * never meets an unbacked frame.
 */
export class HostBacking {
  constructor(
    readonly table: RadixTable,
    readonly guestFrames: number,
  ) {}

  /** Maps every guest frame to a fresh host frame, filling leaf tables directly. */
  static build(table: RadixTable, guestFrames: number, alloc: () => number): HostBacking {
    for (let g = 0; g < guestFrames; g += ENTRIES) {
      const written: number[] = [];
      const first = alloc();
      if (first < 0) throw new Error(`host memory exhausted while backing ${guestFrames} guest frames`);
      table.map(g, first, 0, written);
      // The leaf entry just written locates this leaf table: fill the rest of it in place.
      const leafAddr = written[written.length - 1];
      const off = table.mem.table(Math.floor(leafAddr / PAGE)) + (leafAddr % PAGE) / 8;
      for (let i = 1; i < ENTRIES && g + i < guestFrames; i++) {
        const f = alloc();
        if (f < 0) throw new Error(`host memory exhausted while backing ${guestFrames} guest frames`);
        table.mem.entries[off + i] = f * 16 + 1;
      }
    }
    return new HostBacking(table, guestFrames);
  }
}
