// The PML/PRL reproduction table (`npm run repro:pml`): runs the scenarios of
// scenarios/repro/pml-prl-*.scenario.yaml with the dirty-log provider, the estimators
// and the policy swapped and the parameters swept, and prints the model's figures next
// to the paper's (Bitchebe et al.). Only the paper column is quoted; every model figure
// is counted from the simulated logs, bitmaps and stalls.

import { runText, scenarioFile } from '../node/testing';
import type { ScenarioBuilder } from '../../core/scenario/builder';
import { wssEstimators } from '../../core/models/memory/dirty-log';
import { MigrationService } from '../../core/models/migration/engine';
import { Vm } from '../../core/models/datacenter/components';

const scenario = (name: string) => scenarioFile(`scenarios/repro/${name}.scenario.yaml`);
const MB = 1e6;
const row = (quantity: string, model: string, paper: string) => console.log(`${quantity.padEnd(64)} ${model.padEnd(40)} ${paper}`);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Estimates of each estimator for the first VM, split by workload phase (interval end ≤ split). */
export async function wssRun(s: ScenarioBuilder, splitNs: number) {
  const { sim } = await runText(s);
  const reg = wssEstimators(sim);
  const vm = sim.world.query([Vm])[0];
  const phases: Record<string, { read: number[]; write: number[] }> = {};
  for (const id of reg.ids()) {
    const { t, bytes } = reg.get(id)!.series(vm);
    // Skip each phase's first interval: it straddles the start or the switch.
    phases[id] = { read: bytes.filter((_, i) => t[i] > 1e9 && t[i] <= splitNs), write: bytes.filter((_, i) => t[i] > splitNs + 1e9) };
  }
  return { sim, phases };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const range = (xs: number[]) => `${(Math.min(...xs) / MB).toFixed(0)}–${(Math.max(...xs) / MB).toFixed(0)} MB`;

export function prlVariant(s: ScenarioBuilder): ScenarioBuilder {
  return s.swapPlugin('dirty-log.pml', 'dirty-log.prl').plugin('wss.prl', { interval: '1s' });
}

async function wss(): Promise<void> {
  console.log('\n== Working-set estimation, 400 MB working set read for 20 s then written: scenarios/repro/pml-prl-wss ==');
  row('quantity', 'model', 'paper');
  const base = scenario('pml-prl-wss');
  const pml = await wssRun(base, 20e9);
  const prl = await wssRun(prlVariant(base), 20e9);
  const t = pml.phases['wss.truth'];
  row('true WSS, read / write phase (mean)', `${(mean(t.read) / MB).toFixed(0)} / ${(mean(t.write) / MB).toFixed(0)} MB`, '400 MB');
  row('PML estimate, read phase / write phase (mean)', `${(mean(pml.phases['wss.pml'].read) / MB).toFixed(1)} / ${(mean(pml.phases['wss.pml'].write) / MB).toFixed(0)} MB`, '≈0 / ≈400 MB');
  row('PRL estimate, read phase / write phase (mean)', `${(mean(prl.phases['wss.prl'].read) / MB).toFixed(0)} / ${(mean(prl.phases['wss.prl'].write) / MB).toFixed(0)} MB`, '≈400 / ≈400 MB');
  const samp = [...pml.phases['wss.sampling'].read, ...pml.phases['wss.sampling'].write];
  row('sampling estimate, range over intervals', range(samp), '184–492 MB');
  row('PML log-full exits / PRL log-full exits (vCPU stops)', `${pml.sim.metrics.value('dirty-log.exits.log-full')} / ${prl.sim.metrics.value('dirty-log.exits.log-full')}`, 'PRL: none');
}

export async function migrationRun(s: ScenarioBuilder) {
  const { sim } = await runText(s);
  const m = (sim.services.get(MigrationService) as unknown as { summary(): Array<Record<string, number | null>> }).summary()[0];
  return { timeMs: m.timeMs as number | null, rounds: m.rounds as number, dirtyLogMs: m.dirtyLogMs as number, stallNs: sim.metrics.value('dirty-log.vcpu-stall-ns') ?? 0, lockWaitNs: sim.metrics.value('dirty-log.lock-wait-ns') ?? 0, passStretchNs: sim.metrics.value('dirty-log.pass-stretch-ns') ?? 0, writes: sim.metrics.value('workload.writes') ?? 0, exits: (sim.metrics.value('dirty-log.exits.ept-violation') ?? 0) + (sim.metrics.value('dirty-log.exits.log-full') ?? 0) };
}

export async function migration(): Promise<void> {
  console.log('\n== Live migration, write-protection against PML: scenarios/repro/pml-prl-migration (2.5 Gbit/s cap) ==');
  row('case: migration time WP → PML; rounds WP/PML; logging exits WP/PML', 'model: PML gain', 'paper');
  const one = async (label: string, s: ScenarioBuilder, rearm: 'all-pages' | 'dirtied-pages' = 'all-pages') => {
    const pml = await migrationRun(s);
    const wp = await migrationRun(s.swapPlugin('dirty-log.pml', 'dirty-log.write-protect').pluginOptions('dirty-log.write-protect', { rearm }));
    const gain = pml.timeMs !== null && wp.timeMs !== null ? 1 - pml.timeMs / wp.timeMs : NaN;
    row(`${label}: ${wp.timeMs?.toFixed(0)} → ${pml.timeMs?.toFixed(0)} ms; ${wp.rounds}/${pml.rounds}; ${wp.exits}/${pml.exits}`, `${pct(gain)} (re-arming ${wp.dirtyLogMs.toFixed(0)} vs ${pml.dirtyLogMs.toFixed(0)} ms)`, 'up to 10.18%');
    // The lock: vCPU time waiting for re-arming passes, and the passes' stretch by the vCPUs let in.
    row(`  lock: vCPU wait WP/PML; pass stretch WP/PML; guest writes WP/PML`, `${(wp.lockWaitNs / 1e6).toFixed(1)}/${(pml.lockWaitNs / 1e6).toFixed(1)} ms; ${(wp.passStretchNs / 1e6).toFixed(2)}/${(pml.passStretchNs / 1e6).toFixed(2)} ms; ${(wp.writes / 1e3).toFixed(0)}k/${(pml.writes / 1e3).toFixed(0)}k`, '');
  };
  // Every migration here ends before 30 s (it starts at 2 s): the runs stop there.
  const at = (memory: string, w: number) => scenario('pml-prl-migration').vm('vm', { memory }).workload('vm', { writesPerSecond: w }).duration('30s').noExpectations().record({ series: [] });
  // Write protection re-arms every page each round, PML only the pages logged: the gain grows with the VM's memory.
  for (const memory of ['2GiB', '4GiB', '8GiB']) await one(`${memory} VM, 50k writes/s`, at(memory, 50000));
  // The write rate: the guests' idle CPU absorbs write protection's exits, so both dirty
  // as much; write protection's longer re-arming lets more pages be dirtied each round.
  for (const memory of ['2GiB', '4GiB']) for (const w of [10000, 25000, 50000, 75000, 100000]) await one(`${memory} VM, ${w / 1000}k writes/s`, at(memory, w));
  // KVM's re-arming (kvm_get_dirty_log_protect): write protection re-protects only the dirtied pages, through the reverse map.
  for (const w of [10000, 50000, 100000]) await one(`2GiB VM, ${w / 1000}k writes/s, KVM rmap re-arm`, at('2GiB', w), 'dirtied-pages');
}

export async function slowdownRun(s: ScenarioBuilder) {
  const { sim } = await runText(s);
  return (sim.metrics.value('workload.writes') ?? 0) + (sim.metrics.value('workload.reads') ?? 0);
}

/** A write-intensive VM alone, with only the given estimators (and the given provider). */
export function writeHeavy(provider: string, estimators: string[], interval: string): ScenarioBuilder {
  let s = scenario('pml-prl-wss').withoutPlugin('wss.truth').withoutPlugin('wss.pml').withoutPlugin('wss.sampling').swapPlugin('dirty-log.pml', provider);
  s = s.workload('analytics', { phases: [{ distribution: 'uniform', readsPerSecond: 0, writesPerSecond: 3000000, cpu: 1 }] }).duration('3s').noExpectations().record({ series: [] });
  for (const e of estimators) s = s.plugin(e, { interval });
  return s;
}

async function slowdown(): Promise<void> {
  console.log('\n== Estimation disturbs the VM: a write-intensive VM (3M page writes/s over 400 MB) ==');
  row('estimation interval: slowdown with naive PML / with PRL', 'model', 'paper');
  const free = await slowdownRun(writeHeavy('dirty-log.pml', [], '1s'));
  for (const interval of ['1s', '100ms', '10ms']) {
    const pml = await slowdownRun(writeHeavy('dirty-log.pml', ['wss.pml'], interval));
    const prl = await slowdownRun(writeHeavy('dirty-log.prl', ['wss.prl'], interval));
    row(`interval ${interval}`, `${pct(1 - pml / free)} / ${pct(1 - prl / free)}`, 'PML up to 34.9%; PRL no stalls');
  }
}

export function overcommitVariant(estimator: 'wss.prl' | 'wss.pml' | 'wss.sampling' | 'none'): ScenarioBuilder {
  let s = scenario('pml-prl-overcommit').noExpectations().record({ series: [] });
  if (estimator === 'none') return s.withoutPlugin('memory.overcommit');
  if (estimator === 'wss.pml') s = s.swapPlugin('dirty-log.prl', 'dirty-log.pml').withoutPlugin('wss.prl');
  if (estimator === 'wss.sampling') s = s.withoutPlugin('wss.prl').withoutPlugin('wss.pml');
  if (estimator === 'wss.prl') s = s.withoutPlugin('wss.pml');
  return s.pluginOptions('memory.overcommit', { estimator });
}

export async function overcommitRun(s: ScenarioBuilder) {
  const { sim } = await runText(s);
  const seconds = sim.timeNs / 1e9;
  const v = (k: string) => sim.metrics.value(k) ?? 0;
  return {
    progress: v('workload.writes') + v('workload.reads'),
    savedBytes: v('memory.overcommit.saved-byte-seconds') / seconds,
    swapIns: v('memory.overcommit.swap-ins'),
    hostsFreed: v('memory.overcommit.hosts-freed'),
    meanHosts: v('memory.overcommit.host-seconds') / seconds,
    migrations: v('memory.overcommit.migrations'),
    cappedBytes: v('memory.overcommit.host-capped-bytes'),
    hostShortSwapIns: v('memory.overcommit.swap-ins-host-short'),
  };
}

async function overcommit(): Promise<void> {
  console.log('\n== Memory overcommitment and consolidation by each estimator (6 VMs of 512 MiB, 200 MB working sets, on 3 hosts of 1 GiB): scenarios/repro/pml-prl-overcommit ==');
  row('estimator: hosts freed (mean used); migrations; mean saved; slowdown; swap-ins (host short)', 'model', 'paper');
  const free = await overcommitRun(overcommitVariant('none'));
  for (const e of ['wss.prl', 'wss.pml', 'wss.sampling'] as const) {
    const r = await overcommitRun(overcommitVariant(e));
    row(e, `${r.hostsFreed} (${r.meanHosts.toFixed(2)}); ${r.migrations}; ${(r.savedBytes / 2 ** 20).toFixed(0)} MiB; ${pct(1 - r.progress / free.progress)}; ${r.swapIns} (${r.hostShortSwapIns})`, e === 'wss.prl' ? 'saves memory, no slowdown' : 'less accurate: slowdown');
  }
}

if (require.main === module) {
  (async () => {
    // `npm run repro:pml -- overcommit` (or wss, migration, slowdown) prints one table.
    const only = process.argv[2];
    if (!only || only === 'wss') await wss();
    if (!only || only === 'migration') await migration();
    if (!only || only === 'slowdown') await slowdown();
    if (!only || only === 'overcommit') await overcommit();
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
