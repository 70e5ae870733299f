// Shadow tables, the machinery that every shadow-style MMU strategy shares: the
// hypervisor keeps, per guest process, a table from guest virtual pages straight to
// host frames that the hardware walks in n references, and fills or resynchronizes
// its entries from the guest's own table. The strategies differ only in when they
// resynchronize (on a trapped page-table write, on a trapped flush, in a dedicated
// exception handler) and what that costs; each of them lives in its plugin under
// plugins/mmu/ and extends BaseShadowMmu below. A strategy may keep several shadow
// spaces per process (a translator that runs guest user and supervisor code in
// different host address spaces keeps one per privilege); a space that holds user
// pages only leaves supervisor pages out, so user code cannot reach them.

import { BaseMmu, type GuestKernel, type MmuContext } from './mmu';
import { F_USER, F_VALID, PAGE, RadixTable, WalkResult, type PhysicalMemory } from './paging';

/** Shadow tables (guest virtual → host frame), one per guest process and shadow space, keyed by VM, ASID and space. */
export class ShadowTables {
  readonly tables = new Map<string, RadixTable>();
  constructor(
    private readonly host: PhysicalMemory,
    private readonly backing: (vm: GuestKernel, gframe: number) => number,
  ) {}

  private key(vm: GuestKernel, asid: number, space: number): string {
    return space ? `${vm.vmid}:${asid}:${space}` : `${vm.vmid}:${asid}`;
  }

  /** The shadow table of an address space (in shadow space `space`), created empty on first use. */
  table(vm: GuestKernel, asid: number, space = 0): RadixTable {
    const key = this.key(vm, asid, space);
    let t = this.tables.get(key);
    if (!t) {
      t = new RadixTable(this.host, vm.levels);
      this.tables.set(key, t);
    }
    return t;
  }

  /**
   * Re-reads the guest entry of vpn and writes the shadow entry of space `space`;
   * a space that holds user pages only (`userOnly`) leaves a supervisor page out.
   * Returns 1 if it synced one.
   */
  sync(vm: GuestKernel, p: number, vpn: number, w: WalkResult, space = 0, userOnly = false): number {
    const proc = vm.processes[p];
    const shadow = this.table(vm, proc.asid, space);
    proc.table.walk(vpn, w);
    if (w.frame < 0 && w.refs < shadow.levels) {
      // The guest has no table below this step any more: the shadow drops what it held there.
      shadow.clearAt(vpn, w.refs - 1);
      return 1;
    }
    if (w.frame < 0 || (userOnly && !(w.flags & F_USER))) {
      shadow.unmap(vpn);
      return 1;
    }
    shadow.map(vpn, this.backing(vm, w.frame), w.flags & ~F_VALID);
    return 1;
  }

  /** Whether an address space has a shadow table (in space `space`). */
  has(vm: GuestKernel, asid: number, space = 0): boolean {
    return this.tables.has(this.key(vm, asid, space));
  }

  /**
   * Drops the shadow entries of the guest table page that maps [vpn, vpn + 512^(level+1))
   * (level 0: a leaf table) in an address space, as a hypervisor zaps the shadow page of
   * a guest table it stops write-protecting; the translations come back by hidden faults.
   */
  zap(vm: GuestKernel, asid: number, vpn: number, level: number, space = 0): void {
    const t = this.tables.get(this.key(vm, asid, space));
    if (!t) return;
    const depth = t.levels - 2 - level;
    if (depth < 0) this.drop(vm, asid, space);
    else t.clearAt(vpn, depth);
  }

  /** Forgets the shadow table of an address space (a full flush); it is refilled on demand. */
  drop(vm: GuestKernel, asid: number, space = 0): void {
    this.tables.delete(this.key(vm, asid, space));
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
  /** Shadow spaces per process (1, or one per privilege); see `space`. */
  protected readonly spaces: number = 1;
  private readonly probeWalk = new WalkResult();
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
  protected syncEntry(vm: GuestKernel, p: number, vpn: number, hiddenFill = false, space = 0): number {
    const s = this.stats;
    this.shadows.sync(vm, p, vpn, this.syncWalk, space, this.userOnly(space));
    const off = backingOffset(vm);
    let cycles = 0;
    for (let i = 0; i < this.syncWalk.refs; i++) cycles += this.walker.ref(this.syncWalk.entryAddrs[i] + off, s);
    this.walker.softWalk(this.shadows.table(vm, vm.processes[p].asid, space), vpn, 0, this.shadowSoftWalk, s);
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
   * Returns the cycles charged; asid < 0 stands for every address space. Every scheme that learns of the guest's flushes (by a
   * trap, through a translator, by hypercall) resynchronizes this way.
   */
  protected resyncFlushed(vm: GuestKernel, asid: number, vpn: number): number {
    // A flush of every address space (asid < 0) resynchronizes each of them.
    if (asid < 0) return vm.processes.reduce((c, x) => c + (this.shadows.has(vm, x.asid) ? this.resyncFlushed(vm, x.asid, vpn) : 0), 0);
    const p = vm.processes.findIndex((x) => x.asid === asid);
    let cycles = 0;
    for (let space = 0; space < this.spaces; space++) {
      if (vpn >= 0 && p >= 0) cycles += this.charge('sync', this.syncEntry(vm, p, vpn, false, space));
      else this.shadows.drop(vm, asid, space);
    }
    return cycles;
  }

  /** The shadow space the current access goes through (one per privilege where a strategy keeps several). */
  protected space(_vm: GuestKernel): number {
    return 0;
  }

  /** Whether a shadow space holds user pages only (user code must not reach supervisor pages). */
  protected userOnly(_space: number): boolean {
    return false;
  }

  /**
   * A TLB miss walks the shadow table; `onFault` charges the entry into the handler
   * (a VM exit, an exception entry) when the entry is missing, with the cause the
   * handler finds: 'hidden-fault' when the guest maps the page (the handler fills the
   * entry and the walk is retried), 'guest-fault' when it does not, or forbids the
   * access at this privilege (a true fault: the handler's guest walk is charged to
   * the fault, and the fault is delivered to the guest). `stepCycles` is the
   * bookkeeping per reference of a walker that runs in software (0 for a hardware
   * walker).
   */
  protected shadowWalk(vm: GuestKernel, vpn: number, onFault: (cause: 'hidden-fault' | 'guest-fault') => number, stepCycles = 0): void {
    const s = this.stats;
    const proc = vm.processes[vm.current];
    const space = this.space(vm);
    const shadow = this.shadows.table(vm, proc.asid, space);
    let refs = this.walk1d(vm, shadow, vpn, 0, this.sw);
    let cycles = this.walker.cycles;
    if (this.sw.frame < 0) {
      // What the handler will find in the guest table decides the kind of fault.
      proc.table.walk(vpn, this.probeWalk);
      const mapped = this.probeWalk.frame >= 0 && (!this.userOnly(space) || (this.probeWalk.flags & F_USER) !== 0);
      if (mapped) {
        s.hiddenFaults++;
        this.ctx.hooks.memory.pageFault.call({ vcpu: vm.vmid, va: vpn * 4096, access: 'read', kind: 'hidden' });
        onFault('hidden-fault');
        // The handler fills the entry from the guest table (its cost is the hidden fault's, not a sync's).
        this.charge('hidden', this.syncEntry(vm, vm.current, vpn, true, space));
        // The access is retried: the walk runs again and now finds the entry.
        refs += this.walk1d(vm, shadow, vpn, 0, this.sw);
        cycles += this.walker.cycles;
      } else {
        onFault('guest-fault');
        // The handler's walk of the guest table finds no mapping: the fault is the guest's.
        this.charge('fault', this.syncEntry(vm, vm.current, vpn, true, space));
        this.guestFault(vm, vpn);
      }
    }
    this.chargeWalk(vm, vpn, refs, cycles, refs * stepCycles);
    if (this.sw.frame >= 0) this.tlb.fill(vpn, this.lastTag, this.sw.frame);
  }

  protected override saveExtra(): unknown {
    return { shadows: this.shadows.save() };
  }

  protected override loadExtra(extra: unknown): void {
    this.shadows.load((extra as { shadows: ReturnType<ShadowTables['save']> }).shadows);
  }

  resolve(vm: GuestKernel, vpn: number): number {
    const proc = vm.processes[vm.current];
    const space = this.space(vm);
    const shadow = this.shadows.table(vm, proc.asid, space);
    shadow.walk(vpn, this.sw);
    if (this.sw.frame < 0) {
      this.shadows.sync(vm, vm.current, vpn, this.sw, space, this.userOnly(space));
      shadow.walk(vpn, this.sw);
    }
    return this.sw.frame;
  }
}
