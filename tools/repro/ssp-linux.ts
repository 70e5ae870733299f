// The SSP-under-Linux reproduction (`npm run repro:ssp-linux`): boots the committed
// kernel in scenarios/repro/ssp-linux.scenario.yaml under mmu.ssp, mmu.shadow-paging and
// mmu.native (the strategy swapped, nothing else), and prints the VM exits by cause,
// the translation cycles and the simulated time to power-off of each, SSP's exits
// beside shadow paging's, and each strategy's overhead against native, with the SSP
// paper's figures beside them (only those are quoted). The same runs back the test
// __tests__/system/ssp-linux.test.ts.

import { Simulation } from '../../core/simulation';
import { loadScenarioFile } from '../node/scenario-file';

export const SSP_LINUX = 'scenarios/repro/ssp-linux.scenario.yaml';

/** One run of the reproduction under a strategy: its metrics, console and expectations. */
export interface SspLinuxRun {
  readonly mmu: string;
  readonly metric: (name: string) => number;
  readonly console: string;
  readonly failedExpectations: string[];
  readonly summary: string;
}

/** Runs the scenario with `mmu` in place of mmu.ssp. */
export async function runSspLinux(mmu: string): Promise<SspLinuxRun> {
  const set = mmu === 'mmu.ssp' ? [] : [{ path: 'plugins.mmu.ssp', remove: true }, { path: `plugins.${mmu}`, value: {} }];
  const { scenario, catalog, files } = loadScenarioFile(SSP_LINUX, { set });
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

const EXIT_CAUSES = ['pt-write', 'root-switch', 'hidden-fault', 'guest-fault'];

async function main(): Promise<void> {
  const runs: SspLinuxRun[] = [];
  for (const mmu of ['mmu.ssp', 'mmu.shadow-paging', 'mmu.native']) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const run = await runSspLinux(mmu);
    const cpu = process.cpuUsage(c0);
    runs.push(run);
    const m = run.metric;
    console.log(
      `${mmu.padEnd(18)} exits ${String(m('mmu.exits')).padStart(7)} (${EXIT_CAUSES.map((c) => `${c} ${m(`mmu.exits.${c}`)}`).join(', ')}); ` +
        `m-mode ${m('mmu.mmode-entries')}; translation ${m('mmu.cycles.translation')} cycles; power-off at ${(m('linux.power-off-time') / 1e6).toFixed(2)} ms; ` +
        `wall ${((performance.now() - t0) / 1000).toFixed(1)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`,
    );
  }
  const [ssp, shadow, native] = runs.map((r) => r.metric);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const base = native('linux.power-off-time');
  console.log(`\nSSP's exits against shadow paging's: ${pct(1 - ssp('mmu.exits') / shadow('mmu.exits'))} fewer (paper: 23–56% fewer)`);
  console.log(`time to power-off over native: SSP +${pct(ssp('linux.power-off-time') / base - 1)} (paper: under 5.5%), shadow paging +${pct(shadow('linux.power-off-time') / base - 1)}`);
  console.log(`instructions (identical under each): ${runs.map((r) => r.metric('linux.instructions')).join(', ')}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
