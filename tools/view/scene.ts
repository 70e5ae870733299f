// One pane of the visualizer: a simulation worker and the PixiJS scene that draws its
// frames. Everything that is a rectangle lives in four batches of one draw call each
// — the static one (the core, the rack switches, host boxes), the per-frame one (rack
// uplinks, host NIC links, host load bars, VM tiles), the paths of the migrations in
// progress (rebuilt only when a migration starts or ends, each link drawn once however
// many migrations share it), and the overlay (travelling tiles, their progress, the
// rings of method-switch markers) — so 10,000 VMs cost four draw calls. Labels are
// not drawn here: the pane asks for them (`labels`), and the page's label layer places
// them in screen space where they do not collide (tools/view/labels.ts). A new frame rewrites colours and sizes in place; tiles are laid out
// again only when a placement changed; between frames only what moves (migrating
// tiles, tiles gliding to a new host, markers fading) is touched, and `update` says
// whether anything needs drawing, and on which of the page's two layers.
//
// The static, paths and per-frame batches form the pane's base (`base`), which changes
// only when a frame from the worker changes a colour or a size, a tile glides or a
// migration starts or ends; the overlay (`world`) changes on every animation frame while
// tiles travel. The page renders the base with WebGL only when it changed and draws the
// overlay over a copy of its pixels, so that a frame in which only tiles travelled does
// not rasterize the 10,000 tiles under them again. The overlay's rectangles are kept in
// a batch like the others, but the page draws them with a 2D context
// (tools/view/overlay.ts); `world` only carries the pane's offset.
//
// On a software rasterizer every rectangle and every pixel drawn costs CPU time, so the
// scene keeps both down: hosts are outlines, overlapping paths are merged, travelling
// tiles at the same place are drawn once, as a group labelled with its size ("×40")
// that opens into a list of its members while the pointer is over it.
//
// A migration's tile travels along the links of its network path (host → rack switch
// → core → rack switch → host, as the network model routes it) once per transfer:
// each pre-copy round, the stop-and-copy, the post-copy push; its position is the
// share of that transfer delivered. The VM itself stays drawn, pale, where it runs.
// The scene only reads frames; it never writes simulation state.

import { Container } from 'pixi.js';
import { LinkKind, Mig, MIG_MAX_LINKS, MigPhase, MIGRATION_STRIDE, transferables, type Frame, type FromWorker, type Layout, type MethodSwitch, type ToWorker } from './protocol';
import { CORE_H, CORE_Y, HOST_H, HOST_W, MARGIN, Route, SceneLayout, TILE, TOR_TOP, TOR_W, type Rect } from './layout';
import type { LabelRequest } from './labels';
import { WorkerCredit } from './worker-credit';
import { QuadBatch, rgba } from './quad-batch';
import { COLOR_HOST_BORDER, COLOR_IDLE_LINK, COLOR_MARKER, COLOR_MIGRATING_VM, COLOR_PATH, COLOR_PROGRESS_BG, COLOR_SWITCH, COLOR_TRAVEL, heat } from './palette';

/** Travelling tiles in one cell of this size (world units) are one group, with one label. */
const GROUP_CELL = 3 * TILE;
/** Rows of an opened group. */
const ROW = TILE + 4;
/**
 * Below this zoom a host's outline (one world unit) is under half a pixel wide: it is
 * left out, which spares a software rasterizer four rectangles per host.
 */
const OUTLINE_MIN_ZOOM = 0.5;
/** At most this many groups of transfers are labelled (the largest first); more would not fit. */
const MAX_GROUP_LABELS = 40;
/** Host names are shown once a host is at least this wide on screen (pixels). */
const HOST_LABEL_PX = 84;
/** How long a method-switch marker stays, in wall-clock ms while playing; it fades over the last FADE_MS. */
const MARKER_MS = 8000;
const FADE_MS = 3000;
const PULSE_MS = 900;

/** The heat colours, packed, for values quantized to 0..255: no per-VM colour arithmetic. */
const HEAT = Uint32Array.from({ length: 256 }, (_, i) => rgba(heat(i / 255)));
const heatOf = (v: number) => HEAT[Math.max(0, Math.min(255, (v * 255) | 0))];

interface Travel {
  readonly id: number;
  readonly vm: number;
  readonly src: number;
  readonly dst: number;
  readonly route: Route;
  round: number;
  phase: number;
  /** Share of the current transfer delivered, from the latest frame, and as drawn (eased towards it). */
  trip: number;
  shown: number;
  sent: number;
  seen: boolean;
  /** Centre of the travelling tile. */
  readonly at: Float32Array;
  text: string;
}

/** Travelling tiles drawn as one. */
interface Group {
  x: number;
  y: number;
  readonly members: Travel[];
  label: string;
  open: boolean;
}

interface Marker {
  readonly vm: number;
  readonly text: string;
  readonly reason: string;
  ageMs: number;
  alpha: number;
  /** Ring around the VM, for inspection. */
  readonly ring: Rect;
}

/** What the scene shows, for the page's inspection hook (tests and the benchmark read it). */
export interface PaneInspection {
  readonly title: string;
  readonly offsetX: number;
  readonly tick: number;
  readonly layout: { racks: number; hostRack: number[]; hostSlot: number[]; tickNs: number };
  readonly travels: Array<{ vm: number; src: number; dst: number; round: number; phase: number; trip: number; x: number; y: number; points: number[]; label: string; group: number }>;
  /** Groups of travelling tiles drawn as one: where, how many, the label, and whether it is open. */
  readonly groups: Array<{ x: number; y: number; n: number; label: string; open: boolean }>;
  readonly markers: Array<{ vm: number; text: string; reason: string; ring: Rect; alpha: number }>;
  readonly workerCost: { frames: number; ticks: number; stepMs: number; buildMs: number };
  /**
   * Nothing will move until the simulation advances: no frame asked of the worker is
   * outstanding or undrawn, and no tile is still gliding or travelling to where its
   * progress puts it. Tests wait for this after a pause instead of waiting a while.
   */
  readonly settled: boolean;
}

/** What `Pane.update` says changed: the base layer, the overlay, or both. */
export const BASE_CHANGED = 1;
export const OVERLAY_CHANGED = 2;

export class Pane {
  readonly worker: Worker;
  layout?: Layout;
  geo?: SceneLayout;
  frame?: Frame;
  /** The overlay: travelling tiles, their progress, marker rings. Its position is the pane's offset in the scene. */
  readonly world = new Container();
  /** Switches, host outlines, paths, links, load bars and VM tiles, drawn on the base layer at the same offset. */
  readonly base = new Container();
  private readonly statics = new QuadBatch(1024, 'static');
  private readonly dynamic = new QuadBatch(1024, 'dynamic');
  private readonly paths = new QuadBatch(64, 'paths');
  /** Drawn by the page's 2D overlay (tools/view/overlay.ts), not by PixiJS. */
  readonly overlay = new QuadBatch(256, 'overlay');
  private pathsDirty = false;
  /** The groups of travelling tiles drawn last, and the VM whose group the pointer opened (−1: none). */
  private groups: Group[] = [];
  private openVm = -1;
  /** The static batch's rectangles: all of them, and those before the host outlines. */
  private staticsAll = 0;
  private staticsBare = 0;
  private readonly drawnAt = new Set<number>();
  /** The overlay must be rebuilt: a frame arrived, a tile glided, a marker came or went. */
  private overlayStale = false;
  /** Where each part of the dynamic batch starts. */
  private oUplink = 0;
  private oNic = 0;
  private oBar = 0;
  private oGpu = 0;
  private oTile = 0;
  /** Per host: its NIC's up and down links; per rack: its uplink's two directions (link ids). */
  private nicUp = new Int32Array(0);
  private nicDown = new Int32Array(0);
  private rackUp = new Int32Array(0);
  private rackDown = new Int32Array(0);
  /** Per VM: top-left of its slot, and of its tile as drawn (NaN until placed). */
  private slotX = new Float32Array(0);
  private slotY = new Float32Array(0);
  private drawX = new Float32Array(0);
  private drawY = new Float32Array(0);
  private gliding = new Uint8Array(0);
  private gliders: number[] = [];
  private hostCount = new Int32Array(0);
  private readonly travels = new Map<number, Travel>();
  private readonly markers: Marker[] = [];
  private readonly rect: Rect = { x: 0, y: 0, w: 0, h: 0 };
  private readonly links = new Int32Array(MIG_MAX_LINKS);
  private readonly centre = new Float32Array(2);
  /** The worker's cost, summed over the frames received: for the benchmark. */
  readonly workerCost = { frames: 0, ticks: 0, stepMs: 0, buildMs: 0 };
  private fresh = false;
  private placementDirty = false;
  private pendingSwitches: MethodSwitch[] = [];
  /** Requests in flight. */
  pending = 0;
  /** Ticks the worker steps per ms of its time, measured; caps how much one request asks for. */
  ticksPerMs = 0;
  /** The worker's time this pane may still ask for (tools/view/worker-credit.ts). */
  readonly credit = new WorkerCredit();

  constructor(
    readonly title: string,
    readonly offsetX: number,
    onMessage: (pane: Pane, m: FromWorker) => void,
  ) {
    this.worker = new Worker(new URL('./sim-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(this, e.data);
    this.world.x = offsetX;
    this.base.x = offsetX;
    // Switches, hosts, links and tiles are opaque: drawn without blending, which saves a
    // read of every pixel they cover. The overlay fades, so it blends.
    this.statics.mesh.state.blend = false;
    this.dynamic.mesh.state.blend = false;
    this.paths.mesh.state.blend = false;
    // Paths go under the links: a busy link along a path still shows its utilization.
    this.base.addChild(this.statics.mesh, this.paths.mesh, this.dynamic.mesh);
  }

  send(m: ToWorker): void {
    if (m.type !== 'recycle') this.pending++;
    this.worker.postMessage(m);
  }

  /** Takes a frame from the worker; the previous one's arrays go back to it. */
  receive(f: Frame): void {
    const old = this.frame;
    this.frame = f;
    this.fresh = true;
    this.placementDirty ||= f.placementChanged;
    for (const s of f.switches) this.pendingSwitches.push(s);
    this.workerCost.frames++;
    this.workerCost.ticks += f.ticksRun;
    this.workerCost.stepMs += f.stepMs;
    this.workerCost.buildMs += f.buildMs;
    this.credit.spend(f.stepMs + f.buildMs);
    if (f.stepMs > 1 && f.ticksRun > 0) {
      const rate = f.ticksRun / f.stepMs;
      this.ticksPerMs = this.ticksPerMs ? this.ticksPerMs * 0.7 + rate * 0.3 : rate;
    }
    if (old) {
      const buffers = { vmHost: old.vmHost, vmValue: old.vmValue, vmMigrating: old.vmMigrating, hostLoad: old.hostLoad, hostNic: old.hostNic, hostGpu: old.hostGpu, linkUtil: old.linkUtil, migrations: old.migrations };
      this.worker.postMessage({ type: 'recycle', buffers } satisfies ToWorker, transferables(buffers));
    }
  }

  setLayout(l: Layout): void {
    this.layout = l;
    const g = (this.geo = new SceneLayout(l.racks, l.hostRack, l.hostSlot));
    const H = l.hostRack.length;
    const V = l.vmNames.length;
    this.nicUp = new Int32Array(H).fill(-1);
    this.nicDown = new Int32Array(H).fill(-1);
    this.rackUp = new Int32Array(l.racks).fill(-1);
    this.rackDown = new Int32Array(l.racks).fill(-1);
    l.linkKind.forEach((k, id) => {
      const o = l.linkOwner[id];
      if (k === LinkKind.NIC_UP) this.nicUp[o] = id;
      else if (k === LinkKind.NIC_DOWN) this.nicDown[o] = id;
      else if (k === LinkKind.RACK_UP) this.rackUp[o] = id;
      else if (k === LinkKind.RACK_DOWN) this.rackDown[o] = id;
    });

    // The static batch: drawn once.
    const s = this.statics;
    s.count = 0;
    if (l.racks > 1) {
      g.coreRect(this.rect);
      s.push(this.rect.x, this.rect.y, this.rect.w, this.rect.h, rgba(COLOR_SWITCH));
    }
    for (let r = 0; r < l.racks; r++) {
      g.torRect(r, this.rect);
      s.push(this.rect.x, this.rect.y, this.rect.w, this.rect.h, rgba(COLOR_SWITCH));
    }
    // Hosts are outlines on the page's background: a software rasterizer pays for every
    // pixel, and filled boxes were the largest area of the scene.
    const border = rgba(COLOR_HOST_BORDER);
    this.staticsBare = s.count;
    for (let h = 0; h < H; h++) {
      const x = g.hostX(h);
      const y = g.hostY(h);
      s.push(x, y, HOST_W, 1, border);
      s.push(x, y + HOST_H - 1, HOST_W, 1, border);
      s.push(x, y + 1, 1, HOST_H - 2, border);
      s.push(x + HOST_W - 1, y + 1, 1, HOST_H - 2, border);
    }
    this.staticsAll = s.count;
    s.commit();

    // The dynamic batch: rack uplinks, NIC links, load bars, VM tiles, at fixed offsets.
    const d = this.dynamic;
    this.oUplink = 0;
    this.oNic = l.racks > 1 ? l.racks : 0;
    this.oBar = this.oNic + H;
    this.oGpu = this.oBar + H;
    this.oTile = this.oGpu + H;
    d.reserve(this.oTile + V);
    d.count = this.oTile + V;
    d.colors.fill(0);
    d.positions.fill(0);
    d.invalidate();
    this.slotX = new Float32Array(V);
    this.slotY = new Float32Array(V);
    this.drawX = new Float32Array(V).fill(NaN);
    this.drawY = new Float32Array(V).fill(NaN);
    this.gliding = new Uint8Array(V);
    this.gliders = [];
    this.hostCount = new Int32Array(H);
    this.travels.clear();
    this.groups = [];
    this.markers.length = 0;
    this.placementDirty = true;
  }

  /**
   * Brings the scene up to date: applies a frame that arrived, moves what travels or
   * glides, ages markers (while playing), and leaves out what lies outside `view` (the
   * visible area in this pane's coordinates). Returns what visible changed: BASE_CHANGED,
   * OVERLAY_CHANGED, both or neither (0).
   */
  update(dtMs: number, playing: boolean, view: Rect, zoom = 1): number {
    // The base follows the overlay when the page moves the pane (compare mode puts B beside A).
    let changed = false;
    if (this.base.x !== this.world.x || this.base.y !== this.world.y) {
      this.base.position.copyFrom(this.world.position);
      changed = true;
    }
    if (!this.geo || !this.frame) return changed ? BASE_CHANGED : 0;
    let overlay = false;
    const statics = zoom >= OUTLINE_MIN_ZOOM ? this.staticsAll : this.staticsBare;
    if (this.statics.count !== statics) this.statics.count = statics;
    // A margin, so that a little panning does not rebuild the index buffers at once.
    const m = 64;
    const x0 = Math.floor((view.x - m) / 128) * 128;
    const y0 = Math.floor((view.y - m) / 128) * 128;
    const x1 = Math.ceil((view.x + view.w + m) / 128) * 128;
    const y1 = Math.ceil((view.y + view.h + m) / 128) * 128;
    this.statics.setView(x0, y0, x1, y1);
    this.dynamic.setView(x0, y0, x1, y1);
    changed = this.statics.commit() || changed;
    if (this.fresh) {
      // A frame whose colours and sizes are those drawn already changes only the overlay: the batches' commits tell.
      this.applyFrame(this.frame);
      this.fresh = false;
      this.overlayStale = true;
      overlay = true;
    }
    if (this.glide(dtMs)) overlay = this.overlayStale = true;
    if (this.travels.size || this.markers.length) overlay = this.animate(dtMs, playing) || overlay;
    else if (this.overlay.count) {
      this.overlay.count = 0;
      this.groups = [];
      overlay = true;
    }
    if (this.pathsDirty) this.drawPaths();
    changed = this.dynamic.commit() || changed;
    changed = this.paths.commit() || changed;
    overlay = this.overlay.commit() || overlay;
    return (changed ? BASE_CHANGED : 0) | (overlay ? OVERLAY_CHANGED : 0);
  }

  private applyFrame(f: Frame): void {
    const g = this.geo!;
    const d = this.dynamic;
    const H = g.hosts;
    const V = f.vmHost.length;
    if (this.placementDirty) {
      this.placementDirty = false;
      this.hostCount.fill(0);
      for (let v = 0; v < V; v++) {
        const h = f.vmHost[v];
        if (h < 0) {
          this.drawX[v] = NaN;
          d.setRect(this.oTile + v, 0, 0, 0, 0);
          continue;
        }
        const k = this.hostCount[h]++;
        const x = g.tileX(h, k);
        const y = g.tileY(h, k);
        this.slotX[v] = x;
        this.slotY[v] = y;
        if (Number.isNaN(this.drawX[v])) {
          this.drawX[v] = x;
          this.drawY[v] = y;
          d.setRect(this.oTile + v, x, y, TILE, TILE);
        } else if ((this.drawX[v] !== x || this.drawY[v] !== y) && !this.gliding[v]) {
          this.gliding[v] = 1;
          this.gliders.push(v);
        }
      }
    }
    for (let v = 0; v < V; v++) d.setColor(this.oTile + v, f.vmHost[v] < 0 ? 0 : f.vmMigrating[v] ? rgba(COLOR_MIGRATING_VM) : heatOf(f.vmValue[v]));
    const idle = rgba(COLOR_IDLE_LINK);
    const r = this.rect;
    for (let h = 0; h < H; h++) {
      const load = Math.min(1, f.hostLoad[h]);
      d.setRect(this.oBar + h, g.hostX(h) + 4, g.hostY(h) + 6, (HOST_W - 8) * load, 6, true);
      d.setColor(this.oBar + h, heatOf(load));
      // A host with GPUs: their utilization in a thin bar above the CPU's.
      const gpu = f.hostGpu[h];
      d.setRect(this.oGpu + h, g.hostX(h) + 4, g.hostY(h) + 2, gpu < 0 ? 0 : (HOST_W - 8) * Math.min(1, gpu), 3, true);
      d.setColor(this.oGpu + h, gpu < 0 ? 0 : heatOf(gpu));
      const u = Math.max(this.util(f, this.nicUp[h]), this.util(f, this.nicDown[h]));
      g.nicRect(h, u, r);
      d.setRect(this.oNic + h, r.x, r.y, r.w, r.h, true);
      d.setColor(this.oNic + h, u > 1e-3 ? heatOf(u) : idle);
    }
    if (this.oNic > 0) {
      for (let k = 0; k < g.racks; k++) {
        const u = Math.max(this.util(f, this.rackUp[k]), this.util(f, this.rackDown[k]));
        g.uplinkRect(k, u, r);
        d.setRect(this.oUplink + k, r.x, r.y, r.w, r.h, true);
        d.setColor(this.oUplink + k, u > 1e-3 ? heatOf(u) : idle);
      }
    }
    this.applyMigrations(f);
    for (const s of this.pendingSwitches) this.addMarker(s);
    this.pendingSwitches.length = 0;
  }

  private util(f: Frame, link: number): number {
    return link >= 0 ? f.linkUtil[link] : 0;
  }

  private applyMigrations(f: Frame): void {
    const g = this.geo!;
    const l = this.layout!;
    for (const t of this.travels.values()) t.seen = false;
    const links = this.links;
    for (let i = 0; i < f.migrationCount; i++) {
      const o = i * MIGRATION_STRIDE;
      const id = f.migrations[o + Mig.ID];
      let t = this.travels.get(id);
      if (!t) {
        const vm = f.migrations[o + Mig.VM];
        const src = f.migrations[o + Mig.SRC];
        const dst = f.migrations[o + Mig.DST];
        for (let n = 0; n < MIG_MAX_LINKS; n++) links[n] = f.migrations[o + Mig.LINKS + n];
        // From the VM's tile at the source (or the source's first slot when post-copy
        // already moved it) to its tile at the destination (or the next free slot there).
        const onSrc = f.vmHost[vm] === src;
        const fromX = onSrc ? this.slotX[vm] : g.tileX(src, 0);
        const fromY = onSrc ? this.slotY[vm] : g.tileY(src, 0);
        const onDst = f.vmHost[vm] === dst;
        const toX = onDst ? this.slotX[vm] : g.tileX(dst, this.hostCount[dst]);
        const toY = onDst ? this.slotY[vm] : g.tileY(dst, this.hostCount[dst]);
        const route = g.route(links, l.linkKind, l.linkOwner, fromX + TILE / 2, fromY + TILE / 2, toX + TILE / 2, toY + TILE / 2);
        t = { id, vm, src, dst, route, round: 0, phase: -1, trip: 0, shown: 0, sent: 0, seen: true, at: new Float32Array(2), text: '' };
        route.pointAt(0, t.at);
        this.travels.set(id, t);
        this.pathsDirty = true;
      }
      const round = f.migrations[o + Mig.ROUND];
      const phase = f.migrations[o + Mig.PHASE];
      const trip = f.migrations[o + Mig.TRIP];
      // A new transfer starts its trip again from the source.
      if (round !== t.round || phase !== t.phase) t.shown = 0;
      else if (trip < t.shown) t.shown = trip;
      t.round = round;
      t.phase = phase;
      t.trip = trip;
      t.sent = f.migrations[o + Mig.SENT];
      t.seen = true;
    }
    for (const [id, t] of this.travels) {
      if (t.seen) continue;
      // Finished: the VM's tile glides from where its travelling tile was into its slot.
      this.travels.delete(id);
      this.pathsDirty = true;
      const v = t.vm;
      if (f.vmHost[v] >= 0) {
        this.drawX[v] = t.at[0] - TILE / 2;
        this.drawY[v] = t.at[1] - TILE / 2;
        this.dynamic.setRect(this.oTile + v, this.drawX[v], this.drawY[v], TILE, TILE);
        if (!this.gliding[v]) {
          this.gliding[v] = 1;
          this.gliders.push(v);
        }
      }
    }
  }

  private addMarker(s: MethodSwitch): void {
    const text = `→ ${s.to === 'postcopy' ? 'post-copy' : s.to}`;
    this.markers.push({ vm: s.vm, text, reason: s.reason, ageMs: 0, alpha: 1, ring: { x: 0, y: 0, w: 0, h: 0 } });
  }

  /** Where a VM is drawn: its travelling tile while it migrates, else its own. */
  private vmCentre(v: number, out: Float32Array | number[]): void {
    for (const t of this.travels.values()) {
      if (t.vm === v) {
        out[0] = t.at[0];
        out[1] = t.at[1];
        return;
      }
    }
    out[0] = this.drawX[v] + TILE / 2;
    out[1] = this.drawY[v] + TILE / 2;
  }

  private glide(dtMs: number): boolean {
    if (!this.gliders.length) return false;
    const k = 1 - Math.exp(-dtMs / 90);
    let w = 0;
    for (const v of this.gliders) {
      let x = this.drawX[v];
      let y = this.drawY[v];
      const tx = this.slotX[v];
      const ty = this.slotY[v];
      x += (tx - x) * k;
      y += (ty - y) * k;
      if (Math.abs(tx - x) < 0.5 && Math.abs(ty - y) < 0.5) {
        x = tx;
        y = ty;
        this.gliding[v] = 0;
      } else this.gliders[w++] = v;
      this.drawX[v] = x;
      this.drawY[v] = y;
      this.dynamic.setRect(this.oTile + v, x, y, TILE, TILE);
    }
    this.gliders.length = w;
    return true;
  }

  /**
   * The paths of the migrations in progress. Segments are merged where they overlap —
   * many migrations share a rack switch's bar or the core — so each stretch of a link
   * or switch is drawn once.
   */
  private drawPaths(): void {
    this.pathsDirty = false;
    const b = this.paths;
    b.count = 0;
    const color = rgba(COLOR_PATH);
    // Intervals by the line they run on: vertical ones by x, horizontal ones by y.
    const vertical = new Map<number, Array<[number, number]>>();
    const horizontal = new Map<number, Array<[number, number]>>();
    const add = (m: Map<number, Array<[number, number]>>, k: number, a: number, c: number) => {
      const list = m.get(k);
      if (list) list.push([a, c]);
      else m.set(k, [[a, c]]);
    };
    for (const t of this.travels.values()) {
      const p = t.route.points;
      for (let i = 2; i < p.length; i += 2) {
        const x0 = p[i - 2];
        const y0 = p[i - 1];
        const x1 = p[i];
        const y1 = p[i + 1];
        // Links and switches are axis-aligned; the short hops inside a host are not drawn.
        if (x0 === x1 && y0 !== y1) add(vertical, x0, Math.min(y0, y1), Math.max(y0, y1));
        else if (y0 === y1 && x0 !== x1) add(horizontal, y0, Math.min(x0, x1), Math.max(x0, x1));
      }
    }
    const merge = (m: Map<number, Array<[number, number]>>, draw: (k: number, a: number, c: number) => void) => {
      for (const [k, list] of m) {
        list.sort((u, v) => u[0] - v[0]);
        let [a, c] = list[0];
        for (let i = 1; i < list.length; i++) {
          if (list[i][0] <= c) c = Math.max(c, list[i][1]);
          else {
            draw(k, a, c);
            [a, c] = list[i];
          }
        }
        draw(k, a, c);
      }
    };
    merge(vertical, (x, a, c) => b.push(x - 1, a - 1, 2, c - a + 2, color));
    merge(horizontal, (y, a, c) => b.push(a - 1, y - 1, c - a + 2, 2, color));
  }

  /**
   * Moves travelling tiles towards their latest progress and ages markers (while
   * playing); rebuilds the overlay — travelling tiles with their progress, marker rings
   * — when something in it moved, and returns whether it did. A paused scene whose
   * tiles have arrived draws nothing more.
   */
  private animate(dtMs: number, playing: boolean): boolean {
    let moving = this.overlayStale;
    for (const t of this.travels.values()) if (t.shown !== t.trip) moving = true;
    for (const m of this.markers) {
      if (!playing) continue;
      m.ageMs += dtMs;
      // Only the pulse at the start and the fade at the end change the picture.
      if (m.ageMs < PULSE_MS || m.ageMs > MARKER_MS - FADE_MS) moving = true;
    }
    if (!moving) return false;
    this.overlayStale = false;
    const ov = this.overlay;
    ov.count = 0;
    const ease = 1 - Math.exp(-dtMs / 120);
    const tile = rgba(COLOR_TRAVEL);
    const bg = rgba(COLOR_PROGRESS_BG);
    for (const t of this.travels.values()) {
      t.shown += (t.trip - t.shown) * ease;
      if (Math.abs(t.trip - t.shown) < 1e-4) t.shown = t.trip;
      t.route.pointAt(t.shown, t.at);
      const pct = Math.floor(t.shown * 100);
      t.text = t.phase === MigPhase.POSTCOPY ? `post-copy ${pct}%` : t.phase === MigPhase.STOP_AND_COPY ? `stop-and-copy ${pct}%` : `r${t.round} ${pct}%`;
    }
    this.groups = this.group();
    // Every travelling tile where it is, once per place: tiles exactly over one another are drawn once.
    const drawn = this.drawnAt;
    drawn.clear();
    for (const t of this.travels.values()) {
      const x = Math.round(t.at[0] - TILE / 2);
      const y = Math.round(t.at[1] - TILE / 2);
      const key = x * 65536 + y;
      if (drawn.has(key)) continue;
      drawn.add(key);
      ov.push(x, y, TILE, TILE, tile);
    }
    for (const g of this.groups) {
      if (!g.open) {
        // The group's progress: the mean share delivered, as a bar under the tile.
        let p = 0;
        for (const t of g.members) p += t.shown;
        ov.push(g.x - 2, g.y + TILE + 1, TILE + 4, 3, bg);
        ov.push(g.x - 2, g.y + TILE + 1, ((TILE + 4) * p) / g.members.length, 3, tile);
        continue;
      }
      // Opened: one row per member, beside the group's place, each with its own progress.
      g.members.forEach((t, i) => {
        const x = g.x + TILE + 8;
        const y = g.y + i * ROW;
        ov.push(x, y, TILE, TILE, tile);
        ov.push(x - 2, y + TILE + 1, TILE + 4, 2, bg);
        ov.push(x - 2, y + TILE + 1, (TILE + 4) * t.shown, 2, tile);
      });
    }
    const centre = this.centre;
    let w = 0;
    for (const m of this.markers) {
      if (m.ageMs >= MARKER_MS) continue;
      this.markers[w++] = m;
      const alpha = (m.alpha = m.ageMs < MARKER_MS - FADE_MS ? 1 : (MARKER_MS - m.ageMs) / FADE_MS);
      this.vmCentre(m.vm, centre);
      // A ring that shrinks onto the VM as the marker appears, then stays around it.
      const pulse = Math.max(0, 1 - m.ageMs / PULSE_MS);
      const half = TILE / 2 + 3 + 10 * pulse;
      const c = rgba(COLOR_MARKER, alpha);
      const x = centre[0] - half;
      const y = centre[1] - half;
      const side = 2 * half;
      ov.push(x, y, side, 2, c);
      ov.push(x, y + side - 2, side, 2, c);
      ov.push(x, y, 2, side, c);
      ov.push(x + side - 2, y, 2, side, c);
      m.ring.x = x;
      m.ring.y = y;
      m.ring.w = m.ring.h = side;
    }
    this.markers.length = w;
    return true;
  }

  /**
   * The travelling tiles grouped by where they are drawn: tiles in one cell of
   * GROUP_CELL are one group, labelled once at its first member. The group holding the VM the pointer opened
   * is listed open.
   */
  private group(): Group[] {
    const cells = new Map<number, Group>();
    const groups: Group[] = [];
    for (const t of this.travels.values()) {
      const x = t.at[0] - TILE / 2;
      const y = t.at[1] - TILE / 2;
      const key = ((Math.floor(x / GROUP_CELL) & 0xffff) << 16) | (Math.floor(y / GROUP_CELL) & 0xffff);
      let g = cells.get(key);
      if (!g) {
        g = { x, y, members: [], label: '', open: false };
        cells.set(key, g);
        groups.push(g);
      }
      g.members.push(t);
      if (t.vm === this.openVm) g.open = true;
    }
    for (const g of groups) {
      const m = g.members;
      if (m.length === 1) {
        g.label = m[0].text;
        continue;
      }
      m.sort((a, b) => a.vm - b.vm);
      let r0 = Infinity;
      let r1 = -Infinity;
      let p0 = Infinity;
      let p1 = -Infinity;
      for (const t of m) {
        r0 = Math.min(r0, t.round);
        r1 = Math.max(r1, t.round);
        p0 = Math.min(p0, Math.floor(t.shown * 100));
        p1 = Math.max(p1, Math.floor(t.shown * 100));
      }
      g.label = `×${m.length} r${r0}${r1 > r0 ? `–${r1}` : ''} ${p0}${p1 > p0 ? `–${p1}` : ''}%`;
    }
    return groups;
  }

  /**
   * The pointer is at (px, py), world coordinates of this pane (NaN: elsewhere): opens
   * the group of travelling tiles under it, keeps an open group open while the pointer
   * is over its list, and closes it when it leaves. Returns whether that changed.
   */
  hover(px: number, py: number): boolean {
    let vm = -1;
    for (const g of this.groups) {
      const n = g.open ? g.members.length : 1;
      const w = g.open ? TILE + 8 + TILE + 140 : TILE;
      if (px >= g.x - 2 && px <= g.x + w + 2 && py >= g.y - 2 && py <= g.y + (n - 1) * ROW + TILE + 2 && (g.members.length > 1 || g.open)) {
        vm = g.members[0].vm;
        break;
      }
    }
    if (vm === this.openVm) return false;
    this.openVm = vm;
    this.overlayStale = true;
    return true;
  }

  /** The name of a host. */
  hostName(h: number): string {
    return this.geo ? this.geo.hostName(h) : `host ${h}`;
  }

  /**
   * The labels this pane asks for at zoom k, for the part of it in `view` (its own
   * coordinates): its title, the core switch, each rack's switch and uplink, the
   * decisions and transfers in flight, and the hosts' names and NIC links once hosts are
   * wide enough on screen to carry them.
   */
  labels(all: LabelRequest[], k: number, view: Rect): void {
    // Anchors go out in the scene's coordinates: this pane's, shifted by its offset.
    const dx = this.world.x;
    const out = { push: (r: LabelRequest) => all.push({ ...r, x: r.x + dx }) };
    const g = this.geo;
    const l = this.layout;
    out.push({ text: this.title, x: 0, y: 0, size: 14, tint: 0x222222, priority: 0, sides: ['at'], kind: 'title', must: true });
    if (!g || !l) return;
    const f = this.frame;
    const inView = (x: number, y: number, w: number, h: number) => x + w >= view.x && x <= view.x + view.w && y + h >= view.y && y <= view.y + view.h;
    if (l.racks > 1) out.push({ text: 'core switch', x: MARGIN, y: CORE_Y - 1, size: 11, tint: 0x546e7a, priority: 1, sides: ['above'], kind: 'switch' });
    const pct = (u: number) => `${Math.round(Math.min(9.99, u) * 100)}%`;
    for (let r = 0; r < l.racks; r++) {
      const x = g.torX(r) + TOR_W / 2 + 2;
      if (!inView(x, CORE_Y, 160, TOR_TOP - CORE_Y)) continue;
      out.push({ text: `rack${r} switch`, x, y: CORE_Y + CORE_H + 8, size: 11, tint: 0x37474f, priority: 1, sides: ['right'], kind: 'rack' });
      if (l.racks > 1 && f) {
        const u = Math.max(this.util(f, this.rackUp[r]), this.util(f, this.rackDown[r]));
        out.push({ text: `uplink ${pct(u)}`, x, y: CORE_Y + CORE_H + 22, size: 10, tint: 0x607d8b, priority: 5, sides: ['right'], kind: 'link' });
      }
    }
    for (const m of this.markers) {
      this.vmCentre(m.vm, this.centre);
      out.push({ text: m.text, x: this.centre[0] + TILE / 2 + 6, y: this.centre[1] - TILE, size: 11, tint: COLOR_MARKER, priority: 2, sides: ['right', 'above', 'left', 'below'], kind: 'decision', alpha: m.alpha, avoid: true });
    }
    const labelled = this.groups.length <= MAX_GROUP_LABELS ? this.groups : [...this.groups].sort((a, b) => Number(b.open) - Number(a.open) || b.members.length - a.members.length).slice(0, MAX_GROUP_LABELS);
    for (const gr of labelled) {
      // The group under the pointer is what the user is reading: its labels are placed
      // before everything but the title, so other groups' and markers' labels give way.
      const priority = gr.open ? 0.5 : 3;
      // An open group's label goes above its first tile's top edge, not its middle:
      // above the middle, it met the first member's row beside the tile, and that row
      // (placed after it) was left out, so the list never showed its first member.
      out.push({ text: gr.label, x: gr.x + TILE + 2, y: gr.open ? gr.y - 1 : gr.y + TILE / 2, size: 10, tint: COLOR_TRAVEL, priority, sides: gr.open ? ['above'] : ['right', 'below', 'above', 'below-left', 'above-left', 'left'], kind: 'transfer', avoid: !gr.open });
      if (!gr.open) continue;
      gr.members.forEach((t, i) =>
        out.push({ text: `${l.vmNames[t.vm]} ${t.text}`, x: gr.x + 2 * TILE + 10, y: gr.y + i * ROW + TILE / 2, size: 10, tint: COLOR_TRAVEL, priority, sides: ['right'], kind: 'member' }),
      );
    }
    if (HOST_W * k < HOST_LABEL_PX) return;
    for (let h = 0; h < g.hosts; h++) {
      const x = g.hostX(h);
      const y = g.hostY(h);
      if (!inView(x, y - 14, HOST_W, HOST_H + 14)) continue;
      const u = f ? Math.max(this.util(f, this.nicUp[h]), this.util(f, this.nicDown[h])) : 0;
      out.push({ text: u >= 0.005 ? `${g.hostName(h)} NIC ${pct(u)}` : g.hostName(h), x, y, size: 10, tint: 0x455a64, priority: 6, sides: ['above'], kind: 'host' });
    }
  }

  /**
   * The tiles labels keep clear of, in the scene's coordinates: every host box in `view`
   * (its VM tiles lie inside it), which changes only with the view, …
   */
  hostObstacles(out: Rect[], view: Rect): void {
    const g = this.geo;
    if (!g) return;
    const dx = this.world.x;
    for (let h = 0; h < g.hosts; h++) {
      const x = g.hostX(h);
      const y = g.hostY(h);
      if (x + HOST_W >= view.x && x <= view.x + view.w && y + HOST_H >= view.y && y <= view.y + view.h) out.push({ x: x + dx, y, w: HOST_W, h: HOST_H });
    }
  }

  /** … and every travelling group's tile. */
  groupObstacles(out: Rect[]): void {
    const dx = this.world.x;
    for (const gr of this.groups) out.push({ x: gr.x + dx, y: gr.y, w: TILE, h: TILE });
  }

  /** The host or VM at a point in world coordinates. */
  pick(px: number, py: number): { kind: 'vm' | 'host'; index: number } | undefined {
    const g = this.geo;
    const f = this.frame;
    if (!g || !f) return undefined;
    for (const t of this.travels.values()) {
      if (Math.abs(px - t.at[0]) <= TILE / 2 && Math.abs(py - t.at[1]) <= TILE / 2) return { kind: 'vm', index: t.vm };
    }
    for (let v = 0; v < f.vmHost.length; v++) {
      const x = this.drawX[v];
      const y = this.drawY[v];
      if (px >= x && px <= x + TILE && py >= y && py <= y + TILE) return { kind: 'vm', index: v };
    }
    for (let h = 0; h < g.hosts; h++) {
      const x = g.hostX(h);
      const y = g.hostY(h);
      if (px >= x && px <= x + HOST_W && py >= y && py <= y + HOST_H) return { kind: 'host', index: h };
    }
    return undefined;
  }

  /** The migration of a VM in the latest frame, if it is migrating. */
  migrationOf(vm: number): { round: number; phase: number; trip: number; sent: number } | undefined {
    for (const t of this.travels.values()) if (t.vm === vm) return { round: t.round, phase: t.phase, trip: t.trip, sent: t.sent };
    return undefined;
  }

  /** Rounds of the migrations in progress. */
  rounds(): number[] {
    return [...this.travels.values()].map((t) => t.round);
  }

  inspect(): PaneInspection {
    return {
      title: this.title,
      offsetX: this.world.x,
      tick: this.frame?.tick ?? -1,
      layout: { racks: this.layout?.racks ?? 0, hostRack: [...(this.layout?.hostRack ?? [])], hostSlot: [...(this.layout?.hostSlot ?? [])], tickNs: this.layout?.tickNs ?? 0 },
      travels: [...this.travels.values()].map((t) => ({
        vm: t.vm,
        src: t.src,
        dst: t.dst,
        round: t.round,
        phase: t.phase,
        trip: t.shown,
        x: t.at[0],
        y: t.at[1],
        points: [...t.route.points],
        label: this.groups.find((g) => g.members.includes(t))?.label ?? t.text,
        group: this.groups.find((g) => g.members.includes(t))?.members.length ?? 1,
      })),
      groups: this.groups.map((g) => ({ x: g.x, y: g.y, n: g.members.length, label: g.label, open: g.open })),
      markers: this.markers.map((m) => ({ vm: m.vm, text: m.text, reason: m.reason, ring: { ...m.ring }, alpha: m.alpha })),
      settled: this.pending === 0 && !this.fresh && this.gliders.length === 0 && [...this.travels.values()].every((t) => t.shown === t.trip),
      workerCost: { ...this.workerCost },
    };
  }

  /** Tile of a VM as drawn (top-left), for inspection. */
  tileAt(vm: number): { x: number; y: number } {
    return { x: this.drawX[vm], y: this.drawY[vm] };
  }
}
