// The visualizer page. It asks the server for the scenario, starts one simulation
// worker per pane (two in compare mode, run in lockstep), and draws their frames with
// PixiJS (tools/view/scene.ts). The scene fits the view when it loads and when the
// window is resized (until the user zooms or pans; "fit" brings it back); labels are
// placed in screen space where they do not collide, and transfer labels clear of the
// tiles (tools/view/labels.ts). Around the scene: a timeline with time ticks and markers
// to jump to (all of the run's, from the start, where the worker can run ahead; zoomable
// to the span of the events), colour scales with numbers
// and units, live charts of the scenario's recorded metrics (and their differences in
// compare mode), a selected VM's history, workload and colour metric over time. The
// speed slows down by itself when a migration starts or switches, unless pinned. The
// page only reads the simulation's state.
//
// Rendering is decoupled from simulation: each animation frame asks the workers for as
// many ticks as the speed calls for (capped by the worker's time the pane may still ask
// for, which keeps the worker's share of the CPU bounded: tools/view/worker-credit.ts),
// applies whatever frame has arrived, and draws only when
// something visible changed. The HUD, charts and timeline refresh a few times a second,
// not on every frame. `window.virtlabView` lets the tests and the benchmark read what
// the page shows and how long frames take; it changes nothing.

import { Application, Container } from 'pixi.js';
import { MigPhase, NIC_STRIDE, NicField, type FromWorker, type Mark, type Metric, type Scale } from './protocol';
import { COLOR_BACKGROUND } from './palette';
import { BASE_CHANGED, OVERLAY_CHANGED, Pane, type PaneInspection } from './scene';
import { WorkerCredit } from './worker-credit';
import { Overlay } from './overlay';
import { LabelLayer, type Box, type LabelRequest, type PlacedLabel } from './labels';
import { activeWindow, drawChart, drawScale, drawTimeline, formatTime, formatValue, timelineTime, type ChartDrawn, type ScaleDrawn, type TimelineDrawn } from './charts';

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
  /** A point of a pane's world on the page (CSS pixels from the page's top-left). */
  toPage(pane: number, x: number, y: number): { x: number; y: number };
  /** The scene's zoom and the canvas' size. */
  view(): { scale: number; x: number; y: number; width: number; height: number; fitted: boolean };
  /** The labels shown, page pixels. */
  labels(): PlacedLabel[];
  /** The timeline as drawn, page pixels; `complete` once it was drawn with every marker of the run. */
  timeline(): (TimelineDrawn & { top: number; left: number; complete: boolean; zoomed: boolean }) | undefined;
  /** The colour scales as drawn, page pixels. */
  scales(): Array<ScaleDrawn & { top: number; left: number }>;
  /** The charts drawn, with their place on the page. */
  charts(): Array<ChartDrawn & { top: number; left: number; width: number; height: number; delta: boolean }>;
  /** The speed asked for, the speed in effect, how often it slowed down and why it did last. */
  speed(): { set: number; effective: number; pinned: boolean; slowed: number; reason: string };
  /** Starts counting frames afresh. */
  resetStats(): void;
  /**
   * Per animation frame since the reset: ms since the previous one, ms of JS in it, what
   * it drew (0: nothing; else BASE_CHANGED, OVERLAY_CHANGED or both), and where the JS
   * went: the workers' frames applied since the previous one (`messages`, outside the
   * animation frame), the scene's update, the labels' placement, PixiJS's render
   * submission, the side panels.
   */
  stats(): { interval: number[]; js: number[]; rendered: number[]; parts: Record<FramePart, number[]> };
}

const STATS = 8192;
export type FramePart = 'messages' | 'update' | 'labels' | 'render' | 'panels';
const PARTS: readonly FramePart[] = ['messages', 'update', 'labels', 'render', 'panels'];
const stats = {
  n: 0,
  interval: new Float64Array(STATS),
  js: new Float64Array(STATS),
  rendered: new Uint8Array(STATS),
  parts: Object.fromEntries(PARTS.map((k) => [k, new Float64Array(STATS)])) as Record<FramePart, Float64Array>,
};
/** The JS time of the workers' messages handled since the last animation frame. */
let messagesMs = 0;
/** The speed a migration starting or switching brings the page down to, for SLOW_HOLD_S wall-clock seconds, after which it doubles every second back to the speed set. */
const SLOW_SPEED = 1;
const SLOW_HOLD_S = 3;
/** Metrics charted when the scenario records none. */
const DEFAULT_CHARTS = ['dc.hosts.cpu-load.mean', 'net.links.utilization.max', 'migration.succeeded', 'workload.dirty-pages'];
const HUD_KEYS = ['dc.vms.running', 'dc.hosts.cpu-load.mean', 'workload.dirty-pages', 'migration.succeeded', 'migration.failed', 'net.links.utilization.max', 'mmu.exits', 'guest.instructions', 'gpu.utilization', 'gpu.kernels'];

/** Whether WebGL runs on a software rasterizer, where every pixel costs CPU time. */
function softwareRenderer(app: Application): boolean {
  const gl = (app.renderer as unknown as { gl?: WebGL2RenderingContext }).gl;
  if (!gl) return false;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  return /swiftshader|llvmpipe|softpipe|software/i.test(name);
}

/** Samples of a pane's metrics over simulated time. */
interface History {
  times: number[];
  values: Map<string, number[]>;
  units: Map<string, string>;
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
  // Two layers: the base (switches, hosts, links, VM tiles and the labels that move
  // only with the view), rendered with WebGL only when one of them changed, and above
  // it what moves (travelling tiles, markers) and the labels of transfers and
  // decisions, drawn with a 2D context (tools/view/overlay.ts). While migrations are in
  // flight the overlay changes on every frame and the base seldom does; one WebGL scene
  // would rasterize the 10,000 tiles again for every step of a travelling tile, and a
  // software rasterizer spends most of a frame on them. The page presents one opaque 2D
  // canvas: the base's pixels, copied from the WebGL canvas (kept off the page) when
  // they change, with the overlay drawn over them, so that the browser's compositor
  // blends no layer and copies no WebGL canvas on every frame.
  const app = new Application();
  const overlay = new Overlay(COLOR_BACKGROUND);
  // No multisampling: the scene is axis-aligned rectangles, and MSAA triples the cost of
  // every pixel on a software rasterizer. High-DPI screens get at most twice the pixels.
  const options = { resizeTo: stage, antialias: false, preference: 'webgl', autoStart: false, resolution: Math.min(2, window.devicePixelRatio || 1), autoDensity: true } as const;
  await app.init({ ...options, background: COLOR_BACKGROUND });
  const software = softwareRenderer(app);
  app.ticker.stop();
  if (software && app.renderer.resolution !== 1) app.renderer.resize(app.screen.width, app.screen.height, 1);
  overlay.resize(app.screen.width, app.screen.height, app.renderer.resolution);
  stage.append(overlay.canvas);
  // The scene zooms and pans; labels stay at their size, above it. `scene` holds the
  // view's translation and zoom (the overlay is drawn through them); the base layer's scene follows it.
  const scene = new Container();
  const baseScene = new Container();
  // Labels that move only with the view go on the base layer; those of transfers and decisions, which move with the tiles, above.
  const labelLayer = new LabelLayer(new Set(['title', 'switch', 'rack', 'link', 'host']));
  app.stage.addChild(baseScene, labelLayer.still);

  const hud = document.getElementById('hud')!;
  const log = document.getElementById('log')!;
  const details = document.getElementById('details')!;
  const vmChart = document.getElementById('vm-chart') as HTMLCanvasElement;
  const chartsBox = document.getElementById('charts')!;
  const metricSel = document.getElementById('metric') as HTMLSelectElement;
  const speedSel = document.getElementById('speed') as HTMLSelectElement;
  const pin = document.getElementById('pin') as HTMLInputElement;
  const speedState = document.getElementById('speed-state')!;
  const timelineCanvas = document.getElementById('timeline') as HTMLCanvasElement;
  const playBtn = document.getElementById('play')!;
  const scaleCanvases = ['scale-vm', 'scale-host', 'scale-link'].map((id) => document.getElementById(id) as HTMLCanvasElement);
  let playing = true;
  /** Simulated seconds per wall-clock second, as set. */
  let speed = 1;
  let slow: { since: number; reason: string } | undefined;
  let slowed = 0;
  let slowReason = '';
  let budget = 0;
  let needsRender = true;
  let lastPanelMs = 0;
  let lastPanelsDrawn = 0;
  let panelsStale = true;
  let fitted = true;
  let lastSelection: { pane: Pane; kind: 'vm' | 'host'; index: number } | undefined;
  const latestMetrics = new Map<Pane, Array<[string, number, string]>>();
  const histories = new Map<Pane, History>();
  /** The timeline's markers, of the first pane (both run the same scenario), without repeats after a seek. */
  const marks: Mark[] = [];
  const markKeys = new Set<string>();
  const addMark = (mk: Mark) => {
    const key = `${mk.timeNs}|${mk.kind}|${mk.text}`;
    if (markKeys.has(key)) return;
    markKeys.add(key);
    marks.push(mk);
  };
  /** How far the worker's run ahead has found the markers; undefined until it reports. */
  let ahead: { throughNs: number; complete: boolean } | undefined;
  /** The timeline shows the active window (where the events are) rather than the whole run. */
  let zoomed = false;
  /** The selected VM's colour value over time, sampled as frames arrive. */
  let vmSeries: { times: number[]; values: number[] } = { times: [], values: [] };
  let lastScale: Scale | undefined;
  let drawnTimeline: TimelineDrawn | undefined;
  let drawnScales: ScaleDrawn[] = [];
  let drawnCharts: Array<ChartDrawn & { canvas: HTMLCanvasElement; delta: boolean }> = [];
  const metric = () => metricSel.value as Metric;

  const onMessage = (pane: Pane, m: FromWorker) => {
    const t0 = performance.now();
    handleMessage(pane, m);
    messagesMs += performance.now() - t0;
  };
  const handleMessage = (pane: Pane, m: FromWorker) => {
    if (m.type === 'error') {
      showError(m.message);
      playing = false;
      return;
    }
    if (m.type === 'marks') {
      // Found by the worker's run ahead: every marker before the run on screen reaches it.
      if (pane !== panes[0]) return;
      for (const mk of m.marks) addMark(mk);
      ahead = { throughNs: m.throughNs, complete: m.complete };
      panelsStale = true;
      return;
    }
    if (m.type === 'layout') {
      pane.setLayout(m.layout);
      if (panes.length > 1 && panes[0].geo) panes[1].world.x = 40 + panes[0].geo.width;
      histories.set(pane, { times: [], values: new Map(), units: new Map() });
      fitted = true;
      fit();
      needsRender = true;
      return;
    }
    pane.pending--;
    pane.receive(m.frame);
    const f = m.frame;
    for (const e of f.events) {
      const line = document.createElement('div');
      line.textContent = `${panes.length > 1 ? `[${pane.title}] ` : ''}${e}`;
      log.prepend(line);
    }
    while (log.childElementCount > 300) log.lastElementChild!.remove();
    if (pane === panes[0]) {
      lastScale = f.scale;
      for (const mk of f.marks) {
        addMark(mk);
        // The run on screen reaches the event now (the run ahead may have marked it already).
        if ((mk.kind === 'migration' || mk.kind === 'switch') && !pin.checked && playing) {
          slow = { since: performance.now(), reason: `${mk.kind === 'migration' ? 'a migration starts' : 'a method switch'}: ${mk.text.replace(/ \(.*$/, '')}` };
          slowed++;
          slowReason = slow.reason;
        }
      }
      if (lastSelection?.pane === pane && lastSelection.kind === 'vm') {
        vmSeries.times.push(f.timeNs);
        vmSeries.values.push(f.vmValue[lastSelection.index] * f.scale.max);
      }
    }
    if (f.metrics) {
      latestMetrics.set(pane, f.metrics);
      const h = histories.get(pane);
      if (h) {
        // After a seek backwards, what lay ahead is dropped: it will be sampled again.
        while (h.times.length && h.times[h.times.length - 1] >= f.timeNs) {
          h.times.pop();
          for (const v of h.values.values()) v.pop();
        }
        h.times.push(f.timeNs);
        for (const [k, v, u] of f.metrics) {
          let col = h.values.get(k);
          if (!col) h.values.set(k, (col = new Array<number>(h.times.length - 1).fill(NaN)));
          col.push(v);
          h.units.set(k, u);
        }
        for (const col of h.values.values()) while (col.length < h.times.length) col.push(NaN);
      }
      panelsStale = true;
    }
  };

  const panes = [new Pane(info.compare ? 'A: as written' : info.file, 0, onMessage)];
  if (info.compare) panes.push(new Pane(`B: ${info.compare.label}`, 10, onMessage));
  for (const p of panes) {
    scene.addChild(p.world);
    baseScene.addChild(p.base);
  }
  panes[0].send({ type: 'start', text: info.text, file: info.file });
  if (info.compare) panes[1].send({ type: 'start', text: info.text, file: info.file, set: info.compare.set });

  /** Scales and centres the scene so that every pane fits the canvas. */
  function fit(): void {
    let w = 0;
    let h = 0;
    for (const p of panes) {
      if (!p.geo) continue;
      w = Math.max(w, p.world.x + p.geo.width + 10);
      h = Math.max(h, p.geo.bottom + 16);
    }
    if (!w || !h) return;
    const W = app.screen.width;
    const H = app.screen.height;
    const k = Math.max(0.02, Math.min(2.5, Math.min(W / w, (H - 8) / h)));
    scene.scale.set(k);
    scene.x = Math.round((W - w * k) / 2);
    scene.y = Math.round(Math.max(4, (H - h * k) / 2));
    needsRender = true;
  }

  const hostName = (pane: Pane, h: number) => pane.layout?.hostNames[h] ?? pane.hostName(h);

  const renderHud = () => {
    const p = panes[0];
    if (!p.layout || !p.frame) return;
    const rows = panes
      .filter((q) => q.frame)
      .map((q) => {
        // NaN: a gauge before the first sampling tick, which has no value yet.
        const m = new Map(latestMetrics.get(q)?.map(([k, v, u]) => [k, Number.isNaN(v) ? '—' : formatValue(v, u)]) ?? []);
        const unsampled = [...m.values()].includes('—') ? `\n— not yet sampled (first sample at ${formatTime(q.layout!.sampleNs / 1e9)})` : '';
        const rounds = q.rounds();
        const migrating = rounds.length ? `\nmigrating: ${rounds.length} VMs, rounds ${Math.min(...rounds)}–${Math.max(...rounds)}` : '';
        return `${q.title}\n${formatTime(q.frame!.timeNs / 1e9)} of ${formatTime(q.layout!.durationNs / 1e9)}, tick ${q.frame!.tick}${migrating}\n${HUD_KEYS.filter((k) => m.has(k))
          .map((k) => `${k}: ${m.get(k)}`)
          .join('\n')}${unsampled}`;
      });
    const rendering = software ? '\nrendering: software WebGL, resolution 1' : '';
    hud.textContent = `plugins: ${p.layout.plugins.join(', ')}${rendering}\n\n${rows.join('\n\n')}`;
  };

  const showDetails = (sel: { pane: Pane; kind: 'vm' | 'host'; index: number }) => {
    const { pane, kind, index } = sel;
    const f = pane.frame!;
    const l = pane.layout!;
    if (kind === 'vm') {
      const m = pane.migrationOf(index);
      const what = m ? (m.phase === MigPhase.POSTCOPY ? 'post-copy' : m.phase === MigPhase.STOP_AND_COPY ? 'stop-and-copy' : `round ${m.round}`) : '';
      const migration = m ? `migrating: ${what}, ${(m.trip * 100).toFixed(0)}% of this transfer, ${(m.sent * 100).toFixed(0)}% of its memory sent` : 'running';
      const host = f.vmHost[index] >= 0 ? hostName(pane, f.vmHost[index]) : 'not placed';
      const history = marks.filter((k) => k.vm === index && k.kind !== 'expect-pass' && k.kind !== 'expect-fail').map((k) => `  ${formatTime(k.timeNs / 1e9)}  ${k.text.replace(`${l.vmNames[index]}: `, '')}`);
      const scale = f.scale;
      details.textContent =
        `VM ${l.vmNames[index]}\non ${host}\n${migration}\nworkload: ${l.vmWorkload[index]}\n${scale.label}: ${formatValue(f.vmValue[index] * scale.max)} ${scale.unit}\n` +
        `migrations:${history.length ? `\n${history.join('\n')}` : ' none so far'}`;
      vmChart.style.display = 'block';
      drawChart(vmChart, `${l.vmNames[index]}: ${scale.label.replace(/ \(.*\)$/, '')}`, vmSeries.times, vmSeries.values, scale.unit, f.timeNs, Math.max(f.timeNs, 1));
    } else {
      vmChart.style.display = 'none';
      let vms = 0;
      for (let v = 0; v < f.vmHost.length; v++) if (f.vmHost[v] === index) vms++;
      const o = index * NIC_STRIDE;
      const fps = f.hostNic[o + NicField.FRAMES_PER_S];
      const nic = Number.isNaN(fps) ? '' : `\nNIC: ${formatValue(fps)} frames/s, tx queue ${f.hostNic[o + NicField.TX_QUEUE]}, rx ring ${f.hostNic[o + NicField.RX_RING]}`;
      const gpu = f.hostGpu[index] >= 0 ? `\nGPUs busy ${(f.hostGpu[index] * 100).toFixed(1)}%` : '';
      details.textContent = `host ${hostName(pane, index)}\n${l.hostCores[index]} cores, load ${(f.hostLoad[index] * 100).toFixed(1)}%${gpu}\n${vms} VMs${nic}`;
    }
  };

  /** Charts of the recorded metrics, one canvas each; in compare mode also B − A. */
  const renderCharts = () => {
    const a = panes[0];
    const ha = histories.get(a);
    if (!a.layout || !a.frame || !ha) return;
    const names = (a.layout.series.length ? a.layout.series : DEFAULT_CHARTS).filter((n) => ha.values.has(n));
    const hb = panes[1] ? histories.get(panes[1]) : undefined;
    const wanted = names.length + (hb ? names.length : 0);
    while (chartsBox.childElementCount < wanted) {
      const c = document.createElement('canvas');
      c.className = 'chart';
      chartsBox.appendChild(c);
    }
    while (chartsBox.childElementCount > wanted) chartsBox.lastElementChild!.remove();
    const canvases = [...chartsBox.children] as HTMLCanvasElement[];
    const end = Math.max(a.frame.timeNs, ha.times[ha.times.length - 1] ?? 0, 1);
    drawnCharts = [];
    names.forEach((n, i) => {
      const c = canvases[i];
      drawnCharts.push({ ...drawChart(c, n, ha.times, ha.values.get(n)!, ha.units.get(n) ?? '', a.frame!.timeNs, end), canvas: c, delta: false });
    });
    if (hb) {
      names.forEach((n, i) => {
        // The two panes advance in lockstep and sample together: B − A at A's sample times.
        const byTime = new Map(hb.times.map((t, j) => [t, hb.values.get(n)?.[j] ?? NaN]));
        const d = ha.times.map((t, j) => (byTime.get(t) ?? NaN) - ha.values.get(n)![j]);
        const c = canvases[names.length + i];
        drawnCharts.push({ ...drawChart(c, `Δ ${n} (B − A)`, ha.times, d, ha.units.get(n) ?? '', a.frame!.timeNs, end, true), canvas: c, delta: true });
      });
    }
  };

  /** What the scales show, as drawn last: they are drawn again only when it changes (or the window is resized). */
  let scalesKey = '';
  const renderScales = () => {
    const s = lastScale ?? { max: 100, unit: '% of its vCPUs', label: 'CPU demand' };
    const key = `${s.label}|${s.max}|${s.unit}`;
    if (key === scalesKey) return;
    scalesKey = key;
    drawnScales = [
      drawScale(scaleCanvases[0], `VM colour: ${s.label}`, s.max, s.unit),
      drawScale(scaleCanvases[1], 'host bar: CPU load (GPUs above it)', 100, '% of its cores'),
      drawScale(scaleCanvases[2], 'link colour and thickness: utilization', 100, '% of its capacity'),
    ];
  };

  // Whether the timeline as last drawn held every marker: the panels are redrawn a few
  // times a second, so what the page shows can lag what the worker has found.
  let drawnComplete = false;
  const renderTimeline = () => {
    const p = panes[0];
    if (!p.layout || !p.frame) return;
    const l = p.layout;
    const complete = ahead?.complete === true || p.frame.done;
    const note = complete
      ? ''
      : l.runsAhead
        ? `markers found up to ${formatTime(Math.round((ahead?.throughNs ?? 0) / 1e9))}`
        : 'markers appear as the run reaches them (too large to run ahead)';
    const span = zoomed ? activeWindow(marks, l.durationNs, l.tickNs) : { fromNs: 0, toNs: l.durationNs };
    drawnTimeline = drawTimeline(timelineCanvas, l.durationNs, p.frame.timeNs, marks, span, note);
    drawnComplete = complete;
    const zoomText = zoomed ? 'whole run' : 'zoom to events';
    if (zoomBtn.textContent !== zoomText) zoomBtn.textContent = zoomText;
  };

  /**
   * The side panels in pieces, one piece per animation frame, so that no frame pays for
   * all of them: the text (run, selection, speed) with the scales, the timeline, the charts.
   */
  const panelPieces = [
    () => {
      renderHud();
      renderScales();
      if (lastSelection) showDetails(lastSelection);
      const eff = effectiveSpeed(performance.now());
      const text = eff < speed ? `slowed to ×${eff < 1 ? eff.toFixed(1) : Math.round(eff)}: ${slow?.reason ?? ''}` : '';
      if (speedState.textContent !== text) speedState.textContent = text;
    },
    renderTimeline,
    renderCharts,
  ];
  /** The next piece of the panels to draw; 0 when they are drawn up to date. */
  let panelPiece = 0;

  /** The speed in effect: the speed set, or less for a while after an interesting event. */
  function effectiveSpeed(now: number): number {
    if (!slow || pin.checked) return speed;
    const cap = SLOW_SPEED * 2 ** Math.max(0, (now - slow.since) / 1000 - SLOW_HOLD_S);
    if (cap >= speed) {
      slow = undefined;
      return speed;
    }
    return Math.min(speed, cap);
  }

  const seek = (timeNs: number) => {
    const l = panes[0].layout;
    if (!l) return;
    const target = Math.max(0, Math.min(Math.round(l.durationNs / l.tickNs), Math.floor(timeNs / l.tickNs)));
    for (const p of panes) p.send({ type: 'seek', tick: target, metric: metric() });
  };

  // The timeline: a click on a marker jumps to just before it; elsewhere, to that time.
  timelineCanvas.addEventListener('click', (e) => {
    const l = panes[0].layout;
    if (!l || !drawnTimeline) return;
    const rect = timelineCanvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const near = drawnTimeline.marks.filter((m) => Math.abs(m.x - x) <= 4 && Math.abs(m.y - y) <= 8).sort((a, b) => Math.abs(a.x - x) - Math.abs(b.x - x))[0];
    if (near) seek(near.timeNs - l.tickNs);
    else seek(timelineTime(x, drawnTimeline));
  });
  timelineCanvas.addEventListener('mousemove', (e) => {
    if (!drawnTimeline || !panes[0].layout) return;
    const x = e.clientX - timelineCanvas.getBoundingClientRect().left;
    const here = drawnTimeline.marks.filter((m) => Math.abs(m.x - x) <= 4);
    timelineCanvas.title = here.length
      ? here
          .slice(0, 8)
          .map((m) => `${formatTime(m.timeNs / 1e9)}  ${m.text}`)
          .join('\n') + (here.length > 8 ? `\n… and ${here.length - 8} more` : '')
      : `jump to ${formatTime(Math.round(timelineTime(x, drawnTimeline) / 1e9))}`;
  });
  // Zoom to the span where the events happen, and back to the whole run.
  const zoomBtn = document.getElementById('zoom') as HTMLButtonElement;
  zoomBtn.addEventListener('click', () => {
    zoomed = !zoomed;
    renderTimeline();
  });

  // Zoom with the wheel (about the pointer), pan by dragging, pick by clicking, open a group by pointing at it.
  let drag: { x: number; y: number; moved: boolean } | undefined;
  overlay.canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const k = e.deltaY < 0 ? 1.1 : 1 / 1.1;
    const rect = overlay.canvas.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    scene.x = px - (px - scene.x) * k;
    scene.y = py - (py - scene.y) * k;
    scene.scale.set(scene.scale.x * k);
    fitted = false;
    needsRender = true;
  });
  const worldAt = (e: PointerEvent | MouseEvent) => {
    const rect = overlay.canvas.getBoundingClientRect();
    return { x: (e.clientX - rect.left - scene.x) / scene.scale.x, y: (e.clientY - rect.top - scene.y) / scene.scale.y };
  };
  overlay.canvas.addEventListener('pointerdown', (e) => (drag = { x: e.clientX, y: e.clientY, moved: false }));
  overlay.canvas.addEventListener('pointermove', (e) => {
    if (!drag) {
      const w = worldAt(e);
      for (const p of panes) if (p.hover(w.x - p.world.x, w.y - p.world.y)) needsRender = true;
      return;
    }
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) {
      scene.x += dx;
      scene.y += dy;
      drag.x = e.clientX;
      drag.y = e.clientY;
      fitted = false;
      needsRender = true;
    }
  });
  overlay.canvas.addEventListener('pointerleave', () => {
    for (const p of panes) if (p.hover(NaN, NaN)) needsRender = true;
  });
  overlay.canvas.addEventListener('pointerup', (e) => {
    const wasDrag = drag?.moved;
    drag = undefined;
    if (wasDrag) return;
    const w = worldAt(e);
    for (const pane of panes) {
      const hit = pane.pick(w.x - pane.world.x, w.y - pane.world.y);
      if (hit) {
        if (lastSelection?.kind !== hit.kind || lastSelection.index !== hit.index || lastSelection.pane !== pane) vmSeries = { times: [], values: [] };
        lastSelection = { pane, ...hit };
        showDetails(lastSelection);
        return;
      }
    }
  });
  document.getElementById('fit')!.addEventListener('click', () => {
    fitted = true;
    fit();
  });
  window.addEventListener('resize', () => {
    // The renderer follows the stage's size on its own; the scene is fitted again unless the user moved it.
    app.resize();
    overlay.resize(app.screen.width, app.screen.height, app.renderer.resolution);
    if (fitted) fit();
    scalesKey = '';
    panelsStale = true;
    needsRender = true;
  });
  playBtn.addEventListener('click', () => {
    playing = !playing;
    playBtn.textContent = playing ? 'Pause' : 'Play';
  });
  document.getElementById('step')!.addEventListener('click', () => {
    for (const p of panes) p.send({ type: 'run', ticks: 1, metric: metric(), metrics: true });
  });
  speedSel.addEventListener('change', () => {
    speed = Number(speedSel.value);
    slow = undefined;
  });
  pin.addEventListener('change', () => (slow = undefined));
  speed = Number(speedSel.value);
  metricSel.addEventListener('change', () => {
    vmSeries = { times: [], values: [] };
    panelsStale = true;
  });

  const stageRect = () => overlay.canvas.getBoundingClientRect();
  const pageOf = (el: Element) => {
    const r = el.getBoundingClientRect();
    return { top: r.top + window.scrollY, left: r.left + window.scrollX };
  };
  const inspection: ViewInspection = {
    software,
    resolution: app.renderer.resolution,
    panes: () => panes.map((p) => p.inspect()),
    tile: (pane, vm) => panes[pane].tileAt(vm),
    toPage: (pane, x, y) => {
      const r = stageRect();
      return { x: r.left + scene.x + (panes[pane].world.x + x) * scene.scale.x, y: r.top + scene.y + (panes[pane].world.y + y) * scene.scale.y };
    },
    view: () => ({ scale: scene.scale.x, x: scene.x, y: scene.y, width: app.screen.width, height: app.screen.height, fitted }),
    labels: () => {
      const r = stageRect();
      return labelLayer.placed.map((l) => ({ ...l, x: l.x + r.left, y: l.y + r.top }));
    },
    timeline: () => (drawnTimeline ? { ...drawnTimeline, ...pageOf(timelineCanvas), complete: drawnComplete, zoomed } : undefined),
    scales: () => drawnScales.map((s, i) => ({ ...s, ...pageOf(scaleCanvases[i]) })),
    charts: () =>
      drawnCharts.map(({ canvas, ...c }) => {
        const r = canvas.getBoundingClientRect();
        return { ...c, top: r.top, left: r.left, width: r.width, height: r.height };
      }),
    speed: () => ({ set: speed, effective: effectiveSpeed(performance.now()), pinned: pin.checked, slowed, reason: slowReason }),
    resetStats: () => (stats.n = 0),
    stats: () => {
      const n = Math.min(stats.n, STATS);
      const parts = Object.fromEntries(PARTS.map((k) => [k, [...stats.parts[k].subarray(0, n)]])) as Record<FramePart, number[]>;
      return { interval: [...stats.interval.subarray(0, n)], js: [...stats.js.subarray(0, n)], rendered: [...stats.rendered.subarray(0, n)], parts };
    },
  };
  (window as unknown as { virtlabView: ViewInspection }).virtlabView = inspection;

  let lastMs = performance.now();
  const view = { x: 0, y: 0, w: 0, h: 0 };
  const requests: LabelRequest[] = [];
  const obstacles: Box[] = [];
  let hostBoxes: Box[] = [];
  let hostBoxesKey = '';
  const views = panes.map(() => ({ x: 0, y: 0, w: 0, h: 0 }));
  const loop = (now: number) => {
    requestAnimationFrame(loop);
    const t0 = performance.now();
    const interval = now - lastMs;
    const dt = Math.min(100, interval);
    lastMs = now;
    let ready = playing;
    let rate = Infinity;
    let credit = Infinity;
    for (const p of panes) {
      p.credit.grow(dt);
      ready &&= !!p.layout && p.pending === 0 && !p.frame?.done && p.credit.open;
      rate = Math.min(rate, p.ticksPerMs);
      credit = Math.min(credit, p.credit.ms);
    }
    if (ready) {
      // Speed ×s: s simulated seconds per wall-clock second, in whole ticks.
      budget += (dt * 1e6 * effectiveSpeed(now)) / panes[0].layout!.tickNs;
      budget = Math.min(budget, WorkerCredit.cap(rate, credit));
      const ticks = Math.floor(budget);
      if (ticks > 0) {
        budget -= ticks;
        // Lockstep: both panes advance by the same number of ticks, and sample their metrics together.
        const metrics = now - lastPanelMs > 250;
        for (const p of panes) p.send({ type: 'run', ticks, metric: metric(), metrics });
        if (metrics) lastPanelMs = now;
      }
    }
    let changed = needsRender ? BASE_CHANGED | OVERLAY_CHANGED : 0;
    let drew = 0;
    const tUpdate = performance.now();
    let tLabels = tUpdate;
    let tRender = tUpdate;
    let tPanels = tUpdate;
    needsRender = false;
    const k = scene.scale.x;
    panes.forEach((p, i) => {
      // The visible area in the pane's own coordinates.
      view.x = -scene.x / k - p.world.x;
      view.y = -scene.y / k - p.world.y;
      view.w = app.screen.width / k;
      view.h = app.screen.height / k;
      Object.assign(views[i], view);
      changed |= p.update(dt, playing, view, k);
    });
    tLabels = performance.now();
    if (changed) {
      requests.length = 0;
      panes.forEach((p, i) => p.labels(requests, k, views[i]));
      // The tiles, on the canvas: transfer labels and decisions keep clear of them. The
      // host boxes are gathered again only when the view changed.
      const toCanvas = (list: Box[]) => {
        for (const o of list) {
          o.x = scene.x + o.x * k;
          o.y = scene.y + o.y * k;
          o.w *= k;
          o.h *= k;
        }
      };
      const hostKey = `${scene.x},${scene.y},${k},${app.screen.width},${app.screen.height},${panes.map((p) => `${p.world.x}:${p.geo?.hosts}`).join()}`;
      if (hostKey !== hostBoxesKey) {
        hostBoxesKey = hostKey;
        hostBoxes = [];
        panes.forEach((p, i) => p.hostObstacles(hostBoxes, views[i]));
        toCanvas(hostBoxes);
      }
      obstacles.length = 0;
      panes.forEach((p) => p.groupObstacles(obstacles));
      toCanvas(obstacles);
      // Anchors are in the scene's coordinates (each pane adds its offset).
      const labelsMoved = labelLayer.place(
        requests,
        (r, out) => {
          out[0] = scene.x + r.x * k;
          out[1] = scene.y + r.y * k;
        },
        app.screen.width,
        app.screen.height,
        obstacles,
        hostBoxes,
      );
      if (labelLayer.stillChanged) changed |= BASE_CHANGED;
      tRender = performance.now();
      if (changed & BASE_CHANGED) {
        baseScene.position.copyFrom(scene.position);
        baseScene.scale.copyFrom(scene.scale);
        app.render();
        overlay.setBase(app.canvas);
        drew |= BASE_CHANGED;
      }
      // A new base is presented with the overlay drawn over it again; an overlay that
      // covers the same pixels as before presents nothing new.
      const presented = overlay.draw(
        panes.map((p) => ({ batch: p.overlay, offsetX: p.world.x, offsetY: p.world.y })),
        scene.x,
        scene.y,
        k,
        labelLayer.moving,
      );
      if (presented && (changed & OVERLAY_CHANGED || labelsMoved)) drew |= OVERLAY_CHANGED;
    }
    tPanels = performance.now();
    if (!changed) tRender = tPanels;
    // The side panels and the timeline a few times a second, when something in them changed.
    if (panelPiece > 0 || (panelsStale && now - lastPanelsDrawn > 200)) {
      if (panelPiece === 0) {
        panelsStale = false;
        lastPanelsDrawn = now;
      }
      panelPieces[panelPiece]();
      panelPiece = (panelPiece + 1) % panelPieces.length;
    }
    const i = stats.n++ % STATS;
    stats.interval[i] = interval;
    const t1 = performance.now();
    stats.js[i] = t1 - t0;
    stats.rendered[i] = drew;
    stats.parts.messages[i] = messagesMs;
    stats.parts.update[i] = tLabels - tUpdate;
    stats.parts.labels[i] = tRender - tLabels;
    stats.parts.render[i] = tPanels - tRender;
    stats.parts.panels[i] = t1 - tPanels;
    messagesMs = 0;
  };
  requestAnimationFrame(loop);
}

void main();
