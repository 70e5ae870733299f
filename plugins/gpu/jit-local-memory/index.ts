// gpu.jit.local-memory: the paper's technique (TornadoVM, Papadimitriou et al.). Its
// passes (passes.ts) tap hooks.gpu.optimizeKernel, as a translator's passes tap
// hooks.cpu.optimizeUnit: reductions at STAGE_EARLY, halo tiles at STAGE_DEFAULT,
// loop tiles at STAGE_LATE. Local arrays, and so the work-group, are sized by the
// paper's rule (sizing.ts). Hand-tuned kernels pass through untouched.

import { definePlugin, STAGE_DEFAULT, STAGE_EARLY, STAGE_LATE, type GpuProfile, type Kernel } from 'virtlab';
import type { Options } from './options';
import { haloTiles, reductionsToLocal, tileLoops, type PassStats } from './passes';
import { localArraySize } from './sizing';

export default definePlugin<Options>((api) => {
  const stats: PassStats = { reductions: 0, loopTiles: 0, haloTiles: 0, refused: 0 };
  const counters = {
    reductions: api.counter('gpu.jit.reductions-local', 'reductions', 'Reductions turned into work-group tree reductions in local memory.'),
    loopTiles: api.counter('gpu.jit.loop-tiles', 'arrays', 'Arrays staged in local memory by loop tiling.'),
    haloTiles: api.counter('gpu.jit.halo-tiles', 'arrays', 'Arrays staged in local memory with their halo.'),
    refused: api.counter('gpu.jit.refused', 'arrays', 'Candidates left in global memory: no reuse, no fitting tile, or local memory too small.'),
  };
  // Local memory already promised to a kernel's arrays, per compilation.
  const budgets = new WeakMap<Kernel, { bytes: number }>();
  const budget = (k: Kernel) => {
    let b = budgets.get(k);
    if (!b) budgets.set(k, (b = { bytes: k.arrays.filter((a) => a.space === 'local').reduce((s, a) => s + a.length * 4, 0) }));
    return b;
  };
  const pass = (name: string, stage: number, run: (k: Kernel, L: number[], dev: GpuProfile) => Kernel) =>
    api.hooks.gpu.optimizeKernel.tap({ name: `${api.id}/${name}`, stage }, (k, ctx) => {
      if (k.handTuned) return k;
      const before = { ...stats };
      const L = k.local ? [...k.local] : localArraySize(k.global, ctx.device);
      const b = budget(k);
      const out = run(k, L, ctx.device);
      budgets.set(out, b);
      counters.reductions.add(stats.reductions - before.reductions);
      counters.loopTiles.add(stats.loopTiles - before.loopTiles);
      counters.haloTiles.add(stats.haloTiles - before.haloTiles);
      counters.refused.add(stats.refused - before.refused);
      return out;
    });
  if (api.options.reductions) pass('reductions', STAGE_EARLY, (k, L) => reductionsToLocal(k, L, stats));
  if (api.options.haloTiles) pass('halo-tiles', STAGE_DEFAULT, (k, L, dev) => haloTiles(k, L, dev, stats, budget(k)));
  if (api.options.loopTiles) pass('loop-tiles', STAGE_LATE, (k, L, dev) => tileLoops(k, L, dev, stats, budget(k)));
});
