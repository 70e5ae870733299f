// A segment tree over hosts' free capacity (memory and vCPU slots), so that
// placement policies find a host in O(log n) expected time instead of scanning
// 20,000 hosts for each of 40,000 VMs. Each node keeps the maximum free memory and
// the maximum free vCPU slots of its subtree; both are upper bounds, so a search
// prunes subtrees that cannot fit and backtracks when the two maxima came from
// different hosts. The tree only answers queries about nodes; which host to choose
// is a policy, and each policy lives in its plugin (placement.first-fit,
// placement.worst-fit) as a descent from `root` over these primitives.

import type { PluginApi } from '../../plugin/define';
import { Host, Vm } from './components';
import { DatacenterToken, Placement } from './datacenter';

export class CapacityIndex {
  /** The node a search starts from: it covers every host. */
  readonly root = 1;
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

  /**
   * False when no host under node n can hold (mem, cpu); true when one may. Both
   * maxima can come from different hosts, so a true answer may still lead to no leaf.
   */
  mayFit(n: number, mem: number, cpu: number): boolean {
    return this.maxMem[n] >= mem && this.maxCpu[n] >= cpu;
  }

  /** True when node n is one host. */
  isLeaf(n: number): boolean {
    return n >= this.size;
  }

  /** The leaf index (the host's position in `hosts`) of leaf node n. */
  leaf(n: number): number {
    return n - this.size;
  }

  /** The child of node n covering the lower half of its hosts. */
  left(n: number): number {
    return 2 * n;
  }

  /** The child of node n covering the upper half of its hosts. */
  right(n: number): number {
    return 2 * n + 1;
  }

  /** The most free memory of any host under node n (for a leaf, that host's). */
  maxFreeMemory(n: number): number {
    return this.maxMem[n];
  }

  /** The most free vCPU slots of any host under node n (for a leaf, that host's). */
  maxFreeVcpus(n: number): number {
    return this.maxCpu[n];
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
 * placement.first-fit and placement.worst-fit. `pick` is the policy; it returns a leaf
 * index or -1.
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
