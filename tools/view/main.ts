// The visualizer page. It asks the server for the scenario, starts one simulation
// worker per pane (two in compare mode, run in lockstep), and draws their frames with
// PixiJS (tools/view/scene.ts). Controls: play/pause, step, speed, colour metric, a
// timeline to scrub, zoom (wheel) and pan (drag); a click shows a host's or a VM's
// details. The page only reads the simulation's state.
//
// Rendering is decoupled from simulation: each animation frame asks the workers for as
// many ticks as the speed calls for (capped by what they step in about 40 ms, so the
// answer comes back quickly), applies whatever frame has arrived, and draws only when
// something visible changed. The HUD and the details refresh a few times a second,
// not on every frame. `window.virtlabView` lets the tests and the benchmark read what
// the scene shows and how long frames take; it changes nothing.

import { Application } from 'pixi.js';
import { MigPhase, NIC_STRIDE, NicField, type FromWorker, type Metric } from './protocol';
import { COLOR_BACKGROUND } from './palette';
import { Pane, type PaneInspection } from './scene';

interface ScenarioInfo {
  readonly text: string;
  readonly file: string;
  readonly compare?: { readonly label: string; readonly set: Array<{ path: string; value: unknown }> };
  readonly report?: string;
}

/** What `window.virtlabView` offers. */
export interface ViewInspection {
  /** The renderer draws in software (SwiftShader, llvmpipe): resolution is then held at 1. */
  readonly software: boolean;
  readonly resolution: number;
  panes(): PaneInspection[];
  /** A VM's tile as drawn, world coordinates of its pane. */
  tile(pane: number, vm: number): { x: number; y: number };
  /** Starts counting frames afresh. */
  resetStats(): void;
  /** Per animation frame since the reset: ms since the previous one, ms of JS in it, and whether it drew. */
  stats(): { interval: number[]; js: number[]; rendered: number[] };
}

const STATS = 8192;
const stats = { n: 0, interval: new Float64Array(STATS), js: new Float64Array(STATS), rendered: new Uint8Array(STATS) };

/** Whether WebGL runs on a software rasterizer, where every pixel costs CPU time. */
function softwareRenderer(app: Application): boolean {
  const gl = (app.renderer as unknown as { gl?: WebGL2RenderingContext }).gl;
  if (!gl) return false;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  return /swiftshader|llvmpipe|softpipe|software/i.test(name);
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
  // No multisampling: the scene is axis-aligned rectangles, and MSAA triples the cost of
  // every pixel on a software rasterizer. High-DPI screens get at most twice the pixels.
  await app.init({ resizeTo: stage, background: COLOR_BACKGROUND, antialias: false, preference: 'webgl', autoStart: false, resolution: Math.min(2, window.devicePixelRatio || 1), autoDensity: true });
  app.ticker.stop();
  const software = softwareRenderer(app);
  if (software && app.renderer.resolution !== 1) app.renderer.resize(app.screen.width, app.screen.height, 1);
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
  let budget = 0;
  let needsRender = true;
  let lastHudMs = 0;
  let lastSelection: { pane: Pane; kind: 'vm' | 'host'; index: number } | undefined;
  const latestMetrics = new Map<Pane, Array<[string, number, string]>>();
  const metric = () => metricSel.value as Metric;

  const onMessage = (pane: Pane, m: FromWorker) => {
    if (m.type === 'error') {
      showError(m.message);
      playing = false;
      return;
    }
    if (m.type === 'layout') {
      pane.setLayout(m.layout);
      if (panes.length > 1 && panes[0].geo) panes[1].world.x = 40 + panes[0].geo.width;
      needsRender = true;
      return;
    }
    pane.pending--;
    pane.receive(m.frame);
    for (const e of m.frame.events) {
      const line = document.createElement('div');
      line.textContent = `${panes.length > 1 ? `[${pane.title}] ` : ''}${e}`;
      log.prepend(line);
    }
    while (log.childElementCount > 300) log.lastElementChild!.remove();
    if (m.frame.metrics) {
      latestMetrics.set(pane, m.frame.metrics);
      renderHud();
      if (lastSelection?.pane === pane) showDetails(lastSelection);
    }
  };

  const panes = [new Pane(info.compare ? 'A: as written' : info.file, 0, onMessage)];
  if (info.compare) panes.push(new Pane(`B: ${info.compare.label}`, 10, onMessage));
  for (const p of panes) app.stage.addChild(p.world);
  panes[0].send({ type: 'start', text: info.text, file: info.file });
  if (info.compare) panes[1].send({ type: 'start', text: info.text, file: info.file, set: info.compare.set });

  const renderHud = () => {
    const p = panes[0];
    if (!p.layout || !p.frame) return;
    const keys = ['dc.vms.running', 'dc.hosts.cpu-load.mean', 'workload.dirty-pages', 'migration.succeeded', 'migration.failed', 'net.links.utilization.max', 'mmu.exits', 'guest.instructions', 'gpu.utilization', 'gpu.kernels'];
    const rows = panes
      .filter((q) => q.frame)
      .map((q) => {
        const m = new Map(latestMetrics.get(q)?.map(([k, v, u]) => [k, `${Number.isInteger(v) ? v : v.toPrecision(4)} ${u}`]) ?? []);
        const rounds = q.rounds();
        const migrating = rounds.length ? `<br>migrating: ${rounds.length} VMs, rounds ${Math.min(...rounds)}–${Math.max(...rounds)}` : '';
        return `<b>${q.title}</b><br>${(q.frame!.timeNs / 1e9).toFixed(2)} s, tick ${q.frame!.tick}${migrating}<br>${keys
          .filter((k) => m.has(k))
          .map((k) => `${k}: ${m.get(k)}`)
          .join('<br>')}`;
      });
    const rendering = software ? '<br>rendering: software WebGL, resolution 1' : '';
    hud.innerHTML = `plugins: ${p.layout.plugins.join(', ')}${rendering}<br>${rows.join('<br><br>')}`;
    timeline.value = String(Math.round((p.frame.timeNs / Math.max(1, p.layout.durationNs)) * 1000));
  };

  const showDetails = (sel: { pane: Pane; kind: 'vm' | 'host'; index: number }) => {
    const { pane, kind, index } = sel;
    const f = pane.frame!;
    const l = pane.layout!;
    if (kind === 'vm') {
      const m = pane.migrationOf(index);
      const what = m ? (m.phase === MigPhase.POSTCOPY ? 'post-copy' : m.phase === MigPhase.STOP_AND_COPY ? 'stop-and-copy' : `round ${m.round}`) : '';
      const migration = m ? `migrating: ${what}, ${(m.trip * 100).toFixed(0)}% of this transfer, ${(m.sent * 100).toFixed(0)}% of its memory sent` : 'running';
      details.textContent = `VM ${l.vmNames[index]}\nhost ${f.vmHost[index]}\n${metricSel.value}: ${f.vmValue[index].toFixed(3)}\n${migration}`;
    } else {
      let vms = 0;
      for (let v = 0; v < f.vmHost.length; v++) if (f.vmHost[v] === index) vms++;
      const o = index * NIC_STRIDE;
      const fps = f.hostNic[o + NicField.FRAMES_PER_S];
      const nic = Number.isNaN(fps) ? '' : `\nNIC: ${(fps / 1e3).toFixed(1)} kframes/s, tx queue ${f.hostNic[o + NicField.TX_QUEUE]}, rx ring ${f.hostNic[o + NicField.RX_RING]}`;
      const gpu = f.hostGpu[index] >= 0 ? `\nGPUs busy ${(f.hostGpu[index] * 100).toFixed(1)}%` : '';
      details.textContent = `host ${index}\nrack ${l.hostRack[index]}, slot ${l.hostSlot[index]}\n${l.hostCores[index]} cores, load ${(f.hostLoad[index] * 100).toFixed(1)}%${gpu}\n${vms} VMs${nic}`;
    }
  };

  // Zoom with the wheel, pan by dragging, pick by clicking.
  let drag: { x: number; y: number; moved: boolean } | undefined;
  app.canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const k = e.deltaY < 0 ? 1.1 : 1 / 1.1;
    app.stage.scale.set(app.stage.scale.x * k);
    needsRender = true;
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
      needsRender = true;
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
  window.addEventListener('resize', () => (needsRender = true));
  playBtn.addEventListener('click', () => {
    playing = !playing;
    playBtn.textContent = playing ? 'Pause' : 'Play';
  });
  document.getElementById('step')!.addEventListener('click', () => {
    for (const p of panes) p.send({ type: 'run', ticks: 1, metric: metric(), metrics: true });
  });
  speedSel.addEventListener('change', () => (speed = Number(speedSel.value)));
  speed = Number(speedSel.value);
  timeline.addEventListener('change', () => {
    const l = panes[0].layout;
    if (!l) return;
    const target = Math.round(((Number(timeline.value) / 1000) * l.durationNs) / l.tickNs);
    for (const p of panes) p.send({ type: 'seek', tick: target, metric: metric() });
  });

  const inspection: ViewInspection = {
    software,
    resolution: app.renderer.resolution,
    panes: () => panes.map((p) => p.inspect()),
    tile: (pane, vm) => panes[pane].tileAt(vm),
    resetStats: () => (stats.n = 0),
    stats: () => {
      const n = Math.min(stats.n, STATS);
      return { interval: [...stats.interval.subarray(0, n)], js: [...stats.js.subarray(0, n)], rendered: [...stats.rendered.subarray(0, n)] };
    },
  };
  (window as unknown as { virtlabView: ViewInspection }).virtlabView = inspection;

  let lastMs = performance.now();
  const view = { x: 0, y: 0, w: 0, h: 0 };
  const loop = (now: number) => {
    requestAnimationFrame(loop);
    const t0 = performance.now();
    const interval = now - lastMs;
    const dt = Math.min(100, interval);
    lastMs = now;
    let ready = playing;
    let rate = Infinity;
    for (const p of panes) {
      ready &&= !!p.layout && p.pending === 0 && !p.frame?.done;
      rate = Math.min(rate, p.ticksPerMs);
    }
    if (ready) {
      // Speed ×s: s simulated seconds per wall-clock second, in whole ticks.
      budget += (dt * 1e6 * speed) / panes[0].layout!.tickNs;
      budget = Math.min(budget, rate > 0 ? Math.max(1, rate * 40) : 8);
      const ticks = Math.floor(budget);
      if (ticks > 0) {
        budget -= ticks;
        const metrics = now - lastHudMs > 250;
        if (metrics) lastHudMs = now;
        // Lockstep: both panes advance by the same number of ticks.
        for (const p of panes) p.send({ type: 'run', ticks, metric: metric(), metrics });
      }
    }
    let changed = needsRender;
    needsRender = false;
    const k = app.stage.scale.x;
    for (const p of panes) {
      // The visible area in the pane's own coordinates.
      view.x = -app.stage.x / k - p.world.x;
      view.y = -app.stage.y / k - p.world.y;
      view.w = app.screen.width / k;
      view.h = app.screen.height / k;
      changed = p.update(dt, playing, view) || changed;
    }
    if (changed) app.render();
    const i = stats.n++ % STATS;
    stats.interval[i] = interval;
    stats.js[i] = performance.now() - t0;
    stats.rendered[i] = changed ? 1 : 0;
  };
  requestAnimationFrame(loop);
}

void main();
