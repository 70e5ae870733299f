// The translators' hooks, in the hooks.cpu group: a unit of host code produced, and
// the waterfall of optimization passes over a unit of IR (ir.ts). They sit here,
// beside the IR they carry, and join the guest CPU's group (../cpu/hooks.ts) by
// declaration merging; core/hooks.ts composes the group.

import { SyncHook, SyncWaterfallHook } from 'tapable';
import type { Unit } from './ir';
import type { PassRules } from './pass-rules';

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
 * A unit of translator IR being optimized (see ir.ts): the guest entry, the
 * translator's id and kind, and the options the passes run with.
 */
export interface UnitPassContext {
  readonly translator: string;
  readonly kind: string;
  readonly entry: number;
  /** Which passes the translator's options switched on, by name. */
  readonly enabled: Readonly<Record<string, boolean>>;
  /** Timing mode: a memory model observes every guest access; passes must keep them all. */
  readonly timing: boolean;
  /**
   * The rewrite rules this pass may apply, and the record of those it applies
   * (pass-rules.ts); absent, every rule is on. A bug localizer gives each pass its own.
   */
  readonly rules?: PassRules;
}

declare module '../cpu/hooks' {
  interface CpuHooks {
    /** A translator produced a unit of host code. */
    readonly blockTranslated: SyncHook<[BlockTranslatedEvent]>;
    /**
     * An optimizing translator is optimizing a unit of IR before lowering it: a
     * waterfall of passes, each receiving the unit and returning it (rewritten in
     * place or replaced) for the next. Passes tap with a stage to order themselves
     * among the translator's own (each translator's README says at which stages
     * its passes run).
     */
    readonly optimizeUnit: SyncWaterfallHook<[Unit, UnitPassContext]>;
  }
}

/** The translators' part of hooks.cpu. */
export function createTranslatorHooks() {
  return {
    blockTranslated: new SyncHook<[BlockTranslatedEvent]>(['event']),
    optimizeUnit: new SyncWaterfallHook<[Unit, UnitPassContext]>(['unit', 'context']),
  };
}
