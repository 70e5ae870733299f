// mmu.native: registers the native strategy of ./native.ts (no virtualization, the
// guest table walked by hardware) as the simulation's MMU (capability mmu); the
// workload.paging plugin drives it.

import { definePlugin, registerMmu } from 'virtlab';
import { NativeMmu } from './native';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMmu(api, (ctx) => new NativeMmu(ctx));
});
