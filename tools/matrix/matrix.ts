// The matrix runner: runs a matrix's cells (in a pool of worker threads, or in this
// thread), stores each finished cell at once (so a rerun resumes and an interrupted
// run loses nothing), re-runs a sample to prove determinism, compares the selected
// metrics with the golden values, reports regressions, improvements and unchanged
// cells as Markdown, JSON and HTML, and checks interaction coverage: that every pair
// of plugins that tap a common hook or touch a common component ran together in at
// least one cell.
//
// An output folder holds:
//   matrix.json        which matrix (and shard) the folder belongs to
//   cells/<key>.json   one finished cell each (CellResult), written atomically
//   determinism.json   the cells re-run for the determinism check (labels and keys), and those that differed
//   report.{md,json,html}

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { isExclusive, type PluginCatalog } from 'virtlab';
import { loadCatalog } from '../node/catalog';
import { matrixCells, readMatrix, shard, MatrixError, type Cell, type MatrixFile, type MetricSpec } from './cells';
import { checkCellInputs, runCell, type CellResult, type PluginFootprint } from './run-cell';

export interface MatrixOptions {
  readonly file: string;
  /** 0 runs cells in this thread (what tests use); default: one worker per core. */
  readonly workers?: number;
  readonly out?: string;
  readonly updateGolden?: boolean;
  readonly shard?: { k: number; n: number };
  /** Ignore stored cell results and run everything again. */
  readonly fresh?: boolean;
  readonly progress?: (done: number, total: number) => void;
  /** Told of each stored cell file that cannot be read (it is then run again), one line each. */
  readonly warn?: (line: string) => void;
  /**
   * Wall-clock limit of each cell, ms, in place of the matrix file's `timeout`;
   * Infinity: none. Tests pass Infinity: a loaded machine must not turn a slow cell
   * into a failure (jest's own test timeout still catches a hang).
   */
  readonly timeoutMs?: number;
}

export type Verdict = 'unchanged' | 'improved' | 'regressed' | 'new' | 'failed' | 'skipped' | 'timeout';
const VERDICTS: readonly Verdict[] = ['regressed', 'failed', 'timeout', 'improved', 'new', 'skipped', 'unchanged'];

/** One metric of one cell that moved beyond its tolerance. */
export interface MetricChange {
  readonly metric: string;
  readonly golden: number | null;
  readonly value: number | null;
  readonly tolerance: number;
  readonly direction: 'better' | 'worse';
}

export interface CellReport {
  readonly id: string;
  readonly label: string;
  readonly verdict: Verdict;
  readonly details: string[];
  readonly changes: MetricChange[];
  readonly metrics: Record<string, number | null>;
}

export interface Coverage {
  /** Interacting pairs that can run together. */
  readonly pairs: number;
  readonly covered: number;
  readonly missing: string[];
  /** Why each pair interacts ("a + b": "hook memory.tlbMiss"). */
  readonly reasons: Record<string, string>;
}

export interface MatrixReport {
  readonly name: string;
  readonly metrics: string[];
  readonly cells: CellReport[];
  readonly counts: Record<Verdict, number>;
  /** Cells re-run to prove determinism, and those whose metrics.json differed. */
  readonly determinism: { checked: string[]; differing: string[] };
  readonly nondeterministic: string[];
  readonly uncoverable: number;
  readonly coverage: Coverage;
  readonly exitCode: number;
}

/** Writes a file through a temporary name and a rename, so no reader sees half a file. */
export function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function cellFile(out: string, key: string): string {
  return path.join(out, 'cells', `${key}.json`);
}

const WORKER_FILE = path.join(__dirname, 'worker.js');

/** A pool of worker threads that run cells; started once per matrix run. */
class WorkerPool {
  private readonly workers: Worker[];

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => new Worker(WORKER_FILE));
  }

  /** Runs cells on the pool; calls `done` as each finishes. A stuck or crashed worker is replaced. */
  async run(cells: Cell[], m: MatrixFile, done: (r: CellResult) => void): Promise<void> {
    const queue = [...cells];
    const metrics = Object.keys(m.metrics);
    const lane = async (slot: number): Promise<void> => {
      for (let cell = queue.shift(); cell; cell = queue.shift()) {
        const c = cell;
        const result = await new Promise<CellResult>((resolve) => {
          const worker = this.workers[slot];
          let settled = false;
          const settle = (r: CellResult) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            worker.removeAllListeners('message');
            worker.removeAllListeners('error');
            worker.removeAllListeners('exit');
            resolve(r);
          };
          const fail = (status: 'timeout' | 'failed', error: string): void => {
            settle({ id: c.id, key: c.key, label: c.label, assignment: c.assignment, status, error, metrics: {}, wallMs: 0, plugins: {} });
            void worker.terminate();
            this.workers[slot] = new Worker(WORKER_FILE);
          };
          // The worker enforces the timeout between ticks; this catches a tick that never ends.
          const grace = m.timeoutMs + 10_000;
          const timer = Number.isFinite(grace) ? setTimeout(() => fail('timeout', `no answer within ${grace} ms (the cell's timeout plus 10 s)`), grace) : undefined;
          worker.once('message', (r: CellResult) => settle(r));
          worker.once('error', (e: Error) => fail('failed', `worker crashed: ${e.stack ?? e.message}`));
          worker.once('exit', (code) => fail('failed', `worker exited with status ${code} while running the cell`));
          worker.postMessage({ cell: c, metrics, timeoutMs: m.timeoutMs });
        });
        done(result);
      }
    };
    await Promise.all(this.workers.map((_, i) => lane(i)));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

async function runAll(cells: Cell[], m: MatrixFile, pool: WorkerPool | undefined, done: (r: CellResult) => void): Promise<void> {
  if (!pool) {
    for (const c of cells) done(await runCell(c, Object.keys(m.metrics), m.timeoutMs));
  } else await pool.run(cells, m, done);
}

type Golden = Record<string, number | null>;

/** Compares a cell's metrics with its golden values under the matrix's tolerances. */
export function compare(result: CellResult, golden: Golden | undefined, specs: Record<string, MetricSpec>): CellReport {
  const base = { id: result.id, label: result.label, metrics: result.metrics };
  if (result.status !== 'ok') return { ...base, verdict: result.status, details: [result.error ?? ''], changes: [] };
  if (!golden) return { ...base, verdict: 'new', details: ['no golden values yet (run with --update-golden)'], changes: [] };
  const changes: MetricChange[] = [];
  const details: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const v = result.metrics[name] ?? null;
    if (!(name in golden)) {
      details.push(`${name}: no golden value yet`);
      continue;
    }
    const g = golden[name];
    if (v === null || g === null) {
      // A metric that appeared or disappeared: its direction is unknown, so it counts as worse.
      if (v !== g) changes.push({ metric: name, golden: g, value: v, tolerance: 0, direction: 'worse' });
      continue;
    }
    const tol = Math.max(spec.tolerance ?? 0, Math.abs(g) * (spec.relative ?? 0));
    if (Math.abs(v - g) <= tol) continue;
    const dir = spec.better ?? 'none';
    const improved = (dir === 'lower' && v < g) || (dir === 'higher' && v > g);
    changes.push({ metric: name, golden: g, value: v, tolerance: tol, direction: improved ? 'better' : 'worse' });
  }
  for (const c of changes) details.push(`${c.metric}: ${c.golden} → ${c.value} (${c.direction}, tolerance ${c.tolerance})`);
  const worse = changes.some((c) => c.direction === 'worse');
  const better = changes.some((c) => c.direction === 'better');
  const onlyNewMetrics = !changes.length && details.length > 0;
  return { ...base, verdict: worse ? 'regressed' : better ? 'improved' : onlyNewMetrics ? 'new' : 'unchanged', details, changes };
}

/** Hooks nearly every plugin taps to set itself up or write results: no interaction. */
const SETUP_HOOKS = new Set(['lifecycle.boot', 'lifecycle.bootAsync', 'lifecycle.finish']);

/**
 * Pairs of plugins that interact — a shared hook tap (other than the set-up hooks), a
 * component both write, a component one writes and the other reads, a service both
 * resolve, or a service one provides and the other resolves — and that can
 * run together (no common exclusive capability, no declared conflict), with whether
 * some successful cell ran them together.
 */
export function interactionCoverage(results: readonly CellResult[], catalog: PluginCatalog): Coverage {
  const info = new Map<string, { hooks: Set<string>; writes: Set<string>; reads: Set<string>; services: Set<string> }>();
  const together = new Set<string>();
  for (const r of results) {
    const ids = Object.keys(r.plugins ?? {}).sort();
    for (const id of ids) {
      const e = info.get(id) ?? { hooks: new Set(), writes: new Set(), reads: new Set(), services: new Set() };
      const p: PluginFootprint = r.plugins[id];
      p.hooks.forEach((h) => !SETUP_HOOKS.has(h) && e.hooks.add(h));
      p.writes.forEach((w) => e.writes.add(w));
      (p.reads ?? []).forEach((w) => e.reads.add(w));
      (p.services ?? []).forEach((x) => e.services.add(x));
      info.set(id, e);
    }
    if (r.status === 'ok') for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) together.add(`${ids[i]} + ${ids[j]}`);
  }
  const ids = [...info.keys()].sort();
  const reasons: Record<string, string> = {};
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = info.get(ids[i])!;
      const b = info.get(ids[j])!;
      const hook = [...a.hooks].find((h) => b.hooks.has(h));
      const both = [...a.writes].find((w) => b.writes.has(w));
      const flow = [...a.writes].find((w) => b.reads.has(w)) ?? [...b.writes].find((w) => a.reads.has(w));
      const shared = [...a.services].find((x) => b.services.has(x));
      const uses =
        [...a.services].find((x) => x.endsWith(`@${ids[j]}`))?.replace(/@.*/, ` (${ids[i]} uses ${ids[j]}'s)`) ??
        [...b.services].find((x) => x.endsWith(`@${ids[i]}`))?.replace(/@.*/, ` (${ids[j]} uses ${ids[i]}'s)`);
      const why = hook
        ? `both tap ${hook}`
        : both
          ? `both write ${both}`
          : flow
            ? `one writes ${flow}, the other reads it`
            : shared
              ? `both use service ${shared.replace(/@.*/, '')}`
              : uses
                ? `service ${uses}`
                : undefined;
      if (!why) continue;
      const ma = catalog.get(ids[i])?.manifest;
      const mb = catalog.get(ids[j])?.manifest;
      const pa = ma?.provides ?? [];
      const pb = mb?.provides ?? [];
      const exclusive = pa.some((c) => isExclusive(c) && pb.includes(c));
      const conflict = (ma?.conflicts ?? []).some((c) => c === ids[j] || pb.includes(c)) || (mb?.conflicts ?? []).some((c) => c === ids[i] || pa.includes(c));
      if (!exclusive && !conflict) reasons[`${ids[i]} + ${ids[j]}`] = why;
    }
  }
  const pairs = Object.keys(reasons);
  const missing = pairs.filter((p) => !together.has(p));
  return { pairs: pairs.length, covered: pairs.length - missing.length, missing, reasons };
}

const fmt = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(8))));

function change(c: MetricChange): string {
  if (c.golden === null || c.value === null) return '';
  const d = c.value - c.golden;
  const rel = c.golden !== 0 ? ` (${d > 0 ? '+' : ''}${((d / Math.abs(c.golden)) * 100).toPrecision(3)}%)` : '';
  return `${d > 0 ? '+' : ''}${fmt(d)}${rel}`;
}

function summaryLine(r: MatrixReport): string {
  return `${r.cells.length} cells: ${VERDICTS.filter((v) => r.counts[v]).map((v) => `${r.counts[v]} ${v}`).join(', ') || 'none'}.`;
}

function coverageLine(r: MatrixReport): string {
  const c = r.coverage;
  return `Interaction coverage: ${c.covered}/${c.pairs} interacting plugin pairs ran together${c.missing.length ? `; never together: ${c.missing.map((p) => `${p} (${c.reasons[p]})`).join('; ')}` : ''}.`;
}

function determinismLine(r: MatrixReport): string {
  if (r.nondeterministic.length) return `NOT DETERMINISTIC (metrics.json differed on a re-run): ${r.nondeterministic.join(', ')}.`;
  return r.determinism.checked.length ? `Determinism: ${r.determinism.checked.length} cells re-run, identical metrics.json.` : 'Determinism: no cell re-run.';
}

function reportMarkdown(r: MatrixReport): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [`# Matrix ${r.name}`, '', summaryLine(r), '', coverageLine(r), '', determinismLine(r)];
  if (r.uncoverable) lines.push('', `${r.uncoverable} value combinations are excluded by rules and cannot be covered.`);
  const moved = r.cells.filter((c) => c.changes.length);
  if (moved.length) {
    lines.push('', '## Changes beyond tolerance', '', '| cell | verdict | metric | golden | now | change | tolerance |', '|---|---|---|---:|---:|---:|---:|');
    for (const c of moved) for (const ch of c.changes) lines.push(`| ${cell(c.label)} | ${c.verdict} | ${ch.metric} | ${fmt(ch.golden)} | ${fmt(ch.value)} | ${change(ch)} | ${fmt(ch.tolerance)} |`);
  }
  const problems = r.cells.filter((c) => ['failed', 'timeout', 'skipped', 'new'].includes(c.verdict));
  if (problems.length) {
    lines.push('', '## Failed, timed out, skipped and new cells', '', '| cell | verdict | reason |', '|---|---|---|');
    for (const c of problems) lines.push(`| ${cell(c.label)} | ${c.verdict} | ${cell(c.details.join('; ').split('\n')[0]).slice(0, 400)} |`);
  }
  lines.push('', '## Every cell', '', `| cell | verdict | ${r.metrics.join(' | ')} |`, `|---|---|${r.metrics.map(() => '---:|').join('')}`);
  for (const c of r.cells) lines.push(`| ${cell(c.label)} | ${c.verdict} | ${r.metrics.map((m) => fmt(c.metrics[m])).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

function reportHtml(r: MatrixReport): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const colour: Record<Verdict, string> = { unchanged: '#e8f5e9', improved: '#e3f2fd', regressed: '#ffcdd2', new: '#fffde7', failed: '#ffab91', skipped: '#f5f5f5', timeout: '#ffe0b2' };
  const badge = (v: Verdict) => `<span class="v" style="background:${colour[v]}">${v}</span>`;
  const moved = r.cells.filter((c) => c.changes.length);
  const changes = moved.length
    ? `<h2>Changes beyond tolerance</h2><table><tr><th>cell</th><th>verdict</th><th>metric</th><th>golden</th><th>now</th><th>change</th><th>tolerance</th></tr>
${moved.flatMap((c) => c.changes.map((ch) => `<tr><td>${esc(c.label)}</td><td>${badge(c.verdict)}</td><td>${esc(ch.metric)}</td><td class="n">${fmt(ch.golden)}</td><td class="n">${fmt(ch.value)}</td><td class="n">${esc(change(ch))}</td><td class="n">${fmt(ch.tolerance)}</td></tr>`)).join('\n')}</table>`
    : '';
  const rows = r.cells
    .map(
      (c) =>
        `<tr style="background:${colour[c.verdict]}"><td>${esc(c.label)}</td><td>${c.verdict}</td>${r.metrics.map((m) => `<td class="n">${fmt(c.metrics[m])}</td>`).join('')}<td>${esc(c.details.join('; ').slice(0, 2000))}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Matrix ${esc(r.name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}.v{padding:1px 6px;border-radius:3px}</style></head>
<body>
<h1>Matrix ${esc(r.name)}</h1>
<p>${esc(summaryLine(r))}</p>
<p>${esc(coverageLine(r))}</p>
<p>${r.nondeterministic.length ? `<b>${esc(determinismLine(r))}</b>` : esc(determinismLine(r))}</p>
${changes}
<h2>Every cell</h2>
<table><tr><th>cell</th><th>verdict</th>${r.metrics.map((m) => `<th>${esc(m)}</th>`).join('')}<th>details</th></tr>
${rows}
</table>
</body></html>
`;
}

interface GoldenFile {
  matrix?: string;
  cells: Record<string, { label: string; metrics: Golden }>;
}

function readGolden(file: string): GoldenFile {
  if (!existsSync(file)) return { cells: {} };
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as GoldenFile;
  } catch (e) {
    throw new MatrixError(`${file} is not valid JSON: ${(e as Error).message}`, 'restore it from version control, or rewrite it with --update-golden');
  }
}

/**
 * Stores the successful cells' metrics as golden values. Cells of the matrix that did
 * not succeed keep their previous values; cells no longer in the matrix are dropped,
 * except on a shard run, which only knows its own cells and so keeps every other one.
 */
function updateGolden(m: MatrixFile, all: readonly Cell[], results: readonly CellResult[], partial: boolean): void {
  const old = readGolden(m.golden);
  const ids = new Set(all.map((c) => c.id));
  const cells: GoldenFile['cells'] = {};
  for (const [id, g] of Object.entries(old.cells)) if (partial || ids.has(id)) cells[id] = g;
  for (const r of results) if (r.status === 'ok') cells[r.id] = { label: r.label, metrics: r.metrics };
  const sorted = Object.fromEntries(Object.entries(cells).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeAtomic(m.golden, JSON.stringify({ matrix: m.name, cells: sorted }, null, 2) + '\n');
}

/** Builds and writes the report of a run's (or merged shards') cell results. */
export function finishReport(m: MatrixFile, out: string, results: CellResult[], determinism: { checked: string[]; differing: string[] }, uncoverable: number): MatrixReport {
  const goldens = readGolden(m.golden);
  const cells = results.map((r) => compare(r, goldens.cells[r.id]?.metrics, m.metrics as Record<string, MetricSpec>)).sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const c of cells) counts[c.verdict]++;
  const coverage = interactionCoverage(results, loadCatalog());
  const nondeterministic = [...determinism.differing].sort();
  const exitCode = counts.regressed || counts.failed || counts.timeout || nondeterministic.length ? 1 : 0;
  const report: MatrixReport = { name: m.name, metrics: Object.keys(m.metrics), cells, counts, determinism, nondeterministic, uncoverable, coverage, exitCode };
  writeAtomic(path.join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeAtomic(path.join(out, 'report.md'), reportMarkdown(report));
  writeAtomic(path.join(out, 'report.html'), reportHtml(report));
  return report;
}

/** Deletes stored cells that are not cells of this run (stale keys), and stray temporary files. */
function pruneCells(out: string, keep: ReadonlySet<string>): void {
  const dir = path.join(out, 'cells');
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (!keep.has(f.replace(/\.json$/, '')) || f.endsWith('.tmp')) rmSync(path.join(dir, f), { force: true });
}

/**
 * A stored cell result, or undefined when there is none or it cannot be read (a file
 * cut short by a crash or a full disk): such a cell counts as missing, and `warn` is
 * told which file it was.
 */
export function readCell(file: string, warn?: (line: string) => void): CellResult | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as CellResult;
    if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || typeof r.status !== 'string') throw new Error('not a cell result');
    return r;
  } catch (e) {
    warn?.(`${file} is corrupt (${(e as Error).message.split('\n')[0]}); its cell counts as missing`);
    return undefined;
  }
}

/**
 * The determinism check stored in `file`, when it re-ran exactly the cells with these
 * keys (keys hash everything a result depends on, so the check still holds).
 */
function readDeterminism(file: string, keys: readonly string[]): { checked: string[]; differing: string[] } | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const d = JSON.parse(readFileSync(file, 'utf8')) as { checked: string[]; differing: string[]; keys?: string[] };
    if (!Array.isArray(d.keys) || d.keys.join() !== keys.join() || !Array.isArray(d.checked) || !Array.isArray(d.differing)) return undefined;
    return { checked: d.checked, differing: d.differing };
  } catch {
    return undefined;
  }
}

/** Runs a matrix (or one shard of it) and writes its results and report. */
export async function runMatrix(o: MatrixOptions): Promise<{ report: MatrixReport; out: string; ran: number; reused: number; rechecked: number }> {
  const read = readMatrix(o.file);
  const m = o.timeoutMs === undefined ? read : { ...read, timeoutMs: o.timeoutMs };
  if (o.shard && !(Number.isInteger(o.shard.k) && Number.isInteger(o.shard.n) && o.shard.k >= 1 && o.shard.k <= o.shard.n)) {
    throw new MatrixError(`shard ${o.shard.k}/${o.shard.n}: expected k/n with 1 ≤ k ≤ n`);
  }
  const out = o.out ?? path.join('results', 'matrix', m.name + (o.shard ? `-shard${o.shard.k}of${o.shard.n}` : ''));
  const { cells: all, uncoverable } = matrixCells(m);
  const cells = o.shard ? shard(all, o.shard.k, o.shard.n) : all;
  checkCellInputs(cells);
  pruneCells(out, new Set(o.fresh ? [] : cells.map((c) => c.key)));
  writeAtomic(path.join(out, 'matrix.json'), JSON.stringify({ file: path.relative(process.cwd(), path.resolve(o.file)), name: m.name, shard: o.shard ?? null, cells: cells.length }, null, 2) + '\n');
  const results = new Map<string, CellResult>();
  for (const c of cells) {
    const r = readCell(cellFile(out, c.key), o.warn);
    if (r) results.set(c.id, r);
  }
  const reused = results.size;
  const todo = cells.filter((c) => !results.has(c.id));
  const workers = o.workers ?? os.availableParallelism();
  const sample = Math.min(m.determinismSample, cells.length);
  // Determinism: re-run a sample of the successful cells (the first by id, so every
  // run checks the same ones) and compare the bytes of their metrics.json.
  const sampleOf = () =>
    [...results.values()]
      .filter((r) => r.status === 'ok')
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, m.determinismSample);
  // A rerun that finds every cell stored (a resubmitted shard whose task had finished)
  // runs nothing: the stored check of the same sample (same keys) still holds.
  const detFile = path.join(out, 'determinism.json');
  const checkedBefore = todo.length ? undefined : readDeterminism(detFile, sampleOf().map((r) => r.key));
  const pool = workers > 0 && (todo.length || (sample && !checkedBefore)) ? new WorkerPool(Math.max(1, Math.min(workers, Math.max(todo.length, sample)))) : undefined;
  let done = reused;
  o.progress?.(done, cells.length);
  const determinism = checkedBefore ?? { checked: [] as string[], differing: [] as string[] };
  let rechecked = 0;
  try {
    await runAll(todo, m, pool, (r) => {
      results.set(r.id, r);
      writeAtomic(cellFile(out, r.key), JSON.stringify(r, null, 2) + '\n');
      o.progress?.(++done, cells.length);
    });
    const again = checkedBefore ? [] : sampleOf();
    const byId = new Map(cells.map((c) => [c.id, c]));
    await runAll(
      again.map((r) => byId.get(r.id)!),
      m,
      pool,
      (r) => {
        const first = results.get(r.id)!;
        rechecked++;
        determinism.checked.push(first.label);
        if (r.status !== 'ok' || r.metricsHash !== first.metricsHash) determinism.differing.push(first.label);
      },
    );
    if (!checkedBefore) writeAtomic(detFile, JSON.stringify({ ...determinism, keys: again.map((r) => r.key) }, null, 2) + '\n');
  } finally {
    await pool?.close();
  }
  const ordered = cells.map((c) => results.get(c.id)!);
  if (o.updateGolden) updateGolden(m, all, ordered, o.shard !== undefined);
  const report = finishReport(m, out, ordered, determinism, uncoverable);
  return { report, out, ran: todo.length, reused, rechecked };
}

/**
 * Interaction coverage of a matrix without running it: boots every cell (in this
 * thread) to learn which hooks and components its plugins touch.
 */
export async function matrixCoverage(file: string): Promise<{ coverage: Coverage; cells: number; skipped: number }> {
  const m = readMatrix(file);
  const catalog = loadCatalog();
  const { cells } = matrixCells(m);
  checkCellInputs(cells);
  const results: CellResult[] = [];
  for (const c of cells) results.push(await runCell(c, [], m.timeoutMs, true));
  return { coverage: interactionCoverage(results, catalog), cells: cells.length, skipped: results.filter((r) => r.status !== 'ok').length };
}

/** Combines the outputs of several shards (their folders) into one folder and report. */
export function mergeShards(dirs: readonly string[], out: string, warn?: (line: string) => void): MatrixReport {
  if (!dirs.length) throw new MatrixError('merge needs at least one shard output folder');
  const stamps = dirs.map((dir) => {
    const stamp = path.join(dir, 'matrix.json');
    if (!existsSync(stamp)) throw new MatrixError(`${dir} has no matrix.json: is it a matrix output folder?`);
    return JSON.parse(readFileSync(stamp, 'utf8')) as { file: string; name: string };
  });
  const names = [...new Set(stamps.map((s) => s.name))];
  if (names.length > 1) throw new MatrixError(`the folders hold different matrices (${names.join(', ')})`, 'merge the shards of one matrix at a time');
  const m = readMatrix(stamps[0].file);
  const { cells, uncoverable } = matrixCells(m);
  const wanted = new Map(cells.map((c) => [c.key, c]));
  const results = new Map<string, CellResult>();
  const determinism = { checked: [] as string[], differing: [] as string[] };
  for (const dir of dirs) {
    const cellsDir = path.join(dir, 'cells');
    if (!existsSync(cellsDir)) throw new MatrixError(`${dir} has no cells/ folder: is it a matrix output folder?`);
    for (const f of readdirSync(cellsDir).filter((n) => n.endsWith('.json')).sort()) {
      // Only results of the current matrix and sources count: a folder may hold a
      // shard run against other code, whose results would be stale here.
      if (!wanted.has(f.replace(/\.json$/, ''))) continue;
      const r = readCell(path.join(cellsDir, f), warn);
      if (!r) continue;
      results.set(r.id, r);
      if (path.resolve(dir) !== path.resolve(out)) writeAtomic(cellFile(out, r.key), JSON.stringify(r, null, 2) + '\n');
    }
    const d = path.join(dir, 'determinism.json');
    if (existsSync(d)) {
      const x = JSON.parse(readFileSync(d, 'utf8')) as typeof determinism;
      determinism.checked.push(...x.checked);
      determinism.differing.push(...x.differing);
    }
  }
  writeAtomic(path.join(out, 'matrix.json'), JSON.stringify({ file: stamps[0].file, name: m.name, shard: null, cells: cells.length, mergedFrom: dirs }, null, 2) + '\n');
  writeAtomic(path.join(out, 'determinism.json'), JSON.stringify(determinism, null, 2) + '\n');
  const all = cells.map(
    (c) =>
      results.get(c.id) ?? {
        id: c.id,
        key: c.key,
        label: c.label,
        assignment: c.assignment,
        status: 'failed' as const,
        error: 'no shard produced this cell (a shard is missing, or ran against other sources)',
        metrics: {},
        wallMs: 0,
        plugins: {},
      },
  );
  return finishReport(m, out, all, determinism, uncoverable);
}
