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
       * A guest made a system call. Returning a number answers the call with that
       * value (a plugin emulating a call); `undefined` lets the next handler or the
       * built-in Linux ABI answer.
       */
      syscall: new SyncBailHook<[SyscallEvent], number | undefined>(['event']),
      /**
       * A guest trapped (illegal instruction, access fault). Returning `true` says
       * the trap was handled and the guest resumes; otherwise the guest is ended
       * with the matching signal.
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
