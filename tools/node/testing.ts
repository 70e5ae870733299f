// Helpers for tests and benchmarks: build a scenario from YAML text or a
// ScenarioBuilder (with the repository's plugins and host profiles, and any extra
// plugin folders), boot it, run it, and get its results; start a builder from a
// scenario file, and write one out. Plugin folders outside the repository import
// these as 'virtlab/testing'.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadBuiltScenario, loadScenario, ScenarioBuilder, Simulation, type RunResult, type Scenario, type ScenarioOverrides } from 'virtlab';
import { HOSTS_DIR, loadCatalog } from './catalog';
import { loadHostProfiles } from './scenario-file';

let cachedProfiles: ReturnType<typeof loadHostProfiles> | undefined;
/** The repository's own catalog (no extra folders): its manifests do not change during a run. */
let cachedCatalog: ReturnType<typeof loadCatalog> | undefined;

/** A scenario written inline: its YAML text, or a builder of its document. */
export type ScenarioSource = string | ScenarioBuilder;

/** Resolves a scenario written inline (the file name is only used in messages). */
export function scenarioFromText(source: ScenarioSource, overrides: ScenarioOverrides = {}, file = 'inline.scenario.yaml', pluginDirs: string[] = []) {
  const catalog = pluginDirs.length ? loadCatalog(pluginDirs.map((d) => path.resolve(d))) : (cachedCatalog ??= loadCatalog());
  cachedProfiles ??= loadHostProfiles([HOSTS_DIR]);
  const env = { catalog, hostProfiles: cachedProfiles };
  // A builder's document is taken as data: its YAML is only written if a position is needed.
  const scenario =
    typeof source === 'string' ? loadScenario(source, file, env, overrides) : loadBuiltScenario(source.build() as unknown as Record<string, unknown>, () => source.toYaml(), file, env, overrides);
  return { scenario, catalog };
}

/** Boots a simulation of an inline scenario. */
export async function bootText(text: ScenarioSource, overrides: ScenarioOverrides = {}, pluginDirs: string[] = []): Promise<Simulation> {
  const { scenario, catalog } = scenarioFromText(text, overrides, undefined, pluginDirs);
  return Simulation.create({ scenario, catalog });
}

/** Boots, runs to the end and finishes an inline scenario. */
export async function runText(text: ScenarioSource, overrides: ScenarioOverrides = {}, pluginDirs: string[] = []): Promise<{ sim: Simulation; result: RunResult; scenario: Scenario }> {
  const sim = await bootText(text, overrides, pluginDirs);
  sim.run();
  const result = await sim.finish();
  return { sim, result, scenario: sim.scenario };
}

/**
 * A scenario file as a builder to make variants of it. The paths it holds relative to
 * its folder (plugin and host folders, guest files and programs) are made absolute,
 * so that a variant can be written anywhere — in a temporary folder, never beside the
 * original.
 */
export function scenarioFile(file: string): ScenarioBuilder {
  const base = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(base, p);
  return ScenarioBuilder.fromText(readFileSync(file, 'utf8')).edit((d) => {
    if (d.pluginPaths) d.pluginPaths = d.pluginPaths.map(abs);
    if (d.hostPaths) d.hostPaths = d.hostPaths.map(abs);
    if (d.files) d.files = Object.fromEntries(Object.entries(d.files).map(([guest, host]) => [guest, abs(host)]));
    for (const g of d.vms ?? []) if (g.workload?.kind === 'guest' && typeof g.workload.program === 'string') g.workload.program = abs(g.workload.program);
    for (const g of d.vms ?? []) {
      if (g.workload?.kind !== 'linux') continue;
      for (const what of ['kernel', 'initrd', 'bios']) if (typeof g.workload[what] === 'string' && g.workload[what] !== 'none') g.workload[what] = abs(g.workload[what] as string);
    }
  });
}

/**
 * Does a scenario file boot Linux (a `kind: linux` workload)? Such a boot takes
 * seconds, so the suites that run every scenario leave these to their own tests in
 * __tests__/system, one boot per file.
 */
export function bootsLinux(file: string): boolean {
  const doc = parse(readFileSync(file, 'utf8')) as { vms?: Array<{ workload?: { kind?: string } }> } | null;
  return (doc?.vms ?? []).some((g) => g.workload?.kind === 'linux');
}

/** Writes a built scenario as `<dir>/<name>.scenario.yaml` and returns the file's path. */
export function writeScenario(dir: string, name: string, scenario: ScenarioBuilder): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.scenario.yaml`);
  writeFileSync(file, scenario.toYaml());
  return file;
}
