// network.background: other tenants' traffic. Long-lived flows between random host
// pairs start at boot; finite flows arrive as a Poisson process with exponentially
// distributed sizes. Pairs come from the plugin's seeded stream, so the traffic is the
// same for the same seed and differs across seeds. Migration flows share links with it
// max-min fairly.
//
// Arrivals are drawn one by one (exponential gaps) and each flow starts at its own
// instant inside the step (Network.startAt), so the traffic is the same at any tick,
// and the system is event-driven: its next event is the next arrival.

import { DatacenterToken, definePlugin, Host, NetworkToken, type SimContext } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const rng = api.rng();
  const started = api.counter('net.background.flows', 'flows', 'Background flows started.');
  const pickPair = (sim: SimContext): [number, number] | undefined => {
    const hosts = sim.services.get(DatacenterToken).hosts;
    if (hosts.length < 2) return undefined;
    const H = sim.world.store(Host);
    for (let attempt = 0; attempt < 32; attempt++) {
      const a = hosts[rng.int(hosts.length)];
      const b = hosts[rng.int(hosts.length)];
      if (a !== b && (!api.options.crossRackOnly || H.rack[a] !== H.rack[b])) return [a, b];
    }
    return undefined;
  };
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const net = sim.services.get(NetworkToken);
    for (let i = 0; i < api.options.steadyFlows; i++) {
      const pair = pickPair(sim);
      if (!pair) break;
      net.start(pair[0], pair[1], Infinity, api.options.steadyRate, 'background');
      started.add();
    }
  });
  /** Instant of the next finite flow's arrival, ns (Infinity: none; -1: not drawn yet). */
  let nextArrivalNs = -1;
  const meanGapNs = () => 1e9 / api.options.arrivalsPerSecond;
  const firstArrival = () => {
    if (nextArrivalNs < 0) nextArrivalNs = api.options.arrivalsPerSecond > 0 ? rng.exponential(meanGapNs()) : Infinity;
  };
  api.addSystem({
    name: `${api.id}/arrivals`,
    phase: 'network',
    before: ['network.flows/advance'],
    run(sim) {
      firstArrival();
      const end = sim.timeNs + sim.stepNs;
      if (nextArrivalNs >= end) return;
      const net = sim.services.get(NetworkToken);
      while (nextArrivalNs < end) {
        const pair = pickPair(sim);
        if (!pair) {
          nextArrivalNs = Infinity;
          return;
        }
        net.startAt(Math.max(sim.timeNs, nextArrivalNs), pair[0], pair[1], Math.max(1, rng.exponential(api.options.meanFlowSize)), Infinity, 'background');
        started.add();
        nextArrivalNs += rng.exponential(meanGapNs());
      }
    },
    nextEventNs: (sim) => (nextArrivalNs < 0 ? sim.timeNs : nextArrivalNs),
  });
  // Infinity does not survive JSON: null stands for it.
  api.persist('arrivals', { save: () => (Number.isFinite(nextArrivalNs) ? nextArrivalNs : null), load: (d) => (nextArrivalNs = d === null ? Infinity : (d as number)) });
});
