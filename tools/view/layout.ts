// Geometry of the visualizer's scene, in world units (pixels at zoom 1): where the core
// switch, each rack's switch, the hosts, every link and every VM slot are drawn, and
// the polyline a migrating VM's tile follows along the links of its network path.
// Pure functions of the layout the worker sends, so jest checks them without a
// browser and the browser tests use them to know where to look.
//
// A rack is a column: its top-of-rack switch is a bar down the left side, each host's
// NIC link a short horizontal segment from that bar to the host, and the rack's uplink
// a vertical segment from the top of the bar to the core, a bar across all racks.

import { LinkKind } from './protocol';

export const MARGIN = 20;
export const CORE_Y = 40;
export const CORE_H = 6;
export const TOR_TOP = 80;
export const TOR_W = 8;
export const LINK_LEN = 12;
/** Room above the hosts for the rack's and the uplink's labels, and above each host for its name. */
export const HOSTS_TOP = 98;
export const HOST_W = 120;
export const HOST_H = 64;
export const HOST_GAP = 16;
export const RACK_GAP = 24;
export const RACK_W = TOR_W + LINK_LEN + HOST_W + RACK_GAP;
export const TILE = 11;
export const TILE_STEP = 13;
/** VM tiles sit below the host's load bar. */
export const TILE_LEFT = 4;
export const TILE_TOP = 18;
export const TILES_PER_ROW = Math.floor((HOST_W - 2 * TILE_LEFT - TILE) / TILE_STEP) + 1;
export const TILE_ROWS = Math.floor((HOST_H - TILE_TOP - 2 - TILE) / TILE_STEP) + 1;
/** A host shows this many tiles; more VMs than that share slots. */
export const TILES_PER_HOST = TILES_PER_ROW * TILE_ROWS;

/** Drawn thickness of a host's NIC link and of a rack uplink at utilization u. */
export const nicWidth = (u: number) => 1.5 + 4.5 * Math.min(1, Math.max(0, u));
export const uplinkWidth = (u: number) => 2 + 6 * Math.min(1, Math.max(0, u));

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export class SceneLayout {
  readonly hosts: number;
  /** Bottom of the tallest rack, world units. */
  readonly bottom: number;

  constructor(
    readonly racks: number,
    readonly hostRack: Int32Array,
    readonly hostSlot: Int32Array,
  ) {
    this.hosts = hostRack.length;
    const slots = hostSlot.reduce((n, s) => Math.max(n, s + 1), 1);
    this.bottom = HOSTS_TOP + slots * (HOST_H + HOST_GAP) - HOST_GAP;
  }

  get width(): number {
    return MARGIN + this.racks * RACK_W;
  }

  /** The name of a host: its rack and its slot in the rack. */
  hostName(h: number): string {
    return `rack${this.hostRack[h]}/host${this.hostSlot[h]}`;
  }

  rackX(r: number): number {
    return MARGIN + r * RACK_W;
  }

  /** Centre line of a rack's switch, where its uplink and the migration paths run. */
  torX(r: number): number {
    return this.rackX(r) + TOR_W / 2;
  }

  hostX(h: number): number {
    return this.rackX(this.hostRack[h]) + TOR_W + LINK_LEN;
  }

  hostY(h: number): number {
    return HOSTS_TOP + this.hostSlot[h] * (HOST_H + HOST_GAP);
  }

  /** Height at which a host's NIC link meets the rack switch. */
  linkY(h: number): number {
    return this.hostY(h) + HOST_H / 2;
  }

  /** Middle of the core bar. */
  get coreY(): number {
    return CORE_Y + CORE_H / 2;
  }

  torRect(r: number, out: Rect): Rect {
    return set(out, this.rackX(r), TOR_TOP, TOR_W, this.bottom - TOR_TOP);
  }

  coreRect(out: Rect): Rect {
    return set(out, this.torX(0) - TOR_W / 2, CORE_Y, this.torX(this.racks - 1) - this.torX(0) + TOR_W, CORE_H);
  }

  nicRect(h: number, u: number, out: Rect): Rect {
    const w = nicWidth(u);
    return set(out, this.rackX(this.hostRack[h]) + TOR_W, this.linkY(h) - w / 2, LINK_LEN, w);
  }

  uplinkRect(r: number, u: number, out: Rect): Rect {
    const w = uplinkWidth(u);
    return set(out, this.torX(r) - w / 2, CORE_Y + CORE_H, w, TOR_TOP - CORE_Y - CORE_H);
  }

  /** Top-left corner of the k-th VM tile of a host. */
  tileX(h: number, k: number): number {
    return this.hostX(h) + TILE_LEFT + ((k % TILES_PER_HOST) % TILES_PER_ROW) * TILE_STEP;
  }

  tileY(h: number, k: number): number {
    return this.hostY(h) + TILE_TOP + Math.floor((k % TILES_PER_HOST) / TILES_PER_ROW) * TILE_STEP;
  }

  /**
   * The waypoints of a migration's path as x, y pairs: from (fromX, fromY) through both
   * ends of each link in order — a NIC link between the host and its rack switch, an
   * uplink between the rack switch and the core — to (toX, toY). Consecutive links meet
   * inside a switch: along the rack switch's bar, or along the core.
   */
  route(links: ArrayLike<number>, kinds: ArrayLike<number>, owners: ArrayLike<number>, fromX: number, fromY: number, toX: number, toY: number): Route {
    const pts: number[] = [fromX, fromY];
    const add = (x: number, y: number) => {
      if (pts[pts.length - 2] !== x || pts[pts.length - 1] !== y) pts.push(x, y);
    };
    for (let i = 0; i < links.length; i++) {
      const l = links[i];
      if (l < 0) break;
      const o = owners[l];
      switch (kinds[l]) {
        case LinkKind.NIC_UP:
          add(this.hostX(o), this.linkY(o));
          add(this.torX(this.hostRack[o]), this.linkY(o));
          break;
        case LinkKind.NIC_DOWN:
          add(this.torX(this.hostRack[o]), this.linkY(o));
          add(this.hostX(o), this.linkY(o));
          break;
        case LinkKind.RACK_UP:
          add(this.torX(o), TOR_TOP);
          add(this.torX(o), this.coreY);
          break;
        case LinkKind.RACK_DOWN:
          add(this.torX(o), this.coreY);
          add(this.torX(o), TOR_TOP);
          break;
      }
    }
    add(toX, toY);
    return new Route(Float32Array.from(pts));
  }
}

function set(r: Rect, x: number, y: number, w: number, h: number): Rect {
  r.x = x;
  r.y = y;
  r.w = w;
  r.h = h;
  return r;
}

/** A polyline walked by arc length. */
export class Route {
  /** Distance from the start to each waypoint. */
  readonly along: Float32Array;
  readonly length: number;

  constructor(readonly points: Float32Array) {
    const n = points.length / 2;
    this.along = new Float32Array(n);
    for (let i = 1; i < n; i++) this.along[i] = this.along[i - 1] + Math.hypot(points[2 * i] - points[2 * i - 2], points[2 * i + 1] - points[2 * i - 1]);
    this.length = this.along[n - 1] ?? 0;
  }

  /** The point at share t (0..1) of the length; written into out[0], out[1]. */
  pointAt(t: number, out: Float32Array | number[]): void {
    const p = this.points;
    const d = Math.min(1, Math.max(0, t)) * this.length;
    let i = 1;
    while (i < this.along.length - 1 && this.along[i] < d) i++;
    const seg = this.along[i] - this.along[i - 1];
    const f = seg > 0 ? (d - this.along[i - 1]) / seg : 0;
    out[0] = p[2 * i - 2] + (p[2 * i] - p[2 * i - 2]) * f;
    out[1] = p[2 * i - 1] + (p[2 * i + 1] - p[2 * i - 1]) * f;
  }

  /** Distance from a point to the nearest point of the polyline. */
  distanceTo(x: number, y: number): number {
    const p = this.points;
    let best = Infinity;
    for (let i = 2; i < p.length; i += 2) {
      const ax = p[i - 2];
      const ay = p[i - 1];
      const dx = p[i] - ax;
      const dy = p[i + 1] - ay;
      const len2 = dx * dx + dy * dy;
      const f = len2 > 0 ? Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / len2)) : 0;
      best = Math.min(best, Math.hypot(x - ax - dx * f, y - ay - dy * f));
    }
    return best;
  }
}
