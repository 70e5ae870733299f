// migration.schedule: starts migrations at given simulated times — some VMs of a group
// to a target rack, or a whole rack evacuated to the next one. The destination is the
// host of the target rack with the most free memory that can take the VM, and its
// capacity is reserved the moment the migration is requested (Datacenter.reserve), so
// that the next VM of the same evacuation sees it as taken; a migration that fails
// gives the reservation back. A VM for which no host has room now waits and is tried
// again on every later step, until room appears (a failed migration frees some).
//
// The system is event-driven: its next event is the earliest trigger that has not
// fired. Room for a waiting VM only appears at another system's event (a migration
// ends or fails, a VM leaves), and every such event ends a step, so the retry at the
// next step's start comes at the same tick as when stepping tick by tick.

import { definePlugin, DatacenterToken, Host, MigrationService, Vm, VmState, type SimContext } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  /** Triggers that fired, by key, with the VMs still waiting for a destination. */
  const waiting = new Map<string, number[]>();
  const pickHost = (sim: SimContext, vm: number, rack: number): number => {
    const H = sim.world.store(Host);
    const V = sim.world.store(Vm);
    let best = 0;
    // allocatedVcpus and allocatedMemory include the capacity reserved for migrations on their way.
    for (const h of sim.services.get(DatacenterToken).hosts) {
      if (H.rack[h] !== rack || h === V.host[vm]) continue;
      const free = H.memory[h] - H.allocatedMemory[h];
      if (free >= V.memory[vm] && H.allocatedVcpus[h] + V.vcpus[vm] <= H.cores[h] && (!best || free > H.memory[best] - H.allocatedMemory[best])) best = h;
    }
    return best;
  };
  /** Requests a migration for each waiting VM that a host of the rack can take now. */
  const migrate = (sim: SimContext, key: string, rack: number) => {
    const vms = waiting.get(key)!;
    if (!vms.length) return;
    const engine = sim.services.get(MigrationService);
    const dc = sim.services.get(DatacenterToken);
    const still: number[] = [];
    for (const vm of vms) {
      if (sim.world.store(Vm).state[vm] !== VmState.Running) continue;
      const dst = pickHost(sim, vm, rack);
      if (!dst) {
        still.push(vm);
        continue;
      }
      // Reserve first: a post-copy migration places the VM on its destination at once.
      dc.reserve(vm, dst);
      engine.request(vm, dst);
    }
    waiting.set(key, still);
  };
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    // A migration that failed leaves the VM on its source: give its destination's capacity back.
    sim.hooks.migration.end.tap(api.id, (e) => {
      if (!e.success) sim.services.get(DatacenterToken).cancelReservation(e.vm);
    });
  });
  api.addSystem({
    name: `${api.id}/trigger`,
    phase: 'control',
    after: ['datacenter.racks/admit-vms'],
    run(sim) {
      const V = sim.world.store(Vm);
      const H = sim.world.store(Host);
      api.options.migrations.forEach((m, i) => {
        if (sim.timeNs < m.at) return;
        const key = `m${i}`;
        if (!waiting.has(key)) {
          const group = sim.scenario.vms.findIndex((g) => g.name === m.group);
          if (group < 0) throw new Error(`migration.schedule names VM group '${m.group}', which the scenario does not declare`);
          const vms = sim.world.query([Vm]).filter((v) => V.group[v] === group);
          waiting.set(key, m.count ? vms.slice(0, m.count) : vms);
        }
        migrate(sim, key, m.toRack);
      });
      const rack = api.options.evacuateRack;
      if (rack >= 0 && sim.timeNs >= api.options.evacuateAt) {
        if (!waiting.has('evacuate')) waiting.set('evacuate', sim.world.query([Vm]).filter((v) => V.host[v] && H.rack[V.host[v]] === rack));
        const racks = sim.services.get(DatacenterToken).hosts.reduce((n, h) => Math.max(n, H.rack[h] + 1), 0);
        migrate(sim, 'evacuate', (rack + 1) % racks);
      }
    },
    nextEventNs(sim) {
      let next = Infinity;
      api.options.migrations.forEach((m, i) => {
        if (!waiting.has(`m${i}`)) next = Math.min(next, m.at);
      });
      if (api.options.evacuateRack >= 0 && !waiting.has('evacuate')) next = Math.min(next, api.options.evacuateAt);
      return Math.max(next, sim.timeNs);
    },
  });
  api.persist('started', {
    save: () => [...waiting].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    load: (d) => {
      waiting.clear();
      // Older snapshots saved only the keys of the triggers that had fired.
      for (const e of d as Array<string | [string, number[]]>) {
        if (typeof e === 'string') waiting.set(e, []);
        else waiting.set(e[0], [...e[1]]);
      }
    },
  });
});
