// The guest CPU's hooks (hooks.cpu): system calls and traps of guest programs. They
// sit beside the execution-engine contract (engine.ts); the translators add their
// own hooks to the same group (../dbt/hooks.ts), and core/hooks.ts composes it.

import { SyncBailHook } from 'tapable';

/**
 * A running guest's registers and memory, as a syscall or trap handler sees them
 * (valid only during the call). Integer registers are 64-bit: read and written as
 * BigInt, off the hot path. Memory accesses check the guest's page permissions and
 * throw on an inaccessible address; a write drops any translation of the code it
 * changes.
 */
export interface GuestView {
  /** Integer register x`i` (0..31) as a signed 64-bit value. */
  reg(i: number): bigint;
  /** Sets integer register x`i` (writes to x0 are ignored). */
  setReg(i: number, value: bigint): void;
  /** Copies `length` bytes of guest memory at `address`. */
  read(address: number, length: number): Uint8Array;
  /** Writes `bytes` into guest memory at `address`. */
  write(address: number, bytes: Uint8Array): void;
}

export interface SyscallEvent {
  /** The guest's vCPU entity (GuestCpu), or 0 outside a simulation. */
  readonly vcpu: number;
  /** The call's number in the guest's ABI (rv64 Linux: a7). */
  readonly number: number;
  /** Its Linux name ('write', 'getpid'), or `syscall <n>` for a number the ABI's table does not name. */
  readonly name: string;
  /**
   * Arguments a0..a5 as signed 64-bit values converted to numbers: exact for
   * descriptors, flags, sizes and addresses (below 2^53 in magnitude).
   */
  readonly args: readonly number[];
  /** Address of the ecall instruction. */
  readonly pc: number;
  /** The guest's clock at the call, in simulated nanoseconds (what clock_gettime would read). */
  readonly timeNs: number;
  readonly guest: GuestView;
  /**
   * Simulated nanoseconds the call costs the guest beyond its instructions; starts
   * at 0 and handlers add to it (e.g. 2000 per `write`). The guest's clock moves on
   * by it at once, and the time is taken from the instructions it retires next.
   */
  chargeNs: number;
}

export interface TrapEvent {
  /** The guest's vCPU entity (GuestCpu), or 0 outside a simulation. */
  readonly vcpu: number;
  /** What went wrong, as the guest's fault report says it ('illegal instruction', 'breakpoint (ebreak)', …). */
  readonly cause: string;
  /** The signal that ends the guest if no handler takes the trap: SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGSEGV 11. */
  readonly signal: number;
  /** Address of the instruction that trapped. */
  readonly pc: number;
  /** The address the fault is about: the data address of an access fault, else the pc. */
  readonly address: number;
  /** The instruction's raw bits, or -1 when it could not be fetched. */
  readonly instruction: number;
  /** Its length in bytes (2 compressed, 4), or 0 when it could not be fetched. */
  readonly length: number;
  readonly guest: GuestView;
  /**
   * Where the guest resumes when a handler returns `true`. It starts at `pc`, which
   * retries the instruction (the handler must have removed the cause); a handler
   * that emulates the instruction sets it to `pc + length` after writing its results
   * through `guest`. The emulated instruction is not counted as retired.
   */
  resumePc: number;
  /** Simulated nanoseconds the handling costs the guest; handlers add to it (see SyscallEvent.chargeNs). */
  chargeNs: number;
}

/** The hooks.cpu group. An interface, so that the translators' module can add to it. */
export interface CpuHooks {
  /**
   * A guest made a system call (fired by the RISC-V process under every
   * execution engine, before the built-in Linux ABI answers it; not fired at all
   * when nothing is tapped). Returning a number answers the call with that value
   * for a0 (a result, or -errno) and the built-in ABI does not run; `undefined`
   * lets the next handler, then the built-in ABI, answer. Handlers that only
   * observe or charge time (`event.chargeNs`) return `undefined`; an observer that
   * must also see the calls another plugin answers taps at STAGE_FIRST.
   */
  readonly syscall: SyncBailHook<[SyscallEvent], number | undefined>;
  /**
   * A guest instruction faulted in a way that would end the guest with a signal
   * (illegal instruction, ebreak, an access fault, a misaligned atomic, an
   * instruction fetch from a page without execute permission). Returning `true`
   * says the trap is handled: the guest resumes at `event.resumePc` (a handler
   * that emulates the instruction sets it past it). `undefined` lets the next
   * handler decide; if none handles it, the guest is ended with `event.signal`.
   * A guest that traps again 16 times in a row without retiring an instruction is
   * ended, so a handler that never makes progress cannot hang the run.
   */
  readonly trap: SyncBailHook<[TrapEvent], boolean | undefined>;
}

/** The guest CPU's part of hooks.cpu. */
export function createGuestCpuHooks(): Pick<CpuHooks, 'syscall' | 'trap'> {
  return {
    syscall: new SyncBailHook<[SyscallEvent], number | undefined>(['event']),
    trap: new SyncBailHook<[TrapEvent], boolean | undefined>(['event']),
  };
}

declare module '../../engine/hooks' {
  interface Hooks {
    /** Guest CPUs and the translators that run them. */
    readonly cpu: CpuHooks;
  }
}
