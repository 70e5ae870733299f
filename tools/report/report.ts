// `virtlab report <results folder>`: writes report.html into the folder — a
// self-contained page (inline SVG, no scripts, no network) with a chart per time
// series, the metrics table, the plugins and their options, and the migration and
// event logs when the run has them. For people who would rather look than read.

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
<h2>Plugins</h2><ul>${plugins}</ul>${migrations}${events}
</html>
`;
  const out = path.join(dir, 'report.html');
  writeFileSync(out, html);
  return out;
}
