// mmu.ssp: registers the swift-shadow-paging strategy of core/models/memory/strategies.ts
// with its root buffer size; the workload.paging plugin drives it.

import { definePlugin, registerMmu, SspMmu } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new SspMmu(ctx, api.options.rootBuffer));
});
