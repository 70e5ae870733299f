// mmu.compromis: registers the direct-segment strategy of ./compromis.ts as the
// simulation's MMU (capability mmu); placement.contiguous gives each VM its segment and
// the workload.paging plugin drives it.

import { definePlugin, registerMmu } from 'virtlab';
import { CompromisMmu } from './compromis';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new CompromisMmu(ctx));
});
