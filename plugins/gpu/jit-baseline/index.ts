// gpu.jit.baseline: the global-memory-only compiler the paper compares against. It
// taps hooks.gpu.optimizeKernel with one pass that counts the kernels it compiles and
// leaves them as written; what no pass settles (reductions, the work-group size) is
// lowered by the shared floor of core/models/gpu/compile.ts, in global memory.

import { definePlugin, STAGE_DEFAULT } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const compiled = api.counter('gpu.jit.kernels', 'kernels', 'Kernels compiled.');
  api.hooks.gpu.optimizeKernel.tap({ name: `${api.id}/global-only`, stage: STAGE_DEFAULT }, (k) => {
    compiled.add();
    return k;
  });
});
