// mmu.nested-paging: registers the nested-paging strategy of ./nested-paging.ts
// (two-dimensional walks through the guest and host tables) as the simulation's MMU
// (capability mmu), with the page-walk cache and nested TLB its options ask for; the
// workload.paging plugin drives it.

import { definePlugin, registerMmu } from 'virtlab';
import { NestedMmu } from './nested-paging';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new NestedMmu(ctx));
});
