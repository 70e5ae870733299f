// What systems, hooks and plugins see of a running simulation. `Simulation`
// implements it; plugins receive it through their api and every system call.

import type { SimWorld } from '../ecs/world';
import type { Metrics } from '../metrics/metrics';
import type { HostProfile } from '../models/datacenter/host-profile';
import type { ServiceToken } from '../plugin/tokens';
import type { Scenario } from '../scenario/types';
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
  readonly scenario: Scenario;
  /** Host profiles in the order hosts' `Host.profile` indexes them. */
  readonly hostProfiles: readonly HostProfile[];
  /** Data files the runner provides (guest path → bytes); never read from disk in core/. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Index of the current tick (during a tick) or of the next one (between ticks). */
  readonly tick: number;
  /** Simulated time at the start of the current tick, ns. */
  readonly timeNs: number;
  /** Tick length, ns. */
  readonly dtNs: number;
  /** True during a tick at whose end the time series is sampled: update sampled gauges then. */
  readonly sampling: boolean;
}
