// Shadow tables, the machinery that every shadow-style MMU strategy shares: the
// hypervisor keeps, per guest process, a table from guest virtual pages straight to
// host frames that the hardware walks in n references, and fills or resynchronizes
// its entries from the guest's own table. The strategies differ only in when they
// resynchronize (on a trapped page-table write, on a trapped flush, in a dedicated
// exception handler) and what that costs; each of them lives in its plugin
// (mmu.shadow-paging, mmu.ssp, mmu.btmmu) and extends BaseShadowMmu below.

import { BaseMmu, type GuestKernel, type MmuContext } from './mmu';
import { F_VALID, RadixTable, WalkResult, type PhysicalMemory } from './paging';

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

/**
 * The base of shadow-style strategies: a TLB miss walks the shadow table (n
 * references after the page-walk cache); an entry missing there is a hidden fault,
 * which the hypervisor answers by walking the guest table in software (n more
 * references) and filling the entry. Subclasses decide what a hidden fault, a
 * page-table write, a flush and a root switch cost.
 */
export abstract class BaseShadowMmu extends BaseMmu {
  protected readonly shadows: ShadowTables;
  protected readonly sw = new WalkResult();

  constructor(ctx: MmuContext) {
    super(ctx);
    this.shadows = new ShadowTables(this.host, identityBacking);
  }

  /** A TLB miss walks the shadow table; `onHiddenFault` returns the extra cycles of a missing entry. */
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
