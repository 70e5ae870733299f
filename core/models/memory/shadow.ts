// Shadow tables, the machinery that every shadow-style MMU strategy shares: the
// hypervisor keeps, per guest process, a table from guest virtual pages straight to
// host frames that the hardware walks in n references, and fills or resynchronizes
// its entries from the guest's own table. The strategies differ only in when they
// resynchronize (on a trapped page-table write, on a trapped flush, in a dedicated
// exception handler) and what that costs; each of them lives in its plugin under
// plugins/mmu/ and extends BaseShadowMmu below.

import { BaseMmu, type GuestKernel, type MmuContext } from './mmu';
import { F_VALID, PAGE, RadixTable, WalkResult, type PhysicalMemory } from './paging';

/** Shadow tables (guest virtual → host frame), one per guest process, keyed by VM and ASID. */
export class ShadowTables {
  readonly tables = new Map<string, RadixTable>();
  constructor(
    private readonly host: PhysicalMemory,
    private readonly backing: (vm: GuestKernel, gframe: number) => number,
  ) {}

  /** The shadow table of an address space, created empty on first use. */
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

  /** Forgets the shadow table of an address space (a full flush); it is refilled on demand. */
  drop(vm: GuestKernel, asid: number): void {
    this.tables.delete(`${vm.vmid}:${asid}`);
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
export function identityBacking(vm: GuestKernel, gframe: number): number {
  return vm.vmid * (1 << 22) + gframe;
}

/** Host-physical byte address of guest-physical address 0 under identityBacking. */
function backingOffset(vm: GuestKernel): number {
  return vm.vmid * (1 << 22) * PAGE;
}

/**
 * The base of shadow-style strategies: a TLB miss walks the shadow table (through
 * the page-walk cache and the data cache, every reference counted); an entry missing
 * there is a hidden fault, which the hypervisor (or kernel module) answers by walking
 * the guest table in software and filling the entry, after which the walk is
 * retried. Subclasses decide what a hidden fault, a page-table write, a flush and a
 * root switch cost beyond that work.
 */
export abstract class BaseShadowMmu extends BaseMmu {
  protected readonly shadows: ShadowTables;
  protected readonly sw = new WalkResult();
  private readonly syncWalk = new WalkResult();
  private readonly shadowSoftWalk = new WalkResult();

  constructor(ctx: MmuContext) {
    super(ctx);
    this.shadows = new ShadowTables(this.host, identityBacking);
  }

  /**
   * Resynchronizes the shadow entry of vpn in process p from the guest table, and
   * returns what it cost: a software walk of the guest table and one of the shadow
   * table to reach the entry written, each reference through the data cache plus
   * the per-level bookkeeping. Counts one sync unless it fills a hidden fault.
   */
  protected syncEntry(vm: GuestKernel, p: number, vpn: number, hiddenFill = false): number {
    const s = this.stats;
    this.shadows.sync(vm, p, vpn, this.syncWalk);
    const off = backingOffset(vm);
    let cycles = 0;
    for (let i = 0; i < this.syncWalk.refs; i++) cycles += this.walker.ref(this.syncWalk.entryAddrs[i] + off, s);
    this.walker.softWalk(this.shadows.table(vm, vm.processes[p].asid), vpn, 0, this.shadowSoftWalk, s);
    cycles += this.walker.cycles;
    const refs = this.syncWalk.refs + this.walker.refs;
    s.softRefs += refs;
    if (!hiddenFill) s.syncs++;
    return cycles + refs * this.cost.softStep;
  }

  /**
   * Brings the shadow table up to date after a guest flush of (asid, vpn): the page's
   * entry is resynchronized (charged as a sync), or, for a flush of a whole address
   * space (vpn < 0), its shadow table is dropped to be refilled by hidden faults.
   * Returns the cycles charged. Every scheme that learns of the guest's flushes (by a
   * trap, through a translator, by hypercall) resynchronizes this way.
   */
  protected resyncFlushed(vm: GuestKernel, asid: number, vpn: number): number {
    const p = vm.processes.findIndex((x) => x.asid === asid);
    if (vpn >= 0 && p >= 0) return this.charge('sync', this.syncEntry(vm, p, vpn));
    this.shadows.drop(vm, asid);
    return 0;
  }

  /**
   * A TLB miss walks the shadow table; `onHiddenFault` charges the entry into the
   * handler (a VM exit, an exception entry) when the entry is missing. `stepCycles`
   * is the bookkeeping per reference of a walker that runs in software (0 for a
   * hardware walker).
   */
  protected shadowWalk(vm: GuestKernel, vpn: number, onHiddenFault: () => number, stepCycles = 0): void {
    const s = this.stats;
    const proc = vm.processes[vm.current];
    const shadow = this.shadows.table(vm, proc.asid);
    let refs = this.walk1d(vm, shadow, vpn, 0, this.sw);
    let cycles = this.walker.cycles;
    if (this.sw.frame < 0) {
      s.hiddenFaults++;
      this.ctx.hooks.memory.pageFault.call({ vcpu: vm.vmid, va: vpn * 4096, access: 'read', kind: 'hidden' });
      onHiddenFault();
      // The handler fills the entry from the guest table (its cost is the hidden fault's, not a sync's).
      this.charge('hidden', this.syncEntry(vm, vm.current, vpn, true));
      // The access is retried: the walk runs again and now finds the entry.
      refs += this.walk1d(vm, shadow, vpn, 0, this.sw);
      cycles += this.walker.cycles;
      if (this.sw.frame < 0) this.guestFault(vm, vpn);
    }
    this.chargeWalk(vm, vpn, refs, cycles, refs * stepCycles);
    if (this.sw.frame >= 0) this.tlb.fill(vpn, vm.ctxTag, this.sw.frame);
  }

  /**
   * The guest itself has no mapping for vpn: a real guest page fault. Under
   * hardware-assisted shadow schemes the hidden-fault exit already reflects it into
   * the guest; a translator overrides this to charge the bounce.
   */
  protected guestFault(vm: GuestKernel, vpn: number): void {
    this.stats.guestFaults++;
    this.ctx.hooks.memory.pageFault.call({ vcpu: vm.vmid, va: vpn * 4096, access: 'read', kind: 'guest' });
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
