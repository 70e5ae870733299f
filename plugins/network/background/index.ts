// network.background: other tenants' traffic. Long-lived flows between random host
// pairs start at boot; finite flows arrive as a Poisson process with exponentially
// distributed sizes. Pairs come from the plugin's seeded stream, so the traffic is the
// same for the same seed and differs across seeds. Migration flows share links with it
// max-min fairly.

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
  api.addSystem({
    name: `${api.id}/arrivals`,
    phase: 'network',
    before: ['network.flows/advance'],
    run(sim) {
      if (!api.options.arrivalsPerSecond) return;
      const n = rng.poisson((api.options.arrivalsPerSecond * sim.dtNs) / 1e9);
      const net = sim.services.get(NetworkToken);
      for (let i = 0; i < n; i++) {
        const pair = pickPair(sim);
        if (!pair) return;
        net.start(pair[0], pair[1], Math.max(1, rng.exponential(api.options.meanFlowSize)), Infinity, 'background');
        started.add();
      }
    },
  });
});
