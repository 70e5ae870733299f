// mmu.shadow-paging: registers the shadow-paging strategy of ./shadow-paging.ts
// (write-protected guest tables, VM exits to keep the shadow in step) as the
// simulation's MMU (capability mmu); the workload.paging plugin drives it.

import { definePlugin, registerMmu } from 'virtlab';
import { ShadowMmu } from './shadow-paging';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new ShadowMmu(ctx));
});
