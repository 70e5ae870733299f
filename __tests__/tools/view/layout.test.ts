// The visualizer's scene geometry without a browser: a migration's route follows the
// links of the network model's path through the rack switches and the core, points
// along it are found by arc length, and links get thicker with their utilization.
import { Topology } from '../../../core/models/network/topology';
import { CORE_Y, CORE_H, HOST_H, LINK_LEN, SceneLayout, TOR_TOP, TOR_W, nicWidth, uplinkWidth, type Rect } from '../../../tools/view/layout';
import { LINK_KIND_BY_NAME } from '../../../tools/view/protocol';

/** Two racks of three hosts, and the topology the network model builds for them. */
function twoRacks() {
  const hostRack = Int32Array.from([0, 0, 0, 1, 1, 1]);
  const hostSlot = Int32Array.from([0, 1, 2, 0, 1, 2]);
  const topology = new Topology([...hostRack].map((rack) => ({ rack, bandwidth: 10e9, latency: 1000 })), 2);
  return { g: new SceneLayout(2, hostRack, hostSlot), topology, kinds: topology.kind.map((k) => LINK_KIND_BY_NAME[k]), owners: topology.owner };
}

const pairs = (p: Float32Array) => Array.from({ length: p.length / 2 }, (_, i) => [p[2 * i], p[2 * i + 1]]);

describe('the scene layout', () => {
  it('routes a migration across racks through both rack switches and the core, as the network model does', () => {
    const { g, topology, kinds, owners } = twoRacks();
    const links = topology.path(1, 5);
    expect(links.map((l) => topology.kind[l])).toEqual(['nic-up', 'rack-up', 'rack-down', 'nic-down']);
    const r = g.route(links, kinds, owners, 100, 100, 400, 300);
    expect(pairs(r.points)).toEqual([
      [100, 100],
      [g.hostX(1), g.linkY(1)],
      [g.torX(0), g.linkY(1)],
      [g.torX(0), TOR_TOP],
      [g.torX(0), CORE_Y + CORE_H / 2],
      [g.torX(1), CORE_Y + CORE_H / 2],
      [g.torX(1), TOR_TOP],
      [g.torX(1), g.linkY(5)],
      [g.hostX(5), g.linkY(5)],
      [400, 300],
    ]);
  });

  it('keeps a migration within a rack inside its rack switch', () => {
    const { g, topology, kinds, owners } = twoRacks();
    const r = g.route(topology.path(0, 2), kinds, owners, 50, g.hostY(0) + 10, 50, g.hostY(2) + 10);
    const xs = pairs(r.points).slice(1, -1).map(([x]) => x);
    expect(Math.min(...xs)).toBe(g.torX(0));
    expect(pairs(r.points).some(([, y]) => y <= TOR_TOP)).toBe(false);
  });

  it('finds points along a route by distance, and how far a point lies from it', () => {
    const { g, topology, kinds, owners } = twoRacks();
    const r = g.route(topology.path(0, 4), kinds, owners, g.hostX(0) + 10, g.linkY(0), g.hostX(4) + 10, g.linkY(4));
    const at = [0, 0];
    r.pointAt(0, at);
    expect(at).toEqual([g.hostX(0) + 10, g.linkY(0)]);
    r.pointAt(1, at);
    expect(at).toEqual([g.hostX(4) + 10, g.linkY(4)]);
    for (const t of [0.1, 0.37, 0.5, 0.81]) {
      r.pointAt(t, at);
      expect(r.distanceTo(at[0], at[1])).toBeLessThan(1e-3);
    }
    // Half way is on the core, between the two rack switches.
    r.pointAt(0.5, at);
    expect(at[1]).toBe(CORE_Y + CORE_H / 2);
    expect(at[0]).toBeGreaterThan(g.torX(0));
    expect(at[0]).toBeLessThan(g.torX(1));
    // A point inside a host, away from the links, is not on the route.
    expect(r.distanceTo(g.hostX(1) + 60, g.hostY(1) + 10)).toBeGreaterThan(10);
  });

  it('draws a host’s NIC link between its rack switch and the host, thicker when busier', () => {
    const { g } = twoRacks();
    const idle: Rect = { x: 0, y: 0, w: 0, h: 0 };
    const busy: Rect = { x: 0, y: 0, w: 0, h: 0 };
    g.nicRect(4, 0, idle);
    g.nicRect(4, 0.8, busy);
    expect(idle.x).toBe(g.rackX(1) + TOR_W);
    expect(idle.x + idle.w).toBe(g.hostX(4));
    expect(idle.w).toBe(LINK_LEN);
    expect(idle.y + idle.h / 2).toBe(g.hostY(4) + HOST_H / 2);
    expect(busy.h).toBeGreaterThan(idle.h);
    expect(nicWidth(2)).toBe(nicWidth(1));
    expect(uplinkWidth(0.5)).toBeGreaterThan(uplinkWidth(0));
  });
});
