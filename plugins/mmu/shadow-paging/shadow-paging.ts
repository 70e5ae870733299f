// Traditional shadow paging: the hardware walks the hypervisor's shadow table (guest
// virtual → host frame) in n references. To keep it in step, the hypervisor
// write-protects the guest's page-table pages, so every guest page-table write is a
// VM exit that resynchronizes the entry; every root switch is a VM exit too; and an
// entry not yet shadowed is a hidden fault, one more exit. The shadow tables are the
// shared BaseShadowMmu of virtlab; each resynchronized entry costs the software walks
// of the guest and shadow tables that the hypervisor makes (mmu.cycles.sync).
// A first touch of a page the guest has not mapped yet exits the same way, but the
// hypervisor's walk of the guest table finds nothing: a true fault
// (mmu.exits.guest-fault), injected into the guest, which pays its exception entry
// and maps the page with a (trapped) page-table write. A page-table page the
// hypervisor stops write-protecting (`unprotect`: under a booted kernel, one written
// repeatedly with no walk through it, as KVM unshadows on write flooding) has its shadow
// entries zapped, so that writes it no longer sees leave nothing stale.

import { BaseShadowMmu, type GuestKernel } from 'virtlab';

export class ShadowMmu extends BaseShadowMmu {
  readonly name = 'shadow-paging';

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) this.shadowWalk(vm, vpn, (cause) => this.vmExit(vm, cause));
    return this.stats.cycles - before;
  }

  /** Guest page-table pages are write-protected: every write traps, and the hypervisor syncs the entry. */
  override ptWrite(vm: GuestKernel, gpas: readonly number[], p: number, vpns: readonly number[]): number {
    super.ptWrite(vm, gpas, p, vpns);
    let cycles = 0;
    for (let i = 0; i < gpas.length; i++) cycles += this.vmExit(vm, 'pt-write');
    for (const vpn of vpns) cycles += this.charge('sync', this.syncEntry(vm, p, vpn));
    return cycles;
  }

  /**
   * A page-table page that is no longer write-protected: its shadow entries are zapped
   * (in every address space for a kernel table, which all of them share), so that its
   * later unseen writes cannot leave stale translations; hidden faults refill them.
   */
  unprotect(vm: GuestKernel, p: number, vpn: number, level: number): number {
    if (vpn >= vm.kernelBase) for (const x of vm.processes) this.shadows.zap(vm, x.asid, vpn, level);
    else this.shadows.zap(vm, vm.processes[p].asid, vpn, level);
    // The TLB may hold translations derived from the zapped entries: the hypervisor flushes the VM's.
    this.tlb.flush(vm.kernelTag);
    for (const x of vm.processes) this.tlb.flush(this.tag(vm, x.asid));
    return 0;
  }

  override rootSwitch(vm: GuestKernel, p: number): number {
    super.rootSwitch(vm, p);
    return this.vmExit(vm, 'root-switch');
  }
}
