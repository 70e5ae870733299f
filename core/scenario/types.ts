// The resolved scenario: what the loader produces from a scenario file and what the
// simulation runs. Quantities are in base units (ns, bytes, Hz, bit/s). It also adds
// the scenario to the engine's SimContext (declaration merging), so that the engine
// runs a scenario without importing its types.

import type { HostProfile } from '../models/datacenter/host-profile';
import type { PresetName } from '../plugin/presets';

export interface HostGroup {
  readonly name: string;
  readonly profile: HostProfile;
  readonly racks: number;
  readonly perRack: number;
}

export interface VmGroup {
  readonly name: string;
  readonly count: number;
  readonly vcpus: number;
  /** bytes */
  readonly memory: number;
  /** ns */
  readonly arrival: number;
  /** The `workload:` mapping as written (after unit conversion), or undefined for an idle VM. */
  readonly workload?: Readonly<Record<string, unknown>> & { readonly kind: string };
}

export interface Expectation {
  readonly metric: string;
  readonly min?: number;
  readonly max?: number;
  /** Where it was written, for messages. */
  readonly where: string;
}

export interface Scenario {
  /** File it came from (or a label for scenarios built in code). */
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  /** Tick length, ns. */
  readonly tick: number;
  /**
   * 'tick': every tick runs. 'event': when every system is event-driven, the engine
   * advances straight to the tick of the next event (see core/engine/schedule.ts).
   */
  readonly advance: 'tick' | 'event';
  /** Simulated duration, ns. */
  readonly duration: number;
  readonly preset: PresetName;
  readonly without: readonly string[];
  /** Extra plugin folders, as written (relative to `dir`) or absolute. */
  readonly pluginPaths: readonly string[];
  /** Extra host-profile folders, as written (relative to `dir`) or absolute. */
  readonly hostPaths?: readonly string[];
  readonly hosts: readonly HostGroup[];
  readonly topology: { readonly oversubscription: number };
  readonly vms: readonly VmGroup[];
  /** Plugins as listed, in order, with their effective options (see resolvePluginOptions). */
  readonly plugins: ReadonlyArray<{ readonly id: string; readonly options: unknown }>;
  /** `where`: file:line:column of each series entry, for errors about it. */
  readonly record: { readonly every: number; readonly series: readonly string[]; readonly where?: readonly string[] };
  readonly expect: readonly Expectation[];
  /** Host files the guest may see: guest path → host path (resolved by the runner). */
  readonly files: Readonly<Record<string, string>>;
  /** Folder the relative paths above are resolved against, when loaded from a file. */
  readonly dir?: string;
}

declare module '../engine/context' {
  interface SimContext {
    readonly scenario: Scenario;
    /** Host profiles in the order hosts' `Host.profile` indexes them. */
    readonly hostProfiles: readonly HostProfile[];
  }
}
