// A migration add-on written outside core and outside plugins/ (the user.migration-dedup
// fixture, which imports only from 'virtlab') changes what a migration sends, keeps its
// per-migration state in snapshots, and can be turned on at run time by a controller.
import path from 'node:path';
import { MigrationService, type MigrationRecord } from 'virtlab';
import { bootText } from '../../tools/node/testing';
import type { DedupState } from '../fixtures/user-plugins/migration-dedup';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'user-plugins');
const DEDUP = 'user.migration-dedup';

/** One 2 GiB VM with a modest dirty rate migrates to the other rack at 10 s, in two rounds and a stop-and-copy. */
const scenario = (dedup?: string) => `name: migration-addon
seed: 1
tick: 100ms
duration: 4min
hosts:
  - { profile: x86-64-server, racks: 2, perRack: 1 }
vms:
  - name: vm
    vcpus: 2
    memory: 2GiB
    workload: { kind: synthetic, distribution: zipf, zipfExponent: 0.6, writesPerSecond: 1500, readsPerSecond: 10000, workingSet: 1GiB, cpu: 0.5 }
plugins:
  migration.precopy: { bandwidth: 512Mbit/s }
  migration.schedule: { migrations: [{ at: 10s, group: vm, toRack: 1 }] }
${dedup === undefined ? '' : `  ${DEDUP}: ${dedup}\n`}`;

async function migrate(dedup?: string): Promise<MigrationRecord> {
  const sim = await bootText(scenario(dedup), {}, [FIXTURES]);
  sim.run();
  await sim.finish();
  return sim.services.get(MigrationService).all()[0];
}

const slot = (m: MigrationRecord) => m.addons.find((a) => a.id === DEDUP)!;

describe('a migration add-on from outside core', () => {
  it('sends fewer bytes, in proportion to the pages it deduplicates', async () => {
    const plain = await migrate();
    const half = await migrate('{ share: 0.5 }');
    const most = await migrate('{ share: 0.9 }');
    expect(plain.success).toBe(true);
    expect(half.success).toBe(true);
    expect(plain.addons.map((a) => a.id)).toEqual([]);
    expect(half.bytesSent).toBeLessThan(plain.bytesSent * 0.6);
    expect(most.bytesSent).toBeLessThan(half.bytesSent * 0.4);
    // The round-0 copy sends the working set; half of it went as references.
    expect(half.rounds[0].bytes).toBeLessThan(plain.rounds[0].bytes * 0.6);
    expect((slot(half).state as DedupState).pagesDeduplicated).toBeGreaterThan(0);
  });

  it('keeps its per-migration state in snapshots', async () => {
    const text = scenario('{ share: 0.5 }');
    const whole = await bootText(text, {}, [FIXTURES]);
    whole.run();
    const a = await whole.finish();
    const first = await bootText(text, {}, [FIXTURES]);
    const engine = first.services.get(MigrationService);
    // Stop in the second round, when the add-on's state has counted the first one.
    while (engine.all()[0]?.rounds.length !== 1) first.runUntil(first.timeNs + 100e6);
    const mid = engine.all()[0];
    expect(mid.state).toBe('round');
    expect((slot(mid).state as DedupState).pagesDeduplicated).toBeGreaterThan(0);
    const resumed = await bootText(text, {}, [FIXTURES]);
    resumed.restore(first.snapshot());
    resumed.run();
    const b = await resumed.finish();
    expect(b.files.get('migrations.json')).toBe(a.files.get('migrations.json'));
    expect(slot(resumed.services.get(MigrationService).all()[0])).toEqual(slot(whole.services.get(MigrationService).all()[0]));
  });

  it('starts off when asked, and a controller can turn it on for one migration with a logged reason', async () => {
    const plain = await migrate();
    const off = await migrate('{ enabled: false }');
    expect(off.bytesSent).toBe(plain.bytesSent);
    const sim = await bootText(scenario('{ enabled: false }'), {}, [FIXTURES]);
    sim.runUntil(15e9); // during the first round, whose bytes are already on their way
    const engine = sim.services.get(MigrationService);
    const controls = engine.addonControls(0);
    expect(controls.ids).toEqual([DEDUP]);
    expect(controls.isEnabled(DEDUP)).toBe(false);
    controls.enable<DedupState>(DEDUP, 'deduplicate', 'the destination holds the base image', (s) => {
      s.share = 0.9;
    });
    expect(() => controls.enable('migration.nothing', 'x', 'y')).toThrow(/no migration add-on 'migration.nothing' is registered \(registered: user.migration-dedup\)/);
    sim.run();
    const m = engine.all()[0];
    expect(m.decisions).toContainEqual(expect.objectContaining({ action: 'deduplicate', reason: 'the destination holds the base image' }));
    expect(m.success).toBe(true);
    expect(m.rounds[0].bytes).toBe(plain.rounds[0].bytes);
    // What followed the first round shrank enough to go straight to the stop-and-copy.
    expect(m.rounds.length).toBeLessThan(plain.rounds.length);
    expect(m.bytesSent - m.rounds[0].bytes).toBeLessThan((plain.bytesSent - plain.rounds[0].bytes) * 0.2);
  });

  it('is refused when a second add-on takes the same id', async () => {
    const sim = await bootText(scenario('{}'), {}, [FIXTURES]);
    const addons = sim.services.get(MigrationService).addons;
    expect(() => addons.register({ id: DEDUP, initial: {} }, { owner: 'user.copy' })).toThrow(/'user.migration-dedup' is registered twice, by 'user.migration-dedup' and by 'user.copy'/);
  });

  it('is refused when registered after a migration started, whose record would lack its state', async () => {
    const sim = await bootText(scenario('{}'), {}, [FIXTURES]);
    sim.runUntil(11e9);
    expect(() => sim.services.get(MigrationService).addons.register({ id: 'user.late', initial: {} }, { owner: 'user.late' })).toThrow(/'user.late' registered migration add-on 'user.late' after migration 0 started/);
  });
});
