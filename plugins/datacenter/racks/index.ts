// datacenter.racks: the world's hosts and VMs. It builds the shared Datacenter model
// (core/models/datacenter/datacenter.ts), provides it under DatacenterToken, spawns
// the scenario's hosts and VMs in lifecycle.populate (before any plugin's boot), runs
// VM admission in the control phase and the dc.* gauges in the metrics phase, and
// saves its queue of pending VMs in snapshots.

import { Datacenter, DatacenterToken, definePlugin, Host, Vm, type DatacenterState } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const dc = new Datacenter(api.sim);
  api.provide(DatacenterToken, { useValue: dc });
  api.hooks.lifecycle.populate.tap(api.id, () => dc.populate());
  api.addSystem({ name: `${api.id}/admit-vms`, phase: 'control', run: () => dc.admit(), writes: [Vm, Host], nextEventNs: () => dc.nextEventNs() });
  // Gauges only change on sampling steps, which the engine never skips.
  api.addSystem({ name: `${api.id}/gauges`, phase: 'metrics', run: () => dc.sample(), reads: [Vm, Host], nextEventNs: () => Infinity });
  api.persist('pending', { save: () => dc.save(), load: (s) => dc.load(s as DatacenterState) });
});
