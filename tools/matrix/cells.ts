// Matrix files and their cells. A matrix names scenarios and axes — plugin choices by
// capability, option values by `--set` path, seeds — and a strategy: the full product
// of the axes, or a t-wise covering set. Cells are identified by a stable hash of
// what they run, so results can be stored, resumed, sharded and merged.
//
// The covering set is built greedily and deterministically (in the manner of AETG):
// all t-tuples of axis values are listed; each new row starts from the first tuple not
// yet covered and fills the remaining axes, in axis order, with the value that covers
// the most new tuples (the lowest value index on ties). Rows that match an exclusion
// rule are never produced, and tuples that only excluded rows could cover are dropped
// and reported. For t = 2 this typically needs close to max(|Ai|·|Aj|) rows instead of
// the product of all axis sizes.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

export type AxisValue = string | number | boolean | null;

export interface MetricSpec {
  /** Absolute tolerance. */
  readonly tolerance?: number;
  /** Relative tolerance (fraction of the golden value). */
  readonly relative?: number;
  /** Which direction is an improvement; `none`: any change beyond tolerance is a regression. */
  readonly better?: 'lower' | 'higher' | 'none';
}

export interface MatrixFile {
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly scenarios: ReadonlyArray<{ readonly file: string; readonly set: Readonly<Record<string, unknown>> }>;
  readonly axes: ReadonlyArray<{ readonly name: string; readonly values: readonly AxisValue[] }>;
  readonly strategy: 'full' | number;
  readonly exclude: ReadonlyArray<Readonly<Record<string, AxisValue>>>;
  readonly metrics: Readonly<Record<string, MetricSpec>>;
  readonly determinismSample: number;
  /** Per-cell wall-clock limit, ms. */
  readonly timeoutMs: number;
  /** Golden values file. */
  readonly golden: string;
}

export class MatrixError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Reads and checks a matrix file. */
export function readMatrix(file: string): MatrixFile {
  if (!existsSync(file)) throw new MatrixError(`no such matrix file: ${file}`);
  let doc: Record<string, unknown>;
  try {
    doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new MatrixError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const where = (k: string) => `${file}: ${k}`;
  const known = ['name', 'description', 'scenarios', 'axes', 'strategy', 'exclude', 'metrics', 'determinismSample', 'timeout', 'golden'];
  for (const k of Object.keys(doc ?? {})) if (!known.includes(k)) throw new MatrixError(where(`unknown key '${k}'`), `keys: ${known.join(', ')}`);
  if (typeof doc?.name !== 'string') throw new MatrixError(where('a matrix needs a name'));
  const base = path.dirname(path.resolve(file));
  const scenarios = ((doc.scenarios as unknown[]) ?? []).map((s, i) => {
    const entry = typeof s === 'string' ? { file: s } : (s as { file?: string; set?: Record<string, unknown> });
    if (!entry.file) throw new MatrixError(where(`scenarios.${i} needs a file`));
    const resolved = path.resolve(base, entry.file);
    if (!existsSync(resolved)) throw new MatrixError(where(`scenarios.${i}: ${entry.file} does not exist`));
    return { file: path.relative(process.cwd(), resolved), set: entry.set ?? {} };
  });
  if (!scenarios.length) throw new MatrixError(where('a matrix needs at least one scenario'));
  const axesDoc = (doc.axes ?? {}) as Record<string, unknown>;
  const axes = Object.entries(axesDoc).map(([name, values]) => {
    if (!Array.isArray(values) || !values.length) throw new MatrixError(where(`axis '${name}' must list at least one value`));
    return { name, values: values as AxisValue[] };
  });
  const strategyRaw = doc.strategy ?? 'full';
  let strategy: 'full' | number;
  if (strategyRaw === 'full') strategy = 'full';
  else if (strategyRaw === 'pairwise') strategy = 2;
  else {
    const m = /^(\d+)-wise$/.exec(String(strategyRaw));
    if (!m || Number(m[1]) < 1) throw new MatrixError(where(`strategy must be full, pairwise or t-wise (e.g. 3-wise), got '${strategyRaw}'`));
    strategy = Number(m[1]);
  }
  const exclude = ((doc.exclude as unknown[]) ?? []) as Array<Record<string, AxisValue>>;
  for (const rule of exclude) {
    for (const k of Object.keys(rule)) if (!axes.some((a) => a.name === k)) throw new MatrixError(where(`exclude names unknown axis '${k}'`));
  }
  const metrics = (doc.metrics ?? {}) as Record<string, MetricSpec>;
  if (!Object.keys(metrics).length) throw new MatrixError(where('a matrix needs metrics to compare'), 'for example metrics: { dc.vms.running: { tolerance: 0 } }');
  const timeout = doc.timeout === undefined ? 120_000 : parseDuration(String(doc.timeout));
  const golden = path.relative(process.cwd(), path.resolve(base, (doc.golden as string | undefined) ?? `${path.basename(file).replace(/\.matrix\.ya?ml$/, '')}.golden.json`));
  return {
    file,
    name: doc.name,
    description: (doc.description as string | undefined) ?? '',
    scenarios,
    axes,
    strategy,
    exclude,
    metrics,
    determinismSample: (doc.determinismSample as number | undefined) ?? 1,
    timeoutMs: timeout,
    golden,
  };
}

function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|min)?$/.exec(s.trim());
  if (!m) throw new MatrixError(`timeout '${s}' is not a duration such as 30s`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'min' ? 60_000 : 1000);
}

export interface Cell {
  /**
   * Stable id: a hash of the scenario file and the assignment. The matrix's fixed
   * overrides are left out on purpose, so that changing them (like changing a
   * default) is compared against the same golden values.
   */
  readonly id: string;
  readonly scenario: string;
  readonly scenarioSet: Readonly<Record<string, unknown>>;
  readonly assignment: Readonly<Record<string, AxisValue>>;
  /** Short human label: "scenario axis=value …". */
  readonly label: string;
}

function matches(row: Record<string, AxisValue>, rule: Record<string, AxisValue>): boolean {
  return Object.entries(rule).every(([k, v]) => row[k] === v);
}

/** Rows (value indexes per axis) of the full product, without excluded ones. */
function fullRows(m: MatrixFile): number[][] {
  let rows: number[][] = [[]];
  for (const axis of m.axes) rows = rows.flatMap((r) => axis.values.map((_, i) => [...r, i]));
  return rows.filter((r) => !m.exclude.some((rule) => matches(toAssignment(m, r), rule)));
}

function toAssignment(m: MatrixFile, row: number[]): Record<string, AxisValue> {
  const out: Record<string, AxisValue> = {};
  m.axes.forEach((a, i) => {
    if (row[i] !== undefined) out[a.name] = a.values[row[i]];
  });
  return out;
}

function combinations(n: number, t: number): number[][] {
  const out: number[][] = [];
  const rec = (start: number, acc: number[]) => {
    if (acc.length === t) {
      out.push(acc);
      return;
    }
    for (let i = start; i < n; i++) rec(i + 1, [...acc, i]);
  };
  rec(0, []);
  return out;
}

export interface CoveringResult {
  readonly rows: number[][];
  /** t-tuples that only excluded rows could cover. */
  readonly uncoverable: number;
}

/** A t-wise covering set of rows, built greedily (see the header comment). */
export function coveringRows(m: MatrixFile, t: number): CoveringResult {
  const k = m.axes.length;
  const allowed = fullRows(m);
  if (t >= k) return { rows: allowed, uncoverable: 0 };
  const key = (axes: number[], vals: number[]) => `${axes.join(',')}:${vals.join(',')}`;
  const tuplesOf = (row: number[]) => combinations(k, t).map((axes) => key(axes, axes.map((a) => row[a])));
  // Tuples coverable by some allowed row.
  const coverable = new Set<string>();
  for (const r of allowed) for (const tu of tuplesOf(r)) coverable.add(tu);
  let allTuples = 0;
  for (const axes of combinations(k, t)) allTuples += axes.reduce((n, a) => n * m.axes[a].values.length, 1);
  const uncovered = new Set(coverable);
  const rows: number[][] = [];
  const allowedSet = new Set(allowed.map((r) => r.join(',')));
  while (uncovered.size) {
    // Seed the row with the first uncovered tuple, in a stable order.
    const first = [...uncovered].sort()[0];
    const [axesPart, valsPart] = first.split(':');
    const row: number[] = new Array(k).fill(-1);
    axesPart.split(',').map(Number).forEach((a, i) => (row[a] = Number(valsPart.split(',')[i])));
    for (let a = 0; a < k; a++) {
      if (row[a] >= 0) continue;
      let best = -1;
      let bestGain = -1;
      for (let v = 0; v < m.axes[a].values.length; v++) {
        row[a] = v;
        // Only consider values that can still complete to an allowed row.
        if (!allowed.some((r) => r.every((x, i) => row[i] < 0 || row[i] === x))) continue;
        let gain = 0;
        for (const axes of combinations(k, t)) {
          if (!axes.includes(a) || axes.some((x) => row[x] < 0)) continue;
          if (uncovered.has(key(axes, axes.map((x) => row[x])))) gain++;
        }
        if (gain > bestGain) {
          bestGain = gain;
          best = v;
        }
      }
      row[a] = best;
    }
    if (!allowedSet.has(row.join(','))) {
      // Greedy completion hit an exclusion: fall back to an allowed row covering the seed tuple.
      const fallback = allowed.find((r) => tuplesOf(r).includes(first))!;
      row.splice(0, k, ...fallback);
    }
    for (const tu of tuplesOf(row)) uncovered.delete(tu);
    rows.push(row);
  }
  return { rows, uncoverable: allTuples - coverable.size };
}

/** Every cell of the matrix, in a stable order. */
export function matrixCells(m: MatrixFile): { cells: Cell[]; uncoverable: number } {
  const { rows, uncoverable } = m.strategy === 'full' ? { rows: fullRows(m), uncoverable: 0 } : coveringRows(m, m.strategy);
  const cells: Cell[] = [];
  for (const s of m.scenarios) {
    for (const row of rows) {
      const assignment = toAssignment(m, row);
      const id = createHash('sha256')
        .update(JSON.stringify({ scenario: s.file, assignment }))
        .digest('hex')
        .slice(0, 16);
      const label = `${path.basename(s.file).replace(/\.scenario\.ya?ml$/, '')} ${Object.entries(assignment)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`.trim();
      cells.push({ id, scenario: s.file, scenarioSet: s.set, assignment, label });
    }
  }
  return { cells, uncoverable };
}

/** The cells of shard k of n (1-based), chosen by cell id so any machine agrees. */
export function shard(cells: readonly Cell[], k: number, n: number): Cell[] {
  return cells.filter((c) => parseInt(c.id.slice(0, 8), 16) % n === k - 1);
}
