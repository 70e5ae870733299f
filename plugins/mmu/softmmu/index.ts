// mmu.softmmu: registers the SoftMmu strategy of core/models/memory/strategies.ts as the
// simulation's MMU (capability mmu); the workload.paging plugin drives it.

import { SoftMmu, definePlugin, registerMmu } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new SoftMmu(ctx));
});
