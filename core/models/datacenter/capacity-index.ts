// A segment tree over hosts' free capacity (memory and vCPU slots), so that
// placement policies find a host in O(log n) expected time instead of scanning
// 20,000 hosts for each of 40,000 VMs. Each node keeps the maximum free memory and
// the maximum free vCPU slots of its subtree; both are upper bounds, so a search
// prunes subtrees that cannot fit and backtracks when the two maxima came from
// different hosts.

import type { PluginApi } from '../../plugin/define';
import { Host, Vm } from './components';
import { DatacenterToken, Placement } from './datacenter';

export class CapacityIndex {
  private readonly size: number;
  private readonly maxMem: Float64Array;
  private readonly maxCpu: Float64Array;

  /** `hosts[i]` is the entity id of leaf i; free capacities are set with `update`. */
  constructor(readonly hosts: readonly number[]) {
    let size = 1;
    while (size < Math.max(1, hosts.length)) size *= 2;
    this.size = size;
    this.maxMem = new Float64Array(2 * size).fill(-Infinity);
    this.maxCpu = new Float64Array(2 * size).fill(-Infinity);
  }

  /** Sets the free capacity of leaf i (the i-th host). */
  update(i: number, freeMem: number, freeCpu: number): void {
    let n = i + this.size;
    this.maxMem[n] = freeMem;
    this.maxCpu[n] = freeCpu;
    for (n >>= 1; n >= 1; n >>= 1) {
      this.maxMem[n] = Math.max(this.maxMem[2 * n], this.maxMem[2 * n + 1]);
      this.maxCpu[n] = Math.max(this.maxCpu[2 * n], this.maxCpu[2 * n + 1]);
    }
  }

  /** Lowest leaf index that fits (mem, cpu), or -1. */
  firstFit(mem: number, cpu: number): number {
    return this.firstFrom(1, mem, cpu);
  }

  private firstFrom(n: number, mem: number, cpu: number): number {
    if (this.maxMem[n] < mem || this.maxCpu[n] < cpu) return -1;
    if (n >= this.size) return n - this.size;
    const left = this.firstFrom(2 * n, mem, cpu);
    return left >= 0 ? left : this.firstFrom(2 * n + 1, mem, cpu);
  }

  /** Leaf that fits with the most free memory (lowest index on ties), or -1. */
  worstFit(mem: number, cpu: number): number {
    const best = { leaf: -1, mem: -Infinity };
    this.worstFrom(1, mem, cpu, best);
    return best.leaf;
  }

  private worstFrom(n: number, mem: number, cpu: number, best: { leaf: number; mem: number }): void {
    if (this.maxMem[n] < mem || this.maxCpu[n] < cpu || this.maxMem[n] <= best.mem) return;
    if (n >= this.size) {
      best.leaf = n - this.size;
      best.mem = this.maxMem[n];
      return;
    }
    const l = 2 * n;
    const r = l + 1;
    // Visit the richer child first so the bound prunes the other one early.
    if (this.maxMem[r] > this.maxMem[l]) {
      this.worstFrom(r, mem, cpu, best);
      this.worstFrom(l, mem, cpu, best);
    } else {
      this.worstFrom(l, mem, cpu, best);
      this.worstFrom(r, mem, cpu, best);
    }
  }
}

/** Free capacity of a simulation's hosts, kept in a CapacityIndex for placement policies. */
export class HostCapacity {
  readonly index: CapacityIndex;
  private readonly leafOf = new Map<number, number>();

  /**
   * `cpuOvercommit` and `memoryOvercommit` scale what a host may promise: 2 lets
   * a host of 32 cores take VMs with 64 vCPUs in total.
   */
  constructor(
    private readonly hosts: readonly number[],
    private readonly store: { cores: Uint32Array; memory: Float64Array; allocatedVcpus: Uint32Array; allocatedMemory: Float64Array },
    private readonly cpuOvercommit: number,
    private readonly memoryOvercommit: number,
  ) {
    this.index = new CapacityIndex(hosts);
    hosts.forEach((h, i) => this.leafOf.set(h, i));
    this.refreshAll();
  }

  refresh(host: number): void {
    const i = this.leafOf.get(host);
    if (i === undefined) return;
    const s = this.store;
    this.index.update(i, s.memory[host] * this.memoryOvercommit - s.allocatedMemory[host], s.cores[host] * this.cpuOvercommit - s.allocatedVcpus[host]);
  }

  refreshAll(): void {
    for (const h of this.hosts) this.refresh(h);
  }

  /** Host entity of leaf i, or 0 for -1. */
  host(leaf: number): number {
    return leaf < 0 ? 0 : this.hosts[leaf];
  }
}

/**
 * Registers a placement policy that searches a HostCapacity index: the shared body of
 * placement.first-fit and placement.worst-fit. `pick` returns a leaf index or -1.
 */
export function registerCapacityPlacement(
  api: PluginApi<{ cpuOvercommit: number; memoryOvercommit: number }>,
  pick: (index: CapacityIndex, memory: number, vcpus: number) => number,
): void {
  let capacity: HostCapacity;
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const dc = sim.services.get(DatacenterToken);
    capacity = new HostCapacity(dc.hosts, sim.world.store(Host), api.options.cpuOvercommit, api.options.memoryOvercommit);
  });
  api.provide(Placement, {
    useValue: {
      choose(vm) {
        const V = api.sim.world.store(Vm);
        return capacity.host(pick(capacity.index, V.memory[vm], V.vcpus[vm]));
      },
      capacityChanged: (host) => capacity.refresh(host),
    },
  });
  // The index is derived from the hosts' allocation fields: rebuild it after a restore.
  api.persist('capacity', { save: () => null, load: () => capacity.refreshAll() });
}
