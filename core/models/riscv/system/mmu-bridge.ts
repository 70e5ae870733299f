// Timing mode of the privileged machine: the bridge that makes a booted kernel's memory
// behaviour go through an MMU strategy (core/models/memory/mmu.ts, strategies in
// plugins/mmu/). The hart announces its events to the bridge (HartObserver); the bridge
// turns them into the strategy's calls over a GuestKernel view of the real kernel:
//   - every load and store that translates → strategy.access (instruction fetches are
//     not charged: the strategies model a data TLB, from the profile's l1d and l2);
//   - satp writes → rootSwitch to the address space of that root (created on first sight);
//   - sfence.vma → flush of one page or of everything, in the space that holds the ASID,
//     or in every space (asid -1) when the kernel names no ASID;
//   - trap entries, xRET and sstatus.SUM toggles → privilege (machine mode is below the
//     guest: firmware work is not a guest privilege change);
//   - stores to pages that hold page tables → ptWrite with the entry's guest-physical
//     address and the page it maps.
// Which pages hold page tables is learnt from the hart's walks, as a shadowing
// hypervisor learns it from the tables it shadows: a page is marked when a walk reads
// an entry from it, and the hart then leaves its write translation out of the TLB so
// that every store to it reaches the bridge. A page written `unprotectAfter` times with
// no walk reading it in between is unmarked (a freed page-table page reused for data,
// or a table rewritten wholesale), as KVM unshadows a page on write flooding; the next
// walk that reads it marks it again, and the strategy is told (`unprotect`) so that a
// scheme that shadows the page drops what it derived from it.
//
// Addresses the strategies see are the real guest-physical ones (RAM starts at
// 0x80000000): guest frames are physical page numbers, and the view's guest memory spans
// [0, end of RAM) so that a host table backing it (nested paging's EPT) covers every frame
// the kernel maps, devices included. Processes are the distinct roots satp is written
// with; kernel pages (the upper half) are global, as in the model.
//
// Nothing the guest sees changes: the hart serves every access from the translation it
// would have used without the bridge, so the console and the instruction count at
// power-off are those of a plain run.

import { GuestKernel, PRIV_SUPERVISOR, PRIV_SUPERVISOR_SUM, PRIV_USER, type GuestPrivilege } from '../../memory/guest-kernel';
import type { MmuStats, MmuStrategy } from '../../memory/mmu';
import { F_EXEC, F_USER, F_VALID, F_WRITE, type GuestTable, type WalkResult } from '../../memory/paging';
import { RAM_BASE, type HartObserver, type PrivilegedHart } from './hart';

/** A real Sv39/Sv48/Sv57 page table in the hart's RAM, read as the strategies read the model's RadixTable. */
export class SvTable implements GuestTable {
  /** The root's physical page number. */
  readonly root: number;

  constructor(
    private readonly dv: DataView,
    private readonly ramSize: number,
    /** Physical address of the root table. */
    readonly rootPa: number,
    readonly levels: 3 | 4 | 5,
  ) {
    this.root = rootPa / 4096;
  }

  /**
   * Walks the entries the hardware walker would read for vpn (an unsigned virtual page
   * number), recording their physical addresses. A superpage leaf ends the walk early
   * (fewer references, as on the hart); its frame is the 4 KiB frame of vpn within it.
   * Permissions are not checked: the flags are returned for the caller.
   */
  walk(vpn: number, out: WalkResult): WalkResult {
    const dv = this.dv;
    out.refs = 0;
    out.frame = -1;
    out.flags = 0;
    let table = this.rootPa;
    for (let level = this.levels - 1; level >= 0; level--) {
      const span = 512 ** level;
      const pa = table + (Math.floor(vpn / span) % 512) * 8;
      out.entryAddrs[out.refs++] = pa;
      const off = pa - RAM_BASE;
      if (off < 0 || off + 8 > this.ramSize) return out;
      const lo = dv.getUint32(off, true);
      const hi = dv.getUint32(off + 4, true);
      if ((lo & 1) === 0) return out;
      const ppn = (hi & 0x3fffff) * 4194304 + (lo >>> 10);
      // Neither R, W nor X: a pointer to the next level.
      if ((lo & 0xe) === 0) {
        table = ppn * 4096;
        continue;
      }
      out.frame = ppn - (ppn % span) + (vpn % span);
      out.flags = F_VALID | (lo & 4 ? F_WRITE : 0) | (lo & 8 ? F_EXEC : 0) | (lo & 16 ? F_USER : 0);
      return out;
    }
    return out;
  }
}

/**
 * The GuestKernel view of a booted kernel for the strategies: one process per root
 * table satp has been written with, whose `table` reads the real entries. Its `asid` is
 * the view's own number for the space (index + 1), since the kernel recycles hardware
 * ASIDs; the bridge maps hardware ASIDs to spaces. The model's own operations (mmap,
 * fork…) are not used on it: the real kernel does them in RAM.
 */
export class BootedKernel extends GuestKernel {
  private readonly byRoot = new Map<number, number>();

  constructor(
    vmid: number,
    private readonly hart: PrivilegedHart,
    levels: 3 | 4 | 5,
  ) {
    super(vmid, (RAM_BASE + hart.ram.length) / 4096, levels);
  }

  /** The index of the address space of the root table at physical address rootPa, created on first sight. */
  spaceOf(rootPa: number): number {
    let p = this.byRoot.get(rootPa);
    if (p === undefined) {
      p = this.processes.length;
      const ram = this.hart.ram;
      this.processes.push({ asid: p + 1, table: new SvTable(new DataView(ram.buffer, ram.byteOffset, ram.byteLength), ram.length, rootPa, this.levels), pages: [], alive: true });
      this.byRoot.set(rootPa, p);
    }
    return p;
  }
}

/** Counts of the events the bridge passed on, beside the strategy's own counters. */
export interface BridgeCounters {
  /** Loads and stores announced (those that translate). */
  accesses: number;
  satpWrites: number;
  sfences: number;
  /** Of those, the ones that flush a whole address space (or all of them): no address given. */
  fullFlushes: number;
  /** Stores to marked page-table pages, each passed on as a page-table write. */
  ptWrites: number;
  /** Guest privilege changes passed on (machine-mode entries and returns excluded). */
  privilegeChanges: number;
  /** Pages marked as page tables by walks (each time a page becomes marked). */
  tablePagesMarked: number;
  /** Pages unmarked after `unprotectAfter` writes with no walk in between. */
  tablePagesUnmarked: number;
}

export interface MmuBridgeOptions {
  /** VM id of the view (tags its TLB entries); default 0. */
  vmid?: number;
  /** Writes to a page-table page with no walk reading it in between after which it is unmarked (default 3, KVM's write-flooding limit). */
  unprotectAfter?: number;
}

/** What the bridge and the strategy had counted at one moment (to measure a window). */
export interface BridgeMark {
  instructions: number;
  stats: ReturnType<MmuStats['save']>;
  counters: BridgeCounters;
}

export class MmuBridge implements HartObserver {
  readonly timing = true;
  /** The view of the booted kernel, created at the first satp write that turns translation on. */
  vm: BootedKernel | null = null;
  readonly counters: BridgeCounters = { accesses: 0, satpWrites: 0, sfences: 0, fullFlushes: 0, ptWrites: 0, privilegeChanges: 0, tablePagesMarked: 0, tablePagesUnmarked: 0 };
  private readonly vmid: number;
  private readonly unprotectAfter: number;
  /** Virtual pages per address space (2^(vaBits − 12)), to make kernel (negative) addresses unsigned. */
  private vpnSpan = 0;
  /** Hardware ASID → the space that last used it. */
  private readonly asidOwner = new Map<number, number>();
  /** The guest privilege last seen (kept before the view exists, given to it when created). */
  private priv: GuestPrivilege = PRIV_SUPERVISOR;
  /** Per RAM page that holds page tables: the table's level (0: leaf), the first vpn it maps, and the space that walked it last. */
  private readonly ptLevel: Uint8Array;
  private readonly ptBase: Float64Array;
  private readonly ptOwner: Int32Array;
  private readonly gpas = [0];
  private readonly vpns = [0];

  constructor(
    private readonly hart: PrivilegedHart,
    readonly strategy: MmuStrategy,
    opts: MmuBridgeOptions = {},
  ) {
    this.vmid = opts.vmid ?? 0;
    this.unprotectAfter = Math.max(1, Math.min(254, opts.unprotectAfter ?? 3));
    const pages = hart.ptFlag.length;
    this.ptLevel = new Uint8Array(pages);
    this.ptBase = new Float64Array(pages);
    this.ptOwner = new Int32Array(pages);
  }

  private vpnOf(va: number): number {
    const vpn = Math.floor(va / 4096);
    return vpn < 0 ? vpn + this.vpnSpan : vpn;
  }

  access(va: number, write: boolean): void {
    const vm = this.vm;
    if (vm === null) return;
    this.counters.accesses++;
    this.strategy.access(vm, this.vpnOf(va), write);
  }

  satp(mode: number, asid: number, rootPa: number): void {
    // Bare: nothing translates until the next write.
    if (mode === 0) return;
    const levels = mode === 8 ? 3 : mode === 9 ? 4 : 5;
    let vm = this.vm;
    if (vm === null) {
      vm = new BootedKernel(this.vmid, this.hart, levels);
      this.vm = vm;
      this.vpnSpan = 2 ** (9 * levels);
      vm.spaceOf(rootPa);
      this.strategy.attach(vm);
      this.strategy.privilege(vm, this.priv);
    } else if (vm.levels !== levels) {
      throw new Error(`the kernel switched from ${vm.levels}-level to ${levels}-level paging; timing mode follows one paging mode per boot`);
    }
    const p = vm.spaceOf(rootPa);
    this.asidOwner.set(asid, p);
    this.counters.satpWrites++;
    this.strategy.rootSwitch(vm, p);
  }

  sfence(all: boolean, va: number, asid: number): void {
    const vm = this.vm;
    if (vm === null) return;
    this.counters.sfences++;
    if (all) this.counters.fullFlushes++;
    // An ASID no space holds has nothing cached: space 0, which no process has, stands for it.
    const space = asid < 0 ? -1 : (() => {
      const p = this.asidOwner.get(asid);
      return p === undefined ? 0 : vm.processes[p].asid;
    })();
    this.strategy.flush(vm, space, all ? -1 : this.vpnOf(va));
  }

  privilege(mode: number, sum: boolean): void {
    if (mode === 3) return;
    const priv: GuestPrivilege = mode === 0 ? PRIV_USER : sum ? PRIV_SUPERVISOR_SUM : PRIV_SUPERVISOR;
    if (priv === this.priv) return;
    this.priv = priv;
    const vm = this.vm;
    if (vm === null) return;
    this.counters.privilegeChanges++;
    this.strategy.privilege(vm, priv);
  }

  tableRead(page: number, level: number, vpn: number): void {
    const flags = this.hart.ptFlag;
    if (flags[page] === 0) {
      this.hart.protectPage(page);
      this.counters.tablePagesMarked++;
    }
    flags[page] = 1;
    const span = 512 ** (level + 1);
    this.ptLevel[page] = level;
    this.ptBase[page] = vpn - (vpn % span);
    this.ptOwner[page] = this.vm === null ? 0 : this.vm.current;
  }

  tableWrite(pa: number, _size: number): void {
    const vm = this.vm;
    const page = (pa - RAM_BASE) >>> 12;
    const flags = this.hart.ptFlag;
    const n = flags[page];
    if (vm === null) {
      flags[page] = n >= this.unprotectAfter ? 0 : n + 1;
      return;
    }
    const level = this.ptLevel[page];
    const vpn = this.ptBase[page] + ((pa & 4095) >>> 3) * 512 ** level;
    const p = vpn >= vm.kernelBase ? vm.current : this.ptOwner[page];
    this.counters.ptWrites++;
    this.gpas[0] = pa - (pa % 8);
    this.vpns[0] = vpn;
    this.strategy.ptWrite(vm, this.gpas, p, this.vpns);
    if (n >= this.unprotectAfter) {
      // Written again and again with no walk through it: no longer write-protected.
      flags[page] = 0;
      this.counters.tablePagesUnmarked++;
      this.strategy.unprotect?.(vm, p, this.ptBase[page], level);
    } else flags[page] = n + 1;
  }

  /** What has been counted so far (the strategy's counters are copied). */
  mark(): BridgeMark {
    return { instructions: this.hart.instret, stats: this.strategy.stats.save() as ReturnType<MmuStats['save']>, counters: { ...this.counters } };
  }
}

/**
 * Puts a machine in timing mode: from now on its hart's memory behaviour goes through
 * `strategy` (attach before running; the view of the kernel is created at the first
 * satp write that turns paging on). Returns the bridge, whose `vm` is the GuestKernel
 * view and whose counters count what was passed on; `detachMmu` ends timing mode.
 */
export function attachMmu(machine: { readonly hart: PrivilegedHart }, strategy: MmuStrategy, opts: MmuBridgeOptions = {}): MmuBridge {
  const bridge = new MmuBridge(machine.hart, strategy, opts);
  machine.hart.attachObserver(bridge);
  // Attached while paging is already on: announce the current root as a satp write.
  const satp = machine.hart.csr(0x180);
  const mode = Number(satp >> 60n);
  if (mode !== 0) bridge.satp(mode, Number((satp >> 44n) & 0xffffn), Number(satp & 0xfffffffffffn) * 4096);
  return bridge;
}

/** Ends timing mode: the hart runs on its fast paths again. */
export function detachMmu(machine: { readonly hart: PrivilegedHart }): void {
  machine.hart.attachObserver(null);
}
