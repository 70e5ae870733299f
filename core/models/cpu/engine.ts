// The execution-engine contract: how the rest of virtlab runs a guest program without
// knowing whether an interpreter or a translator executes it. Engines are plugins
// that provide the `ExecutionEngine` service (capability `cpu.engine`); the guest
// workload and `virtlab exec` resolve it once and call `run(budget)` per tick.

import { token } from '../../engine/tokens';

/** Everything a guest program needs to start. */
export interface GuestLaunch {
  /** The ELF image. */
  readonly elf: Uint8Array;
  /** Path the guest sees for itself (argv[0] and /proc/self/exe). */
  readonly programPath: string;
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  /** Read-only files the guest may open: guest path → contents. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Guest memory, bytes. */
  readonly memoryBytes: number;
  /** Stack, bytes. */
  readonly stackBytes: number;
  /** Stops the guest after this many instructions (0: no limit). */
  readonly maxInstructions: number;
  /** Returns up to `max` bytes of standard input, or null at end of input. */
  readonly readStdin: (max: number) => Uint8Array | null;
  /** Writes guest output; returns false when its reader has gone (a closed pipe): the guest then gets SIGPIPE; any other return value is ignored. */
  readonly writeStdout: (bytes: Uint8Array) => unknown;
  readonly writeStderr: (bytes: Uint8Array) => unknown;
  /** The guest's clock, in nanoseconds since the epoch the runner chooses. */
  readonly now: () => number;
  /** Fills `out` with deterministic random bytes (AT_RANDOM, getrandom). */
  readonly randomBytes: (out: Uint8Array) => void;
  /**
   * A host clock in milliseconds, for engines that report host figures (translation
   * time). Runners outside simulations pass performance.now; simulations do not,
   * because nothing that reaches their results may depend on the host.
   */
  readonly hostNow?: () => number;
  /**
   * Compiles WebAssembly modules away from the guest's thread, for engines that
   * translate: they hand it their modules and go on interpreting until a module is
   * ready, then install it. Runners outside simulations may pass one (virtlab exec
   * does); simulations do not, because when a module arrives depends on the host.
   */
  readonly backgroundCompiler?: BackgroundCompiler;
  /**
   * A persistent translation cache, for engines that translate: what earlier runs of
   * the same program stored (null: nothing yet), a tag naming the build, engine and
   * options it must have been written by, and the most bytes a saved cache may take.
   * The engine installs a cached unit only where the guest's code is the code it was
   * translated from. Runners outside simulations may pass one (virtlab exec does);
   * simulations do not: what is translated must not depend on files outside them.
   */
  readonly codeCache?: { readonly bytes: Uint8Array | null; readonly tag: string; readonly maxBytes: number };
  /** The guest's vCPU entity (GuestCpu), reported in hooks.cpu.syscall and hooks.cpu.trap events. */
  readonly vcpu?: number;
  /** Timing mode: called with the address of every guest load and store. */
  readonly onMemoryAccess?: (address: number, write: boolean) => void;
  /** Timing mode: called when the guest unmaps or changes the permissions of memory. */
  readonly onMemoryMap?: (event: 'unmap' | 'protect', start: number, length: number) => void;
}

/** Compiles WebAssembly modules on another thread (see GuestLaunch.backgroundCompiler). */
export interface BackgroundCompiler {
  /** Starts compiling a module; returns its ticket. */
  submit(bytes: Uint8Array): number;
  /** The modules compiled since the last call, without waiting for any. */
  poll(): ReadonlyArray<{ readonly ticket: number; readonly module: WebAssembly.Module; readonly compileMs: number }>;
}

export interface GuestFault {
  readonly signal: number;
  readonly pc: number;
  readonly instruction: string;
  readonly address: number;
  readonly reason: string;
}

export interface GuestStatus {
  /** 'running' after a budget ran out; 'limit' when maxInstructions was reached. */
  readonly state: 'running' | 'exited' | 'signaled' | 'limit';
  readonly exitCode?: number;
  readonly signal?: number;
  readonly fault?: GuestFault;
  readonly message?: string;
}

export interface GuestInstance {
  /** Executes at most `budget` guest instructions. */
  run(budget: number): GuestStatus;
  /** Instructions retired so far. */
  readonly instructions: number;
  /**
   * Simulated nanoseconds that hooks.cpu.syscall and hooks.cpu.trap handlers charged
   * the guest so far, beyond its instructions. The runner adds them to the guest's
   * clock and takes them from its instruction budget.
   */
  readonly chargedNs: number;
  /** Engine counters (translated units, chain hits, …) by name. */
  counters(): Record<string, number>;
  /** System calls made, by number. */
  syscalls(): ReadonlyMap<number, number>;
  /** Unimplemented system calls that were answered -ENOSYS, by number. */
  unimplemented(): ReadonlyMap<number, number>;
  /**
   * With GuestLaunch.codeCache: why the stored cache was not used (null if it was, or
   * there was none), and the cache to store now (bytes null: nothing to store; note
   * says why, e.g. the size cap).
   */
  readonly codeCache?: {
    readonly note: string | null;
    save(): { readonly bytes: Uint8Array | null; readonly note: string | null };
  };
  /** The whole guest state, for simulation snapshots. */
  save(): unknown;
  load(state: unknown): void;
}

export interface ExecutionEngine {
  /** The engine's plugin id. */
  readonly id: string;
  start(launch: GuestLaunch): GuestInstance;
}

export const ExecutionEngine = token<ExecutionEngine>('ExecutionEngine');

/** Conventional exit status of a guest killed by a signal, as a shell reports it. */
export function signalStatus(signal: number): number {
  return 128 + signal;
}
