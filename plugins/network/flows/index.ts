// network.flows: the datacenter network. It builds the shared Network model
// (core/models/network/network.ts) and provides it under NetworkToken, builds the
// topology from the datacenter's hosts in lifecycle.populate (after the datacenter
// spawned them: this plugin requires it, so it registers later), advances the flows
// in the network phase, and saves the flows in snapshots.

import { DatacenterToken, definePlugin, Network, NetworkToken } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const net = new Network(api.sim);
  api.provide(NetworkToken, { useValue: net });
  api.hooks.lifecycle.populate.tap(api.id, (sim) => net.build(sim.services.get(DatacenterToken).hosts));
  api.addSystem({ name: `${api.id}/advance`, phase: 'network', run: () => net.step(), nextEventNs: () => net.nextEventNs() });
  api.persist('flows', { save: () => net.save(), load: (s) => net.load(s as ReturnType<Network['save']>) });
});
