// The working-set section of `virtlab report`: for each VM that wss.* estimators
// watched (their wss.<estimator>.json results), one chart with every estimator's
// series against wss.truth's, so an estimator's blind spots (PML in a read phase) and
// swings (sampling) are seen, not only printed.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { timeChart } from './chart';

interface SeriesFile {
  estimator: string;
  vms: Array<{ vm: number; group: string; memoryBytes: number; t: number[]; bytes: number[] }>;
}

const COLORS: Record<string, string> = { 'wss.truth': '#222', 'wss.prl': '#2e7d32', 'wss.pml': '#c62828', 'wss.sampling': '#1565c0' };

/** One chart of several series (bytes against time), truth drawn dashed. */
function multiChart(title: string, series: Array<{ name: string; t: number[]; v: number[] }>): string {
  return timeChart({
    title,
    unit: 'bytes',
    series: series.map((s, k) => ({ ...s, color: COLORS[s.name] ?? ['#6a1b9a', '#ef6c00', '#00838f'][k % 3], dashed: s.name === 'wss.truth' })),
  });
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
