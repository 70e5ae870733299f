// The migration engine's add-on contract: what an add-on (a plugin, in the repository's
// plugins/migration/ or outside it) may change in a live migration, the registry
// through which plugins offer add-ons, and the controls through which a controller
// switches and retunes them per migration.
//
// An add-on is behaviour over plain state. When a migration starts, the engine clones
// each registered add-on's `initial` state for it; that state lives in the migration's
// record, so snapshots save it, and the add-on's functions receive it. The engine asks
// add-ons only when it plans a transfer (a round, the stop-and-copy) and when a round
// ends — never per page or per tick — so add-ons cost nothing on the hot path:
//
//   pageBytes  bytes one data page costs on the wire in a transfer (a chain, by stage);
//              it may look at the very pages sent (plan.pageList()), and when the
//              transfer really starts (plan.commit) record what it sent (a cache)
//   rateCap    the transfer's rate cap, bit/s (a chain, by stage; it sees the plan too)
//   cores      host cores the migration keeps busy, on the source and the destination
//   speed      a factor on the VM's speed while it migrates (1 = full speed)
//   roundEnd   reacts to a finished pre-copy round: may change its state, log a decision
//
// Zero pages (never written) always cost the method's zero-page marker, and post-copy
// pushes whole pages at the method's cap: add-ons shape pre-copy, as QEMU's do. Cores
// are charged when a round starts and released when the migration ends; a speed factor
// applies as soon as a round end or a controller changes it, and through post-copy.
// rateCap, cores and speed must not change the state, nor pageBytes unless plan.commit:
// the engine also calls them to estimate, e.g. whether the rest would fit in the
// downtime limit. Other state changes belong in roundEnd or come from a controller.
//
// A plugin registers an add-on at boot with `registerMigrationAddon(api, addon)`:
//
//   registerMigrationAddon(api, {
//     id: api.id,
//     initial: { ratio: api.options.ratio },
//     pageBytes: (s, bytes) => bytes * s.ratio,
//   });

import { STAGE_DEFAULT } from '../../engine/stages';
import type { MigrationParams, RoundStats } from './engine';

/** A transfer the engine is planning: a pre-copy round or the stop-and-copy. */
export interface TransferPlan {
  /** Migration id. */
  readonly migration: number;
  /** 0 is the full copy; later rounds resend re-dirtied pages; the stop-and-copy has the number after the last round. */
  readonly round: number;
  /** Data pages the transfer sends (zero pages excluded). */
  readonly pages: number;
  /** bytes */
  readonly pageSize: number;
  readonly vm: number;
  /** Source and destination host entities. */
  readonly src: number;
  readonly dst: number;
  /** True when the transfer starts now (pageBytes may record what it sends); false for an estimate. */
  readonly commit: boolean;
  /**
   * The page numbers of the data pages the transfer sends: the working set for the full
   * copy, the dirty log's pages after it (see MemoryActivity.dirtyPageList). Computed on
   * first use and shared by the add-ons; its length may differ slightly from `pages`
   * (an expectation when the dirty log is aggregate), so use it for shares, not counts.
   */
  pageList(): Uint32Array;
}

/** What an add-on sees when a pre-copy round has ended. */
export interface AddonRoundEnd {
  /** Migration id. */
  readonly migration: number;
  readonly vm: number;
  /** The round that ended. */
  readonly round: number;
  readonly stats: RoundStats;
  readonly params: MigrationParams;
  /** Simulated time at which the round's last byte arrived, ns. */
  readonly timeNs: number;
  /** Logs a decision of the add-on in the migration's record (migrations.json). */
  log(action: string, reason: string): void;
}

/** Host cores kept busy while a migration runs (compression and decompression threads). */
export interface HostCores {
  readonly src: number;
  readonly dst: number;
}

/**
 * A migration add-on. `S` is its per-migration state: plain data (numbers, strings,
 * arrays, plain objects), because it is cloned per migration and saved in snapshots.
 * Every function is optional; an add-on defines those that it changes.
 */
export interface MigrationAddon<S extends object = object> {
  /** Unique among the add-ons of a simulation; by convention the plugin's id. */
  readonly id: string;
  /** Order in the pageBytes and rateCap chains: ascending stage, then id. Default STAGE_DEFAULT. */
  readonly stage?: number;
  /** The state of a migration when it starts. */
  readonly initial: S;
  /** Bytes one data page costs in this transfer, given what it costs after the add-ons before this one. */
  pageBytes?(state: S, bytes: number, plan: TransferPlan): number;
  /** The transfer's rate cap, given the cap after the add-ons before this one; bit/s. The plan is never a commit. */
  rateCap?(state: S, bitsPerS: number, plan: TransferPlan): number;
  /** Cores the migration keeps busy while the add-on is on. */
  cores?(state: S): HostCores;
  /** Factor on the VM's speed (1 = unchanged), e.g. a throttle that slows its dirtying. */
  speed?(state: S): number;
  /** Called when a pre-copy round ends, before the controller, in stage order. */
  roundEnd?(state: S, round: AddonRoundEnd): void;
}

/** One add-on's part of a migration record: whether it is on, and its state. */
export interface AddonSlot {
  readonly id: string;
  enabled: boolean;
  state: object;
}

/**
 * What a controller may do to the add-ons of one migration. Every change that changes
 * something is logged as a decision with its reason and announced on the
 * `migration.methodSwitch` hook; it takes effect from the next transfer.
 */
export interface AddonControls {
  /** The registered add-ons' ids, in the order they apply. */
  readonly ids: readonly string[];
  /** Whether the add-on is registered (a scenario may leave its plugin out). */
  has(id: string): boolean;
  isEnabled(id: string): boolean;
  /** The add-on's current state for this migration (do not modify it: use retune). */
  state<S extends object>(id: string): Readonly<S>;
  /** Turns the add-on on, after applying `tune` to its state if given. */
  enable<S extends object>(id: string, action: string, reason: string, tune?: (state: S) => void): void;
  disable(id: string, action: string, reason: string): void;
  /** Changes the add-on's state, whether it is on or not. */
  retune<S extends object>(id: string, tune: (state: S) => void, action: string, reason: string): void;
}

interface Registered {
  readonly addon: MigrationAddon;
  readonly owner: string;
  readonly enabled: boolean;
}

/** The add-ons registered with a migration engine, in the order they apply. */
export class MigrationAddons {
  private entries: Registered[] = [];
  /** The add-ons in order, kept so that the engine's per-round loops allocate nothing. */
  private ordered: readonly MigrationAddon[] = [];
  private sealedBy: string | undefined;

  /**
   * Registers an add-on; `enabled` says whether migrations start with it on (a
   * controller may still turn it on later). Refused once a migration has started,
   * because that migration would lack the add-on's state.
   */
  register<S extends object>(addon: MigrationAddon<S>, options: { owner?: string; enabled?: boolean } = {}): void {
    const owner = options.owner ?? addon.id;
    const same = this.entries.find((e) => e.addon.id === addon.id);
    if (same) throw new Error(`migration add-on '${addon.id}' is registered twice, by '${same.owner}' and by '${owner}'; an add-on id must be unique`);
    if (this.sealedBy) throw new Error(`'${owner}' registered migration add-on '${addon.id}' after ${this.sealedBy} started; register add-ons while booting (registerMigrationAddon does)`);
    this.entries.push({ addon: addon as unknown as MigrationAddon, owner, enabled: options.enabled ?? true });
    const stage = (e: Registered) => e.addon.stage ?? STAGE_DEFAULT;
    this.entries.sort((a, b) => stage(a) - stage(b) || (a.addon.id < b.addon.id ? -1 : a.addon.id > b.addon.id ? 1 : 0));
    this.ordered = this.entries.map((e) => e.addon);
  }

  has(id: string): boolean {
    return this.entries.some((e) => e.addon.id === id);
  }

  /** Ids in the order the add-ons apply. */
  ids(): string[] {
    return this.entries.map((e) => e.addon.id);
  }

  /** The add-ons in the order they apply (the engine indexes slots by this order). */
  list(): readonly MigrationAddon[] {
    return this.ordered;
  }

  /** Refuses further registrations from now on; `what` names the migration that started. */
  seal(what: string): void {
    this.sealedBy ??= what;
  }

  /** The add-ons' parts of a migration that starts now (no add-on may join after it). */
  slotsForNewMigration(what: string): AddonSlot[] {
    this.seal(what);
    return this.entries.map((e) => ({ id: e.addon.id, enabled: e.enabled, state: structuredClone(e.addon.initial) }));
  }

  /** Checks that restored slots belong to the add-ons registered now, in the same order. */
  checkRestored(migration: number, slots: readonly AddonSlot[]): void {
    const want = this.ids().join(', ');
    const got = slots.map((s) => s.id).join(', ');
    if (want !== got) throw new Error(`the snapshot's migration ${migration} has add-ons [${got}], but this simulation registered [${want}]; restore into a simulation with the same plugins`);
  }

  /** Index of an add-on, or a refusal that names the registered ones. */
  indexOf(id: string): number {
    const i = this.entries.findIndex((e) => e.addon.id === id);
    if (i < 0) throw new Error(`no migration add-on '${id}' is registered (registered: ${this.ids().join(', ') || 'none'}); add the plugin that provides it to the scenario`);
    return i;
  }
}
