// The run profile (`virtlab run --profile`): every system is timed once per step and
// every synchronous hook handler once per call, under the name of its plugin, and
// timing changes no result. The clock here is a counter, so the test does not depend
// on the machine's speed: each clock read advances it by one.
//
// Mutation that must break it: the profiled step loop leaving out a system, or running
// one twice (calls would differ from the ticks, and metrics.json from the plain run's).
import { Simulation } from '../../../core/simulation';
import { runText, scenarioFromText } from '../../../tools/node/testing';

const text = `name: profile
seed: 5
tick: 100ms
duration: 3s
preset: default
hosts:
  - { profile: x86-64-server, racks: 1, perRack: 2 }
vms:
  - name: web
    count: 3
    memory: 1GiB
    workload: { kind: synthetic, distribution: zipf, readsPerSecond: 5000, writesPerSecond: 500 }
record:
  every: 1s
  series: [workload.dirty-pages]
`;

describe('run profile', () => {
  it('times each system once per tick and each hook handler per call, and leaves the results unchanged', async () => {
    const plain = await runText(text);
    expect(plain.sim.profile()).toBeUndefined();

    const { scenario, catalog } = scenarioFromText(text);
    let now = 0;
    const sim = await Simulation.create({ scenario, catalog, profileClock: () => now++ });
    sim.run();
    const result = await sim.finish();
    expect(result.metricsJson).toBe(plain.result.metricsJson);

    const entries = sim.profile()!;
    const systems = entries.filter((e) => e.kind === 'system');
    expect(systems.map((e) => e.name).sort()).toEqual(sim.systemOrder.map((s) => s.name).sort());
    for (const s of systems) {
      expect(s.calls).toBe(sim.totalTicks);
      expect(s.owner).toBe(sim.systemOrder.find((o) => o.name === s.name)!.owner);
      expect(s.nested).toBe(false);
    }
    // Three VMs placed during admission, seen by the event trace: a handler inside a system.
    const placed = entries.find((e) => e.name === 'datacenter.vmPlaced' && e.owner === 'trace.events')!;
    expect(placed.calls).toBe(3);
    expect(placed.nested).toBe(true);
    // Boot handlers are timed too, under the plugin that tapped them.
    expect(entries.some((e) => e.name === 'lifecycle.populate' && e.owner === 'datacenter.racks' && e.calls === 1)).toBe(true);
    // Most time first.
    for (let i = 1; i < entries.length; i++) expect(entries[i - 1].time).toBeGreaterThanOrEqual(entries[i].time);
  });
});
