// mmu.btmmu: registers the BTMMU strategy of ./btmmu.ts (a guest-tagged host TLB
// whose misses enter a kernel-module handler over shadow tables) as the simulation's
// MMU (capability mmu); the workload.paging plugin drives it.

import { definePlugin, registerMmu } from 'virtlab';
import { BtMmu } from './btmmu';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new BtMmu(ctx));
});
