// Loads a scenario file from disk: reads it, finds the plugins and host profiles it
// may use (the repository's and those in folders it names), resolves it, and reads
// the host files it mounts for guests. Core stays free of file access; this is the
// Node side of it.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { HostProfile, PluginCatalog, Scenario } from 'virtlab';
import { loadHostProfile, parseDocumentText, resolveScenario, ScenarioError, type ScenarioOverrides } from '../../core/scenario/loader';
import { HOSTS_DIR, loadCatalog } from './catalog';

/** Every host profile in the given folders, by id; a file's id must match its name. */
export function loadHostProfiles(dirs: readonly string[]): Map<string, HostProfile> {
  const out = new Map<string, HostProfile>();
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.host.yaml')) continue;
      const file = path.join(dir, name);
      const profile = loadHostProfile(readFileSync(file, 'utf8'), path.relative(process.cwd(), file) || file);
      const expected = name.slice(0, -'.host.yaml'.length);
      if (profile.id !== expected) {
        throw new ScenarioError(file, 1, 1, 'id', `host profile id '${profile.id}' does not match its file name`, `rename the file to ${profile.id}.host.yaml or set id: ${expected}`);
      }
      out.set(profile.id, profile);
    }
  }
  return out;
}

export interface LoadedScenario {
  readonly scenario: Scenario;
  readonly catalog: PluginCatalog;
  /** Guest-visible files named by the scenario's `files:` (guest path → bytes). */
  readonly files: Map<string, Uint8Array>;
}

/** Reads, validates and resolves a scenario file. Throws ScenarioError and friends. */
export function loadScenarioFile(file: string, overrides: ScenarioOverrides = {}): LoadedScenario {
  if (!existsSync(file)) throw new ScenarioError(file, 1, 1, '', 'no such file', 'give the path of a .scenario.yaml file');
  const text = readFileSync(file, 'utf8');
  const shown = path.relative(process.cwd(), file) || file;
  const doc = parseDocumentText(text, shown);
  const base = path.dirname(path.resolve(file));
  const rel = (p: unknown) => path.resolve(base, String(p));
  const pluginDirs = Array.isArray(doc.data.pluginPaths) ? doc.data.pluginPaths.map(rel) : [];
  const hostDirs = Array.isArray(doc.data.hostPaths) ? doc.data.hostPaths.map(rel) : [];
  const catalog = loadCatalog(pluginDirs);
  const hostProfiles = loadHostProfiles([HOSTS_DIR, ...hostDirs]);
  const scenario = resolveScenario(doc, { catalog, hostProfiles }, overrides);
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
