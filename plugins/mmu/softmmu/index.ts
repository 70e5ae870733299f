// mmu.softmmu: registers QEMU's software-TLB strategy of core/models/memory/strategies.ts
// with its table size; the workload.paging plugin drives it.

import { definePlugin, registerMmu, SoftMmu } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new SoftMmu(ctx, api.options.entries));
});
