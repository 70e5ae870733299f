// definePlugin and the PluginApi: what a plugin's entry module uses. An entry module
// only registers — taps hooks, adds systems, provides services, declares metrics —
// and does nothing at import time:
//
//   export default definePlugin<Options>((api) => {
//     api.hooks.datacenter.vmPlaced.tap({ name: api.id, stage: STAGE_OBSERVE }, (e) => …);
//     api.addSystem({ name: `${api.id}/step`, phase: 'workload', run: (sim) => … });
//     api.provide(Placement, { useClass: FirstFit });
//   });

import type { SimContext } from '../engine/context';
import type { Hooks } from '../engine/hooks';
import type { Rng } from '../engine/rng';
import type { SystemDef } from '../engine/schedule';
import type { Counter, Gauge, Histogram, HistogramOptions } from '../metrics/metrics';
import type { Binding } from './container';
import type { ServiceToken } from '../engine/tokens';

/** State a plugin keeps outside components and metrics, saved in snapshots. */
export interface StateParticipant {
  save(): unknown;
  load(data: unknown): void;
}

export interface PluginApi<O = Record<string, unknown>> {
  /** The plugin's id (use it as the tap name). */
  readonly id: string;
  /** Effective options: scenario values over manifest defaults, units converted. */
  readonly options: Readonly<O>;
  readonly hooks: Hooks;
  /** The simulation; its world is populated by the time lifecycle.boot fires. */
  readonly sim: SimContext;
  /** Adds a system to a phase (see core/engine/schedule.ts for the frame order). */
  addSystem(def: SystemDef): void;
  /** Provides a service; a second provider of the same token is refused. */
  provide<T>(token: ServiceToken<T>, binding: Binding<T>): void;
  /** Registers state to save in snapshots, under `<plugin id>/<key>`. */
  persist(key: string, participant: StateParticipant): void;
  counter(name: string, unit: string, description: string): Counter;
  gauge(name: string, unit: string, description: string): Gauge;
  histogram(name: string, unit: string, description: string, options?: HistogramOptions): Histogram;
  /** The plugin's seeded random stream (`name` distinguishes several). */
  rng(name?: string): Rng;
}

export interface PluginModule<O = Record<string, unknown>> {
  readonly kind: 'virtlab-plugin';
  readonly register: (api: PluginApi<O>) => void;
}

/** Declares a plugin's registration function; the default export of its entry module. */
export function definePlugin<O = Record<string, unknown>>(register: (api: PluginApi<O>) => void): PluginModule<O> {
  return Object.freeze({ kind: 'virtlab-plugin' as const, register });
}

export function isPluginModule(x: unknown): x is PluginModule<never> {
  return typeof x === 'object' && x !== null && (x as PluginModule).kind === 'virtlab-plugin' && typeof (x as PluginModule).register === 'function';
}
