// Live migration through real simulations: the mechanisms move the numbers the right
// way — less bandwidth, more dirtying or competing traffic make pre-copy slower or
// fail; post-copy completes when nothing fails (migration-failure.test.ts: when
// something does) but slows the VM; XBZRLE and compression send fewer
// bytes; auto-converge throttles the guest.
import type { ScenarioBuilder } from 'virtlab';
import { runText, scenarioFile } from '../../tools/node/testing';

// The AdaMig case under plain pre-copy: the VM's group is `vm`, the link cap is
// migration.precopy's bandwidth.
const base = scenarioFile('scenarios/repro/adamig.scenario.yaml').withoutPlugin('migration.adamig').noExpectations().duration('12min').tick('100ms');
const writes = (s: ScenarioBuilder, writesPerSecond: number) => s.workload('vm', { writesPerSecond });
const bandwidth = (s: ScenarioBuilder, bw: string) => s.pluginOptions('migration.precopy', { bandwidth: bw });
/** Adds a plugin where the original scenario lists its migrations, before migration.schedule. */
const add = (s: ScenarioBuilder, id: string, options: Record<string, unknown> = {}) => s.plugin(id, options, { before: 'migration.schedule' });

async function migrate(edit: (s: ScenarioBuilder) => ScenarioBuilder) {
  const { sim, result } = await runText(edit(base));
  const m = JSON.parse(result.files.get('migrations.json')!)[0];
  return { m, sim };
}

describe('live migration', () => {
  it('takes longer with less bandwidth, and fails when the dirty rate outruns it', async () => {
    const fast = await migrate((s) => bandwidth(writes(s, 1000), '1Gbit/s'));
    const slow = await migrate((s) => writes(s, 1000));
    expect(fast.m.success).toBe(true);
    expect(slow.m.success).toBe(true);
    expect(slow.m.timeMs).toBeGreaterThan(fast.m.timeMs * 2);
    const hopeless = await migrate((s) => s);
    expect(hopeless.m.success).toBe(false);
    expect(hopeless.m.decisions.at(-1).action).toBe('abort');
  });

  it('competes with background traffic for the links', async () => {
    const quiet = await migrate((s) => bandwidth(writes(s, 1000), '20Gbit/s'));
    const busy = await migrate((s) => add(bandwidth(writes(s, 1000), '20Gbit/s'), 'network.background', { steadyFlows: 4, steadyRate: '20Gbit/s' }));
    expect(busy.m.timeMs).toBeGreaterThan(quiet.m.timeMs * 1.5);
  });

  it('post-copy completes when nothing fails, with a short downtime and a slowed-down VM', async () => {
    const { m } = await migrate((s) => s.swapPlugin('migration.precopy', 'migration.postcopy', { bandwidth: '256Mbit/s' }));
    expect(m.success).toBe(true);
    expect(m.method).toBe('postcopy');
    expect(m.downtimeMs).toBeLessThan(10);
    expect(m.slowdown).toBeGreaterThan(0);
  });

  it('sends fewer bytes with XBZRLE or compression, and throttles with auto-converge', async () => {
    const edit = (id: string, options: Record<string, unknown> = {}) => (s: ScenarioBuilder) => add(writes(s, 2000), id, options);
    const plain = await migrate(edit('bench.empty'));
    const xbzrle = await migrate(edit('migration.xbzrle', { cacheSize: '1GiB' }));
    const ratios = { zero: 0.01, code: 0.5, data: 0.4, random: 1 };
    const compress = await migrate((s) => edit('migration.compress', { classRatios: ratios })(s).workload('vm', { pageClasses: { data: 1 } }));
    const incompressible = await migrate((s) => edit('migration.compress', { classRatios: ratios })(s).workload('vm', { pageClasses: { random: 1 } }));
    expect(plain.m.success).toBe(true);
    expect(xbzrle.m.bytesSent).toBeLessThan(plain.m.bytesSent);
    expect(compress.m.bytesSent).toBeLessThan(plain.m.bytesSent * 0.6);
    expect(incompressible.m.bytesSent).toBeGreaterThan(compress.m.bytesSent * 2);
    const throttled = await migrate((s) => add(s, 'migration.auto-converge'));
    expect(throttled.m.decisions.some((d: { action: string }) => d.action.startsWith('throttle to'))).toBe(true);
  });
});

describe('compression', () => {
  it('keeps its threads busy on the source host while the migration runs', async () => {
    const text = add(writes(base, 2000), 'migration.compress', { threads: 6 });
    const { bootText } = await import('../../tools/node/testing');
    const sim = await bootText(text);
    sim.runUntil(20e9);
    const { Host, DatacenterToken } = await import('virtlab');
    const H = sim.world.store(Host);
    const src = sim.services.get(DatacenterToken).hosts[0];
    expect(H.serviceCores[src]).toBe(6);
    sim.run();
    expect(H.serviceCores[src]).toBe(0);
  });
});

describe('compression on a busy source', () => {
  // Mutation that must break it (checked once): rateCap counting every configured thread
  // whatever the source's load (usableThreads returning s.threads).
  it("compresses slower when the source host's cores are taken by its VMs", async () => {
    const slowThreads = (s: ScenarioBuilder) => add(writes(s, 2000), 'migration.compress', { threads: 8, threadThroughput: 10e6 });
    const idle = await migrate(slowThreads);
    // Nine more VMs of 4 busy vCPUs land on the migrating VM's host (first fit): 2 cores stay free.
    const busy = await migrate((s) => slowThreads(s).edit((d) => d.vms!.push({ name: 'busy', count: 9, vcpus: 4, memory: '4GiB', workload: { kind: 'synthetic', cpu: 1 } })));
    expect(idle.m.success).toBe(true);
    expect(busy.m.success).toBe(true);
    expect(busy.m.timeMs).toBeGreaterThan(idle.m.timeMs * 1.5);
  });
});

describe('a rack evacuation', () => {
  it('resumes from a checkpoint taken mid-migration exactly', async () => {
    const text = scenarioFile('scenarios/evacuate-rack.scenario.yaml').duration('2min');
    const { bootText } = await import('../../tools/node/testing');
    const whole = await bootText(text);
    whole.run();
    const a = await whole.finish();
    const first = await bootText(text);
    first.runUntil(25e9);
    expect(first.metrics.value('migration.started')).toBe(40);
    const resumed = await bootText(text);
    resumed.restore(first.snapshot());
    resumed.run();
    const b = await resumed.finish();
    expect(b.metricsJson).toBe(a.metricsJson);
    expect(b.files.get('migrations.json')).toBe(a.files.get('migrations.json'));
  });
});
