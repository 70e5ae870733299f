// mmu.ssp: registers the swift-shadow-paging strategy of ./ssp.ts with its root buffer
// size as the simulation's MMU (capability mmu); the workload.paging plugin drives it.

import { definePlugin, registerMmu } from 'virtlab';
import { SspMmu } from './ssp';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new SspMmu(ctx, api.options.rootBuffer));
});
