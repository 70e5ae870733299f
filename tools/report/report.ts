// `virtlab report <results folder>`: writes report.html into the folder — a
// self-contained page (inline SVG, no scripts, no network) with a chart per time
// series, the metrics table, the plugins and their options, the migration and
// event logs when the run has them, and the speedup of each GPU kernel per GPU when
// GPU workloads ran (gpu/kernels.json). For people who would rather look than read.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { wssSection } from './wss';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(x / 1e3).toPrecision(3)}k`;
  return Number.isInteger(x) ? String(x) : x.toPrecision(3);
}

/** One line chart as inline SVG, with axes and min/max labels. */
export function lineChart(title: string, times: number[], values: number[], unit: string): string {
  const W = 520;
  const H = 180;
  const L = 56;
  const B = 28;
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(0, ...finite);
  const hi = Math.max(lo + 1e-12, ...finite);
  const t0 = times[0] ?? 0;
  const t1 = times[times.length - 1] ?? 1;
  const x = (t: number) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - 10);
  const y = (v: number) => H - B - ((v - lo) / (hi - lo)) * (H - B - 12);
  const pts = times.map((t, i) => (Number.isFinite(values[i]) ? `${x(t).toFixed(1)},${y(values[i]).toFixed(1)}` : '')).filter(Boolean).join(' ');
  return `<figure><figcaption>${esc(title)} <small>(${esc(unit)})</small></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="12" x2="${L}" y2="${H - B}" stroke="#999"/>
<text x="${L - 4}" y="${y(hi) + 4}" text-anchor="end" font-size="11">${fmt(hi)}</text><text x="${L - 4}" y="${y(lo) + 4}" text-anchor="end" font-size="11">${fmt(lo)}</text>
<text x="${L}" y="${H - 8}" font-size="11">${fmt(t0 / 1e9)} s</text><text x="${W - 10}" y="${H - 8}" text-anchor="end" font-size="11">${fmt(t1 / 1e9)} s</text>
<polyline fill="none" stroke="#1565c0" stroke-width="2" points="${pts}"/>
</svg></figure>`;
}

const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#5d4037', '#9e9d24'];

/**
 * Goodput against message size, one line per personality, as inline SVG: the x axis
 * is logarithmic in the message size, the y axis linear in Mbit/s.
 */
export function goodputChart(title: string, sizes: readonly number[], series: ReadonlyMap<string, readonly number[]>): string {
  const W = 620;
  const H = 260;
  const L = 64;
  const B = 30;
  const R = 130;
  const all = [...series.values()].flat().filter(Number.isFinite).map((v) => v / 1e6);
  const hi = Math.max(1e-9, ...all);
  const lx = sizes.map((m) => Math.log2(m));
  const x0 = Math.min(...lx);
  const x1 = Math.max(x0 + 1, ...lx);
  const x = (i: number) => L + ((lx[i] - x0) / (x1 - x0)) * (W - L - R);
  const y = (v: number) => H - B - (v / hi) * (H - B - 12);
  const lines = [...series.entries()]
    .map(([name, vs], k) => {
      const c = PALETTE[k % PALETTE.length];
      const pts = vs.map((v, i) => `${x(i).toFixed(1)},${y(v / 1e6).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/><text x="${W - R + 8}" y="${20 + k * 16}" font-size="12" fill="${c}">${esc(name)}</text>`;
    })
    .join('\n');
  const ticks = sizes.map((m, i) => `<text x="${x(i).toFixed(1)}" y="${H - 10}" text-anchor="middle" font-size="10">${m >= 1024 ? `${m / 1024}K` : m}</text>`).join('');
  return `<figure><figcaption>${esc(title)} <small>(Mbit/s against message size in bytes)</small></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="12" x2="${L}" y2="${H - B}" stroke="#999"/>
<text x="${L - 4}" y="${y(hi) + 4}" text-anchor="end" font-size="11">${fmt(hi)}</text><text x="${L - 4}" y="${y(0) + 4}" text-anchor="end" font-size="11">0</text>
${ticks}
${lines}
</svg></figure>`;
}

/** The packet workloads of a run (netperf.json): the goodput chart and a table per experiment. */
function packetSection(dir: string): string {
  const file = path.join(dir, 'netperf.json');
  if (!existsSync(file)) return '';
  const rows = JSON.parse(readFileSync(file, 'utf8')) as Array<{ group: string; kind: string; personality: string; messageSize?: number; goodputBps: number; transactionsPerS: number; latencyMeanNs: number; retransmits: number; framesOut: number }>;
  const streams = rows.filter((r) => r.kind === 'tcp-stream' && r.messageSize !== undefined);
  const sizes = [...new Set(streams.map((r) => r.messageSize!))].sort((a, b) => a - b);
  const series = new Map<string, number[]>();
  for (const p of [...new Set(streams.map((r) => r.personality))]) {
    series.set(p.replace(/^kernel\./, ''), sizes.map((m) => streams.filter((r) => r.personality === p && r.messageSize === m).reduce((a, r) => a + r.goodputBps, 0)));
  }
  const chart = sizes.length ? goodputChart('TCP_STREAM goodput', sizes, series) : '';
  const table = `<table><tr><th>group</th><th>workload</th><th>kernel</th><th>goodput</th><th>transactions/s</th><th>latency</th><th>retransmissions</th><th>frames</th></tr>${rows
    .map((r) => `<tr><td>${esc(r.group)}</td><td>${esc(r.kind)}${r.messageSize ? ` ${r.messageSize} B` : ''}</td><td>${esc(r.personality)}</td><td class="n">${fmt(r.goodputBps)}bit/s</td><td class="n">${fmt(r.transactionsPerS)}</td><td class="n">${fmt(r.latencyMeanNs / 1e3)} µs</td><td class="n">${r.retransmits}</td><td class="n">${fmt(r.framesOut)}</td></tr>`)
    .join('')}</table>`;
  return `<h2>Packet workloads</h2>${chart}${table}`;
}

/** A horizontal bar chart as inline SVG, with its value beside each bar and an optional reference line at `mark` (1× for speedups). */
export function barChart(title: string, labels: string[], values: number[], unit: string, mark?: number): string {
  const W = 620;
  const L = 300;
  const row = 20;
  const H = labels.length * row + 24;
  const hi = Math.max(mark ?? 1e-12, ...values.filter(Number.isFinite)) * 1.1;
  const x = (v: number) => L + (v / hi) * (W - L - 50);
  const bars = labels
    .map((l, i) => `<text x="${L - 6}" y="${i * row + 14}" text-anchor="end" font-size="11">${esc(l)}</text><rect x="${L}" y="${i * row + 3}" width="${Math.max(0, x(values[i]) - L).toFixed(1)}" height="${row - 6}" fill="#1565c0"/><text x="${x(values[i]) + 4}" y="${i * row + 14}" font-size="11">${fmt(values[i])}</text>`)
    .join('');
  return `<figure><figcaption>${esc(title)} <small>(${esc(unit)})</small></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${bars}
${mark === undefined ? '' : `<line x1="${x(mark)}" y1="0" x2="${x(mark)}" y2="${H - 20}" stroke="#999" stroke-dasharray="3,3"/><text x="${x(mark)}" y="${H - 6}" text-anchor="middle" font-size="11">${fmt(mark)}</text>`}
</svg></figure>`;
}

/** Host instruction classes of the host code model's engine counters (host<Class>). */
const HOST_MIX = ['Alu', 'Load', 'Store', 'Spill', 'Reload', 'LaneInsert', 'LaneExtract', 'VectorAlu', 'Fp', 'Branch', 'Call', 'FpHelper', 'Softfloat', 'LowLaneExtract'];

/** Charts of the modelled host instruction mix per guest, when the run had a register map (guests/engine.json). */
function hostCodeCharts(dir: string): string {
  const file = path.join(dir, 'guests', 'engine.json');
  if (!existsSync(file)) return '';
  const { guests } = JSON.parse(readFileSync(file, 'utf8')) as { guests: Record<string, Record<string, number>> };
  const charts = Object.entries(guests)
    .filter(([, c]) => (c.hostGuestInstructions ?? 0) > 0)
    .map(([name, c]) =>
      barChart(
        `${name}: modelled host instructions per guest instruction by class — ${c.hostPerGuest} instructions, ${c.hostCyclesPerGuest} cycles`,
        HOST_MIX.map((k) => k[0].toLowerCase() + k.slice(1)),
        HOST_MIX.map((k) => (c[`host${k}`] ?? 0) / c.hostGuestInstructions),
        'per guest instruction',
      ),
    );
  return charts.length ? `<h2>Host code model</h2>${charts.join('\n')}` : '';
}

export function writeReport(dir: string): string {
  const need = (f: string) => {
    const p = path.join(dir, f);
    if (!existsSync(p)) throw new Error(`${dir} has no ${f}: is it a results folder of virtlab run?`);
    return readFileSync(p, 'utf8');
  };
  const metrics = JSON.parse(need('metrics.json')) as { scenario: string; seed: number; simulatedNs: number; metrics: Record<string, { kind: string; unit: string; value?: number; mean?: number; p99?: number }> };
  const config = JSON.parse(need('config.json')) as { scenario: { description: string }; plugins: Array<{ id: string; version: string; options: unknown }> };
  const csv = need('timeseries.csv').trim().split('\n');
  const header = csv[0].split(',');
  const rows = csv.slice(1).map((l) => l.split(',').map(Number));
  const times = rows.map((r) => r[0]);
  const charts = header.slice(1).map((name, i) => lineChart(name, times, rows.map((r) => r[i + 1]), metrics.metrics[name]?.unit ?? ''));
  const metricRows = Object.entries(metrics.metrics)
    .map(([k, m]) => `<tr><td>${esc(k)}</td><td class="n">${m.kind === 'histogram' ? `mean ${fmt(m.mean!)}, p99 ${fmt(m.p99!)}` : fmt(m.value!)}</td><td>${esc(m.unit)}</td></tr>`)
    .join('\n');
  const plugins = config.plugins.map((p) => `<li><b>${esc(p.id)}</b> ${esc(p.version)} <code>${esc(JSON.stringify(p.options))}</code></li>`).join('\n');
  let migrations = '';
  if (existsSync(path.join(dir, 'migrations.json'))) {
    const ms = JSON.parse(readFileSync(path.join(dir, 'migrations.json'), 'utf8')) as Array<{ vm: number; success: boolean | null; timeMs: number | null; downtimeMs: number; rounds: number; decisions: Array<{ action: string; reason: string }> }>;
    migrations = `<h2>Migrations</h2><table><tr><th>VM</th><th>outcome</th><th>time</th><th>downtime</th><th>rounds</th><th>decisions</th></tr>${ms
      .map((m) => `<tr><td>${m.vm}</td><td>${m.success === null ? 'running' : m.success ? 'done' : 'aborted'}</td><td class="n">${m.timeMs === null ? '—' : `${fmt(m.timeMs / 1000)} s`}</td><td class="n">${fmt(m.downtimeMs)} ms</td><td class="n">${m.rounds}</td><td>${esc(m.decisions.map((d) => `${d.action} (${d.reason})`).join('; '))}</td></tr>`)
      .join('')}</table>`;
  }
  let gpu = '';
  if (existsSync(path.join(dir, 'gpu', 'kernels.json'))) {
    const ks = JSON.parse(readFileSync(path.join(dir, 'gpu', 'kernels.json'), 'utf8')) as Array<{ benchmark: string; gpu: string; speedup: number }>;
    gpu = `<h2>GPU kernels</h2>${barChart('speedup over the global-memory-only kernel, per benchmark and GPU', ks.map((k) => `${k.benchmark} on ${k.gpu.split(' (')[0]}`), ks.map((k) => k.speedup), '×', 1)}`;
  }
  let events = '';
  if (existsSync(path.join(dir, 'events.jsonl'))) {
    const lines = readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').filter(Boolean).slice(0, 200);
    events = `<h2>Events</h2><pre>${esc(lines.join('\n'))}</pre>`;
  }
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>${esc(metrics.scenario)} — virtlab report</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1150px}figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-weight:600}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px}td.n{text-align:right;font-variant-numeric:tabular-nums}pre{background:#f6f6f6;padding:1em;max-height:24em;overflow:auto}</style>
<h1>${esc(metrics.scenario)}</h1><p>${esc(config.scenario.description)}</p>
<p>seed ${metrics.seed}, ${fmt(metrics.simulatedNs / 1e9)} s simulated</p>
<h2>Time series</h2>${charts.join('\n') || '<p>No time series were recorded (add record.series to the scenario).</p>'}${wssSection(dir)}
<h2>Metrics</h2><table><tr><th>metric</th><th>value</th><th>unit</th></tr>${metricRows}</table>
<h2>Plugins</h2><ul>${plugins}</ul>${packetSection(dir)}${gpu}${hostCodeCharts(dir)}${migrations}${events}
</html>
`;
  const out = path.join(dir, 'report.html');
  writeFileSync(out, html);
  return out;
}
