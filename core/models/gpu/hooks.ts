// The GPU's hooks (hooks.gpu): the JIT's pass pipeline over kernel IR, and kernel
// launches and completions with their per-tier transaction counts. The GPU model
// (compile.ts, and the workload plugins that launch kernels) fires them;
// core/hooks.ts puts the group in the record. Like the translator's
// cpu.optimizeUnit, optimizeKernel is a waterfall that JIT plugins tap with a stage.

import { SyncHook, SyncWaterfallHook } from 'tapable';
import type { GpuCounts } from './executor';
import type { Kernel } from './kernel';
import type { GpuProfile } from './profile';

/** What a JIT pass knows about the compilation: the device it compiles for. */
export interface KernelPassContext {
  readonly device: GpuProfile;
}

export interface KernelLaunchEvent {
  /** Host entity whose GPU runs the kernel. */
  readonly host: number;
  /** Index of the GPU in the host profile's `gpus:`. */
  readonly gpu: number;
  /** VM entity that launched it (through GPU passthrough), 0 when none. */
  readonly vm: number;
  readonly kernel: string;
  readonly timeNs: number;
}

export interface KernelCompletedEvent extends KernelLaunchEvent {
  /** Kernel time from launch to completion, ns. */
  readonly kernelNs: number;
  /** Per-tier counts of the launch: global transactions, L2 hits and misses, local accesses, bank conflicts, barriers. */
  readonly counts: Readonly<GpuCounts>;
}

export function createGpuHooks() {
  return Object.freeze({
    /**
     * A kernel is being compiled for a device: a waterfall of JIT passes, each
     * receiving the kernel and returning it (or a rewritten one) for the next. A pass
     * leaves a kernel marked `handTuned` alone. Whatever reductions and work-group
     * size no pass settled are lowered afterwards in global memory (compile.ts).
     */
    optimizeKernel: new SyncWaterfallHook<[Kernel, KernelPassContext]>(['kernel', 'context']),
    /** A kernel was launched on a GPU. */
    kernelLaunched: new SyncHook<[KernelLaunchEvent]>(['event']),
    /** A kernel completed; the event carries its counted transactions per memory tier. */
    kernelCompleted: new SyncHook<[KernelCompletedEvent]>(['event']),
  });
}

export type GpuHooks = ReturnType<typeof createGpuHooks>;

declare module '../../engine/hooks' {
  interface Hooks {
    /** GPU kernels: compilation passes, launches and completions. */
    readonly gpu: GpuHooks;
  }
}
