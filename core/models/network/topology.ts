// The datacenter network: every host has a full-duplex NIC link to its rack's
// top-of-rack switch, and every rack a full-duplex uplink to the aggregation layer
// whose capacity is the rack's total NIC bandwidth over the oversubscription ratio.
// Each direction of a link is its own capacity. Paths are deterministic: within a
// rack, host → ToR → host (2 links); across racks, host → ToR → aggregation → ToR →
// host (4 links). Link ids: 2·h and 2·h+1 for host h's NIC (up, down), then two per
// rack (up, down).

export interface TopologyHost {
  readonly rack: number;
  /** NIC line rate, bit/s. */
  readonly bandwidth: number;
  /** One-way latency to the ToR, ns. */
  readonly latency: number;
}

/** Latency of one switch traversal, ns. */
export const SWITCH_LATENCY_NS = 500;

export class Topology {
  readonly capacity: number[] = [];
  /** 'nic-up' | 'nic-down' | 'rack-up' | 'rack-down', for reports and the visualizer. */
  readonly kind: string[] = [];
  /** Host index or rack index the link belongs to. */
  readonly owner: number[] = [];
  private readonly hostUp: number[] = [];
  private readonly hostDown: number[] = [];
  private readonly rackUp: number[] = [];
  private readonly rackDown: number[] = [];

  constructor(
    readonly hosts: readonly TopologyHost[],
    readonly oversubscription: number,
  ) {
    const add = (cap: number, kind: string, owner: number) => {
      this.capacity.push(cap);
      this.kind.push(kind);
      this.owner.push(owner);
      return this.capacity.length - 1;
    };
    hosts.forEach((h, i) => {
      this.hostUp.push(add(h.bandwidth, 'nic-up', i));
      this.hostDown.push(add(h.bandwidth, 'nic-down', i));
    });
    const racks = hosts.reduce((n, h) => Math.max(n, h.rack + 1), 0);
    for (let r = 0; r < racks; r++) {
      const total = hosts.filter((h) => h.rack === r).reduce((s, h) => s + h.bandwidth, 0);
      const cap = total / Math.max(1, oversubscription);
      this.rackUp.push(add(cap, 'rack-up', r));
      this.rackDown.push(add(cap, 'rack-down', r));
    }
  }

  /** Directed links from host index a to host index b. */
  path(a: number, b: number): number[] {
    if (a === b) return [];
    const ra = this.hosts[a].rack;
    const rb = this.hosts[b].rack;
    if (ra === rb) return [this.hostUp[a], this.hostDown[b]];
    return [this.hostUp[a], this.rackUp[ra], this.rackDown[rb], this.hostDown[b]];
  }

  /** One-way latency from host a to host b, ns. */
  latency(a: number, b: number): number {
    if (a === b) return 0;
    const switches = this.hosts[a].rack === this.hosts[b].rack ? 1 : 3;
    return this.hosts[a].latency + this.hosts[b].latency + switches * SWITCH_LATENCY_NS;
  }
}
