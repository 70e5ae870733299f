// migration.schedule and the maxima it is judged by: the destination's capacity is
// reserved when a migration is requested and given back when it fails, a rack
// evacuation never puts more vCPUs on a host than it has threads, and a time series
// named `….max` reports the maximum, not the level at the last sample.
//
// Mutations that must break these tests (each checked once): not reserving in
// migration.schedule (every evacuated VM lands on one host: the capacity test fails);
// not cancelling the reservation on failure (the failure test fails); recording the
// utilization as a plain gauge set on sampling ticks (the maximum test fails).
import { DatacenterToken, Host, MigrationService, Vm, type Simulation } from 'virtlab';
import { bootText, scenarioFile } from '../../tools/node/testing';

const evacuation = scenarioFile('scenarios/evacuate-rack.scenario.yaml').noExpectations().duration('40s');

/** The most vCPUs allocated (placed or reserved) over threads on any host, checked every tick. */
function runWatchingCapacity(sim: Simulation): number {
  const H = sim.world.store(Host);
  const hosts = sim.services.get(DatacenterToken).hosts;
  let worst = 0;
  // The scenario's tick is 100 ms.
  for (let t = 0; t <= sim.scenario.duration; t += 100e6) {
    sim.runUntil(t);
    for (const h of hosts) worst = Math.max(worst, H.allocatedVcpus[h] / H.cores[h]);
  }
  return worst;
}

describe('migration.schedule', () => {
  it('reserves the destination when it requests a migration', async () => {
    const sim = await bootText(evacuation);
    sim.runUntil(10.5e9);
    const H = sim.world.store(Host);
    const V = sim.world.store(Vm);
    const dc = sim.services.get(DatacenterToken);
    const all = sim.services.get(MigrationService).all();
    expect(all.length).toBeGreaterThan(0);
    const dsts = new Set(all.map((m) => m.dst));
    let reservedVcpus = 0;
    for (const m of all) {
      expect(dc.reservedHost(m.vm)).toBe(m.dst);
      reservedVcpus += V.vcpus[m.vm];
    }
    let allocated = 0;
    for (const h of dsts) allocated += H.allocatedVcpus[h];
    // Nothing has arrived yet: the destinations' allocation is exactly the reservations.
    expect(allocated).toBe(reservedVcpus);
  });

  it('evacuates a rack without overcommitting any host, spreading the VMs over the next rack', async () => {
    const sim = await bootText(evacuation);
    const worst = runWatchingCapacity(sim);
    expect(worst).toBeLessThanOrEqual(1);
    const dsts = new Set(sim.services.get(MigrationService).all().map((m) => m.dst));
    expect(dsts.size).toBe(4);
    expect(sim.services.get(MigrationService).all()).toHaveLength(40);
  });

  it('gives the reservation back when a migration fails', async () => {
    // A dirty rate no link can keep up with and a single round: every migration aborts.
    const hopeless = evacuation.workload('app', { writesPerSecond: 200000, workingSet: '8GiB' }).pluginOptions('migration.precopy', { maxRounds: 1, bandwidth: '100Mbit/s' }).withoutPlugin('migration.auto-converge').duration('20min');
    const sim = await bootText(hopeless);
    sim.run();
    const all = sim.services.get(MigrationService).all();
    expect(all.length).toBeGreaterThan(0);
    expect(all.map((m) => m.success).filter((x) => x !== false)).toEqual([]);
    const H = sim.world.store(Host);
    const V = sim.world.store(Vm);
    const dc = sim.services.get(DatacenterToken);
    for (const m of all) {
      expect(dc.reservedHost(m.vm)).toBe(0);
      expect(V.host[m.vm]).toBe(m.src);
    }
    for (const h of new Set(all.map((m) => m.dst))) expect(H.allocatedVcpus[h]).toBe(0);
  });
});

describe('time series of maxima', () => {
  it('net.links.utilization.max is the largest utilization seen, not the last one', async () => {
    // The migrations end long before the run does: the last level is 0.
    const sim = await bootText(evacuation.duration('10min').record({ every: '1min', series: ['net.links.utilization.max'] }));
    sim.run();
    const max = sim.metrics.value('net.links.utilization.max')!;
    expect(sim.services.get(MigrationService).all().every((m) => m.success !== null)).toBe(true);
    expect(max).toBeGreaterThan(0.5);
    expect(max).toBeLessThanOrEqual(1 + 1e-9);
    const { columns } = sim.metrics.series();
    // Each row is the maximum over its interval: the first rows (migrating) are high, the last (idle) 0.
    expect(Math.max(...columns[0])).toBe(max);
    expect(columns[0].at(-1)).toBe(0);
  });
});
