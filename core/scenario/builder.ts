// A typed builder of scenario documents, for tests and for embedders that make
// scenarios in code: gem5-style, a scenario is put together from its parts, and a
// variant of an existing scenario swaps a part by passing another value, never by
// editing its YAML text. What it produces is the plain document a scenario file
// holds (quantities may keep their units: '4GiB', '10ms'), which the loader then
// validates like any file:
//
//   const doc = scenario('churn')
//     .duration('40ms').tick('1ms').preset('minimal')
//     .hosts({ profile: 'riscv-board' })
//     .vms({ memory: '1GiB' })
//     .plugin('placement.first-fit')
//     .plugin('research.my-idea', { rate: '2ms' })
//     .build();
//
// Every edit of an existing part names it (a plugin id, a VM group's name or index)
// and throws when it is not there: a variant cannot silently stop being one when the
// scenario it starts from changes.

import { parse, stringify } from 'yaml';
import type { PresetName } from '../plugin/presets';

/** A quantity as a scenario writes it: a number in the base unit, or text with a unit. */
export type Quantity = number | string;

/** One group of identical hosts (`hosts:` items). */
export interface HostGroupDocument {
  name?: string;
  /** Host profile id: hosts/<id>.host.yaml. */
  profile: string;
  racks?: number;
  perRack?: number;
}

/** What a VM group runs (`workload:`); the other fields are the kind's own. */
export interface WorkloadDocument {
  kind: string;
  [field: string]: unknown;
}

/** One group of identical VMs (`vms:` items). */
export interface VmGroupDocument {
  name?: string;
  count?: number;
  vcpus?: number;
  memory: Quantity;
  arrival?: Quantity;
  workload?: WorkloadDocument;
}

/** An accepted range of a metric (`expect:` values). */
export interface ExpectationDocument {
  min?: number;
  max?: number;
  equals?: number;
}

/** A plugin's options as written: a mapping, or null for every default. */
export type PluginOptionsDocument = Record<string, unknown> | null;

/** A scenario as its file holds it, before units are converted and defaults applied. */
export interface ScenarioDocument {
  $schema?: string;
  name: string;
  description?: string;
  seed?: number;
  tick?: Quantity;
  advance?: 'tick' | 'event';
  duration: Quantity;
  preset?: PresetName;
  without?: string[];
  pluginPaths?: string[];
  hostPaths?: string[];
  hosts?: HostGroupDocument[];
  topology?: { oversubscription?: number };
  vms?: VmGroupDocument[];
  /** By plugin id, in the order they are listed. */
  plugins?: Record<string, PluginOptionsDocument>;
  record?: { every?: Quantity; series?: string[] };
  expect?: Record<string, ExpectationDocument>;
  /** Guest path → host path, relative to the scenario file. */
  files?: Record<string, string>;
}

/** Where a new plugin goes in the `plugins:` list (the default is at its end). */
export interface PluginPlace {
  readonly before?: string;
  readonly after?: string;
}

const copy = <T>(v: T): T => structuredClone(v);
const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Builds a scenario document. A builder never changes: each method returns a new one,
 * so that variants can start from one base; `build()` gives the document.
 */
export class ScenarioBuilder {
  private constructor(private readonly doc: ScenarioDocument) {}

  /** A new scenario: its name, a duration of one second, nothing else. */
  static named(name: string): ScenarioBuilder {
    return new ScenarioBuilder({ name, duration: '1s' });
  }

  /** Starts from a document (copied, so the original is never changed). */
  static from(doc: ScenarioDocument): ScenarioBuilder {
    if (!isMapping(doc) || typeof doc.name !== 'string') throw new Error('a scenario document is a mapping with a name');
    return new ScenarioBuilder(copy(doc));
  }

  /** Starts from the YAML or JSON text of a scenario file. */
  static fromText(text: string): ScenarioBuilder {
    return ScenarioBuilder.from(parse(text) as ScenarioDocument);
  }

  description(text: string): ScenarioBuilder {
    return this.with((d) => {
      d.description = text;
    });
  }

  seed(seed: number): ScenarioBuilder {
    return this.with((d) => {
      d.seed = seed;
    });
  }

  tick(tick: Quantity): ScenarioBuilder {
    return this.with((d) => {
      d.tick = tick;
    });
  }

  /** How time moves: every tick, or straight to the next event when every system allows it. */
  advance(mode: 'tick' | 'event'): ScenarioBuilder {
    return this.with((d) => {
      d.advance = mode;
    });
  }

  duration(duration: Quantity): ScenarioBuilder {
    return this.with((d) => {
      d.duration = duration;
    });
  }

  preset(preset: PresetName): ScenarioBuilder {
    return this.with((d) => {
      d.preset = preset;
    });
  }

  /** Preset plugins to leave out. */
  without(...ids: string[]): ScenarioBuilder {
    return this.with((d) => {
      d.without = ids;
    });
  }

  pluginPaths(...dirs: string[]): ScenarioBuilder {
    return this.with((d) => {
      d.pluginPaths = dirs;
    });
  }

  /** Replaces every host group. */
  hosts(...groups: HostGroupDocument[]): ScenarioBuilder {
    return this.with((d) => {
      d.hosts = copy(groups);
    });
  }

  /** Changes fields of one host group, by index or name. */
  host(which: number | string, patch: Partial<HostGroupDocument>): ScenarioBuilder {
    return this.with((d) => {
      const hosts = d.hosts ?? [];
      const i = typeof which === 'number' ? which : hosts.findIndex((h) => (h.name ?? h.profile) === which);
      if (!hosts[i]) throw new Error(`the scenario has no host group ${JSON.stringify(which)}`);
      Object.assign(hosts[i], copy(patch));
    });
  }

  topology(topology: { oversubscription?: number }): ScenarioBuilder {
    return this.with((d) => {
      d.topology = copy(topology);
    });
  }

  /** Replaces every VM group. */
  vms(...groups: VmGroupDocument[]): ScenarioBuilder {
    return this.with((d) => {
      d.vms = copy(groups);
    });
  }

  /** Changes fields of one VM group, by index or name (a workload given here replaces the old one). */
  vm(which: number | string, patch: Partial<VmGroupDocument>): ScenarioBuilder {
    return this.with((d) => Object.assign(vmGroup(d, which), copy(patch)));
  }

  /** Changes fields of one VM group's workload, by the group's index or name, keeping the others. */
  workload(which: number | string, patch: Partial<WorkloadDocument>): ScenarioBuilder {
    return this.with((d) => {
      const g = vmGroup(d, which);
      if (!g.workload) throw new Error(`VM group ${JSON.stringify(which)} has no workload to change`);
      Object.assign(g.workload, copy(patch));
    });
  }

  /**
   * Lists a plugin with its options (an empty mapping: every default). A plugin that
   * is listed already keeps its place and gets these options; a new one goes at the
   * end, or before or after a listed one. `O` may name the plugin's generated
   * options type, which then checks the option names.
   */
  plugin<O extends object = Record<string, unknown>>(id: string, options: Partial<O> | null = {}, place: PluginPlace = {}): ScenarioBuilder {
    return this.with((d) => {
      const plugins = (d.plugins ??= {});
      const value = copy(options) as PluginOptionsDocument;
      if (id in plugins || (place.before === undefined && place.after === undefined)) {
        plugins[id] = value;
        return;
      }
      const anchor = (place.before ?? place.after)!;
      requirePlugin(d, anchor);
      const entries: Array<[string, PluginOptionsDocument]> = [];
      for (const [k, v] of Object.entries(plugins)) {
        if (k === anchor && place.before !== undefined) entries.push([id, value]);
        entries.push([k, v]);
        if (k === anchor && place.after !== undefined) entries.push([id, value]);
      }
      d.plugins = Object.fromEntries(entries);
    });
  }

  /** Changes some options of a listed plugin, keeping the others. */
  pluginOptions<O extends object = Record<string, unknown>>(id: string, patch: Partial<O>): ScenarioBuilder {
    return this.with((d) => {
      requirePlugin(d, id);
      d.plugins![id] = { ...(d.plugins![id] ?? {}), ...copy(patch) };
    });
  }

  /** Puts another plugin in a listed plugin's place (one MMU strategy for another). */
  swapPlugin<O extends object = Record<string, unknown>>(id: string, by: string, options: Partial<O> | null = {}): ScenarioBuilder {
    return this.with((d) => {
      requirePlugin(d, id);
      d.plugins = Object.fromEntries(Object.entries(d.plugins!).map(([k, v]) => [k === id ? by : k, k === id ? (copy(options) as PluginOptionsDocument) : v]));
    });
  }

  /** Takes a listed plugin out. */
  withoutPlugin(id: string): ScenarioBuilder {
    return this.with((d) => {
      requirePlugin(d, id);
      delete d.plugins![id];
    });
  }

  record(record: { every?: Quantity; series?: string[] }): ScenarioBuilder {
    return this.with((d) => {
      d.record = copy(record);
    });
  }

  /** Adds an expectation on a metric (or replaces the one there is). */
  expect(metric: string, range: ExpectationDocument): ScenarioBuilder {
    return this.with((d) => {
      (d.expect ??= {})[metric] = { ...range };
    });
  }

  /** Drops every expectation. */
  noExpectations(): ScenarioBuilder {
    return this.with((d) => {
      delete d.expect;
    });
  }

  files(files: Record<string, string>): ScenarioBuilder {
    return this.with((d) => {
      d.files = { ...files };
    });
  }

  /**
   * Sets the value at a dotted path, as `--set` does, for what the typed methods do not
   * reach or must not accept (a test of the loader's refusals writes `count: 'two'`).
   * A segment matches a key of the document that contains dots (a plugin id) first;
   * list a plugin with plugin() before setting its options this way.
   */
  set(dotted: string, value: unknown): ScenarioBuilder {
    return this.with((d) => {
      const segs = dotted.split('.');
      // As --set: these would reach Object.prototype, never a scenario key.
      const bad = segs.find((s) => s === '__proto__' || s === 'constructor' || s === 'prototype');
      if (bad !== undefined) throw new Error(`set(${dotted}): '${bad}' is not allowed in a path`);
      let cur = d as unknown as Record<string, unknown>;
      for (let i = 0; i < segs.length; ) {
        let take = 1;
        for (let n = segs.length - i; n > 1; n--) {
          if (Object.hasOwn(cur, segs.slice(i, i + n).join('.'))) {
            take = n;
            break;
          }
        }
        const key = segs.slice(i, i + take).join('.');
        i += take;
        if (i === segs.length) cur[key] = copy(value);
        else {
          if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
          cur = cur[key] as Record<string, unknown>;
        }
      }
    });
  }

  /** Edits a copy of the document in a function, for changes no method above names. */
  edit(change: (doc: ScenarioDocument) => void): ScenarioBuilder {
    return this.with(change);
  }

  /** The ids of the listed plugins, in their order. */
  pluginIds(): string[] {
    return Object.keys(this.doc.plugins ?? {});
  }

  /** The document (a copy: building again after more edits gives a new one). */
  build(): ScenarioDocument {
    return copy(this.doc);
  }

  /** The document as YAML text, for the loader or for writing a scenario file. */
  toYaml(): string {
    return stringify(this.doc);
  }

  /** A builder of a changed copy: builders never change, so variants may share a base. */
  private with(change: (doc: ScenarioDocument) => void): ScenarioBuilder {
    const doc = copy(this.doc);
    change(doc);
    return new ScenarioBuilder(doc);
  }
}

function vmGroup(d: ScenarioDocument, which: number | string): VmGroupDocument {
  const vms = d.vms ?? [];
  const i = typeof which === 'number' ? which : vms.findIndex((v) => v.name === which);
  if (!vms[i]) throw new Error(`the scenario has no VM group ${JSON.stringify(which)}`);
  return vms[i];
}

function requirePlugin(d: ScenarioDocument, id: string): void {
  const listed = Object.keys(d.plugins ?? {});
  if (!listed.includes(id)) throw new Error(`the scenario lists no plugin '${id}' (it lists: ${listed.join(', ') || 'none'})`);
}

/** Starts a scenario document: `scenario('name').hosts(…).vms(…).plugin(…).build()`. */
export function scenario(name: string): ScenarioBuilder {
  return ScenarioBuilder.named(name);
}
