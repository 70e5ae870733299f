// The AdaMig reproduction table (`npm run repro:adamig`): runs the 15 cases of
// scenarios/matrices/adamig.matrix.yaml under plain pre-copy and under AdaMig, and
// prints success ratios and migration times beside the paper's figures, and what
// AdaMig risked for them: the time its migrations spent in post-copy, the guest's
// slowdown there, and the VMs it loses when the destination fails halfway through the
// migration or at 90% of it (of each method's own run; pre-copy then survives on the
// source, post-copy loses the VM).
// The numbers come from the model; only the paper's column is quoted.

import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { runMatrix } from '../matrix/matrix';
import type { CellResult } from '../matrix/run-cell';
import { runText, scenarioFile } from '../node/testing';

export interface MethodResult {
  readonly ok: boolean;
  /** ms (0 when it failed) */
  readonly timeMs: number;
  /** Time spent in post-copy, ms. */
  readonly postcopyMs: number;
  /** Share of the guest's progress lost to remote faults in post-copy. */
  readonly slowdown: number;
}

export interface AdamigCase {
  readonly writes: number;
  readonly bandwidth: string;
  readonly precopy: MethodResult;
  readonly adamig: MethodResult;
  /** Outcomes when the destination fails at a share of the migration's time (filled by withFailures). */
  failures?: Array<{ at: number; precopy: 'survived' | 'lost'; adamig: 'survived' | 'lost' }>;
}

/**
 * Runs the 15 cases (in this thread when workers is 0) and pairs them up. `timeoutMs`
 * replaces the matrix file's per-cell timeout (tests pass Infinity: see runMatrix).
 * `controller` replaces AdaMig in the second column (tests use it to check that a
 * controller that always switches is caught).
 */
export async function adamigCases(workers = 0, timeoutMs?: number): Promise<AdamigCase[]> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'virtlab-adamig-'));
  let cells: CellResult[];
  try {
    await runMatrix({ file: path.join('scenarios', 'matrices', 'adamig.matrix.yaml'), workers, out, fresh: true, timeoutMs });
    cells = readdirSync(path.join(out, 'cells')).map((f) => JSON.parse(readFileSync(path.join(out, 'cells', f), 'utf8')) as CellResult);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const key = (c: CellResult) => `${c.assignment['vms.0.workload.writesPerSecond']}|${c.assignment['plugins.migration.precopy.bandwidth']}`;
  const pairs = new Map<string, Partial<Record<'none' | 'adamig', CellResult>>>();
  for (const c of cells) {
    const k = key(c);
    const p = pairs.get(k) ?? {};
    p[c.assignment['migration.controller'] as 'none' | 'adamig'] = c;
    pairs.set(k, p);
  }
  const res = (c: CellResult | undefined): MethodResult => {
    const ok = c?.metrics['migration.succeeded'] === 1;
    return { ok, timeMs: ok ? (c?.metrics['migration.time.mean'] ?? 0) : 0, postcopyMs: c?.metrics['migration.postcopy.time.sum'] ?? 0, slowdown: c?.metrics['migration.postcopy.slowdown.mean'] ?? 0 };
  };
  return [...pairs.entries()]
    .map(([k, p]) => ({ writes: Number(k.split('|')[0]), bandwidth: k.split('|')[1], precopy: res(p.none), adamig: res(p.adamig) }))
    .sort((a, b) => a.writes - b.writes || parseFloat(b.bandwidth) - parseFloat(a.bandwidth));
}

/** The migration's start in the reproduction scenario (migration.schedule's `at`), ns. */
const START_NS = 10e9;

/** Shares of a migration's time at which withFailures fails the destination. */
export const FAILURE_POINTS = [0.5, 0.9] as const;

/**
 * Runs every case again with the destination failing at each of FAILURE_POINTS of the
 * migration's time — of each method's own time; where a method failed anyway, of the
 * other's. `adamig: false` replaces AdaMig by nothing (plain pre-copy) in its column.
 */
export async function withFailures(cases: AdamigCase[]): Promise<AdamigCase[]> {
  const base = scenarioFile(path.join('scenarios', 'repro', 'adamig.scenario.yaml')).noExpectations().duration('15min').tick('100ms');
  const outcome = async (c: AdamigCase, controller: boolean, atMs: number) => {
    let s = base.workload('vm', { writesPerSecond: c.writes }).pluginOptions('migration.precopy', { bandwidth: c.bandwidth });
    if (!controller) s = s.withoutPlugin('migration.adamig');
    s = s.plugin('fault.inject', { failures: [{ at: START_NS + atMs * 1e6, target: 'destination' }] }, { before: 'migration.schedule' });
    const { sim } = await runText(s);
    return sim.metrics.value('migration.lost') ? ('lost' as const) : ('survived' as const);
  };
  for (const c of cases) {
    const time = (m: MethodResult, other: MethodResult) => (m.ok ? m.timeMs : other.timeMs || 60e3);
    c.failures = [];
    for (const at of FAILURE_POINTS) {
      c.failures.push({ at, precopy: await outcome(c, false, at * time(c.precopy, c.adamig)), adamig: await outcome(c, true, at * time(c.adamig, c.precopy)) });
    }
  }
  return cases;
}

/** The summary figures of a set of cases. */
export function summarize(cases: AdamigCase[]) {
  const pre = cases.filter((c) => c.precopy.ok).length;
  const ada = cases.filter((c) => c.adamig.ok).length;
  const both = cases.filter((c) => c.precopy.ok && c.adamig.ok);
  const change = both.map((c) => c.adamig.timeMs / c.precopy.timeMs - 1);
  const switched = cases.filter((c) => c.adamig.postcopyMs > 0);
  return {
    pre,
    ada,
    n: cases.length,
    /** Mean and best change of migration time where both succeed (negative: faster). */
    meanChange: change.length ? change.reduce((a, b) => a + b, 0) / change.length : 0,
    bestChange: Math.min(0, ...change),
    switched: switched.length,
    postcopyS: switched.reduce((n, c) => n + c.adamig.postcopyMs, 0) / 1000,
    postcopyShare: switched.length ? switched.reduce((n, c) => n + c.adamig.postcopyMs / c.adamig.timeMs, 0) / switched.length : 0,
    slowdown: switched.length ? switched.reduce((n, c) => n + c.adamig.slowdown, 0) / switched.length : 0,
    /** VMs lost at each failure point, by method. */
    lost: FAILURE_POINTS.map((at, i) => ({ at, adamig: cases.filter((c) => c.failures?.[i]?.adamig === 'lost').length, precopy: cases.filter((c) => c.failures?.[i]?.precopy === 'lost').length })),
  };
}

if (require.main === module) {
  (async () => {
    const cases = await withFailures(await adamigCases(os.availableParallelism()));
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log('writes/s  bandwidth   pre-copy         AdaMig           post-copy  slowdown  destination fails at 50% / 90%: AdaMig');
    for (const c of cases) {
      const f = (r: MethodResult) => (r.ok ? `ok ${(r.timeMs / 1000).toFixed(1).padStart(6)} s` : 'failed');
      const pc = c.adamig.postcopyMs ? `${(c.adamig.postcopyMs / 1000).toFixed(1)} s` : '—';
      const sd = c.adamig.postcopyMs ? pct(c.adamig.slowdown) : '—';
      console.log(`${String(c.writes).padStart(8)}  ${c.bandwidth.padEnd(10)}  ${f(c.precopy).padEnd(15)}  ${f(c.adamig).padEnd(15)}  ${pc.padStart(9)}  ${sd.padStart(8)}  ${c.failures!.map((f) => f.adamig).join(' / ')}`);
    }
    const s = summarize(cases);
    console.log('');
    console.log('quantity                                   virtlab model            paper (Li et al.)');
    console.log(`success ratio, pre-copy                    ${pct(s.pre / s.n).padStart(6)} (${s.pre}/${s.n})          26.7% (4/15)`);
    console.log(`success ratio, AdaMig                      ${pct(s.ada / s.n).padStart(6)} (${s.ada}/${s.n})          93.3% (14/15)`);
    console.log(`migration time where both succeed, mean    ${pct(s.meanChange).padStart(6)}`);
    console.log(`largest time reduction                     ${pct(-s.bestChange).padStart(6)}                   45.5%`);
    console.log(`cases AdaMig finished in post-copy         ${String(s.switched).padStart(6)} of ${s.n}`);
    console.log(`time in post-copy (sum; mean share)        ${s.postcopyS.toFixed(1).padStart(6)} s; ${pct(s.postcopyShare)} of those migrations`);
    console.log(`guest slowdown in post-copy (mean)         ${pct(s.slowdown).padStart(6)}`);
    for (const l of s.lost) console.log(`VMs lost, destination fails at ${String(l.at * 100).padStart(2)}%       AdaMig ${l.adamig} of ${s.n}, pre-copy ${l.precopy} of ${s.n}`);
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
