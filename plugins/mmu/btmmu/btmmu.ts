// BTMMU (Huang et al.): translated code reaches guest virtual addresses through the
// host MMU, in a host address space tagged with the guest. A host TLB miss there
// enters a dedicated exception handler in a kernel module (a fixed entry and return
// cost, counted as a machine-mode entry), which walks the shadow table it keeps per
// guest root; a missing entry is filled from the guest table without a VM exit. The
// translator sees the guest's flushes, so they update the shadow tables directly
// instead of trapping. The shadow tables are the shared BaseShadowMmu of virtlab.

import { BaseShadowMmu, type GuestKernel } from 'virtlab';

export class BtMmu extends BaseShadowMmu {
  readonly name = 'btmmu';
  /** Cycles of the dedicated exception entry and return. */
  static readonly ENTRY_CYCLES = 40;

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      // A host TLB miss in the tagged guest space enters the kernel module directly.
      this.stats.mmodeEntries++;
      this.stats.cycles += BtMmu.ENTRY_CYCLES;
      this.shadowWalk(vm, vpn, () => 0);
    }
    return this.stats.cycles - before;
  }

  /** Guest flushes update the shadow tables (the translator sees them: no trap). */
  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    super.flush(vm, asid, vpn);
    const p = vm.processes.findIndex((x) => x.asid === asid);
    if (vpn >= 0 && p >= 0) this.stats.syncs += this.shadows.sync(vm, p, vpn, this.sw);
    else this.shadows.drop(vm, asid);
    return 0;
  }
}
