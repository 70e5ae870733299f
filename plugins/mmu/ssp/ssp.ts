// Swift shadow paging (SSP, Sha et al.): shadow tables without write protection.
// A guest page-table write costs nothing when it happens; the shadow entry goes stale
// until the guest flushes it, as the architecture requires. The flush (sfence.vma)
// traps to machine mode, which resynchronizes the flushed page (or drops the whole
// shadow table on a full flush) for one machine-mode trap instead of a VM exit. The
// satp write of a context switch traps to machine mode as well; a buffer of recently
// used guest roots (LRU) keeps their shadow roots, so a switch to one of them needs
// no VM exit; the shadow table of a root evicted from the buffer is dropped, so a switch
// back to it is an exit and its shadow is rebuilt by hidden faults. TLB misses and
// hidden faults are those of the shared BaseShadowMmu.

import { BaseShadowMmu, type GuestKernel, type MmuContext } from 'virtlab';

export class SspMmu extends BaseShadowMmu {
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
    if (!this.probe(vm, vpn)) this.shadowWalk(vm, vpn, (cause) => this.vmExit(vm, cause));
    return this.stats.cycles - before;
  }

  /** No write protection: a page-table write costs nothing now; the shadow goes stale until a flush. */
  override ptWrite(vm: GuestKernel, gpas: readonly number[], p: number, vpns: readonly number[]): number {
    return super.ptWrite(vm, gpas, p, vpns);
  }

  /** sfence.vma traps to machine mode, which resynchronizes the flushed range. */
  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    super.flush(vm, asid, vpn);
    const cycles = this.trap(this.cost.mmodeTrap);
    return cycles + this.resyncFlushed(vm, asid, vpn);
  }

  /** The satp write traps to machine mode; a root-buffer hit switches without a VM exit. */
  override rootSwitch(vm: GuestKernel, p: number): number {
    super.rootSwitch(vm, p);
    this.trap(this.cost.mmodeTrap);
    const key = `${vm.vmid}:${vm.processes[p].asid}`;
    const hit = this.roots.has(key);
    this.roots.set(key, ++this.clock);
    if (this.roots.size > this.rootBuffer) {
      let oldest = '';
      let t = Infinity;
      for (const [k, v] of this.roots) if (v < t) [oldest, t] = [k, v];
      this.roots.delete(oldest);
      // The evicted pair's shadow table goes with it: a switch back rebuilds it by hidden faults.
      // (A root's key, vmid:asid, is also its shadow table's key in the shared ShadowTables.)
      this.shadows.tables.delete(oldest);
    }
    return this.cost.mmodeTrap + (hit ? 0 : this.vmExit(vm, 'root-switch'));
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
}
