// migration.schedule: starts migrations at given simulated times — some VMs of a group
// to a target rack, or a whole rack evacuated to the next one. The destination is the
// host of the target rack with the most free memory that can take the VM.

import { definePlugin, DatacenterToken, Host, MigrationService, Vm, VmState, type SimContext } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const started = new Set<string>();
  const pickHost = (sim: SimContext, vm: number, rack: number): number => {
    const H = sim.world.store(Host);
    const V = sim.world.store(Vm);
    let best = 0;
    for (const h of sim.services.get(DatacenterToken).hosts) {
      if (H.rack[h] !== rack || h === V.host[vm]) continue;
      const free = H.memory[h] - H.allocatedMemory[h];
      if (free >= V.memory[vm] && H.allocatedVcpus[h] + V.vcpus[vm] <= H.cores[h] && (!best || free > H.memory[best] - H.allocatedMemory[best])) best = h;
    }
    return best;
  };
  const migrate = (sim: SimContext, vms: number[], rack: number, key: string) => {
    if (started.has(key)) return;
    started.add(key);
    const engine = sim.services.get(MigrationService);
    for (const vm of vms) {
      if (sim.world.store(Vm).state[vm] !== VmState.Running) continue;
      const dst = pickHost(sim, vm, rack);
      if (dst) engine.request(vm, dst);
    }
  };
  api.addSystem({
    name: `${api.id}/trigger`,
    phase: 'control',
    after: ['datacenter.racks/admit-vms'],
    run(sim) {
      const V = sim.world.store(Vm);
      const H = sim.world.store(Host);
      api.options.migrations.forEach((m, i) => {
        if (sim.timeNs < m.at) return;
        const group = sim.scenario.vms.findIndex((g) => g.name === m.group);
        if (group < 0) throw new Error(`migration.schedule names VM group '${m.group}', which the scenario does not declare`);
        const vms = sim.world.query([Vm]).filter((v) => V.group[v] === group);
        migrate(sim, m.count ? vms.slice(0, m.count) : vms, m.toRack, `m${i}`);
      });
      const rack = api.options.evacuateRack;
      if (rack >= 0 && sim.timeNs >= api.options.evacuateAt) {
        const vms = sim.world.query([Vm]).filter((v) => V.host[v] && H.rack[V.host[v]] === rack);
        const racks = sim.services.get(DatacenterToken).hosts.reduce((n, h) => Math.max(n, H.rack[h] + 1), 0);
        migrate(sim, vms, (rack + 1) % racks, 'evacuate');
      }
    },
  });
  api.persist('started', { save: () => [...started].sort(), load: (d) => {
    started.clear();
    for (const k of d as string[]) started.add(k);
  } });
});
