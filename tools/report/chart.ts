// Time charts of `virtlab report`, as inline SVG with no scripts: axes with ticks at
// round values labelled in units a person reads (s, GiB), the time axis zoomed to the
// window where something happens (a rack evacuation's 30 s of a 1,800 s run fill
// the chart, not its first 2%), event markers, and each sample's value on hover (an
// SVG <title>, which browsers show as a tooltip without any script).

import { formatDuration, formatValue } from 'virtlab';

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface Series {
  readonly name: string;
  readonly t: readonly number[];
  readonly v: readonly number[];
  readonly color?: string;
  readonly dashed?: boolean;
}

/** A vertical line at an instant, with what happened there. */
export interface Marker {
  readonly t: number;
  readonly label: string;
  readonly color: string;
}

export const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#5d4037', '#9e9d24'];

/** Round tick values (1, 2, 2.5, 5 × 10^k) from at or below lo to at or above hi, about `n` of them. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  for (let k = first; k <= last; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** The display unit of an axis: values are divided by `factor` and labelled with `label`. */
interface AxisUnit {
  readonly factor: number;
  readonly label: string;
}

const TIME: Array<[string, number]> = [['h', 3600e9], ['min', 60e9], ['s', 1e9], ['ms', 1e6], ['µs', 1e3], ['ns', 1]];
const SIZE: Array<[string, number]> = [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024], ['B', 1]];
const TO_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

/** Picks the unit in which the largest value reads as 1 to 1,000 (binary for sizes). */
function axisUnit(max: number, unit: string): AxisUnit {
  const pick = (table: Array<[string, number]>, base: number): AxisUnit => {
    const m = Math.abs(max) * base;
    const [label, f] = table.find(([, f]) => m >= f) ?? table[table.length - 1];
    return { factor: f / base, label };
  };
  if (unit in TO_NS) return pick(TIME, TO_NS[unit]);
  if (unit === 'bytes' || unit === 'B') return pick(SIZE, 1);
  return { factor: 1, label: unit === 'ratio' || unit === 'count' ? '' : unit };
}

/**
 * The window of a run worth looking at: from a little before the first change of
 * any series (or the first marker) to a little after the last, or the whole run when
 * the activity fills most of it.
 */
export function activeWindow(series: readonly Series[], markers: readonly Marker[], full: [number, number]): [number, number] {
  let a = Infinity;
  let b = -Infinity;
  for (const s of series) {
    for (let i = 1; i < s.v.length; i++) {
      if (s.v[i] !== s.v[i - 1] && Number.isFinite(s.v[i])) {
        a = Math.min(a, s.t[i - 1]);
        b = Math.max(b, s.t[i]);
      }
    }
  }
  for (const m of markers) {
    a = Math.min(a, m.t);
    b = Math.max(b, m.t);
  }
  if (!(b > a)) return full;
  const pad = Math.max((b - a) * 0.15, (full[1] - full[0]) * 0.002);
  const w: [number, number] = [Math.max(full[0], a - pad), Math.min(full[1], b + pad)];
  return w[1] - w[0] > 0.6 * (full[1] - full[0]) ? full : w;
}

/** A time chart of one or more series, zoomed to `window`, with markers and hover values. */
export function timeChart(opts: {
  title: string;
  unit: string;
  description?: string;
  series: readonly Series[];
  markers?: readonly Marker[];
  window?: [number, number];
  runNs?: number;
  width?: number;
}): string {
  const W = opts.width ?? 560;
  const H = 220;
  const L = 64;
  const R = 14;
  const T = 14;
  const B = 34;
  const markers = opts.markers ?? [];
  const allT = opts.series.flatMap((s) => s.t);
  const full: [number, number] = [Math.min(0, ...allT), Math.max(opts.runNs ?? 0, ...allT, 1)];
  const [t0, t1] = opts.window ?? full;
  const inWindow = (t: number) => t >= t0 && t <= t1;
  const visible = opts.series.flatMap((s) => s.v.filter((v, i) => Number.isFinite(v) && inWindow(s.t[i])));
  const rawLo = Math.min(0, ...visible);
  const rawHi = Math.max(...visible, rawLo);
  const yu = axisUnit(Math.max(Math.abs(rawLo), Math.abs(rawHi)), opts.unit);
  const yTicks = niceTicks(rawLo / yu.factor, rawHi > rawLo ? rawHi / yu.factor : rawLo / yu.factor + 1);
  const lo = Math.min(rawLo / yu.factor, yTicks[0]);
  const hi = Math.max(yTicks[yTicks.length - 1], lo + 1e-12);
  const tu = axisUnit(t1 - t0 || 1, 'ns');
  const tTicks = niceTicks(t0 / tu.factor, t1 / tu.factor, 6).filter((v) => v * tu.factor >= t0 - 1e-6 && v * tu.factor <= t1 + 1e-6);
  const x = (t: number) => L + ((t - t0) / Math.max(1e-9, t1 - t0)) * (W - L - R);
  const y = (v: number) => H - B - ((v / yu.factor - lo) / (hi - lo)) * (H - B - T);
  const num = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(4))));
  const grid = yTicks
    .map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v * yu.factor).toFixed(1)}" y2="${y(v * yu.factor).toFixed(1)}" stroke="#eee"/><text x="${L - 5}" y="${(y(v * yu.factor) + 4).toFixed(1)}" text-anchor="end" font-size="11">${num(v)}</text>`)
    .join('');
  const xt = tTicks
    .map((v) => `<line x1="${x(v * tu.factor).toFixed(1)}" x2="${x(v * tu.factor).toFixed(1)}" y1="${H - B}" y2="${H - B + 4}" stroke="#999"/><text x="${x(v * tu.factor).toFixed(1)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${num(v)}</text>`)
    .join('');
  // Markers at one instant are one line (forty migrations that start together are one line that says forty).
  const byT = new Map<number, Marker[]>();
  for (const m of markers) {
    if (!inWindow(m.t)) continue;
    const px = Math.round(x(m.t) / 4);
    byT.set(px, [...(byT.get(px) ?? []), m]);
  }
  const marks = [...byT.values()]
    .map((ms) => {
      const t = ms[0].t;
      const label = ms.length > 3 ? `${ms.length} events: ${[...new Set(ms.map((m) => m.label.split(':')[0]))].join(', ')}` : ms.map((m) => `${formatDuration(m.t)}: ${m.label}`).join('\n');
      return `<g class="marker"><title>${esc(ms.length > 3 ? `${formatDuration(t)} to ${formatDuration(ms[ms.length - 1].t)}: ${label}` : label)}</title><line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${T}" y2="${H - B}" stroke="${ms[0].color}" stroke-width="1" stroke-dasharray="3 2" opacity="0.8"/><rect x="${(x(t) - 3).toFixed(1)}" y="${T}" width="6" height="${H - B - T}" fill="transparent"/></g>`;
    })
    .join('');
  const lines = opts.series
    .map((s, k) => {
      const color = s.color ?? PALETTE[k % PALETTE.length];
      const idx = s.t.map((_, i) => i).filter((i) => Number.isFinite(s.v[i]) && s.t[i] >= t0 - (t1 - t0) && s.t[i] <= t1 + (t1 - t0));
      const pts = idx.map((i) => `${x(Math.max(t0, Math.min(t1, s.t[i]))).toFixed(1)},${y(s.v[i]).toFixed(1)}`).join(' ');
      // Hover: every sample inside the window has a dot with its time and value.
      const dots = idx
        .filter((i) => inWindow(s.t[i]))
        .slice(0, 400)
        .map((i) => `<circle class="pt" cx="${x(s.t[i]).toFixed(1)}" cy="${y(s.v[i]).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.name} at ${formatDuration(s.t[i])}: ${formatValue(s.v[i], opts.unit)}`)}</title></circle>`)
        .join('');
      return `<polyline fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts}"/>${dots}`;
    })
    .join('');
  const zoomed = t0 > full[0] || t1 < full[1];
  const legend = opts.series.length > 1 ? `<br><small>${opts.series.map((s, k) => `<span style="color:${s.color ?? PALETTE[k % PALETTE.length]}">${s.dashed ? '- - ' : '— '}${esc(s.name)}</span>`).join(' · ')}</small>` : '';
  const window = zoomed ? `<small class="window">showing ${formatDuration(t0)} to ${formatDuration(t1)} of ${formatDuration(full[1] - full[0])}: the rest is unchanged</small>` : '';
  return `<figure class="chart"><figcaption>${esc(opts.title)}${opts.description ? `<br><small>${esc(opts.description)}</small>` : ''}${legend}</figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(opts.title)}">
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - B - T}" fill="#fff"/>${grid}${marks}
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#666"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#666"/>${xt}
<text x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle" font-size="11" fill="#444">time (${tu.label})</text>
${yu.label ? `<text x="12" y="${(T + H - B) / 2}" text-anchor="middle" font-size="11" fill="#444" transform="rotate(-90 12 ${(T + H - B) / 2})">${esc(yu.label)}</text>` : ''}
${lines}
</svg>${window}</figure>`;
}
