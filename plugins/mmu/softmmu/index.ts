// mmu.softmmu: registers QEMU's software-TLB strategy of ./softmmu.ts with its table
// size as the simulation's MMU (capability mmu); the workload.paging plugin drives it.

import { definePlugin, registerMmu } from 'virtlab';
import { SoftMmu } from './softmmu';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new SoftMmu(ctx, api.options.entries));
});
