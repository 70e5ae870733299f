// The native MMU: no virtualization. A TLB miss is the hardware walking the guest's
// own page table: it reads each entry from the level the page-walk cache lets it
// start at, n references for n levels when nothing is cached, every one counted by
// the shared Walker. It is the reference point that every other strategy's cost is
// compared with. A walk that finds no mapping is a guest page fault, raised in the
// guest kernel (its exception entry, pageFaultEntryCycles); nothing is cached.

import { BaseMmu, guestMemoryOffset, type GuestKernel } from 'virtlab';

export class NativeMmu extends BaseMmu {
  readonly name = 'native';

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      const refs = this.walk1d(vm, vm.processes[vm.current].table, vpn, guestMemoryOffset(vm), this.walk);
      this.chargeWalk(vm, vpn, refs, this.walker.cycles);
      if (this.walk.frame >= 0) this.tlb.fill(vpn, this.lastTag, this.walk.frame);
      else this.guestFault(vm, vpn);
    }
    return this.stats.cycles - before;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    return this.guestFrame(vm, vpn);
  }
}
