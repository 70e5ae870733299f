// Loads a scenario file from disk: reads it (a scenario, or a run's config.json),
// finds the plugins and host profiles it may use (the repository's and those in
// folders it names), resolves it with the core loader, and reads the host files it
// mounts for guests. Core stays free of file access; this is the Node side of it.
//
// Scenarios are code: `pluginPaths` loads and runs plugins, and `files:` hands host
// files to guests. To run a scenario from someone else, `trust.noPluginPaths` refuses
// pluginPaths and `trust.filesRoot` refuses host files (mounts and guest programs)
// outside one folder (the CLI's --no-plugin-paths and --files-root).

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  applyOverrides,
  COMMITTED_LINUX_FILES,
  limits,
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
import { HostFileError, readHostFile } from './host-file';
import { REPO_ROOT } from './repo-root';

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
export function openScenarioFile(file: string, overrides: ScenarioOverrides = {}, trust: ScenarioTrust = {}): OpenedScenario {
  if (!existsSync(file)) throw new ScenarioError(file, 1, 1, '', 'no such file', 'give the path of a .scenario.yaml file');
  const shown = path.relative(process.cwd(), file) || file;
  if (statSync(file).isDirectory()) {
    if (existsSync(path.join(file, 'config.json'))) throw new ScenarioError(file, 1, 1, '', 'is a folder, not a scenario file', `to run a recorded run again: virtlab run ${path.join(shown, 'config.json')}`);
    throw new ScenarioError(file, 1, 1, '', 'is a folder, not a scenario file', 'give the path of a .scenario.yaml file');
  }
  // The size is checked before reading: a 50 MB scenario took 75 s and 1.75 GB to parse.
  const bytes = statSync(file).size;
  if (bytes > limits.MAX_SCENARIO_BYTES) throw new ScenarioError(shown, 1, 1, '', `the file is ${bytes} bytes; a scenario may be at most ${limits.MAX_SCENARIO_BYTES} bytes`, 'use groups (count, racks × perRack) rather than one entry per VM or host');
  const read = readScenarioDocument(readFileSync(file, 'utf8'), shown);
  const { doc } = read;
  const dir = read.dir ?? path.dirname(path.resolve(file));
  const early = (overrides.set ?? [])
    .filter((o) => o.path.split('.')[0] !== 'plugins')
    .map((o) => {
      if (!SEARCH_PATH_KEYS.includes(o.path) || o.remove) return o;
      // Written on the command line, so relative to where the command runs.
      const list = typeof o.value === 'string' ? [o.value] : o.value;
      return { ...o, value: Array.isArray(list) ? list.map((p) => path.resolve(String(p))) : o.value };
    });
  applyOverrides(doc, early);
  const rel = (p: unknown) => path.resolve(dir, String(p));
  if (trust.noPluginPaths && Array.isArray(doc.data.pluginPaths) && doc.data.pluginPaths.length) {
    throw doc.error(['pluginPaths'], `pluginPaths would load and run the plugins in ${doc.data.pluginPaths.join(', ')}; refused by --no-plugin-paths`, 'read those plugins first; run without --no-plugin-paths to trust them');
  }
  const pluginDirs = Array.isArray(doc.data.pluginPaths) ? doc.data.pluginPaths.map(rel) : [];
  const hostDirs = Array.isArray(doc.data.hostPaths) ? doc.data.hostPaths.map(rel) : [];
  const catalog = loadCatalog(pluginDirs);
  const hostProfiles = new Map([...loadHostProfiles([HOSTS_DIR, ...hostDirs]), ...read.hostProfiles]);
  const late = (overrides.set ?? []).filter((o) => o.path.split('.')[0] === 'plugins');
  return { doc, catalog, hostProfiles, dir, overrides: { set: late, seed: overrides.seed } };
}

/** A host file handed to guests, regular and within the size limit; a refusal names where the scenario asks for it. */
function guestFile(doc: PositionedDocument, at: Array<string | number>, file: string): Uint8Array {
  try {
    return readHostFile(file, limits.MAX_HOST_FILE_BYTES, 'a guest file');
  } catch (e) {
    if (e instanceof HostFileError) throw doc.error(at.map(String), e.message.replace(/^a guest file: /, ''));
    throw e;
  }
}

/** What a scenario from elsewhere may do (the CLI's --no-plugin-paths and --files-root). */
export interface ScenarioTrust {
  /** Refuse `pluginPaths` (which loads and runs code). */
  readonly noPluginPaths?: boolean;
  /** Host files handed to guests must lie in this folder (after links are followed). */
  readonly filesRoot?: string;
}

/** Reads, validates and resolves a scenario file. Throws ScenarioError and friends. */
export function loadScenarioFile(file: string, overrides: ScenarioOverrides = {}, trust: ScenarioTrust = {}): LoadedScenario {
  const { doc, catalog, hostProfiles, dir, overrides: late } = openScenarioFile(file, overrides, trust);
  const scenario = resolveScenario(doc, { catalog, hostProfiles, dir }, late);
  const rel = (p: unknown) => path.resolve(dir, String(p));
  const root = trust.filesRoot === undefined ? undefined : realpathSync(path.resolve(trust.filesRoot));
  /** A host file a guest may read: it exists, is a regular file, and lies under the files root. */
  const hostFile = (at: Array<string | number>, written: string, what: string): Uint8Array => {
    const p = rel(written);
    if (!existsSync(p)) throw doc.error(at, `${what} ${written} does not exist (resolved to ${p})`);
    if (root !== undefined) {
      const real = realpathSync(p);
      if (!real.startsWith(root + path.sep)) throw doc.error(at, `${what} ${written} lies outside --files-root ${trust.filesRoot} (resolved to ${real})`, 'move the file under the files root, or widen --files-root');
    }
    return guestFile(doc, at, p);
  };
  const files = new Map<string, Uint8Array>();
  for (const [guest, host] of Object.entries(scenario.files)) files.set(guest, hostFile(['files', guest], host, 'file'));
  // Guest programs are read here too, under the path as written in the scenario.
  scenario.vms.forEach((g, i) => {
    if (g.workload?.kind !== 'guest') return;
    const program = String(g.workload.program);
    files.set(program, hostFile(['vms', i, 'workload', 'program'], program, 'guest program'));
  });
  // A Linux VM's kernel, initrd and firmware: its own, under their paths as written, or
  // the committed ones (scenarios/linux/). The default initrd goes with the default kernel only.
  scenario.vms.forEach((g, i) => {
    if (g.workload?.kind !== 'linux') return;
    const w = g.workload;
    for (const what of ['kernel', 'initrd', 'bios'] as const) {
      const written = w[what];
      if (typeof written === 'string' && written !== 'none') files.set(written, hostFile(['vms', i, 'workload', what], written, what === 'bios' ? 'firmware' : what));
      else if (written === undefined && (what !== 'initrd' || w.kernel === undefined)) {
        const key = COMMITTED_LINUX_FILES[what];
        if (!files.has(key)) files.set(key, readFileSync(path.join(REPO_ROOT, key.slice('virtlab:'.length))));
      }
    }
  });
  return { scenario, catalog, files };
}
