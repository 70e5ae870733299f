// The visualizer's 2D-canvas pieces beside the WebGL scene: the timeline under it (time
// ticks, a cursor at the current time, and markers for migrations, method switches,
// failures and expectation results), the colour scales with their numbers and units,
// and the small line charts of metrics over simulated time (a VM's, the scenario's
// recorded series, and in compare mode the difference B − A). Each function draws one
// canvas from the numbers it is given and returns where it put what, for the page's
// inspection hook (the tests look at those places in screenshots).

import type { Mark, MarkKind } from './protocol';
import { heat } from './palette';

export const MARK_COLORS: Readonly<Record<MarkKind, string>> = {
  migration: '#1565c0',
  'migration-end': '#2e7d32',
  switch: '#8e24aa',
  fault: '#c62828',
  'expect-pass': '#2e7d32',
  'expect-fail': '#c62828',
};
/** Rows of the timeline's markers, top to bottom. */
const MARK_ROWS: Readonly<Record<MarkKind, number>> = { migration: 0, 'migration-end': 0, switch: 1, fault: 2, 'expect-pass': 2, 'expect-fail': 2 };

const hexColor = (c: number) => `#${c.toString(16).padStart(6, '0')}`;

/** A canvas sized to its CSS box (device pixels), with a context scaled to CSS pixels. */
export function prepare(canvas: HTMLCanvasElement, cssHeight?: number): { g: CanvasRenderingContext2D; w: number; h: number } {
  const ratio = Math.min(2, window.devicePixelRatio || 1);
  const w = canvas.clientWidth || canvas.parentElement?.clientWidth || 300;
  const h = cssHeight ?? (canvas.clientHeight || 60);
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    canvas.style.height = `${h}px`;
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';
  return { g, w, h };
}

/** Seconds as a time of the run: "45 s", "2:05", "1:02:05". */
export function formatTime(s: number): string {
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(s < 10 ? 1 : 0)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** A step of 1, 2 or 5 × 10^k (or of minutes and hours) that puts about `n` ticks on a span. */
export function niceStep(span: number, n: number, time = false): number {
  const raw = span / Math.max(1, n);
  if (time && raw >= 45) {
    for (const s of [60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400]) if (s >= raw) return s;
  }
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
/** A number for a person: binary units for bytes, thousands separators, a few significant digits. */
export function formatValue(v: number, unit = ''): string {
  if (!Number.isFinite(v)) return '—';
  if (unit === 'bytes' || unit === 'B') {
    let i = 0;
    let x = Math.abs(v);
    while (x >= 1024 && i < BINARY.length - 1) {
      x /= 1024;
      i++;
    }
    return `${v < 0 ? '−' : ''}${i ? x.toPrecision(3) : x.toFixed(0)} ${BINARY[i]}`;
  }
  if (unit === 'ns') return Math.abs(v) >= 1e9 ? `${(v / 1e9).toPrecision(3)} s` : Math.abs(v) >= 1e6 ? `${(v / 1e6).toPrecision(3)} ms` : `${(v / 1e3).toPrecision(3)} µs`;
  if (unit === 'ratio') return `${(v * 100).toPrecision(3)} %`;
  const abs = Math.abs(v);
  const text = Number.isInteger(v) || abs >= 1000 ? Math.round(v).toLocaleString('en-US') : abs >= 1 ? v.toFixed(2) : v.toPrecision(3);
  return `${text.replace('-', '−')}${unit && unit !== 'count' ? ` ${unit}` : ''}`;
}

export interface TimelineMarkAt {
  readonly x: number;
  readonly y: number;
  readonly kind: MarkKind;
  readonly text: string;
  readonly timeNs: number;
}
export interface TimelineDrawn {
  readonly ticks: Array<{ x: number; label: string }>;
  readonly marks: TimelineMarkAt[];
  /** The cursor's x, or −1 when the current time is outside the span shown. */
  readonly cursorX: number;
  /** The axis' ends, canvas pixels. */
  readonly x0: number;
  readonly x1: number;
  /** The span of the run shown, ns: the whole run, or the window where its events happen. */
  readonly fromNs: number;
  readonly toNs: number;
  /** A note beside the markers (how far they are known), if any. */
  readonly note: string;
}

const PAD = 14;

/** The x of a time on the timeline's axis, which shows `fromNs` to `toNs`. */
export const timelineX = (timeNs: number, toNs: number, w: number, fromNs = 0) => PAD + (w - 2 * PAD) * Math.min(1, Math.max(0, (timeNs - fromNs) / Math.max(1, toNs - fromNs)));

/** The time at x on a timeline drawn as `d`. */
export const timelineTime = (x: number, d: TimelineDrawn) => d.fromNs + ((x - d.x0) / Math.max(1, d.x1 - d.x0)) * (d.toNs - d.fromNs);

/**
 * The active window of a run: the span from its first to its last event (migrations,
 * switches, failures; not the expectation results at the end), widened by a tenth on
 * each side and by a few ticks, within the run. The whole run when it has no events.
 */
export function activeWindow(marks: readonly Mark[], durationNs: number, tickNs: number): { fromNs: number; toNs: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of marks) {
    if (m.kind === 'expect-pass' || m.kind === 'expect-fail') continue;
    lo = Math.min(lo, m.timeNs);
    hi = Math.max(hi, m.timeNs);
  }
  if (!(hi >= lo)) return { fromNs: 0, toNs: durationNs };
  const pad = Math.max(0.1 * (hi - lo), 5 * tickNs);
  return { fromNs: Math.max(0, lo - pad), toNs: Math.min(durationNs, hi + pad) };
}

/**
 * Draws the timeline over `span` (default the whole run): ticks with times, a row of
 * markers per kind of event, the cursor at `nowNs`, and `note` at the top right.
 */
export function drawTimeline(canvas: HTMLCanvasElement, durationNs: number, nowNs: number, marks: readonly Mark[], span = { fromNs: 0, toNs: durationNs }, note = ''): TimelineDrawn {
  const { g, w, h } = prepare(canvas, 64);
  g.fillStyle = '#fafafa';
  g.fillRect(0, 0, w, h);
  const axisY = 44;
  const x0 = PAD;
  const x1 = w - PAD;
  const { fromNs, toNs } = span;
  const X = (t: number) => timelineX(t, toNs, w, fromNs);
  g.strokeStyle = '#90a4ae';
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(x0, axisY + 0.5);
  g.lineTo(x1, axisY + 0.5);
  g.stroke();
  const from = fromNs / 1e9;
  const to = toNs / 1e9;
  const step = niceStep(to - from, Math.max(2, Math.floor((x1 - x0) / 90)), true);
  const ticks: TimelineDrawn['ticks'] = [];
  g.fillStyle = '#455a64';
  g.textAlign = 'center';
  for (let i = Math.ceil(from / step - 1e-9); i * step <= to + 1e-9; i++) {
    const t = i * step;
    const x = Math.round(X(t * 1e9)) + 0.5;
    g.fillRect(x - 0.5, axisY, 1, 5);
    const label = formatTime(Math.round(t * 1000) / 1000);
    g.fillText(label, Math.min(x1 - 16, Math.max(x0 + 16, x)), axisY + 13);
    ticks.push({ x, label });
  }
  // Markers: one short bar each, in the row of their kind; many at one pixel are one bar.
  const drawn: TimelineMarkAt[] = [];
  const taken = new Set<string>();
  for (const m of marks) {
    if (m.timeNs < fromNs || m.timeNs > toNs) continue;
    const x = Math.round(X(m.timeNs));
    const row = MARK_ROWS[m.kind];
    const y = 6 + row * 12;
    drawn.push({ x, y: y + 4, kind: m.kind, text: m.text, timeNs: m.timeNs });
    const key = `${x},${row},${m.kind}`;
    if (taken.has(key)) continue;
    taken.add(key);
    g.fillStyle = MARK_COLORS[m.kind];
    g.fillRect(x - 2, y, 4, 9);
  }
  if (note) {
    g.fillStyle = '#78909c';
    g.textAlign = 'right';
    g.fillText(note, x1, axisY - 6);
  }
  // The current time, when it is in the span shown.
  const inSpan = nowNs >= fromNs && nowNs <= toNs;
  const cx = inSpan ? Math.round(X(nowNs)) : -1;
  if (inSpan) {
    g.fillStyle = '#212121';
    g.fillRect(cx - 1, 2, 2, axisY - 2);
    g.beginPath();
    g.moveTo(cx - 5, axisY);
    g.lineTo(cx + 5, axisY);
    g.lineTo(cx, axisY - 6);
    g.fill();
  }
  return { ticks, marks: drawn, cursorX: cx, x0, x1, fromNs, toNs, note };
}

export interface ScaleDrawn {
  readonly label: string;
  readonly ticks: Array<{ x: number; label: string }>;
  /** The gradient's ends and its row, canvas pixels. */
  readonly x0: number;
  readonly x1: number;
  readonly y: number;
}

/** Draws a colour scale: its name, the green → amber → red gradient, and numbered ticks from 0 to `max` in `unit`. */
export function drawScale(canvas: HTMLCanvasElement, label: string, max: number, unit: string): ScaleDrawn {
  const { g, w } = prepare(canvas, 44);
  g.fillStyle = '#263238';
  g.textAlign = 'left';
  g.fillText(`${label}, ${unit}`, 0, 7);
  const x0 = 6;
  const x1 = w - 18;
  const y = 16;
  for (let x = x0; x < x1; x++) {
    g.fillStyle = hexColor(heat((x - x0) / (x1 - x0 - 1)));
    g.fillRect(x, y, 1, 10);
  }
  const ticks: ScaleDrawn['ticks'] = [];
  g.fillStyle = '#455a64';
  g.textAlign = 'center';
  const n = 4;
  for (let i = 0; i <= n; i++) {
    const x = Math.round(x0 + ((x1 - x0) * i) / n);
    const v = (max * i) / n;
    const text = formatValue(max >= 100 || Number.isInteger(v) ? Math.round(v) : v);
    g.fillRect(x, y + 10, 1, 3);
    g.textAlign = i === n ? 'right' : i === 0 ? 'left' : 'center';
    g.fillText(text, i === n ? x1 + 4 : i === 0 ? x0 - 2 : x, y + 21);
    ticks.push({ x, label: text });
  }
  return { label: `${label}, ${unit}`, ticks, x0, x1, y: y + 5 };
}

export interface ChartDrawn {
  readonly title: string;
  /** Where the current time is marked, canvas pixels. */
  readonly nowX: number;
  readonly points: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Draws a small line chart of a metric over simulated time, from 0 to `endNs`: its title
 * and latest value, the y range in numbers, and a vertical line at the current time.
 * `delta` draws the zero line and colours the area above (B higher) and below.
 */
export function drawChart(canvas: HTMLCanvasElement, title: string, times: readonly number[], values: readonly number[], unit: string, nowNs: number, endNs: number, delta = false): ChartDrawn {
  const { g, w, h } = prepare(canvas, 62);
  const left = 4;
  const right = w - 4;
  const top = 16;
  const bottom = h - 12;
  let min = delta ? 0 : Infinity;
  let max = delta ? 0 : -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (!Number.isFinite(min)) min = max = 0;
  if (max === min) {
    max += Math.abs(max) * 0.1 || 1;
    if (!delta) min -= Math.abs(min) * 0.1 || 0;
  }
  const X = (t: number) => left + ((right - left) * t) / Math.max(1, endNs);
  const Y = (v: number) => bottom - ((bottom - top) * (v - min)) / (max - min);
  g.fillStyle = '#263238';
  g.textAlign = 'left';
  const last = values.length ? values[values.length - 1] : NaN;
  g.fillText(title, left, 7);
  g.textAlign = 'right';
  g.fillText(formatValue(last, unit), right, 7);
  g.strokeStyle = '#cfd8dc';
  g.strokeRect(left + 0.5, top + 0.5, right - left - 1, bottom - top);
  if (delta) {
    g.fillStyle = '#b0bec5';
    g.fillRect(left, Math.round(Y(0)), right - left, 1);
  }
  g.strokeStyle = delta ? '#6a1b9a' : '#1565c0';
  g.lineWidth = 1.5;
  g.beginPath();
  let started = false;
  for (let i = 0; i < times.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const x = X(times[i]);
    const y = Y(v);
    if (started) g.lineTo(x, y);
    else g.moveTo(x, y);
    started = true;
  }
  g.stroke();
  const nowX = Math.round(X(nowNs));
  g.fillStyle = '#d84315';
  g.fillRect(nowX - 1, top, 2, bottom - top);
  g.fillStyle = '#607d8b';
  g.font = '10px system-ui, sans-serif';
  g.textAlign = 'left';
  g.fillText(`${formatValue(min, unit)} … ${formatValue(max, unit)}`, left, h - 5);
  g.textAlign = 'right';
  g.fillText(formatTime(Math.round(endNs / 1e8) / 10), right, h - 5);
  return { title, nowX, points: values.length, min, max };
}
