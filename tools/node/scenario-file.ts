// Loads a scenario file from disk: reads it (a scenario, or a run's config.json),
// finds the plugins and host profiles it may use (the repository's and those in
// folders it names), resolves it with the core loader, and reads the host files it
// mounts for guests. Core stays free of file access; this is the Node side of it.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  applyOverrides,
  loadHostProfiles as hostProfilesFrom,
  readScenarioDocument,
  resolveScenario,
  ScenarioError,
  type HostProfile,
  type PluginCatalog,
  type PositionedDocument,
  type Scenario,
  type ScenarioOverrides,
} from 'virtlab';
import { HOSTS_DIR, loadCatalog } from './catalog';

/** Every host profile in the given folders, by id; a file's id must match its name. */
export function loadHostProfiles(dirs: readonly string[]): Map<string, HostProfile> {
  const files: Array<[string, string]> = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.host.yaml')) continue;
      const file = path.join(dir, name);
      files.push([path.relative(process.cwd(), file) || file, readFileSync(file, 'utf8')]);
    }
  }
  return hostProfilesFrom(files);
}

export interface LoadedScenario {
  readonly scenario: Scenario;
  readonly catalog: PluginCatalog;
  /** Guest-visible files named by the scenario's `files:` (guest path → bytes). */
  readonly files: Map<string, Uint8Array>;
}

/** A scenario file read and parsed, with the plugins and host profiles it can use; not yet resolved. */
export interface OpenedScenario {
  readonly doc: PositionedDocument;
  readonly catalog: PluginCatalog;
  readonly hostProfiles: ReadonlyMap<string, HostProfile>;
  /** Folder its relative paths start from: the file's own, or the one its config.json names. */
  readonly dir: string;
  /** Overrides that remain to apply (those under `plugins`, which need the catalog). */
  readonly overrides: ScenarioOverrides;
}

/** Top-level keys that say where to find plugins and host profiles. */
const SEARCH_PATH_KEYS = ['pluginPaths', 'hostPaths'];

/**
 * Reads a scenario file and builds the catalog and host profiles it may use. The
 * overrides that do not need the catalog are applied first, so that `--set
 * pluginPaths=…` (paths relative to the working folder) decides where plugins are
 * found; those under `plugins` are left for resolution.
 */
export function openScenarioFile(file: string, overrides: ScenarioOverrides = {}): OpenedScenario {
  if (!existsSync(file)) throw new ScenarioError(file, 1, 1, '', 'no such file', 'give the path of a .scenario.yaml file');
  const shown = path.relative(process.cwd(), file) || file;
  if (statSync(file).isDirectory()) {
    if (existsSync(path.join(file, 'config.json'))) throw new ScenarioError(file, 1, 1, '', 'is a folder, not a scenario file', `to run a recorded run again: virtlab run ${path.join(shown, 'config.json')}`);
    throw new ScenarioError(file, 1, 1, '', 'is a folder, not a scenario file', 'give the path of a .scenario.yaml file');
  }
  const read = readScenarioDocument(readFileSync(file, 'utf8'), shown);
  const { doc } = read;
  const dir = read.dir ?? path.dirname(path.resolve(file));
  const early = (overrides.set ?? [])
    .filter((o) => o.path.split('.')[0] !== 'plugins')
    .map((o) => {
      if (!SEARCH_PATH_KEYS.includes(o.path)) return o;
      // Written on the command line, so relative to where the command runs.
      const list = typeof o.value === 'string' ? [o.value] : o.value;
      return { path: o.path, value: Array.isArray(list) ? list.map((p) => path.resolve(String(p))) : o.value };
    });
  applyOverrides(doc, early);
  const rel = (p: unknown) => path.resolve(dir, String(p));
  const pluginDirs = Array.isArray(doc.data.pluginPaths) ? doc.data.pluginPaths.map(rel) : [];
  const hostDirs = Array.isArray(doc.data.hostPaths) ? doc.data.hostPaths.map(rel) : [];
  const catalog = loadCatalog(pluginDirs);
  const hostProfiles = new Map([...loadHostProfiles([HOSTS_DIR, ...hostDirs]), ...read.hostProfiles]);
  const late = (overrides.set ?? []).filter((o) => o.path.split('.')[0] === 'plugins');
  return { doc, catalog, hostProfiles, dir, overrides: { set: late, seed: overrides.seed } };
}

/** Reads, validates and resolves a scenario file. Throws ScenarioError and friends. */
export function loadScenarioFile(file: string, overrides: ScenarioOverrides = {}): LoadedScenario {
  const { doc, catalog, hostProfiles, dir, overrides: late } = openScenarioFile(file, overrides);
  const scenario = resolveScenario(doc, { catalog, hostProfiles, dir }, late);
  const rel = (p: unknown) => path.resolve(dir, String(p));
  const files = new Map<string, Uint8Array>();
  for (const [guest, host] of Object.entries(scenario.files)) {
    const p = rel(host);
    if (!existsSync(p)) throw doc.error(['files', guest], `file ${host} does not exist (resolved to ${p})`);
    files.set(guest, new Uint8Array(readFileSync(p)));
  }
  // Guest programs are read here too, under the path as written in the scenario.
  scenario.vms.forEach((g, i) => {
    if (g.workload?.kind !== 'guest') return;
    const program = String(g.workload.program);
    const p = rel(program);
    if (!existsSync(p)) throw doc.error(['vms', i, 'workload', 'program'], `guest program ${program} does not exist (resolved to ${p})`);
    files.set(program, new Uint8Array(readFileSync(p)));
  });
  return { scenario, catalog, files };
}
