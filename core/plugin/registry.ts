// The plugin registry: the catalog of known plugins (from plugins/ and any extra
// folders a scenario names), and the selection of a simulation's plugins from a
// preset plus the scenario's list. Selection validates options, refuses unknown
// plugins, engine mismatches, a second provider of an exclusive capability,
// conflicts and missing requirements — each with the plugin, the reason and a fix —
// and orders the plugins so that every plugin comes after what it requires.

import { ENGINE_VERSION } from '../engine/version';
import { CAPABILITIES, isExclusive } from './capabilities';
import { engineRangeSatisfied } from './engine-range';
import type { PluginModule } from './define';
import { closest, ManifestError, resolveOptions, validateManifest, type OptionFragments, type PluginManifest } from './manifest';
import { PRESETS, PRESET_NAMES, type PresetName } from './presets';

/**
 * Does this engine version satisfy a manifest's range? Remembered by range: parsing
 * one is slow next to everything else a command does at start, and nearly every
 * manifest gives the same range.
 */
const engineRanges = new Map<string, boolean>();
function engineSatisfies(range: string): boolean {
  let ok = engineRanges.get(range);
  if (ok === undefined) engineRanges.set(range, (ok = engineRangeSatisfied(ENGINE_VERSION, range)));
  return ok;
}

export interface CatalogEntry {
  readonly manifest: PluginManifest;
  /** Where the plugin lives, for messages (a folder path or a bundle name). */
  readonly dir: string;
  /** Loads the entry module; called once per simulation that selects the plugin. */
  readonly load: () => PluginModule<never> | Promise<PluginModule<never>>;
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly pluginId?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A plugin as its host found it: the manifest's path and parsed JSON, and how to load its entry. */
export interface FoundPlugin {
  /** Path of plugin.json, for messages; its folder becomes the entry's `dir`. */
  readonly file: string;
  readonly json: unknown;
  /**
   * Loads the entry module named by the manifest (`entry`, default index.ts), given
   * its path beside plugin.json; undefined when the host has no such module.
   */
  readonly loader: (entryPath: string) => CatalogEntry['load'] | undefined;
  /**
   * The manifest as validateManifest made it from this very `json`, with the same
   * fragments (a host's cache of an earlier validation); validated afresh when absent.
   */
  readonly validated?: PluginManifest;
}

/**
 * Validates a found plugin's manifest (expanding references to the option fragments
 * given, normally 'virtlab's OPTION_FRAGMENTS) and makes its catalog entry. Throws
 * ManifestError.
 */
export function catalogEntry(found: FoundPlugin, fragments: OptionFragments): CatalogEntry {
  const manifest = found.validated ?? validateManifest(found.json, found.file, fragments);
  const dir = found.file.replace(/[\\/]?plugin\.json$/, '') || '.';
  const entryName = manifest.entry ?? 'index.ts';
  const load = found.loader(`${dir}/${entryName}`);
  if (!load) throw new ManifestError(`plugin '${manifest.id}' names entry ${entryName}, which does not exist in ${dir}`);
  return { manifest, dir, load };
}

export class PluginCatalog {
  private readonly entries = new Map<string, CatalogEntry>();

  constructor(entries: Iterable<CatalogEntry> = []) {
    for (const e of entries) this.add(e);
  }

  /**
   * The catalog of plugins found by a host: the Node tools find them on disk
   * (tools/node/catalog.ts), the visualizer in its bundle. Both come through here.
   */
  static from(found: Iterable<FoundPlugin>, fragments: OptionFragments): PluginCatalog {
    const c = new PluginCatalog();
    for (const f of found) c.add(catalogEntry(f, fragments));
    return c;
  }

  add(entry: CatalogEntry): void {
    const prev = this.entries.get(entry.manifest.id);
    if (prev) {
      throw new RegistryError(`two plugins have the id '${entry.manifest.id}': ${prev.dir} and ${entry.dir}`, entry.manifest.id, 'rename one of them');
    }
    this.entries.set(entry.manifest.id, entry);
  }

  get(id: string): CatalogEntry | undefined {
    return this.entries.get(id);
  }

  /** Every plugin, sorted by id. */
  list(): CatalogEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.manifest.id < b.manifest.id ? -1 : 1));
  }

  /** Ids of the plugins that provide a capability. */
  providersOf(capability: string): string[] {
    return this.list()
      .filter((e) => e.manifest.provides.includes(capability))
      .map((e) => e.manifest.id);
  }

  /** The plugin with this id, or a RegistryError that suggests the nearest id. */
  require(id: string): CatalogEntry {
    const e = this.entries.get(id);
    if (e) return e;
    const ids = [...this.entries.keys()];
    const near = closest(id, ids);
    const byCapability = this.providersOf(id);
    const hint = near
      ? `did you mean '${near}'?`
      : byCapability.length
        ? `'${id}' is a capability; pick one of its providers: ${byCapability.join(', ')}`
        : `known plugins: ${ids.sort().join(', ')}`;
    throw new RegistryError(`unknown plugin '${id}'`, id, hint);
  }
}

export interface PluginRequest {
  readonly id: string;
  /**
   * Options as written (units and defaults are resolved at selection), or the result
   * of resolvePluginOptions, which selection takes as it is.
   */
  readonly options?: unknown;
}

/** Option objects made by resolvePluginOptions, with the manifest they were resolved for. */
const resolvedFor = new WeakMap<object, PluginManifest>();
/** Each manifest's default options, resolved (see resolvePluginOptions). */
const defaultOptions = new WeakMap<PluginManifest, Record<string, unknown>>();

/**
 * A plugin's effective options (defaults filled, units converted), frozen. This is
 * the one place options are resolved: the scenario loader calls it to validate and
 * keeps the result in the Scenario, and selection takes that result as it is rather
 * than resolving the written options a second time. Throws PluginOptionError.
 */
export function resolvePluginOptions(manifest: PluginManifest, given: unknown): Readonly<Record<string, unknown>> {
  if (typeof given === 'object' && given !== null && resolvedFor.get(given) === manifest) return given as Readonly<Record<string, unknown>>;
  let resolved: Readonly<Record<string, unknown>>;
  if (given === undefined) {
    // A preset's plugin takes its defaults, the same on every boot: resolved once per
    // manifest, and each simulation gets a copy of its own.
    let defaults = defaultOptions.get(manifest);
    if (!defaults) defaultOptions.set(manifest, (defaults = resolveOptions(manifest, undefined)));
    resolved = Object.freeze(structuredClone(defaults));
  } else resolved = Object.freeze(resolveOptions(manifest, given));
  resolvedFor.set(resolved, manifest);
  return resolved;
}

export interface SelectionRequest {
  readonly preset?: PresetName;
  /** Preset entries to drop. */
  readonly without?: readonly string[];
  /** The scenario's plugins, in order. */
  readonly plugins?: readonly PluginRequest[];
}

export interface SelectedPlugin {
  readonly id: string;
  readonly manifest: PluginManifest;
  readonly entry: CatalogEntry;
  /** Effective options: defaults filled, units converted, frozen. */
  readonly options: Readonly<Record<string, unknown>>;
  /** 'preset' or 'scenario': where the selection came from. */
  readonly source: 'preset' | 'scenario';
}

/** Resolves a preset and a scenario's plugin list into the ordered plugin set. */
export function selectPlugins(catalog: PluginCatalog, req: SelectionRequest): SelectedPlugin[] {
  const presetName = req.preset ?? 'default';
  const preset = PRESETS[presetName];
  if (!preset) throw new RegistryError(`unknown preset '${presetName}'`, undefined, `presets: ${PRESET_NAMES.join(', ')}`);
  const explicit = req.plugins ?? [];
  const explicitIds = new Set(explicit.map((p) => p.id));
  for (const w of req.without ?? []) {
    if (!preset.includes(w)) {
      throw new RegistryError(`'without' names '${w}', which is not in the '${presetName}' preset`, w, `the preset has: ${preset.join(', ') || 'nothing'}`);
    }
  }
  // Capabilities claimed by explicitly chosen plugins replace preset providers.
  const explicitExclusive = new Set<string>();
  for (const p of explicit) for (const c of catalog.require(p.id).manifest.provides) if (isExclusive(c)) explicitExclusive.add(c);

  const chosen: Array<{ id: string; options: unknown; source: 'preset' | 'scenario' }> = [];
  for (const id of preset) {
    if ((req.without ?? []).includes(id) || explicitIds.has(id)) continue;
    const entry = catalog.get(id);
    if (!entry) throw new RegistryError(`the '${presetName}' preset names '${id}', which is not installed`, id);
    if (entry.manifest.provides.some((c) => explicitExclusive.has(c))) continue;
    chosen.push({ id, options: undefined, source: 'preset' });
  }
  const seen = new Set<string>();
  for (const p of explicit) {
    if (seen.has(p.id)) throw new RegistryError(`plugin '${p.id}' is listed twice`, p.id);
    seen.add(p.id);
    chosen.push({ id: p.id, options: p.options, source: 'scenario' });
  }

  const selected: SelectedPlugin[] = chosen.map(({ id, options, source }) => {
    const entry = catalog.require(id);
    const m = entry.manifest;
    if (!engineSatisfies(m.engine)) {
      throw new RegistryError(
        `plugin '${id}' ${m.version} needs engine ${m.engine}, but this is virtlab ${ENGINE_VERSION}`,
        id,
        'update the plugin or its manifest’s "engine" range',
      );
    }
    return { id, manifest: m, entry, options: resolvePluginOptions(m, options), source };
  });

  // One provider per exclusive capability.
  const providers = new Map<string, string>();
  for (const s of selected) {
    for (const c of s.manifest.provides) {
      if (!isExclusive(c)) continue;
      const prev = providers.get(c);
      if (prev) {
        throw new RegistryError(
          `plugins '${prev}' and '${s.id}' both provide '${c}', and a simulation has one ${c} (${CAPABILITIES[c].description.toLowerCase()})`,
          s.id,
          `keep one of them in the scenario`,
        );
      }
      providers.set(c, s.id);
    }
  }
  const satisfies = (s: SelectedPlugin, what: string) => s.id === what || s.manifest.provides.includes(what);
  for (const s of selected) {
    for (const c of s.manifest.conflicts ?? []) {
      const other = selected.find((o) => o !== s && satisfies(o, c));
      if (other) throw new RegistryError(`plugin '${s.id}' conflicts with '${other.id}'${c !== other.id ? ` (it provides '${c}')` : ''}`, s.id, 'remove one of them');
    }
    for (const r of s.manifest.requires ?? []) {
      if (!selected.some((o) => o !== s && satisfies(o, r))) {
        const candidates = catalog.get(r) ? [r] : catalog.providersOf(r);
        throw new RegistryError(
          `plugin '${s.id}' requires '${r}', which no selected plugin provides`,
          s.id,
          candidates.length ? `add one of: ${candidates.join(', ')}` : `no installed plugin provides '${r}'`,
        );
      }
    }
  }
  return orderByRequirements(selected, satisfies);
}

/** Topological order by `requires`, stable with respect to the selection order. */
function orderByRequirements(
  selected: SelectedPlugin[],
  satisfies: (s: SelectedPlugin, what: string) => boolean,
): SelectedPlugin[] {
  const deps = selected.map((s) =>
    (s.manifest.requires ?? []).flatMap((r) => selected.map((o, j) => (o !== s && satisfies(o, r) ? j : -1)).filter((j) => j >= 0)),
  );
  const done = new Set<number>();
  const out: SelectedPlugin[] = [];
  while (out.length < selected.length) {
    const next = selected.findIndex((_, i) => !done.has(i) && deps[i].every((d) => done.has(d)));
    if (next < 0) {
      const stuck = selected.filter((_, i) => !done.has(i)).map((s) => s.id);
      throw new RegistryError(`plugins require each other in a cycle: ${stuck.join(', ')}`, stuck[0]);
    }
    done.add(next);
    out.push(selected[next]);
  }
  return out;
}
