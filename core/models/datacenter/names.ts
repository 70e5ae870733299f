// The names people read for hosts and VMs, the same everywhere: the summary, the
// events log, the report, `virtlab compare` and the visualizer. A host is
// `rack<r>/host<s>` (its rack over the whole datacenter and its slot in that rack, both
// from 0); a VM is `<group>-<i>`, its group's name in the scenario and its place among
// the VMs of groups of that name, from 0 (`app-0`). Numeric entity ids stay in the
// machine-read files beside the names, for programs that join on them.

import type { SimWorld } from '../../ecs/world';
import type { SimContext } from '../../engine/context';
import { Host, Vm } from './components';
import { DatacenterToken } from './datacenter';

/** `rack0/host1`: the name of the host in slot `slot` of rack `rack`. */
export function hostName(rack: number, slot: number): string {
  return `rack${rack}/host${slot}`;
}

/** `app-0`: the name of the `index`-th VM of the groups named `group`. */
export function vmName(group: string, index: number): string {
  return `${group}-${index}`;
}

/** Host and VM names of one simulation, by entity id. */
export interface EntityNames {
  host(entity: number): string;
  vm(entity: number): string;
}

/**
 * The names of a datacenter's entities. `vms` are the VM entities in declaration
 * order (the datacenter model's `vms`), `groups` the names of the scenario's VM
 * groups; hosts are named from their Host component, so any host entity can be asked
 * for. An entity that is not a host or VM of the list is named by its id (`#12`).
 */
export function entityNames(world: SimWorld, groups: readonly string[], vms: readonly number[]): EntityNames {
  const V = world.store(Vm);
  const byVm = new Map<number, string>();
  const seen = new Map<string, number>();
  for (const v of vms) {
    const group = groups[V.group[v]] ?? 'vm';
    const i = seen.get(group) ?? 0;
    seen.set(group, i + 1);
    byVm.set(v, vmName(group, i));
  }
  return {
    host: (h) => (h > 0 && world.has(h, Host) ? hostName(world.store(Host).rack[h], world.store(Host).slot[h]) : `#${h}`),
    vm: (v) => byVm.get(v) ?? `#${v}`,
  };
}

/** The names of a simulation's hosts and VMs (its datacenter's, if it has one). */
export function simulationNames(sim: SimContext): EntityNames {
  const dc = sim.services.tryGet(DatacenterToken);
  return entityNames(sim.world, sim.scenario.vms.map((g) => g.name), dc?.vms ?? []);
}
