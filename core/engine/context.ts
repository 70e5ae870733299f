// What systems, hooks and plugins see of a running simulation. `Simulation`
// implements it; plugins receive it through their api and every system call.
// The engine declares what it owns (world, clock, hooks, services); the scenario
// module adds the scenario and its host profiles by declaration merging
// (core/scenario/types.ts), so the engine imports no domain type.

import type { SimWorld } from '../ecs/world';
import type { Metrics } from '../metrics/metrics';
import type { ServiceToken } from './tokens';
import type { Hooks } from './hooks';
import type { RngStreams } from './rng';

export interface ServiceLookup {
  /** The service of a token; throws, naming the token, when no plugin provides it. */
  get<T>(token: ServiceToken<T>): T;
  /** The service, or undefined. */
  tryGet<T>(token: ServiceToken<T>): T | undefined;
}

export interface SimContext {
  readonly world: SimWorld;
  readonly hooks: Hooks;
  readonly metrics: Metrics;
  readonly rng: RngStreams;
  readonly services: ServiceLookup;
  /** Data files the runner provides (guest path → bytes); never read from disk in core/. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Index of the current tick (during a tick) or of the next one (between ticks). */
  readonly tick: number;
  /** Simulated time at the start of the current tick, ns. */
  readonly timeNs: number;
  /** Tick length, ns. */
  readonly dtNs: number;
  /**
   * Length of the current step, ns: the tick length, or a whole number of ticks when
   * the engine advances to the next event (only event-driven systems see more than
   * one tick; see core/engine/schedule.ts).
   */
  readonly stepNs: number;
  /** True during a tick at whose end the time series is sampled: update sampled gauges then. */
  readonly sampling: boolean;
}
