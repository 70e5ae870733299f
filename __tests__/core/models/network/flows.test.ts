// Max-min fair sharing, caps, exact completion times, and the datacenter topology.
import { FlowNetwork } from '../../../../core/models/network/flows';
import { Topology } from '../../../../core/models/network/topology';

const G = 1e9;

describe('FlowNetwork', () => {
  it('gives two flows on one link half each', () => {
    const n = new FlowNetwork([10 * G]);
    const a = n.start([0], Infinity);
    const b = n.start([0], Infinity);
    expect([n.rateOf(a), n.rateOf(b)]).toEqual([5 * G, 5 * G]);
  });

  it('leaves to others what a flow limited elsewhere cannot use (max-min)', () => {
    // Links 0 (10G) and 1 (2G). Flow a uses 0 and 1; b and c use only 0.
    const n = new FlowNetwork([10 * G, 2 * G]);
    const a = n.start([0, 1], Infinity);
    const b = n.start([0], Infinity);
    const c = n.start([0], Infinity);
    expect(n.rateOf(a)).toBeCloseTo(2 * G, -3);
    expect(n.rateOf(b)).toBeCloseTo(4 * G, -3);
    expect(n.rateOf(c)).toBeCloseTo(4 * G, -3);
  });

  it('respects a rate cap and gives the slack to the others', () => {
    const n = new FlowNetwork([10 * G]);
    const capped = n.start([0], Infinity, 1 * G);
    const other = n.start([0], Infinity);
    expect(n.rateOf(capped)).toBeCloseTo(1 * G, -3);
    expect(n.rateOf(other)).toBeCloseTo(9 * G, -3);
    n.setCap(capped, Infinity);
    expect(n.rateOf(other)).toBeCloseTo(5 * G, -3);
  });

  it('finishes a flow at the exact time, whatever the step', () => {
    for (const step of [1e6, 7e7, 3e9]) {
      const n = new FlowNetwork([8 * G]);
      const f = n.start([0], 1e9); // 1 GB at 8 Gbit/s: 1 s
      let t = 0;
      let at = -1;
      while (at < 0) {
        const done = n.advance(step);
        if (done.length) at = t + done[0].atNs;
        t += step;
      }
      expect(at).toBeCloseTo(1e9, -1);
      expect(n.isAlive(f)).toBe(false);
    }
  });

  it('speeds up the remaining flow when another finishes inside a step', () => {
    const n = new FlowNetwork([8 * G]);
    n.start([0], 0.5e9); // finishes at 1 s sharing the link (4 Gbit/s)
    const long = n.start([0], 1.5e9);
    const done = n.advance(2e9);
    expect(done.map((d) => Math.round(d.atNs / 1e6))).toEqual([1000, 2000]);
    expect(n.isAlive(long)).toBe(false);
  });

  it('continues identically after a snapshot is restored', () => {
    const a = new FlowNetwork([10 * G, 3 * G]);
    a.start([0, 1], 5e9);
    a.start([0], 2e9, 4 * G);
    a.advance(5e8);
    const b = new FlowNetwork([10 * G, 3 * G]);
    b.restore(a.snapshot());
    expect(b.advance(1e10)).toEqual(a.advance(1e10));
  });
});

describe('FlowNetwork completion handlers', () => {
  it('starts a flow from a handler at the completion instant, with the rates a full recompute gives', () => {
    // Links 0 (10G) and 1 (2G): a (capped at 3G) on 0, b on 0 and 1, c on 0.
    const n = new FlowNetwork([10 * G, 2 * G]);
    const a = n.start([0], 1e9 / 8, 3 * G);
    n.start([0, 1], Infinity);
    n.start([0], Infinity);
    const started: Array<{ id: number; at: number }> = [];
    let replaced = false;
    n.advance(1e9 / 3 + 1000, (flow, at) => {
      // a's replacement: the same path and cap (inherits a's rate); then one on a new path.
      if (flow === a && !replaced) {
        replaced = true;
        started.push({ id: n.start([0], 1e9 / 8, 3 * G), at });
        started.push({ id: n.start([1], Infinity), at });
      }
    });
    expect(started[0].at).toBeCloseTo(1e9 / 3, 0);
    const fresh = new FlowNetwork([10 * G, 2 * G]);
    fresh.start([0], 1, 3 * G);
    fresh.start([0, 1], Infinity);
    fresh.start([0], Infinity);
    fresh.start([1], Infinity);
    const live = n.flows();
    expect(live).toHaveLength(4);
    expect([...live.map((f) => n.rateOf(f))].sort((x, y) => x - y)).toEqual([...fresh.flows().map((f) => fresh.rateOf(f))].sort((x, y) => x - y));
  });
});

describe('Topology', () => {
  const hosts = [0, 0, 0, 1, 1, 1].map((rack) => ({ rack, bandwidth: 10 * G, latency: 2000 }));
  const topo = new Topology(hosts, 3);

  it('routes within a rack over 2 links and across racks over 4', () => {
    expect(topo.path(0, 1)).toHaveLength(2);
    expect(topo.path(0, 4)).toHaveLength(4);
    expect(topo.latency(0, 4)).toBeGreaterThan(topo.latency(0, 1));
  });

  it('limits a rack-wide evacuation by the oversubscribed uplink', () => {
    const n = new FlowNetwork(topo.capacity);
    const flows = [0, 1, 2].map((h) => n.start(topo.path(h, h + 3), Infinity));
    // Uplink: 30 Gbit/s of NICs over 3 = 10 Gbit/s shared by three flows.
    for (const f of flows) expect(n.rateOf(f)).toBeCloseTo((10 * G) / 3, -3);
    const inRack = new FlowNetwork(topo.capacity);
    expect(inRack.rateOf(inRack.start(topo.path(0, 1), Infinity))).toBeCloseTo(10 * G, -3);
  });
});
