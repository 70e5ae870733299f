// The register-mapping strategy plugins (capability dbt.regmap) as objects: each is
// booted in a minimal simulation of its own, with its options, and its RegMap service
// returned, so that one translated run can be evaluated under every strategy.

import { RegMapToken, Simulation, type RegMap } from 'virtlab';
import { loadCatalog } from './catalog';
import { scenarioFromText } from './testing';

export const STRATEGIES = ['regmap.memory', 'regmap.gpr', 'regmap.simd'] as const;
/** The built-in host profiles, most integer registers first. */
export const PROFILES = ['aarch64', 'x86-64-avx512', 'x86-64', 'starved'] as const;

/** The RegMap a strategy plugin provides, with its options (host among them). */
export async function regmapOf(id: string, options: Record<string, unknown> = {}): Promise<RegMap> {
  const { scenario } = scenarioFromText(`name: regmap\npreset: minimal\nduration: 1ns\ntick: 1ns\nplugins:\n  ${id}: ${JSON.stringify(options)}\n`);
  const sim = await Simulation.create({ scenario, catalog: loadCatalog() });
  return sim.services.get(RegMapToken);
}
