// The matrix runner: runs a matrix's cells (in a pool of worker threads, or in this
// thread), stores each finished cell at once (so a rerun resumes and an interrupted
// run loses nothing), re-runs a sample to prove determinism, compares the selected
// metrics with the golden values, reports regressions, improvements and unchanged
// cells as Markdown, JSON and HTML, and checks interaction coverage: that every pair
// of plugins that tap a common hook or write a common component ran together in at
// least one cell.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { isExclusive, type PluginCatalog } from 'virtlab';
import { loadCatalog } from '../node/catalog';
import { matrixCells, readMatrix, shard, type Cell, type MatrixFile, type MetricSpec } from './cells';
import { runCell, type CellResult } from './run-cell';

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
}

export type Verdict = 'unchanged' | 'improved' | 'regressed' | 'new' | 'failed' | 'skipped' | 'timeout';

export interface CellReport {
  readonly id: string;
  readonly label: string;
  readonly verdict: Verdict;
  readonly details: string[];
  readonly metrics: Record<string, number | null>;
}

export interface MatrixReport {
  readonly name: string;
  readonly cells: CellReport[];
  readonly counts: Record<Verdict, number>;
  readonly nondeterministic: string[];
  readonly uncoverable: number;
  readonly coverage: { pairs: number; covered: number; missing: string[] };
  readonly exitCode: number;
}

/** Writes a file through a temporary name and a rename. */
export function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function cellFile(out: string, id: string): string {
  return path.join(out, 'cells', `${id}.json`);
}

/** A pool of worker threads that run cells; started once per matrix run. */
class WorkerPool {
  private readonly workers: Worker[];

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => new Worker(path.join(__dirname, 'worker.js')));
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
          const fail = (status: 'timeout' | 'failed', error: string): void => {
            worker.removeAllListeners('message');
            worker.removeAllListeners('error');
            void worker.terminate();
            this.workers[slot] = new Worker(path.join(__dirname, 'worker.js'));
            resolve({ id: c.id, label: c.label, assignment: c.assignment, status, error, metrics: {}, wallMs: 0, plugins: {} });
          };
          // The worker enforces the timeout between ticks; this catches a stuck tick.
          const timer = setTimeout(() => fail('timeout', `no answer within ${m.timeoutMs + 10_000} ms`), m.timeoutMs + 10_000);
          worker.once('message', (r: CellResult) => {
            clearTimeout(timer);
            worker.removeAllListeners('error');
            resolve(r);
          });
          worker.once('error', (e: Error) => {
            clearTimeout(timer);
            fail('failed', `worker crashed: ${e.message}`);
          });
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

async function runAll(cells: Cell[], m: MatrixFile, pool: WorkerPool | undefined, catalog: PluginCatalog, done: (r: CellResult) => void): Promise<void> {
  if (!pool) {
    for (const c of cells) done(await runCell(c, Object.keys(m.metrics), catalog, m.timeoutMs));
  } else await pool.run(cells, m, done);
}

function compare(result: CellResult, golden: Record<string, number | null> | undefined, specs: Record<string, MetricSpec>): CellReport {
  const base = { id: result.id, label: result.label, metrics: result.metrics };
  if (result.status !== 'ok') return { ...base, verdict: result.status, details: [result.error ?? ''] };
  if (!golden) return { ...base, verdict: 'new', details: ['no golden values yet (run with --update-golden)'] };
  let worse = false;
  let better = false;
  const details: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const v = result.metrics[name];
    const g = golden[name];
    if (v === null || v === undefined || g === null || g === undefined) {
      if (v !== g) {
        worse = true;
        details.push(`${name}: ${g} → ${v}`);
      }
      continue;
    }
    const tol = Math.max(spec.tolerance ?? 0, Math.abs(g) * (spec.relative ?? 0));
    if (Math.abs(v - g) <= tol) continue;
    const dir = spec.better ?? 'none';
    const improved = (dir === 'lower' && v < g) || (dir === 'higher' && v > g);
    if (improved) better = true;
    else worse = true;
    details.push(`${name}: ${g} → ${v} (${improved ? 'better' : 'worse'}, tolerance ${tol})`);
  }
  return { ...base, verdict: worse ? 'regressed' : better ? 'improved' : 'unchanged', details };
}

/** Hooks nearly every plugin taps to set itself up or write results: no interaction. */
const SETUP_HOOKS = new Set(['lifecycle.boot', 'lifecycle.bootAsync', 'lifecycle.finish']);

/**
 * Pairs of plugins that interact — a shared hook tap (other than the set-up hooks) or
 * a shared written component — and that can run together (they provide no common
 * exclusive capability).
 */
export function interactionCoverage(results: CellResult[], catalog: PluginCatalog): MatrixReport['coverage'] {
  const info = new Map<string, { hooks: Set<string>; writes: Set<string> }>();
  const together = new Set<string>();
  for (const r of results) {
    const ids = Object.keys(r.plugins).sort();
    for (const id of ids) {
      const e = info.get(id) ?? { hooks: new Set(), writes: new Set() };
      r.plugins[id].hooks.forEach((h) => !SETUP_HOOKS.has(h) && e.hooks.add(h));
      r.plugins[id].writes.forEach((w) => e.writes.add(w));
      info.set(id, e);
    }
    if (r.status === 'ok') for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) together.add(`${ids[i]} + ${ids[j]}`);
  }
  const ids = [...info.keys()].sort();
  const pairs: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = info.get(ids[i])!;
      const b = info.get(ids[j])!;
      const shares = [...a.hooks].some((h) => b.hooks.has(h)) || [...a.writes].some((w) => b.writes.has(w));
      const pa = catalog.get(ids[i])?.manifest.provides ?? [];
      const pb = catalog.get(ids[j])?.manifest.provides ?? [];
      const exclusive = pa.some((c) => isExclusive(c) && pb.includes(c));
      if (shares && !exclusive) pairs.push(`${ids[i]} + ${ids[j]}`);
    }
  }
  const missing = pairs.filter((p) => !together.has(p));
  return { pairs: pairs.length, covered: pairs.length - missing.length, missing };
}

function reportMarkdown(r: MatrixReport): string {
  const lines = [
    `# Matrix ${r.name}`,
    '',
    `${r.cells.length} cells: ${Object.entries(r.counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ')}.`,
    `Interaction coverage: ${r.coverage.covered}/${r.coverage.pairs} interacting plugin pairs ran together${r.coverage.missing.length ? ` (missing: ${r.coverage.missing.join('; ')})` : ''}.`,
    r.nondeterministic.length ? `NOT DETERMINISTIC: ${r.nondeterministic.join(', ')}` : 'Determinism: every re-run cell gave identical metrics.json.',
    r.uncoverable ? `${r.uncoverable} value combinations are excluded by rules and cannot be covered.` : '',
    '',
    '| cell | verdict | details |',
    '|---|---|---|',
    ...r.cells.map((c) => `| ${c.label} | ${c.verdict} | ${c.details.join('; ').replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 300)} |`),
  ];
  return lines.join('\n') + '\n';
}

function reportHtml(r: MatrixReport): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const colour: Record<Verdict, string> = { unchanged: '#e8f5e9', improved: '#e3f2fd', regressed: '#ffebee', new: '#fffde7', failed: '#ffcdd2', skipped: '#f5f5f5', timeout: '#ffe0b2' };
  const rows = r.cells.map((c) => `<tr style="background:${colour[c.verdict]}"><td>${esc(c.label)}</td><td>${c.verdict}</td><td>${esc(c.details.join('; ')).slice(0, 2000)}</td></tr>`).join('\n');
  return `<!doctype html><meta charset="utf-8"><title>Matrix ${esc(r.name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}</style>
<h1>Matrix ${esc(r.name)}</h1>
<p>${Object.entries(r.counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ')}.
Interaction coverage ${r.coverage.covered}/${r.coverage.pairs}. ${r.nondeterministic.length ? `<b>Not deterministic: ${esc(r.nondeterministic.join(', '))}</b>` : 'Deterministic on re-run.'}</p>
<table><tr><th>cell</th><th>verdict</th><th>details</th></tr>
${rows}
</table>
`;
}

/** Builds and writes the report of the cell results found in `out`. */
export function finishReport(m: MatrixFile, out: string, results: CellResult[], nondeterministic: string[], uncoverable: number, updateGolden: boolean): MatrixReport {
  const goldens = existsSync(m.golden) ? (JSON.parse(readFileSync(m.golden, 'utf8')) as { cells: Record<string, { label: string; metrics: Record<string, number | null> }> }) : { cells: {} };
  if (updateGolden) {
    const cellsOut: Record<string, { label: string; metrics: Record<string, number | null> }> = {};
    for (const r of [...results].sort((a, b) => (a.id < b.id ? -1 : 1))) if (r.status === 'ok') cellsOut[r.id] = { label: r.label, metrics: r.metrics };
    writeAtomic(m.golden, JSON.stringify({ matrix: m.name, cells: cellsOut }, null, 2) + '\n');
    goldens.cells = cellsOut;
  }
  const cells = results.map((r) => compare(r, goldens.cells[r.id]?.metrics, m.metrics as Record<string, MetricSpec>)).sort((a, b) => (a.label < b.label ? -1 : 1));
  const counts = { unchanged: 0, improved: 0, regressed: 0, new: 0, failed: 0, skipped: 0, timeout: 0 } as Record<Verdict, number>;
  for (const c of cells) counts[c.verdict]++;
  const coverage = interactionCoverage(results, loadCatalog());
  const exitCode = counts.regressed || counts.failed || counts.timeout || nondeterministic.length ? 1 : 0;
  const report: MatrixReport = { name: m.name, cells, counts, nondeterministic, uncoverable, coverage, exitCode };
  writeAtomic(path.join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeAtomic(path.join(out, 'report.md'), reportMarkdown(report));
  writeAtomic(path.join(out, 'report.html'), reportHtml(report));
  return report;
}

/** Runs a matrix (or one shard of it) and writes its results and report. */
export async function runMatrix(o: MatrixOptions): Promise<{ report: MatrixReport; out: string; ran: number; reused: number }> {
  const m = readMatrix(o.file);
  const out = o.out ?? path.join('results', 'matrix', m.name + (o.shard ? `-shard${o.shard.k}of${o.shard.n}` : ''));
  const catalog = loadCatalog();
  const { cells: all, uncoverable } = matrixCells(m);
  const cells = o.shard ? shard(all, o.shard.k, o.shard.n) : all;
  writeAtomic(path.join(out, 'matrix.json'), JSON.stringify({ file: path.relative(process.cwd(), path.resolve(o.file)), name: m.name, shard: o.shard ?? null }, null, 2) + '\n');
  const results = new Map<string, CellResult>();
  if (!o.fresh) {
    for (const c of cells) {
      const f = cellFile(out, c.id);
      if (existsSync(f)) results.set(c.id, JSON.parse(readFileSync(f, 'utf8')) as CellResult);
    }
  }
  const reused = results.size;
  const todo = cells.filter((c) => !results.has(c.id));
  const workers = o.workers ?? os.availableParallelism();
  const pool = workers > 0 && todo.length ? new WorkerPool(Math.min(workers, todo.length)) : undefined;
  let done = reused;
  const nondeterministic: string[] = [];
  try {
    await runAll(todo, m, pool, catalog, (r) => {
      results.set(r.id, r);
      writeAtomic(cellFile(out, r.id), JSON.stringify(r, null, 2) + '\n');
      o.progress?.(++done, cells.length);
    });
    // Determinism: re-run a sample of the successful cells and compare metrics.json.
    const sample = [...results.values()].filter((r) => r.status === 'ok').sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, m.determinismSample);
    const byId = new Map(cells.map((c) => [c.id, c]));
    await runAll(sample.map((r) => byId.get(r.id)!), m, pool, catalog, (again) => {
      if (again.metricsHash !== results.get(again.id)?.metricsHash) nondeterministic.push(again.label);
    });
  } finally {
    await pool?.close();
  }
  const report = finishReport(m, out, cells.map((c) => results.get(c.id)!), nondeterministic, uncoverable, o.updateGolden ?? false);
  return { report, out, ran: todo.length, reused };
}

/** Combines the outputs of several shards (their folders) into one folder and report. */
export function mergeShards(dirs: readonly string[], out: string): MatrixReport {
  const stamp = path.join(dirs[0] ?? '', 'matrix.json');
  if (!existsSync(stamp)) throw new Error(`${dirs[0]} has no matrix.json: is it a matrix output folder?`);
  const m = readMatrix((JSON.parse(readFileSync(stamp, 'utf8')) as { file: string }).file);
  const results = new Map<string, CellResult>();
  for (const dir of dirs) {
    const cellsDir = path.join(dir, 'cells');
    if (!existsSync(cellsDir)) throw new Error(`${dir} has no cells/ folder: is it a matrix output folder?`);
    for (const f of readdirSync(cellsDir).filter((n) => n.endsWith('.json')).sort()) {
      const r = JSON.parse(readFileSync(path.join(cellsDir, f), 'utf8')) as CellResult;
      results.set(r.id, r);
      writeAtomic(cellFile(out, r.id), JSON.stringify(r, null, 2) + '\n');
    }
  }
  const { cells, uncoverable } = matrixCells(m);
  const all = cells.map(
    (c) => results.get(c.id) ?? { id: c.id, label: c.label, assignment: c.assignment, status: 'failed' as const, error: 'no shard produced this cell', metrics: {}, wallMs: 0, plugins: {} },
  );
  return finishReport(m, out, all, [], uncoverable, false);
}
