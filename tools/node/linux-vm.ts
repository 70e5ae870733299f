// Runs scenarios/repro/ssp-linux.scenario.yaml (a VM that boots the committed Linux in
// MMU timing mode) with its strategy swapped, for the test that compares SSP with
// shadow paging under the real kernel (__tests__/system/linux-vm-ssp.test.ts): its
// metrics, console and failed expectations.

import { Simulation } from '../../core/simulation';
import { loadScenarioFile } from './scenario-file';

export const SSP_LINUX_SCENARIO = 'scenarios/repro/ssp-linux.scenario.yaml';

/** One run of the scenario under a strategy. */
export interface SspLinuxRun {
  readonly mmu: string;
  readonly metric: (name: string) => number;
  readonly console: string;
  readonly failedExpectations: string[];
  readonly summary: string;
}

/** Runs the scenario with `mmu` in place of mmu.ssp. */
export async function runSspLinuxScenario(mmu: string): Promise<SspLinuxRun> {
  const set = mmu === 'mmu.ssp' ? [] : [{ path: 'plugins.mmu.ssp', remove: true }, { path: `plugins.${mmu}`, value: {} }];
  const { scenario, catalog, files } = loadScenarioFile(SSP_LINUX_SCENARIO, { set });
  const sim = await Simulation.create({ scenario, catalog, files });
  sim.run();
  const r = await sim.finish();
  const metrics = r.metrics.metrics as Record<string, { value?: number; max?: number }>;
  return {
    mmu,
    metric: (name) => metrics[name]?.value ?? metrics[name]?.max ?? 0,
    console: r.files.get('console/linux-0.txt') ?? '',
    failedExpectations: r.expectations.filter((e) => !e.ok).map((e) => e.reason ?? e.metric),
    summary: r.summary,
  };
}
