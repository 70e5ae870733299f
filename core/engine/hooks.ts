// The one typed hooks record of a simulation. Every extension point of the core is
// here, grouped by subsystem, each with a doc comment that says when it fires and
// what a handler's return value means. A fresh record is created per simulation and
// frozen, so no hook is looked up by string and none can be added at run time.
//
// Hook classes are picked on purpose (tapable):
// - SyncHook: a notification; return values are ignored.
// - SyncBailHook: the first handler that returns something other than `undefined`
//   decides, and later handlers do not run.
// - SyncWaterfallHook: each handler transforms the value and passes it on.
// - AsyncSeriesHook: only at boot and finish, where plugins may load or write data.
//
// Hooks fire on events (a VM placed, a TLB miss, a block translated, a migration
// round), never per instruction or per memory access: per-access behaviour comes from
// strategy objects resolved once through the registry. Tap with a name and a stage
// (see stages.ts) during registration; tapping after boot is an error, because each
// new tap makes tapable regenerate the hook's call code.

import { AsyncSeriesHook, SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import type { SimContext } from './context';
import type { Unit } from '../models/dbt/ir';

/** What `finish` handlers add to a run's results. */
export interface FinishContext {
  readonly sim: SimContext;
  /** Adds a file (name relative to the results folder) to the results. */
  addFile(name: string, contents: string): void;
  /** Adds a line to the human summary. */
  addSummaryLine(line: string): void;
}

export interface TickInfo {
  /** Index of the tick about to run (beforeTick) or just run (afterTick). */
  readonly tick: number;
  /** Simulated time at the start of the tick, in nanoseconds. */
  readonly timeNs: number;
  /** Tick length in nanoseconds. */
  readonly dtNs: number;
}

export interface VmPlacedEvent {
  readonly vm: number;
  readonly host: number;
  readonly timeNs: number;
}

export interface PlacementFailedEvent {
  readonly vm: number;
  readonly reason: string;
  readonly timeNs: number;
}

export interface BlockTranslatedEvent {
  readonly vcpu: number;
  /** Guest address of the first instruction of the unit. */
  readonly guestStart: number;
  /** Guest bytes covered by the unit. */
  readonly guestBytes: number;
  readonly guestInstructions: number;
  /** Size of the generated host code, in bytes. */
  readonly hostBytes: number;
  /** Host time spent translating, in nanoseconds (host timing, not simulated). */
  readonly translateNs: number;
  /** 'block', 'superblock', 'function', … */
  readonly kind: string;
}

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

export interface TlbMissEvent {
  readonly vcpu: number;
  readonly va: number;
  readonly asid: number;
  readonly level: number;
}

export interface PageWalkEvent {
  readonly vcpu: number;
  readonly va: number;
  /** Memory references the walk made. */
  readonly references: number;
  readonly cycles: number;
}

export interface PageFaultEvent {
  readonly vcpu: number;
  readonly va: number;
  readonly access: 'read' | 'write' | 'execute';
  /** 'guest' for a fault the guest kernel handles, 'hidden' for one the hypervisor hides. */
  readonly kind: 'guest' | 'hidden';
}

export interface PtWriteEvent {
  readonly vm: number;
  /** Guest-physical address of the written page-table entry. */
  readonly gpa: number;
  readonly level: number;
}

export interface TlbFlushEvent {
  readonly vcpu: number;
  /** Virtual address flushed, or -1 for all addresses. */
  readonly va: number;
  /** Address-space id flushed, or -1 for all. */
  readonly asid: number;
}

export interface RootSwitchEvent {
  readonly vcpu: number;
  readonly oldRoot: number;
  readonly newRoot: number;
}

export interface VmExitEvent {
  readonly vcpu: number;
  readonly vm: number;
  readonly cause: string;
  readonly cycles: number;
}

export interface FlowEvent {
  readonly flow: number;
  readonly src: number;
  readonly dst: number;
  readonly bytes: number;
  readonly timeNs: number;
  readonly tag: string;
}

export interface MigrationEvent {
  readonly migration: number;
  readonly vm: number;
  readonly src: number;
  readonly dst: number;
  readonly timeNs: number;
  readonly method: string;
}

export interface MigrationRoundEvent extends MigrationEvent {
  readonly round: number;
  readonly bytesSent: number;
  readonly pagesRemaining: number;
  readonly dirtyRatePagesPerS: number;
  readonly bandwidthBitsPerS: number;
}

export interface MigrationSwitchEvent extends MigrationEvent {
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

export interface MigrationEndEvent extends MigrationEvent {
  readonly success: boolean;
  readonly totalNs: number;
  readonly downtimeNs: number;
  readonly bytesSent: number;
  readonly rounds: number;
}

/**
 * A unit of translator IR being optimized (see core/models/dbt/ir.ts): the guest
 * entry, the translator's id and kind, and the options the passes run with.
 */
export interface UnitPassContext {
  readonly translator: string;
  readonly kind: string;
  readonly entry: number;
  /** Which passes the translator's options switched on, by name. */
  readonly enabled: Readonly<Record<string, boolean>>;
  /** Timing mode: a memory model observes every guest access; passes must keep them all. */
  readonly timing: boolean;
}

/** A GPU kernel as the JIT sees it; the IR itself is defined by the GPU model. */
export interface KernelCompileInput {
  readonly name: string;
  readonly ir: unknown;
  readonly device: number;
}

export interface KernelLaunchEvent {
  readonly name: string;
  readonly device: number;
  readonly cycles: number;
}

export function createHooks() {
  return Object.freeze({
    lifecycle: Object.freeze({
      /**
       * Fires once, after every plugin has registered and the world has been
       * populated with hosts and VMs, before the first tick. Plugins create their
       * entities and per-entity state here.
       */
      boot: new SyncHook<[SimContext]>(['sim']),
      /** Fires after `boot`, awaited: for plugins that must compile or load data. */
      bootAsync: new AsyncSeriesHook<[SimContext]>(['sim']),
      /** Fires at the start of every tick, before the first phase. */
      beforeTick: new SyncHook<[TickInfo]>(['tick']),
      /** Fires at the end of every tick, after the last phase. */
      afterTick: new SyncHook<[TickInfo]>(['tick']),
      /** Fires once when the run ends; handlers add files and summary lines. */
      finish: new AsyncSeriesHook<[FinishContext]>(['finish']),
    }),
    datacenter: Object.freeze({
      /** A VM was placed on a host (at boot, on arrival, or after a migration). */
      vmPlaced: new SyncHook<[VmPlacedEvent]>(['event']),
      /** No host could take a VM; it stays pending and is retried next tick. */
      placementFailed: new SyncHook<[PlacementFailedEvent]>(['event']),
    }),
    cpu: Object.freeze({
      /** A translator produced a unit of host code. */
      blockTranslated: new SyncHook<[BlockTranslatedEvent]>(['event']),
      /**
       * An optimizing translator is optimizing a unit of IR before lowering it: a
       * waterfall of passes, each receiving the unit and returning it (rewritten in
       * place or replaced) for the next. Passes tap with a stage to order themselves
       * among the translator's own (dbt.instrew: fold at STAGE_EARLY, redundant
       * loads at STAGE_DEFAULT, dead code at STAGE_LATE).
       */
      optimizeUnit: new SyncWaterfallHook<[Unit, UnitPassContext]>(['unit', 'context']),
      /**
       * A guest made a system call (fired by the RISC-V process under every
       * execution engine, before the built-in Linux ABI answers it; not fired at all
       * when nothing is tapped). Returning a number answers the call with that value
       * for a0 (a result, or -errno) and the built-in ABI does not run; `undefined`
       * lets the next handler, then the built-in ABI, answer. Handlers that only
       * observe or charge time (`event.chargeNs`) return `undefined`; an observer that
       * must also see the calls another plugin answers taps at STAGE_FIRST.
       */
      syscall: new SyncBailHook<[SyscallEvent], number | undefined>(['event']),
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
      trap: new SyncBailHook<[TrapEvent], boolean | undefined>(['event']),
    }),
    memory: Object.freeze({
      /** A TLB lookup missed at the given level. */
      tlbMiss: new SyncHook<[TlbMissEvent]>(['event']),
      /** A page walk completed, with its references and cycles. */
      pageWalk: new SyncHook<[PageWalkEvent]>(['event']),
      /**
       * A page fault was raised. Returning `true` says a handler resolved it (the
       * access is retried); `undefined` passes it to the guest kernel.
       */
      pageFault: new SyncBailHook<[PageFaultEvent], boolean | undefined>(['event']),
      /** The guest wrote a page-table entry (seen only where writes are tracked). */
      ptWrite: new SyncHook<[PtWriteEvent]>(['event']),
      /** The guest flushed TLB entries (sfence.vma, invlpg, a full flush). */
      tlbFlush: new SyncHook<[TlbFlushEvent]>(['event']),
      /** The guest switched page-table root (satp or CR3 write). */
      rootSwitch: new SyncHook<[RootSwitchEvent]>(['event']),
      /** A VM exit to the hypervisor, with its cause and cost. */
      vmExit: new SyncHook<[VmExitEvent]>(['event']),
    }),
    network: Object.freeze({
      /** A flow started on the network. */
      flowStarted: new SyncHook<[FlowEvent]>(['event']),
      /** A flow delivered its last byte. */
      flowFinished: new SyncHook<[FlowEvent]>(['event']),
    }),
    migration: Object.freeze({
      /** A live migration started. */
      start: new SyncHook<[MigrationEvent]>(['event']),
      /** A pre-copy round (or post-copy push batch) ended. */
      round: new SyncHook<[MigrationRoundEvent]>(['event']),
      /** The migration switched method for the remaining pages. */
      methodSwitch: new SyncHook<[MigrationSwitchEvent]>(['event']),
      /** A migration ended, successfully or not. */
      end: new SyncHook<[MigrationEndEvent]>(['event']),
    }),
    gpu: Object.freeze({
      /**
       * A kernel is being compiled: a waterfall of passes, each receiving the
       * kernel and returning it (possibly rewritten) for the next pass.
       */
      kernelCompile: new SyncWaterfallHook<[KernelCompileInput]>(['kernel']),
      /** A kernel ran on a device. */
      kernelLaunch: new SyncHook<[KernelLaunchEvent]>(['event']),
    }),
  });
}

/** The hooks record of a simulation. */
export type Hooks = ReturnType<typeof createHooks>;

type AnyHook = { intercept(i: { register?: (tap: unknown) => unknown }): void };

/**
 * Makes every hook refuse new taps once `isSealed()` turns true, with an error that
 * says why (taps regenerate code; tap during registration or boot).
 */
export function sealAfterBoot(hooks: Hooks, isSealed: () => boolean): void {
  for (const [group, record] of Object.entries(hooks)) {
    for (const [name, hook] of Object.entries(record as Record<string, AnyHook>)) {
      hook.intercept({
        register(tap) {
          if (isSealed()) {
            const who = (tap as { name?: string }).name ?? '?';
            throw new Error(`'${who}' tapped hooks.${group}.${name} after boot; tap hooks while registering or in lifecycle.boot`);
          }
          return tap;
        },
      });
    }
  }
}
