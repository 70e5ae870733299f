// The visualizer page. It asks the server for the scenario, starts one simulation
// worker per pane (two in compare mode, run in lockstep), and draws each frame with
// PixiJS: racks as columns of hosts, VMs as tiles inside their host coloured by the
// chosen metric, rack uplinks, and migrating VMs in blue travelling between hosts.
// Controls: play/pause, step, speed, colour metric, a timeline to scrub, zoom (wheel)
// and pan (drag); a click shows a host's or a VM's details. The page only reads the
// simulation's state.

import { Application, Container, Graphics, Particle, ParticleContainer, Text, Texture } from 'pixi.js';
import type { Frame, FromWorker, Layout, ToWorker } from './protocol';

interface ScenarioInfo {
  readonly text: string;
  readonly file: string;
  readonly compare?: { readonly label: string; readonly set: Array<{ path: string; value: unknown }> };
  readonly report?: string;
}

const HOST_W = 120;
const HOST_H = 64;
const GAP = 14;
const TILE = 11;

function colour(v: number): number {
  // green → amber → red
  if (v < 0.5) return lerp(0x2e7d32, 0xf9a825, v * 2);
  return lerp(0xf9a825, 0xc62828, (v - 0.5) * 2);
}

function lerp(a: number, b: number, t: number): number {
  const c = (s: number) => Math.round(((a >> s) & 255) + (((b >> s) & 255) - ((a >> s) & 255)) * t) << s;
  return c(16) | c(8) | c(0);
}

class Pane {
  readonly worker: Worker;
  layout?: Layout;
  frame?: Frame;
  readonly world = new Container();
  /** Host boxes and uplinks: drawn once. */
  private readonly hosts = new Graphics();
  /** Host load bars: redrawn when a frame arrives. */
  private readonly bars = new Graphics();
  /** VM tiles: one batched particle each, so 10,000 VMs cost one draw call. */
  private readonly tiles = new ParticleContainer({ dynamicProperties: { position: true, color: true } });
  private particles: Particle[] = [];
  private readonly labels = new Container();
  /** A new frame arrived since the last draw. */
  dirty = false;
  /** Animated positions of VM tiles (x, y), for migrations that travel. */
  private pos = new Float32Array(0);
  pending = 0;

  constructor(
    readonly app: Application,
    readonly title: string,
    readonly offsetX: number,
    onMessage: (pane: Pane, m: FromWorker) => void,
  ) {
    this.worker = new Worker(new URL('./sim-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(this, e.data);
    this.world.x = offsetX;
    this.world.addChild(this.hosts, this.bars, this.tiles, this.labels);
    app.stage.addChild(this.world);
  }

  send(m: ToWorker): void {
    this.pending++;
    this.worker.postMessage(m);
  }

  hostXY(h: number): [number, number] {
    const l = this.layout!;
    return [20 + l.hostRack[h] * (HOST_W + GAP * 2), 60 + l.hostSlot[h] * (HOST_H + GAP)];
  }

  /** Tile position of the i-th VM of a host. */
  tileXY(h: number, k: number): [number, number] {
    const [x, y] = this.hostXY(h);
    const perRow = Math.floor((HOST_W - 8) / (TILE + 2));
    return [x + 4 + (k % perRow) * (TILE + 2), y + 18 + Math.floor(k / perRow) * (TILE + 2)];
  }

  drawStatic(): void {
    const l = this.layout!;
    this.labels.removeChildren();
    this.labels.addChild(new Text({ text: this.title, style: { fontSize: 14, fill: 0x222222, fontWeight: 'bold' } }));
    for (let r = 0; r < l.racks; r++) {
      const t = new Text({ text: `rack ${r}`, style: { fontSize: 11, fill: 0x555555 } });
      t.x = 20 + r * (HOST_W + GAP * 2);
      t.y = 36;
      this.labels.addChild(t);
    }
    this.pos = new Float32Array(l.vmNames.length * 2).fill(NaN);
    const g = this.hosts;
    g.clear();
    // The aggregation layer above the racks.
    if (l.racks > 1) g.moveTo(20 + HOST_W / 2, 46).lineTo(20 + (l.racks - 1) * (HOST_W + GAP * 2) + HOST_W / 2, 46).stroke({ width: 2, color: 0x90a4ae });
    for (let h = 0; h < l.hostRack.length; h++) {
      const [x, y] = this.hostXY(h);
      g.rect(x, y, HOST_W, HOST_H).fill(0xffffff).stroke({ width: 1, color: 0x9e9e9e });
    }
    // The host boxes never change: render them once into a texture.
    g.cacheAsTexture(true);
    const scale = TILE / Texture.WHITE.width;
    this.particles = l.vmNames.map(() => new Particle({ texture: Texture.WHITE, scaleX: scale, scaleY: scale, alpha: 0 }));
    this.tiles.particleChildren.length = 0;
    this.tiles.particleChildren.push(...this.particles);
    this.tiles.update();
  }

  draw(): void {
    const l = this.layout;
    const f = this.frame;
    if (!l || !f) return;
    if (this.dirty) {
      const g = this.bars;
      g.clear();
      // Rack uplinks, thicker and redder with their utilization.
      for (let r = 0; r < l.racks; r++) {
        const x = 20 + r * (HOST_W + GAP * 2) + HOST_W / 2;
        const u = Math.min(1, f.rackLinks[r] ?? 0);
        g.moveTo(x, 46).lineTo(x, 58).stroke({ width: 2 + 6 * u, color: u > 0 ? colour(u) : 0x90a4ae });
      }
      for (let h = 0; h < l.hostRack.length; h++) {
        const [x, y] = this.hostXY(h);
        g.rect(x + 4, y + 6, (HOST_W - 8) * Math.min(1, f.hostLoad[h]), 6).fill(colour(Math.min(1, f.hostLoad[h])));
      }
    }
    const count = new Int32Array(l.hostRack.length);
    for (let v = 0; v < f.vmHost.length; v++) {
      const p = this.particles[v];
      const h = f.vmHost[v];
      if (h < 0) {
        p.alpha = 0;
        continue;
      }
      const [tx, ty] = this.tileXY(h, count[h]++);
      // Tiles glide to their place: a migrated VM visibly travels to its new host.
      let x = this.pos[2 * v];
      let y = this.pos[2 * v + 1];
      if (Number.isNaN(x)) {
        x = tx;
        y = ty;
      } else if (x !== tx || y !== ty) {
        x += (tx - x) * 0.2;
        y += (ty - y) * 0.2;
        if (Math.abs(tx - x) < 0.5 && Math.abs(ty - y) < 0.5) {
          x = tx;
          y = ty;
        }
      }
      this.pos[2 * v] = x;
      this.pos[2 * v + 1] = y;
      p.x = x;
      p.y = y;
      p.alpha = 1;
      if (this.dirty) p.tint = f.vmMigrating[v] ? 0x1565c0 : colour(f.vmValue[v]);
    }
    this.dirty = false;
  }

  /** The host or VM at a point in world coordinates. */
  pick(px: number, py: number): { kind: 'vm' | 'host'; index: number } | undefined {
    const l = this.layout;
    const f = this.frame;
    if (!l || !f) return undefined;
    for (let v = 0; v < f.vmHost.length; v++) {
      const x = this.pos[2 * v];
      const y = this.pos[2 * v + 1];
      if (px >= x && px <= x + TILE && py >= y && py <= y + TILE) return { kind: 'vm', index: v };
    }
    for (let h = 0; h < l.hostRack.length; h++) {
      const [x, y] = this.hostXY(h);
      if (px >= x && px <= x + HOST_W && py >= y && py <= y + HOST_H) return { kind: 'host', index: h };
    }
    return undefined;
  }
}

async function main(): Promise<void> {
  const stage = document.getElementById('stage')!;
  const errorBox = document.getElementById('error')!;
  const showError = (message: string) => {
    errorBox.style.display = 'block';
    errorBox.textContent = `This scenario cannot run:\n\n${message}`;
  };
  let info: ScenarioInfo;
  try {
    const res = await fetch('./scenario.json');
    info = (await res.json()) as ScenarioInfo;
  } catch (e) {
    showError(`the page could not load the scenario from the server: ${(e as Error).message}`);
    return;
  }
  if (info.report) (document.getElementById('report') as HTMLAnchorElement).href = info.report;
  const app = new Application();
  await app.init({ resizeTo: stage, background: 0xfafafa, antialias: true, preference: 'webgl' });
  stage.appendChild(app.canvas);
  const hud = document.getElementById('hud')!;
  const log = document.getElementById('log')!;
  const details = document.getElementById('details')!;
  const metricSel = document.getElementById('metric') as HTMLSelectElement;
  const speedSel = document.getElementById('speed') as HTMLSelectElement;
  const timeline = document.getElementById('timeline') as HTMLInputElement;
  const playBtn = document.getElementById('play')!;
  let playing = true;
  /** Simulated seconds per wall-clock second. */
  let speed = 1;
  let lastFrameMs = performance.now();
  let budget = 0;
  let lastSelection: { pane: Pane; kind: 'vm' | 'host'; index: number } | undefined;

  const onMessage = (pane: Pane, m: FromWorker) => {
    if (m.type === 'error') {
      showError(m.message);
      playing = false;
      return;
    }
    if (m.type === 'layout') {
      pane.layout = m.layout;
      pane.drawStatic();
      return;
    }
    pane.pending--;
    pane.frame = m.frame;
    pane.dirty = true;
    for (const e of m.frame.events) {
      const line = document.createElement('div');
      line.textContent = `${panes.length > 1 ? `[${pane.title}] ` : ''}${e}`;
      log.prepend(line);
    }
    while (log.childElementCount > 300) log.lastElementChild!.remove();
    renderHud();
    if (lastSelection?.pane === pane) showDetails(lastSelection);
  };

  const panes = [new Pane(app, info.compare ? 'A: as written' : info.file, 0, onMessage)];
  panes[0].send({ type: 'start', text: info.text, file: info.file });
  if (info.compare) {
    const b = new Pane(app, `B: ${info.compare.label}`, 10, onMessage);
    panes.push(b);
    b.send({ type: 'start', text: info.text, file: info.file, set: info.compare.set });
  }

  const renderHud = () => {
    const p = panes[0];
    if (!p.layout || !p.frame) return;
    const keys = ['dc.vms.running', 'dc.hosts.cpu-load.mean', 'workload.dirty-pages', 'migration.succeeded', 'migration.failed', 'mmu.exits', 'guest.instructions'];
    const rows = panes.filter((q) => q.frame).map((q) => {
      const m = new Map(q.frame?.metrics.map(([k, v, u]) => [k, `${Number.isInteger(v) ? v : v.toPrecision(4)} ${u}`]) ?? []);
      const moving = q.frame!.vmRound.filter((r) => r > 0);
      const migrating = moving.length ? `<br>migrating: ${moving.length} VMs, rounds ${Math.min(...moving)}–${Math.max(...moving)}` : '';
      return `<b>${q.title}</b><br>${(q.frame!.timeNs / 1e9).toFixed(2)} s, tick ${q.frame!.tick}${migrating}<br>${keys.filter((k) => m.has(k)).map((k) => `${k}: ${m.get(k)}`).join('<br>')}`;
    });
    hud.innerHTML = `plugins: ${p.layout.plugins.join(', ')}<br>${rows.join('<br><br>')}`;
    timeline.value = String(Math.round((p.frame.timeNs / Math.max(1, p.layout.durationNs)) * 1000));
  };

  const showDetails = (sel: { pane: Pane; kind: 'vm' | 'host'; index: number }) => {
    const { pane, kind, index } = sel;
    const f = pane.frame!;
    const l = pane.layout!;
    if (kind === 'vm') {
      const migration = f.vmMigrating[index] ? `migrating: round ${f.vmRound[index]}, ${(f.vmProgress[index] * 100).toFixed(0)}% of its memory sent` : 'running';
      details.textContent = `VM ${l.vmNames[index]}\nhost ${f.vmHost[index]}\n${metricSel.value}: ${f.vmValue[index].toFixed(3)}\n${migration}`;
    } else {
      const vms = [...f.vmHost].filter((h) => h === index).length;
      details.textContent = `host ${index}\nrack ${l.hostRack[index]}, slot ${l.hostSlot[index]}\n${l.hostCores[index]} cores, load ${(f.hostLoad[index] * 100).toFixed(1)}%\n${vms} VMs`;
    }
  };

  // Zoom with the wheel, pan by dragging, pick by clicking.
  let drag: { x: number; y: number; moved: boolean } | undefined;
  app.canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const k = e.deltaY < 0 ? 1.1 : 1 / 1.1;
    app.stage.scale.set(app.stage.scale.x * k);
  });
  app.canvas.addEventListener('pointerdown', (e) => (drag = { x: e.clientX, y: e.clientY, moved: false }));
  app.canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) {
      app.stage.x += dx;
      app.stage.y += dy;
      drag.x = e.clientX;
      drag.y = e.clientY;
    }
  });
  app.canvas.addEventListener('pointerup', (e) => {
    const wasDrag = drag?.moved;
    drag = undefined;
    if (wasDrag) return;
    const rect = app.canvas.getBoundingClientRect();
    const sx = (e.clientX - rect.left - app.stage.x) / app.stage.scale.x;
    const sy = (e.clientY - rect.top - app.stage.y) / app.stage.scale.y;
    for (const pane of panes) {
      const hit = pane.pick(sx - pane.world.x, sy - pane.world.y);
      if (hit) {
        lastSelection = { pane, ...hit };
        showDetails(lastSelection);
        return;
      }
    }
  });
  playBtn.addEventListener('click', () => {
    playing = !playing;
    playBtn.textContent = playing ? 'Pause' : 'Play';
  });
  document.getElementById('step')!.addEventListener('click', () => {
    for (const p of panes) p.send({ type: 'run', ticks: 1, metric: metricSel.value as 'cpu' | 'dirty' });
  });
  speedSel.addEventListener('change', () => (speed = Number(speedSel.value)));
  speed = Number(speedSel.value);
  timeline.addEventListener('change', () => {
    const l = panes[0].layout;
    if (!l) return;
    const target = Math.round(((Number(timeline.value) / 1000) * l.durationNs) / l.tickNs);
    for (const p of panes) p.send({ type: 'seek', tick: target, metric: metricSel.value as 'cpu' | 'dirty' });
  });

  app.ticker.add(() => {
    // Lay the panes out side by side.
    if (panes.length > 1 && panes[0].layout) panes[1].world.x = 40 + panes[0].layout.racks * (HOST_W + GAP * 2);
    const now = performance.now();
    const wallNs = Math.min(100, now - lastFrameMs) * 1e6;
    lastFrameMs = now;
    if (playing && panes.every((p) => p.layout && p.pending === 0 && !p.frame?.done)) {
      // Speed ×s: s simulated seconds per wall-clock second, in whole ticks.
      budget += (wallNs * speed) / panes[0].layout!.tickNs;
      const ticks = Math.floor(budget);
      if (ticks > 0) {
        budget -= ticks;
        // Lockstep: both panes advance by the same number of ticks.
        for (const p of panes) p.send({ type: 'run', ticks, metric: metricSel.value as 'cpu' | 'dirty' });
      }
    }
    for (const p of panes) p.draw();
  });
}

void main();
