// datacenter.departures: VMs that leave. Each VM draws a lifetime (exponential, mean
// `meanLifetime`) when it is first placed, and is released from its host when the
// lifetime is over, giving its vCPUs and memory back (the placement hears of it through
// capacityChanged). A migration does not restart the clock; a VM whose lifetime ends
// while it migrates leaves once it has landed. Together with the
// scenario's arrival times this is a trace of arrivals and departures.

import { DatacenterToken, definePlugin, Vm, VmState } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const rng = api.rng();
  /** vm → time of departure (ns). */
  let leaves = new Map<number, number>();
  const departed = api.counter('dc.vms.departed', 'VMs', 'VMs that left at the end of their lifetime.');

  api.hooks.datacenter.vmPlaced.tap(api.id, (e) => {
    if (!leaves.has(e.vm)) leaves.set(e.vm, e.timeNs + Math.round(rng.exponential(api.options.meanLifetime)));
  });

  api.addSystem({
    name: `${api.id}/leave`,
    phase: 'control',
    writes: [Vm],
    // Departures first, so that VMs arriving in the same tick see the freed room.
    before: ['datacenter.racks/admit-vms'],
    run(sim) {
      const V = sim.world.store(Vm);
      const dc = sim.services.get(DatacenterToken);
      for (const [vm, at] of leaves) {
        if (at > sim.timeNs || at < 0 || V.state[vm] === VmState.Migrating) continue;
        leaves.set(vm, -1);
        if (!V.host[vm]) continue;
        dc.release(vm);
        departed.add();
      }
    },
  });

  api.persist('lifetimes', { save: () => [...leaves], load: (d) => (leaves = new Map(d as Array<[number, number]>)) });
});
