// The migration engine's hooks (hooks.migration): a live migration's start, rounds,
// method switches and end. The MigrationEngine (engine.ts) fires them; core/hooks.ts
// puts the group in the record.

import { SyncHook } from 'tapable';

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

export function createMigrationHooks() {
  return Object.freeze({
    /** A live migration started. */
    start: new SyncHook<[MigrationEvent]>(['event']),
    /** A pre-copy round (or post-copy push batch) ended. */
    round: new SyncHook<[MigrationRoundEvent]>(['event']),
    /** The migration switched method for the remaining pages. */
    methodSwitch: new SyncHook<[MigrationSwitchEvent]>(['event']),
    /** A migration ended, successfully or not. */
    end: new SyncHook<[MigrationEndEvent]>(['event']),
  });
}

export type MigrationHooks = ReturnType<typeof createMigrationHooks>;

declare module '../../engine/hooks' {
  interface Hooks {
    /** Live migrations. */
    readonly migration: MigrationHooks;
  }
}
