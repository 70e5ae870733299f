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

/**
 * A slice of `cus` compute units of a GPU with its share of L2 and device-memory
 * bandwidth and of L2 capacity, as a GPU partition (NVIDIA MIG) has: the load on the
 * memory system per compute unit stays that of the whole device.
 */
export function slice(dev: GpuProfile, cus: number): Partial<GpuProfile> {
  const f = cus / dev.computeUnits;
  return { computeUnits: cus, globalBandwidth: dev.globalBandwidth * f, l2: dev.l2 && { ...dev.l2, size: dev.l2.size * f, bandwidth: dev.l2.bandwidth * f } };
}

export function gpuOf(sim: Simulation, patch: Partial<GpuProfile> = {}): GpuProfile {
  return { ...sim.scenario.hosts[0].profile.gpus[0], ...patch };
}

export interface Row {
  benchmark: BenchmarkName;
  profile: string;
  baseline: Measured;
  local: Measured;
  /** Undefined when the hand-tuned kernel's fixed local arrays do not fit the (shrunk) device. */
  hand?: Measured;
  /** Baseline over local-memory execution time (launch overhead excluded, as OpenCL profiling events measure kernels). */
  speedup: number;
  /** Hand-tuned over local-memory kernel time: the JIT's fraction of hand-tuned performance (NaN without a hand-tuned run). */
  ofHand: number;
}

/** Measures one benchmark on one profile under both JITs and the hand-tuned kernel. */
/**
 * Compute units of the partition the reproduction runs on: the problem sizes a
 * functional run of every work-item affords (SIZES) have 16 to 256 work-groups, too
 * few to fill 60 or 80 compute units; on 8 of them, with their share of the memory
 * system (slice()), they run in full waves, as the paper's larger inputs do on the
 * whole device.
 */
export const PARTITION_CUS = 8;

/** Measures one benchmark on one profile's GPU partition under both JITs and the hand-tuned kernel; `gpu` patches the partition. */
export async function measureRow(benchmark: BenchmarkName, profile: string, opts: { size?: number; radius?: number; gpu?: Partial<GpuProfile>; hand?: boolean } = {}): Promise<Row> {
  // Rows are deterministic: the same measurement is made once per process.
  const key = JSON.stringify([benchmark, profile, opts.size, opts.radius, opts.gpu, opts.hand]);
  let row = rows.get(key);
  if (!row) rows.set(key, (row = measureRowOnce(benchmark, profile, opts)));
  return row;
}
const rows = new Map<string, Promise<Row>>();

async function measureRowOnce(benchmark: BenchmarkName, profile: string, opts: { size?: number; radius?: number; gpu?: Partial<GpuProfile>; hand?: boolean }): Promise<Row> {
  const b = buildBenchmark(benchmark, opts.size ?? SIZES[benchmark], opts.radius ?? 1);
  const base = await jitSim('gpu.jit.baseline', profile);
  const lm = await jitSim('gpu.jit.local-memory', profile);
  const whole = gpuOf(base);
  const dev = { ...whole, ...slice(whole, PARTITION_CUS), ...opts.gpu };
  const baseline = measure(base.hooks.gpu, b, 'jit', dev);
  const local = measure(lm.hooks.gpu, b, 'jit', dev);
  let hand: Measured | undefined;
  // A hand-tuned kernel has a fixed work-group and fixed local arrays, which a patched device may not take.
  if (opts.hand !== false)
    try {
      hand = measure(lm.hooks.gpu, b, 'hand-tuned', dev);
    } catch (e) {
      if (!opts.gpu || !/local memory|maximum|does not fit/.test((e as Error).message)) throw e;
    }
  return { benchmark, profile, baseline, local, hand, speedup: baseline.executeNs / local.executeNs, ofHand: hand ? hand.executeNs / local.executeNs : NaN };
}
