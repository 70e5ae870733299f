// `virtlab compare <results folder>…`: what changed between runs. The first folder is
// the baseline; for every other one, each metric's value beside the baseline's with
// the difference and the relative change (largest first), and what differs in the
// configuration that produced it: plugins selected in one run and not the other,
// option values, scenario values. Printed for the terminal, and written as a
// self-contained HTML page on request. Values go through the one formatting module.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatChange, formatOptionValue, formatValue, type MetricRecord } from 'virtlab';
import { esc } from './chart';
import { optionUnits } from './report';

/** A results folder that cannot be compared (bad input). */
export class CompareError extends Error {}

interface Run {
  readonly dir: string;
  readonly label: string;
  readonly metrics: Record<string, MetricRecord>;
  readonly config: { scenario: Record<string, unknown>; plugins: Array<{ id: string; version: string; options: Record<string, unknown> }> };
}

function readRun(dir: string): Run {
  const read = (f: string) => {
    const p = path.join(dir, f);
    if (!existsSync(p)) throw new CompareError(`${dir} has no ${f}: is it a results folder of virtlab run?`);
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as unknown;
    } catch (e) {
      throw new CompareError(`${p} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  const m = read('metrics.json') as { metrics?: Record<string, MetricRecord> };
  const c = read('config.json') as Run['config'];
  if (!m.metrics || !c.scenario || !Array.isArray(c.plugins)) throw new CompareError(`${dir} does not hold the results of a virtlab run (metrics.json or config.json lacks its fields)`);
  return { dir, label: path.basename(path.resolve(dir)), metrics: m.metrics, config: c };
}

/** One compared quantity: a metric's value, or one statistic of a histogram. */
export interface MetricDelta {
  readonly metric: string;
  readonly unit: string;
  readonly description: string;
  /** The value in each run (undefined where the run has no such metric). */
  readonly values: ReadonlyArray<number | undefined>;
}

/** A configuration value that is not the same in every run. */
export interface ConfigDifference {
  readonly what: string;
  readonly values: readonly string[];
}

export interface Comparison {
  readonly labels: readonly string[];
  readonly dirs: readonly string[];
  readonly changed: readonly MetricDelta[];
  readonly unchanged: readonly MetricDelta[];
  readonly config: readonly ConfigDifference[];
}

const HISTOGRAM_STATS = ['mean', 'p50', 'p99', 'max'] as const;

/** Flattens an object into `a.b.c` → value pairs (arrays and leaves as values). */
function flatten(prefix: string, value: unknown, out: Map<string, unknown>): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else out.set(prefix, value);
}

/** Compares results folders; the first is the baseline. */
export function compareRuns(dirs: readonly string[]): Comparison {
  if (dirs.length < 2) throw new CompareError('compare takes two or more results folders (the first is the baseline)');
  const runs = dirs.map(readRun);
  // Two folders of the same name (results/a/x and results/b/x) are told apart by their parent.
  const labels = runs.map((r) => (runs.filter((o) => o.label === r.label).length > 1 ? path.relative(process.cwd(), path.resolve(r.dir)) || r.label : r.label));
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const rows: MetricDelta[] = [];
  for (const name of names) {
    const first = runs.map((r) => r.metrics[name]).find(Boolean)!;
    const stats: Array<[string, (m: MetricRecord) => number | undefined]> =
      first.kind === 'histogram' ? HISTOGRAM_STATS.map((s) => [`${name} (${s})`, (m) => (m.count ? m[s] : undefined)]) : [[name, (m) => m.value]];
    for (const [metric, pick] of stats) {
      rows.push({ metric, unit: first.unit, description: first.description ?? '', values: runs.map((r) => (r.metrics[name] ? pick(r.metrics[name]) : undefined)) });
    }
  }
  const same = (d: MetricDelta) => d.values.every((v) => v === d.values[0]);
  const size = (d: MetricDelta) => {
    const [a, ...rest] = d.values;
    return Math.max(...rest.map((b) => (a === undefined || b === undefined ? Infinity : a === 0 ? (b === 0 ? 0 : Infinity) : Math.abs((b - a) / a))));
  };
  const changed = rows.filter((d) => !same(d)).sort((x, y) => size(y) - size(x) || (x.metric < y.metric ? -1 : 1));
  const unchanged = rows.filter(same);

  // The configuration: plugins, their options, and the scenario's own values.
  const config: ConfigDifference[] = [];
  const ids = [...new Set(runs.flatMap((r) => r.config.plugins.map((p) => p.id)))].sort();
  const unitOf = optionUnits();
  for (const id of ids) {
    const ps = runs.map((r) => r.config.plugins.find((p) => p.id === id));
    if (ps.some((p) => !p)) {
      config.push({ what: `plugin ${id}`, values: ps.map((p) => (p ? `selected (${p.version})` : '—')) });
      continue;
    }
    const flat = ps.map((p) => {
      const m = new Map<string, unknown>();
      flatten('', p!.options ?? {}, m);
      return m;
    });
    for (const key of [...new Set(flat.flatMap((m) => [...m.keys()]))].sort()) {
      const vs = flat.map((m) => m.get(key));
      if (vs.every((v) => JSON.stringify(v) === JSON.stringify(vs[0]))) continue;
      config.push({ what: `${id} ${key}`, values: vs.map((v) => (v === undefined ? '—' : formatOptionValue(v, unitOf(id, key.split('.')[0])))) });
    }
  }
  const scen = runs.map((r) => {
    const m = new Map<string, unknown>();
    // Where the scenario came from and its folder are not part of what ran.
    const { file: _file, dir: _dir, ...rest } = r.config.scenario;
    flatten('', rest, m);
    return m;
  });
  const scenarioUnit = (key: string) => (/Ns$/.test(key) || /(^|\.)(arrival|every)$/.test(key) ? 'ns' : /(^|\.)memory$/.test(key) ? 'bytes' : undefined);
  for (const key of [...new Set(scen.flatMap((m) => [...m.keys()]))].sort()) {
    const vs = scen.map((m) => m.get(key));
    if (vs.every((v) => JSON.stringify(v) === JSON.stringify(vs[0]))) continue;
    config.push({ what: `scenario ${key}`, values: vs.map((v) => (v === undefined ? '—' : formatOptionValue(v, scenarioUnit(key)))) });
  }
  return { labels, dirs, changed, unchanged, config };
}

const cell = (v: number | undefined, unit: string) => (v === undefined ? '—' : formatValue(v, unit));
const change = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '' : formatChange(a, b));

/** Rows of the metric table: metric, the baseline, then each run with its change. */
function metricRows(c: Comparison, rows: readonly MetricDelta[]): string[][] {
  return rows.map((d) => [d.metric, cell(d.values[0], d.unit), ...d.values.slice(1).flatMap((v) => [cell(v, d.unit), change(d.values[0], v)])]);
}

function header(c: Comparison): string[] {
  return ['metric', `${c.labels[0]} (baseline)`, ...c.labels.slice(1).flatMap((l) => [l, 'change'])];
}

/** The comparison as text for a terminal. */
export function formatComparison(c: Comparison, all = false): string {
  const table = (rows: string[][], right: (col: number) => boolean) => {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r, k) => [r.map((s, i) => (right(i) && k > 0 ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ').trimEnd(), ...(k === 0 ? [widths.map((w) => '-'.repeat(w)).join('  ')] : [])].join('\n')).join('\n');
  };
  const out: string[] = [];
  out.push(`runs: ${c.labels.map((l, i) => `${l} (${c.dirs[i]})`).join(', ')}`, '');
  if (c.config.length) {
    out.push('what differs in the configuration:');
    out.push(table([['', ...c.labels], ...c.config.map((d) => [d.what, ...d.values])], () => false), '');
  } else out.push('the configurations are the same', '');
  const shown = all ? [...c.changed, ...c.unchanged] : c.changed;
  if (shown.length) out.push(table([header(c), ...metricRows(c, shown)], (i) => i > 0));
  else out.push('every metric is the same in every run');
  if (!all && c.unchanged.length) out.push('', `${c.unchanged.length} metrics are the same in every run (--all lists them)`);
  return out.join('\n');
}

/** The comparison as a self-contained HTML page (no scripts). */
export function comparisonHtml(c: Comparison): string {
  const table = (head: string[], rows: string[][], numeric: (i: number) => boolean) =>
    `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
      .map((r) => `<tr>${r.map((s, i) => `<td${numeric(i) ? ' class="n"' : ''}>${esc(s)}</td>`).join('')}</tr>`)
      .join('')}</table>`;
  const desc = new Map([...c.changed, ...c.unchanged].map((d) => [d.metric, d.description]));
  const rows = metricRows(c, c.changed).map((r) => [...r, desc.get(r[0]) ?? '']);
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>virtlab compare: ${esc(c.labels.join(' vs '))}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1300px;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ddd;padding:3px 8px;vertical-align:top}th{background:#f4f4f4;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}</style>
<h1>${esc(c.labels.join(' vs '))}</h1><p>Baseline: ${esc(c.dirs[0])}. Changes are relative to it.</p>
<h2>What differs in the configuration</h2>${c.config.length ? table(['', ...c.labels], c.config.map((d) => [d.what, ...d.values]), () => false) : '<p>The configurations are the same.</p>'}
<h2>Metrics that differ</h2>${rows.length ? table([...header(c), 'what it measures'], rows, (i) => i > 0 && i < rows[0].length - 1) : '<p>Every metric is the same in every run.</p>'}
${c.unchanged.length ? `<h2>Metrics that are the same</h2>${table(['metric', 'value', 'what it measures'], c.unchanged.map((d) => [d.metric, cell(d.values[0], d.unit), d.description]), (i) => i === 1)}` : ''}
</html>
`;
}

/** Compares, and writes the HTML page to `html` when given. */
export function compareCommandText(dirs: readonly string[], opts: { html?: string; all?: boolean }): string {
  const c = compareRuns(dirs);
  if (opts.html) writeFileSync(opts.html, comparisonHtml(c));
  return formatComparison(c, opts.all) + (opts.html ? `\n\nwrote ${opts.html}` : '');
}
