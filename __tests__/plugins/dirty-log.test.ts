// The dirty-log providers at page granularity: a VM that touches each of its pages once
// (a sequential sweep), so every access is a first one and the counts are exact. PML
// logs each first write, and its log is full after 512 entries: the 513th logging
// attempt is a VM exit; PRL logs reads as well and never exits; write protection
// exits on every first write. Misconfigurations are refused with one-line errors.
//
// Mutations that must break these tests (each checked once):
// - the PML index starting at 512, or the log declared full when the index reaches 0
//   instead of when it wraps below 0: "exits on the 513th logged page, not the 512th" fails;
// - PRL logging only writes: "logs reads with PRL, and never stops the vCPU" fails;
// - the stalls a VM still owes, or wss.truth's count of the interval so far, left out of
//   the snapshot: "resumes from a checkpoint exactly" fails.
// (The overcommitment policy's migrations in flight are in its snapshot too.)
import { scenario, type ScenarioBuilder } from '../../core/scenario/builder';
import { bootText, runText } from '../../tools/node/testing';
import { wssEstimators } from '../../core/models/memory/dirty-log';
import { DirtyLog } from '../../core/models/memory/dirty-log';
import { Vm } from '../../core/models/datacenter/components';

const sweep = (provider: string, rates: { readsPerSecond?: number; writesPerSecond?: number }, extra: Array<[string, Record<string, unknown>]> = []) => {
  let s = scenario('dirty-log')
    .tick('10ms')
    .duration('1s')
    .hosts({ profile: 'x86-64-server', racks: 1, perRack: 1 })
    .vms({ name: 'vm', count: 1, vcpus: 1, memory: '64MiB', workload: { kind: 'synthetic', distribution: 'sequential', readsPerSecond: 0, writesPerSecond: 0, ...rates } })
    .plugin('placement.first-fit')
    .plugin('workload.synthetic', { arrivals: 'fluid' })
    .plugin(provider);
  for (const [id, o] of extra) s = s.plugin(id, o);
  return s;
};
const run = async (s: ScenarioBuilder) => {
  const { sim } = await runText(s);
  return (name: string) => sim.metrics.value(name) ?? 0;
};
// A client makes the provider log: the truth estimator does not, so one wss.pml/prl client is added.
const pmlClient: Array<[string, Record<string, unknown>]> = [['wss.pml', { interval: '10s' }]];

describe('dirty-log providers', () => {
  it('fills a 512-entry log per vCPU with PML: a log-full exit on the 513th logged page', async () => {
    const m = await run(sweep('dirty-log.pml', { writesPerSecond: 10000 }, pmlClient));
    const entries = m('dirty-log.entries');
    expect(entries).toBe(m('workload.writes'));
    expect(entries).toBeGreaterThan(512 * 4);
    expect(m('dirty-log.log-full')).toBe(Math.floor((entries - 1) / 512));
    expect(m('dirty-log.exits.log-full')).toBe(m('dirty-log.log-full'));
    expect(m('dirty-log.exits.ept-violation')).toBe(0);
  });

  it('exits on the 513th logged page, not the 512th', async () => {
    // One 10 ms step of exactly n sequential first writes.
    const once = (n: number) => run(sweep('dirty-log.pml', { writesPerSecond: n * 100 }, pmlClient).duration('10ms'));
    const full = await once(512);
    expect(full('dirty-log.entries')).toBe(512);
    expect(full('dirty-log.log-full')).toBe(0);
    const over = await once(513);
    expect(over('dirty-log.entries')).toBe(513);
    expect(over('dirty-log.exits.log-full')).toBe(1);
  });

  it('does not log reads with PML', async () => {
    const m = await run(sweep('dirty-log.pml', { readsPerSecond: 10000 }, pmlClient));
    expect(m('workload.reads')).toBeGreaterThan(5000);
    expect(m('dirty-log.entries')).toBe(0);
  });

  it('logs reads with PRL, and never stops the vCPU', async () => {
    const m = await run(sweep('dirty-log.prl', { readsPerSecond: 10000 }, [['wss.prl', { interval: '10s' }]]));
    const entries = m('dirty-log.entries');
    expect(entries).toBe(m('workload.reads'));
    expect(m('dirty-log.log-full')).toBe(Math.floor((entries - 1) / 512));
    expect(m('dirty-log.exits.log-full')).toBe(0);
    expect(m('dirty-log.hypervisor-core-cycles')).toBeGreaterThan(0);
  });

  it('exits on every first write under write protection, and re-arms every page', async () => {
    const sim = await bootText(sweep('dirty-log.write-protect', { writesPerSecond: 10000 }));
    const log = sim.services.get(DirtyLog);
    const vm = sim.world.query([Vm])[0];
    const client = log.open(vm, 'test');
    sim.run();
    const m = (name: string) => sim.metrics.value(name) ?? 0;
    expect(m('dirty-log.exits.ept-violation')).toBe(m('workload.writes'));
    expect(log.dirtyPages(client)).toBe(m('workload.writes'));
    expect(m('dirty-log.log-full')).toBe(0);
    const before = m('dirty-log.bits-cleared');
    expect(log.rearm(client)).toBeGreaterThan(0);
    // 64 MiB of 4 KiB pages, all written again to read-only.
    expect(m('dirty-log.bits-cleared') - before).toBe(16384);
    expect(log.dirtyPages(client)).toBe(0);
  });

  it('refuses an estimator its provider cannot serve, naming the provider to select', async () => {
    await expect(run(sweep('dirty-log.pml', { writesPerSecond: 100 }, [['wss.prl', {}]]))).rejects.toThrow(/select dirty-log\.prl/);
    await expect(run(sweep('dirty-log.write-protect', { writesPerSecond: 100 }, [['wss.pml', {}]]))).rejects.toThrow(/select dirty-log\.pml/);
    await expect(run(sweep('dirty-log.pml', { writesPerSecond: 100 }, [['wss.truth', {}], ['memory.overcommit', { estimator: 'wss.prl' }]]))).rejects.toThrow(/estimator 'wss\.prl' is not loaded/);
  });

  it('resumes from a checkpoint exactly: logs, estimators, stalls and the overcommitment policy', async () => {
    const s = scenario('dirty-log-checkpoint')
      .tick('10ms')
      .duration('4s')
      // Two small hosts, one VM on each (worst-fit): the policy consolidates them by live migration.
      .hosts({ profile: 'x86-64-small', racks: 1, perRack: 2 })
      .vms({
        name: 'vm',
        count: 2,
        vcpus: 2,
        memory: '32MiB',
        workload: { kind: 'synthetic', workingSet: '16MiB', phases: [{ duration: '2s', readsPerSecond: 20000, writesPerSecond: 0 }, { readsPerSecond: 0, writesPerSecond: 20000 }] },
      })
      .plugin('placement.worst-fit')
      .plugin('dirty-log.prl')
      .plugin('migration.precopy')
      .plugin('wss.truth', { interval: '500ms' })
      .plugin('wss.prl', { interval: '500ms' })
      .plugin('wss.pml', { interval: '300ms' })
      .plugin('wss.sampling', { interval: '500ms' })
      .plugin('memory.overcommit', { estimator: 'wss.sampling', period: '500ms', minimum: '1MiB', consolidate: true });
    const whole = await runText(s);
    // Once while the consolidating migration runs, once after.
    for (const at of [0.51e9, 1.55e9]) {
      const first = await bootText(s);
      first.runUntil(at);
      const resumed = await bootText(s);
      resumed.restore(first.snapshot());
      resumed.run();
      const result = await resumed.finish();
      expect(result.metricsJson).toBe(whole.result.metricsJson);
      for (const id of ['wss.truth', 'wss.prl', 'wss.pml', 'wss.sampling']) expect(result.files.get(`${id}.json`)).toBe(whole.result.files.get(`${id}.json`));
    }
    // Not a run that does nothing: the policy squeezed the VMs and they swapped.
    expect(whole.sim.metrics.value('memory.overcommit.swap-ins')).toBeGreaterThan(0);
    expect(whole.sim.metrics.value('memory.overcommit.hosts-freed')).toBe(1);
    expect(wssEstimators(whole.sim).get('wss.truth')!.series(whole.sim.world.query([Vm])[0]).bytes.at(-1)).toBeGreaterThan(0);
  });
});
