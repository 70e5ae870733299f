// mmu.compromis: registers the CompromisMmu strategy of core/models/memory/strategies.ts as the
// simulation's MMU (capability mmu); the workload.paging plugin drives it.

import { CompromisMmu, definePlugin, registerMmu } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new CompromisMmu(ctx));
});
