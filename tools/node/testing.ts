// Helpers for tests and benchmarks: build a scenario from YAML text (with the
// repository's plugins and host profiles, and any extra plugin folders), boot it, run
// it, and get its results. Plugin folders outside the repository import these as
// 'virtlab/testing'.

import path from 'node:path';
import { loadScenario, Simulation, type RunResult, type Scenario, type ScenarioOverrides } from 'virtlab';
import { HOSTS_DIR, loadCatalog } from './catalog';
import { loadHostProfiles } from './scenario-file';

let cachedProfiles: ReturnType<typeof loadHostProfiles> | undefined;

/** Resolves a scenario written inline (the file name is only used in messages). */
export function scenarioFromText(text: string, overrides: ScenarioOverrides = {}, file = 'inline.scenario.yaml', pluginDirs: string[] = []) {
  const catalog = loadCatalog(pluginDirs.map((d) => path.resolve(d)));
  cachedProfiles ??= loadHostProfiles([HOSTS_DIR]);
  const scenario = loadScenario(text, file, { catalog, hostProfiles: cachedProfiles }, overrides);
  return { scenario, catalog };
}

/** Boots a simulation of an inline scenario. */
export async function bootText(text: string, overrides: ScenarioOverrides = {}, pluginDirs: string[] = []): Promise<Simulation> {
  const { scenario, catalog } = scenarioFromText(text, overrides, undefined, pluginDirs);
  return Simulation.create({ scenario, catalog });
}

/** Boots, runs to the end and finishes an inline scenario. */
export async function runText(text: string, overrides: ScenarioOverrides = {}, pluginDirs: string[] = []): Promise<{ sim: Simulation; result: RunResult; scenario: Scenario }> {
  const sim = await bootText(text, overrides, pluginDirs);
  sim.run();
  const result = await sim.finish();
  return { sim, result, scenario: sim.scenario };
}
