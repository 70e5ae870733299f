// BTMMU (Huang et al.): translated code reaches guest virtual addresses through the
// host MMU, in a host address space tagged with the guest (VMID and ASID in the TLB
// tag, so a guest context switch needs no host TLB flush). A host TLB miss there
// enters a dedicated exception handler in a kernel module (the profile's
// exceptionEntryCycles, a machine-mode/exception entry), which walks the shadow table
// it keeps per guest root in software (each reference through the data cache plus
// softWalkStepCycles of bookkeeping); a missing entry is a hidden fault that the
// handler fills from the guest table without a VM exit, at the price of two more
// software walks (mmu.cycles.hidden). A guest page fault (no guest mapping) is a host
// fault bounced to the translator as a signal (hostSignalCycles). The translator sees
// the guest's flushes and satp writes: each one is a call into the kernel module
// (hostSyscallCycles) that resynchronizes the flushed entry or switches the shadow
// root. The shadow tables are the shared BaseShadowMmu of virtlab.

import { BaseShadowMmu, type GuestKernel } from 'virtlab';

export class BtMmu extends BaseShadowMmu {
  readonly name = 'btmmu';

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      // A host TLB miss in the tagged guest space enters the kernel module directly.
      this.trap(this.cost.exceptionEntry);
      this.shadowWalk(vm, vpn, () => 0, this.cost.softStep);
    }
    return this.stats.cycles - before;
  }

  /** A real guest fault is a host fault the kernel delivers to the translator as a signal. */
  protected override guestFault(vm: GuestKernel, vpn: number): void {
    super.guestFault(vm, vpn);
    this.charge('fault', this.cost.hostSignal);
  }

  /** Guest flushes reach the kernel module through the translator (a system call): no VM exit. */
  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    super.flush(vm, asid, vpn);
    const cycles = this.trap(this.cost.hostSyscall);
    return cycles + this.resyncFlushed(vm, asid, vpn);
  }

  /** A guest satp write: the translator asks the kernel module to switch to that root's shadow table. */
  override rootSwitch(vm: GuestKernel, p: number): number {
    super.rootSwitch(vm, p);
    return this.trap(this.cost.hostSyscall);
  }
}
