// Matrix files and their cells. A matrix names scenarios and axes — plugin choices by
// capability, option values by `--set` path, seeds — and a strategy: the full product
// of the axes, or a t-wise covering set. Each cell has two hashes: its `id` (the
// scenario and the assignment: where it sits in the matrix, which keys the golden
// values and the shard split) and its `key` (everything that determines its result:
// the id, the scenario file's text, the fixed overrides, the metric names and the
// source of the engine, plugins and host profiles), which names its stored result, so
// that a rerun reuses a result only when nothing it depends on has changed.
//
// Covering sets are built greedily, in the manner of AETG (Cohen et al., 1997), and
// deterministically:
//   1. Every t-tuple of axis values (t axes, one value each) starts uncovered, and each
//      (axis, value) counts the uncovered tuples that hold it.
//   2. A new row is seeded with the uncovered tuple whose values are in the most
//      uncovered tuples (the first such tuple in a fixed order). If no allowed row
//      contains it (exclusion rules forbid every completion), the tuple is counted as
//      uncoverable and dropped.
//   3. `candidates` rows are grown from that seed — the first from the whole tuple,
//      the others from its single most-wanted value, as AETG starts from one factor —
//      by filling the remaining axes one by one (in axis order for the first
//      candidate, in an order drawn from a seeded generator for the others), each with
//      the value that covers the most uncovered tuples among the axes filled so far.
//      Ties go to the value in more uncovered tuples overall, then to the lowest value
//      index (first candidate) or a seeded random one (the others). A value that would
//      leave no allowed completion (checked by a small search over the axes that
//      exclusion rules mention) is never picked.
//   4. The candidate covering the most new tuples is kept (the earliest on ties), its
//      tuples are marked covered, and the loop repeats until none is left.
// The generator is seeded from the matrix (`strategy: { t: 2, candidates: 8, seed: 1 }`),
// so the same file always gives the same cells, on every machine. The full product is
// never enumerated for a covering set, so matrices with many axes stay cheap to plan:
// 12 axes of 3 values (531,441 combinations) need 19 rows pairwise, planned in tens of
// milliseconds; 4 axes of 2 values need 6.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { limits, Rng } from 'virtlab';
import { REPO_ROOT } from '../node/catalog';

export type AxisValue = string | number | boolean | null;

export interface MetricSpec {
  /** Absolute tolerance. */
  readonly tolerance?: number;
  /** Relative tolerance (fraction of the golden value). */
  readonly relative?: number;
  /** Which direction is an improvement; `none`: any change beyond tolerance is a regression. */
  readonly better?: 'lower' | 'higher' | 'none';
}

export interface Strategy {
  /** 'full' or the strength t of the covering set (2: pairwise). */
  readonly t: 'full' | number;
  /** Candidate rows grown per row of a covering set (AETG's M). */
  readonly candidates: number;
  /** Seed of the candidates' axis orders and tie-breaks. */
  readonly seed: number;
}

export interface MatrixFile {
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly scenarios: ReadonlyArray<{ readonly file: string; readonly set: Readonly<Record<string, unknown>> }>;
  readonly axes: ReadonlyArray<{ readonly name: string; readonly values: readonly AxisValue[] }>;
  readonly strategy: Strategy;
  readonly exclude: ReadonlyArray<Readonly<Record<string, AxisValue>>>;
  readonly metrics: Readonly<Record<string, MetricSpec>>;
  readonly determinismSample: number;
  /** Per-cell wall-clock limit, ms. */
  readonly timeoutMs: number;
  /** Golden values file. */
  readonly golden: string;
}

/** A problem with a matrix file or the matrix command's input: exit status 2. */
export class MatrixError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const KNOWN_KEYS = ['name', 'description', 'scenarios', 'axes', 'strategy', 'exclude', 'metrics', 'determinismSample', 'timeout', 'golden'];

function parseStrength(raw: unknown, where: (k: string) => string): 'full' | number {
  if (raw === 'full') return 'full';
  if (raw === 'pairwise') return 2;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 1) return raw;
  const m = /^(\d+)-wise$/.exec(String(raw));
  if (!m || Number(m[1]) < 1) throw new MatrixError(where(`strategy must be full, pairwise or t-wise (e.g. 3-wise), got '${raw}'`));
  return Number(m[1]);
}

/** Reads and checks a matrix file; every problem is a MatrixError naming the key. */
export function readMatrix(file: string): MatrixFile {
  if (!existsSync(file)) throw new MatrixError(`no such matrix file: ${file}`, 'give the path of a .matrix.yaml file');
  let doc: Record<string, unknown>;
  try {
    doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new MatrixError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const where = (k: string) => `${file}: ${k}`;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new MatrixError(where('a matrix file is a mapping of keys to values'), 'start with `name: my-matrix`');
  for (const k of Object.keys(doc)) if (!KNOWN_KEYS.includes(k)) throw new MatrixError(where(`unknown key '${k}'`), `keys: ${KNOWN_KEYS.join(', ')}`);
  if (typeof doc.name !== 'string' || !/^[\w.-]+$/.test(doc.name)) throw new MatrixError(where('a matrix needs a name of letters, digits, dots and dashes'));
  const base = path.dirname(path.resolve(file));
  if (!Array.isArray(doc.scenarios ?? [])) throw new MatrixError(where('scenarios must be a list'));
  const scenarios = ((doc.scenarios as unknown[]) ?? []).map((s, i) => {
    const entry = typeof s === 'string' ? { file: s } : (s as { file?: string; set?: Record<string, unknown> });
    if (!entry?.file) throw new MatrixError(where(`scenarios.${i} needs a file`));
    const resolved = path.resolve(base, entry.file);
    if (!existsSync(resolved)) throw new MatrixError(where(`scenarios.${i}: ${entry.file} does not exist (resolved to ${resolved})`));
    if (entry.set !== undefined && (typeof entry.set !== 'object' || entry.set === null || Array.isArray(entry.set))) {
      throw new MatrixError(where(`scenarios.${i}.set must map --set paths to values`), 'for example set: { duration: 10s }');
    }
    return { file: path.relative(process.cwd(), resolved), set: entry.set ?? {} };
  });
  if (!scenarios.length) throw new MatrixError(where('a matrix needs at least one scenario'), 'scenarios: [{ file: ../demo.scenario.yaml }]');
  const axesDoc = (doc.axes ?? {}) as Record<string, unknown>;
  const axes = Object.entries(axesDoc).map(([name, values]) => {
    if (!Array.isArray(values) || !values.length) throw new MatrixError(where(`axis '${name}' must list at least one value`));
    for (const v of values) {
      if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) throw new MatrixError(where(`axis '${name}': values must be scalars, got ${JSON.stringify(v)}`));
    }
    if (new Set(values.map((v) => JSON.stringify(v))).size !== values.length) throw new MatrixError(where(`axis '${name}' lists a value twice`));
    if (name === 'seed' && !values.every((v) => Number.isInteger(v) && (v as number) >= 0)) throw new MatrixError(where('the seed axis takes non-negative integers'));
    return { name, values: values as AxisValue[] };
  });
  const s = doc.strategy ?? 'full';
  let strategy: Strategy;
  if (typeof s === 'object' && s !== null && !Array.isArray(s)) {
    const o = s as { t?: unknown; candidates?: unknown; seed?: unknown };
    for (const k of Object.keys(o)) if (!['t', 'candidates', 'seed'].includes(k)) throw new MatrixError(where(`strategy: unknown key '${k}'`), 'keys: t, candidates, seed');
    strategy = { t: parseStrength(o.t ?? 2, where), candidates: Number(o.candidates ?? 8), seed: Number(o.seed ?? 1) };
    if (!Number.isInteger(strategy.candidates) || strategy.candidates < 1) throw new MatrixError(where('strategy.candidates must be a positive integer'));
    if (!Number.isInteger(strategy.seed) || strategy.seed < 0) throw new MatrixError(where('strategy.seed must be a non-negative integer'));
  } else strategy = { t: parseStrength(s, where), candidates: 8, seed: 1 };
  if (!Array.isArray(doc.exclude ?? [])) throw new MatrixError(where('exclude must be a list of partial assignments'), 'exclude: [{ placement: worst-fit, seed: 3 }]');
  const exclude = ((doc.exclude as unknown[]) ?? []) as Array<Record<string, AxisValue>>;
  exclude.forEach((rule, i) => {
    if (typeof rule !== 'object' || rule === null || !Object.keys(rule).length) throw new MatrixError(where(`exclude.${i} must map axes to values`));
    for (const [k, v] of Object.entries(rule)) {
      const axis = axes.find((a) => a.name === k);
      if (!axis) throw new MatrixError(where(`exclude.${i} names unknown axis '${k}'`), `axes: ${axes.map((a) => a.name).join(', ')}`);
      if (!axis.values.some((x) => x === v)) throw new MatrixError(where(`exclude.${i}: ${k}=${v} is not a value of the axis`), `values: ${axis.values.join(', ')}`);
    }
  });
  const metrics = (doc.metrics ?? {}) as Record<string, MetricSpec>;
  if (typeof metrics !== 'object' || !Object.keys(metrics).length) throw new MatrixError(where('a matrix needs metrics to compare'), 'for example metrics: { dc.vms.running: { tolerance: 0 } }');
  for (const [name, spec] of Object.entries(metrics)) {
    const o = (spec ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['tolerance', 'relative', 'better'].includes(k)) throw new MatrixError(where(`metrics.${name}: unknown key '${k}'`), 'keys: tolerance, relative, better');
    for (const k of ['tolerance', 'relative']) if (o[k] !== undefined && !(typeof o[k] === 'number' && o[k] >= 0)) throw new MatrixError(where(`metrics.${name}.${k} must be a number ≥ 0`));
    if (o.better !== undefined && !['lower', 'higher', 'none'].includes(o.better as string)) throw new MatrixError(where(`metrics.${name}.better must be lower, higher or none`));
    metrics[name] = o as MetricSpec;
  }
  const sample = doc.determinismSample ?? 1;
  if (!Number.isInteger(sample) || (sample as number) < 0) throw new MatrixError(where('determinismSample must be a whole number of cells'));
  if (typeof doc.timeout === 'number') throw new MatrixError(where(`timeout: ${doc.timeout} has no unit`), `write the unit: \`timeout: ${doc.timeout}s\``);
  const timeout = doc.timeout === undefined ? 120_000 : parseDuration(String(doc.timeout), where);
  const golden = path.relative(process.cwd(), path.resolve(base, (doc.golden as string | undefined) ?? `${path.basename(file).replace(/\.matrix\.ya?ml$|\.ya?ml$/, '')}.golden.json`));
  return {
    file,
    name: doc.name,
    description: (doc.description as string | undefined) ?? '',
    scenarios,
    axes,
    strategy,
    exclude,
    metrics,
    determinismSample: sample as number,
    timeoutMs: timeout,
    golden,
  };
}

function parseDuration(s: string, where: (k: string) => string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|min)$/.exec(s.trim());
  if (!m) throw new MatrixError(where(`timeout '${s}' is not a duration with its unit`), 'for example timeout: 30s');
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'min' ? 60_000 : 1000);
}

export interface Cell {
  /**
   * Where the cell sits in the matrix: a hash of the scenario file and the
   * assignment. It keys the golden values and the shard split. The fixed overrides
   * are left out on purpose, so that changing them (like changing a default) is
   * compared against the same golden values.
   */
  readonly id: string;
  /** What the result depends on (see the header comment); names the stored result. */
  readonly key: string;
  readonly scenario: string;
  readonly scenarioSet: Readonly<Record<string, unknown>>;
  readonly assignment: Readonly<Record<string, AxisValue>>;
  /** Short human label: "scenario axis=value …". */
  readonly label: string;
  /** The matrix file and the index of the scenario entry, which an error in an override names. */
  readonly matrix?: string;
  readonly scenarioIndex?: number;
}

type Row = number[];

/** Exclusion rules as (axis index, value index) pairs. */
function ruleIndexes(m: MatrixFile): Array<Array<[number, number]>> {
  return m.exclude.map((rule) =>
    Object.entries(rule).map(([k, v]) => {
      const a = m.axes.findIndex((x) => x.name === k);
      return [a, m.axes[a].values.findIndex((x) => x === v)] as [number, number];
    }),
  );
}

/** Answers "is this (partial) row excluded, and can it still be completed?". */
class Constraints {
  private readonly rules: Array<Array<[number, number]>>;
  /** Axes that some rule mentions: only they can make a completion impossible. */
  private readonly ruleAxes: number[];

  constructor(
    m: MatrixFile,
    private readonly sizes: readonly number[],
  ) {
    this.rules = ruleIndexes(m);
    this.ruleAxes = [...new Set(this.rules.flat().map(([a]) => a))].sort((a, b) => a - b);
  }

  /** Does an exclusion rule match every axis it names (unset axes are -1)? */
  violates(row: Row): boolean {
    return this.rules.some((rule) => rule.every(([a, v]) => row[a] === v));
  }

  /** Can the unset axes of `row` be filled so that no rule matches? */
  completable(row: Row): boolean {
    if (this.violates(row)) return false;
    const free = this.ruleAxes.filter((a) => row[a] < 0);
    const r = row.slice();
    const dfs = (i: number): boolean => {
      if (i === free.length) return true;
      const a = free[i];
      for (let v = 0; v < this.sizes[a]; v++) {
        r[a] = v;
        if (!this.violates(r) && dfs(i + 1)) return true;
      }
      r[a] = -1;
      return false;
    };
    return dfs(0);
  }
}

/** Rows (value indexes per axis) of the full product, without excluded ones. */
function fullRows(m: MatrixFile): Row[] {
  const c = new Constraints(
    m,
    m.axes.map((a) => a.values.length),
  );
  let rows: Row[] = [[]];
  for (const axis of m.axes) rows = rows.flatMap((r) => axis.values.map((_, i) => [...r, i]));
  return rows.filter((r) => !c.violates(r));
}

function toAssignment(m: MatrixFile, row: Row): Record<string, AxisValue> {
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
  readonly rows: Row[];
  /** t-tuples that no allowed row contains (every completion is excluded). */
  readonly uncoverable: number;
}

/** A t-wise covering set of rows, built greedily (see the header comment). */
export function coveringRows(m: MatrixFile, t: number): CoveringResult {
  const k = m.axes.length;
  if (t >= k) return { rows: fullRows(m), uncoverable: 0 };
  const sizes = m.axes.map((a) => a.values.length);
  const constraints = new Constraints(m, sizes);
  // Tuples are numbered: the tuples of axis combination c occupy
  // [offset[c], offset[c] + Π sizes) with the values as mixed-radix digits.
  const combos = combinations(k, t);
  const offset: number[] = [];
  let total = 0;
  for (const axes of combos) {
    offset.push(total);
    total += axes.reduce((n, a) => n * sizes[a], 1);
  }
  const combosOf = sizes.map((_, a) => combos.map((axes, c) => (axes.includes(a) ? c : -1)).filter((c) => c >= 0));
  const tupleIndex = (c: number, row: Row): number => {
    let i = 0;
    for (const a of combos[c]) i = i * sizes[a] + row[a];
    return offset[c] + i;
  };
  // 0: uncovered, 1: covered, 2: uncoverable.
  const state = new Uint8Array(total);
  let left = total;
  let uncoverable = 0;
  const rng = new Rng(m.strategy.seed, `matrix.covering/${m.name}`);
  const rows: Row[] = [];
  const newTuples = (row: Row): number => {
    let n = 0;
    for (let c = 0; c < combos.length; c++) if (state[tupleIndex(c, row)] === 0) n++;
    return n;
  };
  // How many uncovered tuples hold each (axis, value): the seed of a row is the
  // uncovered tuple whose values are in the most uncovered tuples, and ties between
  // equally good values go to the one in more of them, as AETG picks its first factor.
  const pending = sizes.map((n) => new Array<number>(n).fill(0));
  const forEachTuple = (fn: (index: number, c: number, values: number[]) => void) => {
    for (let c = 0; c < combos.length; c++) {
      const axes = combos[c];
      const count = axes.reduce((n, a) => n * sizes[a], 1);
      const values = new Array<number>(t).fill(0);
      for (let i = 0; i < count; i++) {
        let rest = i;
        for (let j = t - 1; j >= 0; j--) {
          values[j] = rest % sizes[axes[j]];
          rest = Math.floor(rest / sizes[axes[j]]);
        }
        fn(offset[c] + i, c, values);
      }
    }
  };
  forEachTuple((_, c, values) => combos[c].forEach((a, j) => pending[a][values[j]]++));
  const settle = (index: number, c: number, values: number[], to: 1 | 2) => {
    state[index] = to;
    left--;
    combos[c].forEach((a, j) => pending[a][values[j]]--);
  };
  while (left > 0) {
    let seed = -1;
    let seedScore = -1;
    let seedCombo = 0;
    let seedValues: number[] = [];
    forEachTuple((index, c, values) => {
      if (state[index] !== 0) return;
      const score = combos[c].reduce((n, a, j) => n + pending[a][values[j]], 0);
      if (score > seedScore) {
        seedScore = score;
        seed = index;
        seedCombo = c;
        seedValues = values.slice();
      }
    });
    const c = seedCombo;
    const start: Row = new Array<number>(k).fill(-1);
    combos[c].forEach((a, j) => (start[a] = seedValues[j]));
    if (!constraints.completable(start)) {
      settle(seed, c, seedValues, 2);
      uncoverable++;
      continue;
    }
    let best: Row | undefined;
    let bestGain = -1;
    // The first candidate keeps the whole seed tuple (so every row covers something);
    // the others keep only its value in the most uncovered tuples, as AETG does.
    const lead = combos[c].reduce((b, a) => (pending[a][start[a]] > pending[b][start[b]] ? a : b), combos[c][0]);
    for (let cand = 0; cand < m.strategy.candidates; cand++) {
      const row = cand === 0 ? start.slice() : start.map((v, a) => (a === lead ? v : -1));
      const free = row.map((v, a) => (v < 0 ? a : -1)).filter((a) => a >= 0);
      if (cand > 0) {
        for (let i = free.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [free[i], free[j]] = [free[j], free[i]];
        }
      }
      for (const a of free) {
        let pick = -1;
        let pickGain = -1;
        let ties = 0;
        for (let v = 0; v < sizes[a]; v++) {
          row[a] = v;
          if (!constraints.completable(row)) continue;
          let gain = 0;
          for (const cc of combosOf[a]) {
            if (combos[cc].every((x) => row[x] >= 0) && state[tupleIndex(cc, row)] === 0) gain++;
          }
          // Ties: the value in more uncovered tuples overall, then the lowest index
          // (first candidate) or a seeded random one (the others).
          const score = gain * (total + 1) + pending[a][v];
          if (score > pickGain) {
            pickGain = score;
            pick = v;
            ties = 1;
          } else if (score === pickGain && cand > 0 && rng.int(++ties) === 0) pick = v;
        }
        row[a] = pick;
      }
      const gain = newTuples(row);
      if (gain > bestGain) {
        bestGain = gain;
        best = row;
      }
    }
    for (let cc = 0; cc < combos.length; cc++) {
      const i = tupleIndex(cc, best!);
      if (state[i] === 0) settle(i, cc, combos[cc].map((a) => best![a]), 1);
    }
    rows.push(best!);
  }
  return { rows, uncoverable };
}

/** Most value tuples a t-wise covering set may have to cover (one byte each while it is built). */
const MAX_COVERING_TUPLES = 50_000_000;

/** How many t-tuples of values the axes have: the sum over t-subsets of axes of the product of their sizes. */
function tupleCount(sizes: readonly number[], t: number): number {
  // e[j] = elementary symmetric sum of degree j of the sizes, built axis by axis.
  const e = new Array<number>(t + 1).fill(0);
  e[0] = 1;
  for (const n of sizes) for (let j = t; j >= 1; j--) e[j] += e[j - 1] * n;
  return e[t];
}

/** Rows of the matrix's strategy. */
export function matrixRows(m: MatrixFile): CoveringResult {
  // Counted before anything is materialized: 10^12 cells once grew to 2.8 GB in a minute.
  const sizes = m.axes.map((a) => a.values.length);
  const cells = sizes.reduce((n, k) => n * k, 1) * m.scenarios.length;
  if ((m.strategy.t === 'full' || m.strategy.t >= sizes.length) && cells > limits.MAX_MATRIX_CELLS) {
    throw new MatrixError(
      `${m.file}: strategy full over ${sizes.join(' × ')} values${m.scenarios.length > 1 ? ` × ${m.scenarios.length} scenarios` : ''} is ${cells.toExponential(2)} cells; the limit is ${limits.MAX_MATRIX_CELLS}`,
      'use a covering strategy (strategy: pairwise) or fewer values',
    );
  }
  if (m.strategy.t !== 'full' && m.strategy.t < sizes.length) {
    // The t-wise generator keeps one byte per t-tuple of values.
    const tuples = tupleCount(sizes, m.strategy.t);
    if (tuples > MAX_COVERING_TUPLES) {
      throw new MatrixError(`${m.file}: ${m.strategy.t}-wise coverage of ${sizes.join(' × ')} values has ${tuples.toExponential(2)} value tuples to cover; the limit is ${MAX_COVERING_TUPLES}`, 'use a lower strength t or fewer values');
    }
  }
  return m.strategy.t === 'full' ? { rows: fullRows(m), uncoverable: 0 } : coveringRows(m, m.strategy.t);
}

const hash = (x: unknown): string => createHash('sha256').update(typeof x === 'string' ? x : JSON.stringify(x)).digest('hex');

/** Files below `dir` that can change a result (sources, manifests, profiles), sorted. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|js|json|ya?ml)$/.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function treeHash(dirs: readonly string[]): string {
  const h = createHash('sha256');
  for (const dir of dirs) {
    for (const f of sourceFiles(dir)) {
      h.update(path.relative(REPO_ROOT, f));
      h.update('\0');
      h.update(readFileSync(f));
      h.update('\0');
    }
  }
  return h.digest('hex');
}

/**
 * What a scenario's results depend on besides its own text: the engine, the plugins,
 * the host profiles and the Node-side loaders, and the folders the scenario names
 * (`pluginPaths`, `hostPaths`) and the files it reads.
 */
function scenarioFingerprint(file: string, sourceHash: string): string {
  const text = readFileSync(file, 'utf8');
  const base = path.dirname(path.resolve(file));
  let doc: Record<string, unknown> = {};
  try {
    doc = (parseYaml(text) as Record<string, unknown>) ?? {};
  } catch {
    // The cell will fail with the loader's precise message; its text is still hashed.
  }
  const dirs = [...((doc.pluginPaths as string[] | undefined) ?? []), ...((doc.hostPaths as string[] | undefined) ?? [])].map((d) => path.resolve(base, String(d)));
  const files = [
    ...Object.values((doc.files as Record<string, string> | undefined) ?? {}),
    ...((doc.vms as Array<{ workload?: { program?: string } }> | undefined) ?? []).map((g) => g?.workload?.program).filter((p): p is string => typeof p === 'string'),
  ]
    .map((f) => path.resolve(base, String(f)))
    .filter((f) => existsSync(f) && statSync(f).isFile());
  const h = createHash('sha256').update(sourceHash).update(text).update(treeHash(dirs));
  for (const f of files) h.update(f).update(readFileSync(f));
  return h.digest('hex');
}

/** Hash of everything in the repository a cell's result depends on (computed once per run). */
export function sourceFingerprint(): string {
  return treeHash(['core', 'plugins', 'hosts', path.join('tools', 'node')].map((d) => path.join(REPO_ROOT, d)));
}

/** Every cell of the matrix, in a stable order. */
export function matrixCells(m: MatrixFile, source = sourceFingerprint()): { cells: Cell[]; uncoverable: number } {
  const { rows, uncoverable } = matrixRows(m);
  const cells: Cell[] = [];
  const metrics = Object.keys(m.metrics).sort();
  for (const [scenarioIndex, s] of m.scenarios.entries()) {
    const fingerprint = scenarioFingerprint(s.file, source);
    for (const row of rows) {
      const assignment = toAssignment(m, row);
      // The scenario's path is taken relative to the repository, so that every machine
      // (and every shard) computes the same id for the same cell.
      const id = hash({ scenario: path.relative(REPO_ROOT, path.resolve(s.file)).split(path.sep).join('/'), assignment }).slice(0, 16);
      const key = hash({ id, fingerprint, set: s.set, metrics }).slice(0, 24);
      const label = `${path.basename(s.file).replace(/\.scenario\.ya?ml$/, '')} ${Object.entries(assignment)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`.trim();
      cells.push({ id, key, scenario: s.file, scenarioSet: s.set, assignment, label, matrix: m.file, scenarioIndex });
    }
  }
  return { cells, uncoverable };
}

/** The cells of shard k of n (1-based), chosen by cell id so that every machine agrees. */
export function shard(cells: readonly Cell[], k: number, n: number): Cell[] {
  return cells.filter((c) => parseInt(c.id.slice(0, 8), 16) % n === k - 1);
}
