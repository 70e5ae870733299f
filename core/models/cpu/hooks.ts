// The guest CPU's hooks (hooks.cpu): system calls and traps of guest programs. They
// sit beside the execution-engine contract (engine.ts); the translators add their
// own hooks to the same group (../dbt/hooks.ts), and core/hooks.ts composes it.

import { SyncBailHook } from 'tapable';

export interface SyscallEvent {
  readonly vcpu: number;
  readonly number: number;
  readonly args: readonly number[];
}

export interface TrapEvent {
  readonly vcpu: number;
  readonly cause: string;
  readonly pc: number;
  readonly address: number;
}

/** The hooks.cpu group. An interface, so that the translators' module can add to it. */
export interface CpuHooks {
  /**
   * A guest made a system call. Returning a number answers the call with that
   * value (a plugin emulating a call); `undefined` lets the next handler or the
   * built-in Linux ABI answer.
   */
  readonly syscall: SyncBailHook<[SyscallEvent], number | undefined>;
  /**
   * A guest trapped (illegal instruction, access fault). Returning `true` says
   * the trap was handled and the guest resumes; otherwise the guest is ended
   * with the matching signal.
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
