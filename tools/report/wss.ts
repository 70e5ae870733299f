// The working-set section of `virtlab report`: for each VM that wss.* estimators
// watched (their wss.<estimator>.json results), one chart with every estimator's
// series against wss.truth's, so an estimator's blind spots (PML in a read phase) and
// swings (sampling) are seen, not only printed.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface SeriesFile {
  estimator: string;
  vms: Array<{ vm: number; group: string; memoryBytes: number; t: number[]; bytes: number[] }>;
}

const COLORS: Record<string, string> = { 'wss.truth': '#222', 'wss.prl': '#2e7d32', 'wss.pml': '#c62828', 'wss.sampling': '#1565c0' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One chart of several series (MB against seconds), truth drawn dashed. */
function multiChart(title: string, series: Array<{ name: string; t: number[]; v: number[] }>): string {
  const W = 520;
  const H = 200;
  const L = 56;
  const B = 28;
  const all = series.flatMap((s) => s.v).filter(Number.isFinite);
  const hi = Math.max(1, ...all);
  const t0 = Math.min(...series.map((s) => s.t[0] ?? 0));
  const t1 = Math.max(t0 + 1, ...series.map((s) => s.t[s.t.length - 1] ?? 0));
  const x = (t: number) => L + ((t - t0) / (t1 - t0)) * (W - L - 8);
  const y = (v: number) => H - B - (v / hi) * (H - B - 10);
  const lines = series
    .map((s, k) => {
      const pts = s.t.map((t, i) => `${x(t).toFixed(1)},${y(s.v[i]).toFixed(1)}`).join(' ');
      const color = COLORS[s.name] ?? ['#6a1b9a', '#ef6c00', '#00838f'][k % 3];
      return `<polyline fill="none" stroke="${color}" stroke-width="1.5"${s.name === 'wss.truth' ? ' stroke-dasharray="4 3"' : ''} points="${pts}"/>`;
    })
    .join('');
  const legend = series.map((s, k) => `<span style="color:${COLORS[s.name] ?? ['#6a1b9a', '#ef6c00', '#00838f'][k % 3]}">${esc(s.name)}</span>`).join(' · ');
  return `<figure><figcaption>${esc(title)}<br><small>${legend}</small></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<line x1="${L}" y1="${H - B}" x2="${W - 8}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="10" x2="${L}" y2="${H - B}" stroke="#999"/>
<text x="${L - 4}" y="14" font-size="10" text-anchor="end">${(hi / 1e6).toFixed(0)} MB</text><text x="${L - 4}" y="${H - B}" font-size="10" text-anchor="end">0</text>
<text x="${L}" y="${H - 8}" font-size="10">${(t0 / 1e9).toFixed(0)} s</text><text x="${W - 8}" y="${H - 8}" font-size="10" text-anchor="end">${(t1 / 1e9).toFixed(0)} s</text>
${lines}
</svg></figure>`;
}

/** The section's HTML, or '' when the run has no estimator results. */
export function wssSection(dir: string): string {
  if (!existsSync(dir)) return '';
  const files = readdirSync(dir).filter((f) => /^wss\.[\w-]+\.json$/.test(f)).sort();
  if (!files.length) return '';
  const data = files.map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as SeriesFile);
  const vms = [...new Set(data.flatMap((d) => d.vms.map((v) => v.vm)))].sort((a, b) => a - b);
  const charts = vms.slice(0, 24).map((vm) => {
    const series = data.flatMap((d) => d.vms.filter((v) => v.vm === vm).map((v) => ({ name: d.estimator, t: v.t, v: v.bytes, group: v.group })));
    return multiChart(`VM ${vm} (${series[0]?.group ?? ''}): working-set estimates against the truth`, series);
  });
  return `<h2>Working-set estimates</h2>${charts.join('\n')}${vms.length > 24 ? `<p>${vms.length - 24} more VMs not charted.</p>` : ''}`;
}
