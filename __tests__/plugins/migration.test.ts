// Live migration through real simulations: the mechanisms move the numbers the right
// way — less bandwidth, more dirtying or competing traffic make pre-copy slower or
// fail; post-copy always completes but slows the VM; XBZRLE and compression send fewer
// bytes; auto-converge throttles the guest.
import { readFileSync } from 'node:fs';
import { runText } from '../../tools/node/testing';

const base = readFileSync('scenarios/repro/adamig.scenario.yaml', 'utf8').replace('  migration.adamig: {}\n', '').replace(/expect:\n.*\n/, '').replace('duration: 20min', 'duration: 12min').replace('tick: 10ms', 'tick: 100ms');

async function migrate(edit: (s: string) => string) {
  const { sim, result } = await runText(edit(base));
  const m = JSON.parse(result.files.get('migrations.json')!)[0];
  return { m, sim };
}

describe('live migration', () => {
  it('takes longer with less bandwidth, and fails when the dirty rate outruns it', async () => {
    const fast = await migrate((s) => s.replace('writesPerSecond: 8000', 'writesPerSecond: 1000').replace('256Mbit/s', '1Gbit/s'));
    const slow = await migrate((s) => s.replace('writesPerSecond: 8000', 'writesPerSecond: 1000'));
    expect(fast.m.success).toBe(true);
    expect(slow.m.success).toBe(true);
    expect(slow.m.timeMs).toBeGreaterThan(fast.m.timeMs * 2);
    const hopeless = await migrate((s) => s);
    expect(hopeless.m.success).toBe(false);
    expect(hopeless.m.decisions.at(-1).action).toBe('abort');
  });

  it('competes with background traffic for the links', async () => {
    const quiet = await migrate((s) => s.replace('writesPerSecond: 8000', 'writesPerSecond: 1000').replace('256Mbit/s', '20Gbit/s'));
    const busy = await migrate((s) =>
      s.replace('writesPerSecond: 8000', 'writesPerSecond: 1000').replace('256Mbit/s', '20Gbit/s').replace('  migration.schedule', '  network.background: { steadyFlows: 4, steadyRate: 20Gbit/s }\n  migration.schedule'),
    );
    expect(busy.m.timeMs).toBeGreaterThan(quiet.m.timeMs * 1.5);
  });

  it('post-copy always completes, with a short downtime and a slowed-down VM', async () => {
    const { m } = await migrate((s) => s.replace('migration.precopy:', 'migration.postcopy:'));
    expect(m.success).toBe(true);
    expect(m.method).toBe('postcopy');
    expect(m.downtimeMs).toBeLessThan(10);
    expect(m.slowdown).toBeGreaterThan(0);
  });

  it('sends fewer bytes with XBZRLE or compression, and throttles with auto-converge', async () => {
    const edit = (extra: string) => (s: string) => s.replace('writesPerSecond: 8000', 'writesPerSecond: 2000').replace('  migration.schedule', `  ${extra}\n  migration.schedule`);
    const plain = await migrate(edit('bench.empty: {}'));
    const xbzrle = await migrate(edit('migration.xbzrle: { cacheSize: 1GiB }'));
    const compress = await migrate(edit('migration.compress: { pageClasses: { data: 1 }, classRatios: { data: 0.4 } }'));
    const incompressible = await migrate(edit('migration.compress: { pageClasses: { random: 1 } }'));
    expect(plain.m.success).toBe(true);
    expect(xbzrle.m.bytesSent).toBeLessThan(plain.m.bytesSent);
    expect(compress.m.bytesSent).toBeLessThan(plain.m.bytesSent * 0.6);
    expect(incompressible.m.bytesSent).toBeGreaterThan(compress.m.bytesSent * 2);
    const throttled = await migrate((s) => s.replace('  migration.schedule', '  migration.auto-converge: {}\n  migration.schedule'));
    expect(throttled.m.decisions.some((d: { action: string }) => d.action.startsWith('throttle to'))).toBe(true);
  });
});

describe('compression', () => {
  it('keeps its threads busy on the source host while the migration runs', async () => {
    const text = base.replace('writesPerSecond: 8000', 'writesPerSecond: 2000').replace('  migration.schedule', '  migration.compress: { threads: 6 }\n  migration.schedule');
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

describe('a rack evacuation', () => {
  it('resumes from a checkpoint taken mid-migration exactly', async () => {
    const text = readFileSync('scenarios/evacuate-rack.scenario.yaml', 'utf8').replace('duration: 30min', 'duration: 2min');
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
