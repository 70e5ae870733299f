// The native MMU: no virtualization. A TLB miss is the hardware walking the guest's
// own page table: it reads each entry from the level the page-walk cache lets it
// start at, n references for n levels when nothing is cached, every one counted by
// the shared Walker. It is the reference point that every other strategy's cost is
// compared with.

import { BaseMmu, guestMemoryOffset, type GuestKernel } from 'virtlab';

export class NativeMmu extends BaseMmu {
  readonly name = 'native';

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      const refs = this.walk1d(vm, vm.processes[vm.current].table, vpn, guestMemoryOffset(vm), this.walk);
      this.chargeWalk(vm, vpn, refs, this.walker.cycles);
      this.tlb.fill(vpn, vm.ctxTag, this.walk.frame);
    }
    return this.stats.cycles - before;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    return this.guestFrame(vm, vpn);
  }
}
