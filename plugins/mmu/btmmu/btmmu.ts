// BTMMU (Huang et al.): translated code reaches guest virtual addresses through the
// host MMU, in a host address space per guest root and guest privilege (tagged with
// the VMID, ASID and privilege in the host TLB, so a guest context switch needs no
// host TLB flush). The kernel module keeps two shadow tables per guest root: a user
// one, which holds the guest's user pages only (so guest user code cannot reach
// supervisor pages), and a supervisor one, which holds every page (guest kernel
// code reaches user pages only with SUM set, which the translator checks). A host
// TLB miss enters a dedicated exception handler in the module (the profile's
// exceptionEntryCycles), which walks the current shadow table in software (each
// reference through the data cache plus softWalkStepCycles of bookkeeping); a
// missing entry is a hidden fault that the handler fills from the guest table
// without a VM exit, at the price of two more software walks (mmu.cycles.hidden). A
// guest page fault (no guest mapping, or a supervisor page from user mode) is a host
// fault bounced to the translator as a signal (hostSignalCycles), which then unwinds
// to its CPU loop and raises the guest exception (translatorFaultCycles).
//
// Root switches on this side: every guest satp write and every guest privilege
// change between user and supervisor mode changes the host address space, so the
// translator calls the module (hostSyscallCycles), which loads the other shadow
// table's root into the host root register (rootRegisterWriteCycles), both under
// mmu.cycles.switch. Guest flushes are module calls too (mmu.cycles.trap) that
// resynchronize the flushed entry in both shadow tables. The shadow tables are the
// shared BaseShadowMmu of virtlab.

import { BaseShadowMmu, PRIV_USER, type GuestKernel, type GuestPrivilege } from 'virtlab';

/** Shadow spaces: the user one (user pages only) and the supervisor one. */
const USER_SPACE = 0;
const SUPERVISOR_SPACE = 1;

export class BtMmu extends BaseShadowMmu {
  readonly name = 'btmmu';
  protected override readonly spaces = 2;
  /**
   * The host TLB tag of the host address space in use (guest VMID, ASID and
   * privilege), and the guest tag (VMID and ASID) it was made for: recomputed on
   * privilege changes and whenever the guest tag differs, not per access.
   */
  private hostTag = 0;
  private hostTagOf = -1;

  private retag(vm: GuestKernel): void {
    this.hostTagOf = vm.ctxTag;
    this.hostTag = vm.ctxTag * 2 + (vm.privilege === PRIV_USER ? 0 : 1);
  }

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (vm.ctxTag !== this.hostTagOf) this.retag(vm);
    if (!this.probe(vm, vpn, this.hostTag)) {
      // A host TLB miss in the tagged guest space enters the kernel module directly.
      this.trap(this.cost.exceptionEntry);
      this.shadowWalk(vm, vpn, () => 0, this.cost.softStep);
    }
    return this.stats.cycles - before;
  }

  protected override space(vm: GuestKernel): number {
    return vm.privilege === PRIV_USER ? USER_SPACE : SUPERVISOR_SPACE;
  }

  protected override userOnly(space: number): boolean {
    return space === USER_SPACE;
  }

  /** A guest fault is a host fault the kernel delivers to the translator as a signal; the translator then raises it in the guest. */
  override attach(vm: GuestKernel): void {
    super.attach(vm);
    this.hostTagOf = -1;
  }

  protected override loadExtra(extra: unknown): void {
    super.loadExtra(extra);
    this.hostTagOf = -1;
  }

  protected override deliverGuestFault(_vm: GuestKernel): void {
    this.charge('fault', this.cost.hostSignal + this.cost.translatorFault);
  }

  /** The host address space changes: a call into the module, which writes the host root register. */
  private switchRoot(): number {
    return this.charge('switch', this.cost.hostSyscall + this.cost.rootWrite);
  }

  /** Guest flushes reach the kernel module through the translator (a system call): no VM exit. Both privileges' host entries go. */
  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    // The host tags are the guest's ×2 (+1 for supervisor): flush both, not the guest's own tag;
    // asid < 0 is every address space, the kernel's global entries included.
    for (const a of asid < 0 ? [0, ...vm.processes.map((x) => x.asid)] : [asid]) {
      const ctx = this.tag(vm, a) * 2;
      this.tlb.flush(ctx, vpn);
      this.tlb.flush(ctx + 1, vpn);
      this.pwc?.flush(this.tag(vm, a));
    }
    this.ctx.hooks.memory.tlbFlush.call({ vcpu: vm.vmid, va: vpn < 0 ? -1 : vpn * 4096, asid });
    const cycles = this.trap(this.cost.hostSyscall);
    return cycles + this.resyncFlushed(vm, asid, vpn);
  }

  /** A guest satp write: the translator asks the kernel module to switch to that root's shadow table. */
  override rootSwitch(vm: GuestKernel, p: number): number {
    const same = vm.current === p;
    super.rootSwitch(vm, p);
    this.retag(vm);
    return same ? 0 : this.switchRoot();
  }

  /** Entering or leaving guest supervisor mode switches between the user and supervisor shadow tables; SUM alone does not. */
  override privilege(vm: GuestKernel, mode: GuestPrivilege): number {
    const before = vm.privilege;
    super.privilege(vm, mode);
    this.retag(vm);
    return (before === PRIV_USER) !== (mode === PRIV_USER) ? this.switchRoot() : 0;
  }
}
