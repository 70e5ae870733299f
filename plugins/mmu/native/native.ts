// The native MMU: no virtualization. A TLB miss is the hardware walking the guest's
// own page table, n references for n levels (fewer with the page-walk cache). It is
// the reference point that every other strategy's cost is compared with.

import { BaseMmu, type GuestKernel } from 'virtlab';

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
