// The datacenter model: builds host and VM entities from a scenario, admits VMs as
// they arrive through the selected placement strategy, and keeps the hosts'
// allocation fields consistent when a VM is placed, moved or released. The
// `datacenter` plugin (plugins/datacenter) builds it, provides it as a service (token
// `DatacenterToken`) so that placement and migration plugins share one notion of
// where each VM runs, and runs its admission and gauges as systems.

import type { SimContext } from '../../engine/context';
import type { Gauge } from '../../metrics/metrics';
import { token } from '../../engine/tokens';
import { Host, Vm, VmState } from './components';

/** A placement strategy (capability `placement`). */
export interface Placement {
  /** Returns the host entity for `vm`, or 0 when no host can take it now. */
  choose(vm: number): number;
  /** Called after a host's allocation changed (a VM placed, moved or released). */
  capacityChanged(host: number): void;
}
export const Placement = token<Placement>('Placement');

export interface DatacenterState {
  pending: number[];
  reported: number[];
  /** [vm, host] pairs of capacity held for VMs on their way (absent in older snapshots). */
  reservations?: Array<[number, number]>;
}

export class Datacenter {
  /** Host entities in rack order. */
  readonly hosts: number[] = [];
  /** VM entities in declaration order. */
  readonly vms: number[] = [];
  /** VMs waiting for a host, in arrival order (ties by entity id). */
  private pending: number[] = [];
  /** Pending VMs whose placement failure was already announced. */
  private readonly reported = new Set<number>();
  /** Hosts whose capacity is held for a VM on its way there (a migration), by VM. */
  private readonly reservations = new Map<number, number>();
  private gauges!: {
    hosts: Gauge;
    vms: Gauge;
    running: Gauge;
    pending: Gauge;
    cpu: Gauge;
    mem: Gauge;
  };

  constructor(private readonly sim: SimContext) {}

  /** Spawns hosts and VMs from the scenario (in lifecycle.populate, before boot). */
  populate(): void {
    const { world, scenario } = this.sim;
    const totalHosts = scenario.hosts.reduce((n, g) => n + g.racks * g.perRack, 0);
    const totalVms = scenario.vms.reduce((n, g) => n + g.count, 0);
    world.reserve(totalHosts + totalVms);
    const H = world.store(Host);
    let rack = 0;
    scenario.hosts.forEach((g, gi) => {
      for (let r = 0; r < g.racks; r++, rack++) {
        for (let slot = 0; slot < g.perRack; slot++) {
          const h = world.spawn(Host);
          H.rack[h] = rack;
          H.slot[h] = slot;
          H.profile[h] = gi;
          H.cores[h] = g.profile.cpu.cores;
          H.frequency[h] = g.profile.cpu.frequency;
          H.memory[h] = g.profile.memory.size;
          this.hosts.push(h);
        }
      }
    });
    const V = world.store(Vm);
    scenario.vms.forEach((g, gi) => {
      for (let i = 0; i < g.count; i++) {
        const v = world.spawn(Vm);
        V.group[v] = gi;
        V.vcpus[v] = g.vcpus;
        V.memory[v] = g.memory;
        V.arrival[v] = g.arrival;
        V.cpuDemand[v] = 0;
        V.speed[v] = 1;
        V.state[v] = VmState.Pending;
        this.vms.push(v);
      }
    });
    this.pending = [...this.vms].sort((a, b) => V.arrival[a] - V.arrival[b] || a - b);
    const m = this.sim.metrics;
    this.gauges = {
      hosts: m.gauge('dc.hosts', 'count', 'Hosts in the datacenter.'),
      vms: m.gauge('dc.vms', 'count', 'VMs declared by the scenario.'),
      running: m.gauge('dc.vms.running', 'count', 'VMs placed and running.'),
      pending: m.gauge('dc.vms.pending', 'count', 'VMs that arrived and wait for a host.'),
      cpu: m.gauge('dc.hosts.cpu-load.mean', 'ratio', 'Mean over hosts of CPU demand over cores.'),
      mem: m.gauge('dc.hosts.memory-allocated', 'bytes', 'Memory allocated to VMs over all hosts.'),
    };
    this.gauges.hosts.set(this.hosts.length);
    this.gauges.vms.set(this.vms.length);
  }

  /** Places every pending VM whose arrival time has come (a control-phase system; writes Vm and Host). */
  admit(): void {
    if (!this.pending.length) return;
    const { world, timeNs, hooks } = this.sim;
    const V = world.store(Vm);
    const now = timeNs;
    let placement: Placement | undefined;
    const still: number[] = [];
    let i = 0;
    for (; i < this.pending.length; i++) {
      const vm = this.pending[i];
      if (V.arrival[vm] > now) break;
      placement ??= this.sim.services.get(Placement);
      const host = placement.choose(vm);
      if (host > 0) {
        this.place(vm, host);
        this.reported.delete(vm);
      } else {
        still.push(vm);
        if (!this.reported.has(vm)) {
          this.reported.add(vm);
          hooks.datacenter.placementFailed.call({ vm, reason: 'no host has enough free vCPUs and memory', timeNs: now });
        }
      }
    }
    this.pending = still.length ? still.concat(this.pending.slice(i)) : this.pending.slice(i);
  }

  /**
   * Holds a host's capacity (the VM's vCPUs and memory) for a VM that is on its way
   * there, so that every placement decision taken meanwhile sees it as taken. The hold
   * becomes the VM's allocation when the VM is placed there, and is given back by
   * cancelReservation (a migration that failed).
   */
  reserve(vm: number, host: number): void {
    const have = this.reservations.get(vm);
    if (have !== undefined) throw new Error(`VM ${vm} already holds capacity on host ${have}; cancel that reservation first`);
    const H = this.sim.world.store(Host);
    const V = this.sim.world.store(Vm);
    H.allocatedVcpus[host] += V.vcpus[vm];
    H.allocatedMemory[host] += V.memory[vm];
    this.reservations.set(vm, host);
    this.sim.services.tryGet(Placement)?.capacityChanged(host);
  }

  /** Gives back the capacity held for a VM; does nothing if it holds none. */
  cancelReservation(vm: number): void {
    const host = this.reservations.get(vm);
    if (host === undefined) return;
    const H = this.sim.world.store(Host);
    const V = this.sim.world.store(Vm);
    H.allocatedVcpus[host] -= V.vcpus[vm];
    H.allocatedMemory[host] -= V.memory[vm];
    this.reservations.delete(vm);
    this.sim.services.tryGet(Placement)?.capacityChanged(host);
  }

  /** The host holding capacity for a VM, or 0. */
  reservedHost(vm: number): number {
    return this.reservations.get(vm) ?? 0;
  }

  /**
   * When admission must run next, ns (Infinity: nobody waits): the next arrival, or now
   * while an arrived VM waits for a host (capacity may free at any tick).
   */
  nextEventNs(): number {
    if (!this.pending.length) return Infinity;
    const first = this.sim.world.store(Vm).arrival[this.pending[0]];
    return Math.max(first, this.sim.timeNs);
  }

  /** Puts a VM on a host and charges the host's allocation (or turns the VM's reservation there into it). */
  place(vm: number, host: number): void {
    const { world, hooks, timeNs } = this.sim;
    const V = world.store(Vm);
    const H = world.store(Host);
    if (this.reservations.get(vm) === host) this.cancelReservation(vm);
    if (V.host[vm]) this.release(vm);
    V.host[vm] = host;
    V.state[vm] = VmState.Running;
    V.placedAt[vm] = timeNs;
    H.allocatedVcpus[host] += V.vcpus[vm];
    H.allocatedMemory[host] += V.memory[vm];
    H.vmCount[host]++;
    this.sim.services.tryGet(Placement)?.capacityChanged(host);
    hooks.datacenter.vmPlaced.call({ vm, host, timeNs });
  }

  /** Takes a VM off its host (stopped, or before it lands elsewhere). */
  release(vm: number): void {
    const { world } = this.sim;
    const V = world.store(Vm);
    const H = world.store(Host);
    const host = V.host[vm];
    if (!host) return;
    H.allocatedVcpus[host] -= V.vcpus[vm];
    H.allocatedMemory[host] -= V.memory[vm];
    H.vmCount[host]--;
    V.host[vm] = 0;
    V.state[vm] = VmState.Stopped;
    this.sim.services.tryGet(Placement)?.capacityChanged(host);
  }

  /** Updates the hosts' CPU load and the datacenter gauges on sampling ticks (a metrics-phase system). */
  sample(): void {
    if (!this.sim.sampling) return;
    const { world } = this.sim;
    const V = world.store(Vm);
    const H = world.store(Host);
    for (const h of this.hosts) H.cpuLoad[h] = H.serviceCores[h] / H.cores[h];
    let running = 0;
    for (const v of this.vms) {
      const h = V.host[v];
      if (!h) continue;
      running++;
      H.cpuLoad[h] += (V.vcpus[v] * V.cpuDemand[v]) / H.cores[h];
    }
    let load = 0;
    let mem = 0;
    for (const h of this.hosts) {
      load += H.cpuLoad[h];
      mem += H.allocatedMemory[h];
    }
    this.gauges.running.set(running);
    let arrived = 0;
    for (const v of this.pending) if (V.arrival[v] <= this.sim.timeNs) arrived++;
    this.gauges.pending.set(arrived);
    this.gauges.cpu.set(this.hosts.length ? load / this.hosts.length : 0);
    this.gauges.mem.set(mem);
  }

  save(): DatacenterState {
    const out: DatacenterState = { pending: [...this.pending], reported: [...this.reported].sort((a, b) => a - b) };
    if (this.reservations.size) out.reservations = [...this.reservations].sort((a, b) => a[0] - b[0]);
    return out;
  }

  load(s: DatacenterState): void {
    this.pending = [...s.pending];
    this.reported.clear();
    for (const v of s.reported) this.reported.add(v);
    // The hosts' allocation fields (saved with the world) already include the holds.
    this.reservations.clear();
    for (const [vm, host] of s.reservations ?? []) this.reservations.set(vm, host);
  }
}

export const DatacenterToken = token<Datacenter>('Datacenter');
