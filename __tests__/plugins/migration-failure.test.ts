// Post-copy's real costs and real risk, through real simulations: remote faults slow
// the guest more when the link is contended, and a failure injected by fault.inject
// during a migration is survived by pre-copy (the VM runs on at the source) but loses
// a VM in post-copy.
//
// Mutations that must break these tests (each checked once): making MigrationEngine.fail
// abort post-copy like pre-copy (the VM survives: the loss test fails); charging a
// remote fault only the round trip, not the page at the flow's current rate (the
// contention test fails).
import { Vm, VmState, type ScenarioBuilder } from 'virtlab';
import { runText, scenarioFile } from '../../tools/node/testing';

// The AdaMig case (a 4 GiB VM, migration requested at 10 s) under plain pre-copy.
const base = scenarioFile('scenarios/repro/adamig.scenario.yaml').withoutPlugin('migration.adamig').noExpectations().duration('6min').tick('100ms');
const postcopy = (s: ScenarioBuilder, bandwidth = '1Gbit/s') => s.swapPlugin('migration.precopy', 'migration.postcopy', { bandwidth });
const failAt = (s: ScenarioBuilder, at: string, target: 'destination' | 'link') => s.plugin('fault.inject', { failures: [{ at, target }] }, { before: 'migration.schedule' });

async function migrate(s: ScenarioBuilder) {
  const { sim, result } = await runText(s);
  const m = JSON.parse(result.files.get('migrations.json')!)[0];
  return { m, sim, vmState: sim.world.store(Vm).state[m.vm], host: sim.world.store(Vm).host[m.vm] };
}

describe('a failure during a live migration', () => {
  it('aborts pre-copy, and the VM keeps running on its source', async () => {
    const s = base.workload('vm', { writesPerSecond: 1000 }).pluginOptions('migration.precopy', { bandwidth: '1Gbit/s' });
    for (const target of ['destination', 'link'] as const) {
      const { m, sim, vmState, host } = await migrate(failAt(s, '20s', target));
      expect(m.success).toBe(false);
      expect(m.lost).toBe(false);
      expect(m.failure).toMatch(target === 'destination' ? /destination host \d+ failed/ : /network between/);
      expect(vmState).toBe(VmState.Running);
      expect(host).toBe(m.src);
      expect(sim.metrics.value('migration.lost')).toBe(0);
    }
  });

  it('loses a VM that is in post-copy', async () => {
    const { m, sim, vmState, host } = await migrate(failAt(postcopy(base), '20s', 'destination'));
    expect(m.method).toBe('postcopy');
    expect(m.success).toBe(false);
    expect(m.lost).toBe(true);
    expect(vmState).toBe(VmState.Lost);
    expect(host).toBe(0);
    expect(sim.metrics.value('migration.lost')).toBe(1);
    expect(sim.metrics.value('fault.injected')).toBe(1);
  });

  it('does nothing to a migration that has already ended', async () => {
    const { m, vmState } = await migrate(failAt(postcopy(base), '5min', 'link'));
    expect(m.success).toBe(true);
    expect(m.lost).toBe(false);
    expect(vmState).toBe(VmState.Running);
  });
});

describe('post-copy remote faults', () => {
  it('slow the guest, and more so when other traffic contends for the link', async () => {
    const quiet = await migrate(postcopy(base, '20Gbit/s'));
    const busy = await migrate(postcopy(base, '20Gbit/s').plugin('network.background', { steadyFlows: 6, steadyRate: '20Gbit/s' }, { before: 'migration.schedule' }));
    expect(quiet.m.success).toBe(true);
    expect(busy.m.success).toBe(true);
    expect(quiet.m.faults).toBeGreaterThan(0);
    expect(quiet.m.slowdown).toBeGreaterThan(0);
    expect(busy.m.postcopyMs).toBeGreaterThan(quiet.m.postcopyMs);
    // Each fault waits for its page at the contended rate: the guest loses more time per fault.
    expect(busy.m.guestLostMs / busy.m.faults).toBeGreaterThan((quiet.m.guestLostMs / quiet.m.faults) * 1.2);
  });
});
