// Post-copy, migration.schedule, fault.inject and network.background are event-driven:
// with them active a scenario under `advance: event` still skips from event to event,
// and the same run gives the same results at 1 ms, 10 ms and 100 ms ticks, stepped
// tick by tick or by events. The run: the AdaMig case's 4 GiB VM migrated by post-copy
// at a scheduled time over a link that other tenants' flows (arriving at random
// instants) contend for.
//
// Mutations that must break these tests (checked once):
// - stepping post-copy's fault model once per step (the old Euler step over the tick)
//   instead of in closed form breaks the agreement of slowdown and faults across ticks;
// - starting background arrivals at the step's start instead of at their instants
//   (startAt at sim.timeNs) breaks the agreement of the migration times;
// - removing a system's nextEventNs (schedule, fault.inject, background) makes the
//   event-advance run step tick by tick, which the step count catches.
import { MigrationService, type ScenarioBuilder } from 'virtlab';
import { bootText, scenarioFile } from '../../tools/node/testing';

const base = scenarioFile('scenarios/repro/adamig.scenario.yaml')
  .withoutPlugin('migration.adamig')
  .noExpectations()
  .duration('3min')
  .swapPlugin('migration.precopy', 'migration.postcopy', { bandwidth: '20Gbit/s' })
  .plugin('workload.synthetic', { arrivals: 'fluid' })
  .plugin('network.background', { steadyFlows: 1, steadyRate: '5Gbit/s', arrivalsPerSecond: 1, meanFlowSize: '2GiB', crossRackOnly: true }, { before: 'migration.schedule' });

const lossy = base.plugin('fault.inject', { failures: [{ at: '12s', target: 'destination' }] }, { before: 'migration.schedule' });

async function run(s: ScenarioBuilder, tick: string, advance: 'tick' | 'event') {
  const sim = await bootText(s.tick(tick).advance(advance));
  let steps = 0;
  while (sim.tick < sim.totalTicks) {
    sim.step();
    steps++;
  }
  const result = await sim.finish();
  const m = sim.services.get(MigrationService).all()[0];
  return {
    steps,
    ticks: sim.totalTicks,
    byEvent: sim.advancesByEvent,
    success: m.success,
    lost: m.lost,
    timeS: (m.endNs - m.startNs) / 1e9,
    postcopyS: m.postcopyNs / 1e9,
    slowdownS: m.slowdownNs / 1e9,
    faults: m.faults,
    background: sim.metrics.value('net.background.flows')!,
  };
}

const near = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

describe('event-driven post-copy, schedule, fault injection and background traffic', () => {
  it('give the same post-copy migration at 1 ms, 10 ms and 100 ms ticks, by tick or by event', async () => {
    const ref = await run(base, '1ms', 'tick');
    expect(ref.success).toBe(true);
    // The push (4 GiB at up to 20 Gbit/s) shares its link with the other tenants' flows.
    expect(ref.postcopyS).toBeGreaterThan(1.3 * ((4 * 2 ** 30 * 8) / 20e9));
    expect(ref.slowdownS).toBeGreaterThan(0.01 * ref.postcopyS);
    expect(ref.background).toBeGreaterThan(100);
    for (const [tick, advance] of [['10ms', 'tick'], ['100ms', 'tick'], ['1ms', 'event'], ['10ms', 'event'], ['100ms', 'event']] as const) {
      const r = await run(base, tick, advance);
      const at = `${tick} ${advance}`;
      expect({ at, success: r.success, background: r.background }).toEqual({ at, success: true, background: ref.background });
      expect({ at, time: near(r.timeS, ref.timeS, 1e-3), postcopy: near(r.postcopyS, ref.postcopyS, 1e-3) }).toEqual({ at, time: true, postcopy: true });
      expect({ at, slowdown: near(r.slowdownS, ref.slowdownS, 0.01), faults: near(r.faults, ref.faults, 0.01) }).toEqual({ at, slowdown: true, faults: true });
      if (advance === 'event') {
        expect(r.byEvent).toBe(true);
        // Steps at the arrivals and ends of about 200 flows, the migration and post-copy's speed steps.
        expect(r.steps).toBeLessThan(1000);
      }
    }
  }, 600_000);

  it('lose the VM at the same instant at any tick when its destination fails in post-copy', async () => {
    const ref = await run(lossy, '10ms', 'tick');
    expect(ref.lost).toBe(true);
    for (const [tick, advance] of [['100ms', 'tick'], ['10ms', 'event'], ['100ms', 'event']] as const) {
      const r = await run(lossy, tick, advance);
      const at = `${tick} ${advance}`;
      expect({ at, lost: r.lost, time: near(r.timeS, ref.timeS, 1e-9) }).toEqual({ at, lost: true, time: true });
      expect({ at, postcopy: near(r.postcopyS, ref.postcopyS, 1e-6), slowdown: near(r.slowdownS, ref.slowdownS, 0.01) }).toEqual({ at, postcopy: true, slowdown: true });
      if (advance === 'event') expect(r.steps).toBeLessThan(1000);
    }
  }, 600_000);
});
