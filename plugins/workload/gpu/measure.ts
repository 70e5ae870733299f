// One measured launch of a benchmark kernel: compile it through the hooks (the JIT
// plugin selected), run it on a GPU profile, and compare its outputs with the CPU
// reference. Used by the workload plugin and by the reproduction.

import { compileKernel, runKernel, type GpuHooks, type GpuProfile, type Kernel, type LaunchResult } from 'virtlab';
import type { Benchmark } from './benchmarks';

export interface Measured extends LaunchResult {
  /** The kernel as compiled. */
  readonly compiled: Kernel;
  /** Output elements that differ from the CPU reference (must be 0). */
  readonly mismatches: number;
}

export function measure(hooks: GpuHooks | undefined, b: Benchmark, which: 'jit' | 'hand-tuned', dev: GpuProfile): Measured {
  const compiled = compileKernel(hooks, which === 'jit' ? b.kernel : b.handTuned, dev);
  const r = runKernel(compiled, dev, b.inputs);
  let mismatches = 0;
  for (const [name, want] of b.expected) {
    const got = r.buffers.get(name)!;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) mismatches++;
  }
  return { ...r, compiled, mismatches };
}
