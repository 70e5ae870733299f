// The hooks record of a simulation: its type, the engine's own group (lifecycle), and
// the sealing that refuses taps after boot. One typed record is created per
// simulation and frozen, so no hook is looked up by string and none can be added at
// run time. Each hook has a doc comment that says when it fires and what a handler's
// return value means.
//
// The engine knows no domain, so it declares only the lifecycle group. Every other
// group is declared next to the contract of the model that fires it, and joins the
// `Hooks` interface below by declaration merging:
//
//   // core/models/memory/hooks.ts
//   declare module '../../engine/hooks' {
//     interface Hooks { readonly memory: MemoryHooks }
//   }
//
// core/hooks.ts composes the record from every group's factory; the type checker
// refuses a group that is declared but not composed.
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

import { AsyncSeriesHook, SyncHook } from 'tapable';
import type { SimContext } from './context';

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
  /** Length of this step in nanoseconds: dtNs, or several ticks under event advance. */
  readonly stepNs: number;
}

/** The engine's own hooks: the life of a simulation. */
export function createLifecycleHooks() {
  return Object.freeze({
    /**
     * Fires once, after every plugin has registered and before `boot`: the plugins
     * that hold the world's models (the datacenter, the network) spawn the
     * scenario's entities here, in plugin order, so that `boot` handlers find them.
     */
    populate: new SyncHook<[SimContext]>(['sim']),
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
  });
}

export type LifecycleHooks = ReturnType<typeof createLifecycleHooks>;

/**
 * The hooks record of a simulation, one group per subsystem. Models add their group
 * by declaration merging (see the top of this file).
 */
export interface Hooks {
  readonly lifecycle: LifecycleHooks;
}

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
