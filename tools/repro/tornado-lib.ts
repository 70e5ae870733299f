// The measurements of the TornadoVM reproduction, shared by `npm run repro:tornado`
// and its trend tests: boot a minimal simulation with one gpu.jit plugin (so its
// passes are tapped on hooks.gpu.optimizeKernel exactly as in a scenario), compile a
// benchmark for a host profile's GPU, run it on the GPU model, and check its outputs
// against the CPU reference.

import { scenario, type GpuProfile, type Simulation } from 'virtlab';
import { bootText } from '../node/testing';
import { buildBenchmark, type BenchmarkName } from '../../plugins/workload/gpu/benchmarks';
import { measure, type Measured } from '../../plugins/workload/gpu/measure';

export const PROFILES = ['x86-64-v100', 'x86-64-mi50'] as const;
/** Sizes small enough for a functional run of every work-item, large enough to fill several waves' worth of work-groups per compute unit. */
export const SIZES: Record<BenchmarkName, number> = { reduction: 65536, matmul: 128, transpose: 256, stencil: 128, saxpy: 65536 };

const sims = new Map<string, Simulation>();
/** A booted simulation with the JIT plugin and host profile (cached). */
export async function jitSim(jit: 'gpu.jit.baseline' | 'gpu.jit.local-memory', profile: string, options: Record<string, unknown> = {}): Promise<Simulation> {
  const key = `${jit}|${profile}|${JSON.stringify(options)}`;
  let sim = sims.get(key);
  if (!sim) {
    sim = await bootText(scenario('tornado').preset('minimal').duration('1ms').tick('1ms').hosts({ profile }).plugin('datacenter.racks').plugin(jit, options));
    sims.set(key, sim);
  }
  return sim;
}

export function gpuOf(sim: Simulation, patch: Partial<GpuProfile> = {}): GpuProfile {
  return { ...sim.scenario.hosts[0].profile.gpus[0], ...patch };
}

export interface Row {
  benchmark: BenchmarkName;
  profile: string;
  baseline: Measured;
  local: Measured;
  hand: Measured;
  /** Baseline over local-memory kernel time. */
  speedup: number;
  /** Hand-tuned over local-memory kernel time: the JIT's fraction of hand-tuned performance. */
  ofHand: number;
}

/** Measures one benchmark on one profile under both JITs and the hand-tuned kernel. */
export async function measureRow(benchmark: BenchmarkName, profile: string, opts: { size?: number; radius?: number; gpu?: Partial<GpuProfile> } = {}): Promise<Row> {
  const b = buildBenchmark(benchmark, opts.size ?? SIZES[benchmark], opts.radius ?? 1);
  const base = await jitSim('gpu.jit.baseline', profile);
  const lm = await jitSim('gpu.jit.local-memory', profile);
  const dev = gpuOf(base, opts.gpu);
  const baseline = measure(base.hooks.gpu, b, 'jit', dev);
  const local = measure(lm.hooks.gpu, b, 'jit', dev);
  const hand = measure(lm.hooks.gpu, b, 'hand-tuned', dev);
  return { benchmark, profile, baseline, local, hand, speedup: baseline.kernelNs / local.kernelNs, ofHand: hand.kernelNs / local.kernelNs };
}
