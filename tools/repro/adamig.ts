// The AdaMig reproduction table (`npm run repro:adamig`): runs the 15 cases of
// scenarios/matrices/adamig.matrix.yaml under plain pre-copy and under AdaMig, and
// prints success ratios and migration times beside the paper's figures. The numbers
// come from the model; only the paper's column is quoted.

import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { runMatrix } from '../matrix/matrix';
import type { CellResult } from '../matrix/run-cell';

export interface AdamigCase {
  readonly writes: number;
  readonly bandwidth: string;
  readonly precopy: { ok: boolean; timeMs: number };
  readonly adamig: { ok: boolean; timeMs: number };
}

/**
 * Runs the 15 cases (in this thread when workers is 0) and pairs them up. `timeoutMs`
 * replaces the matrix file's per-cell timeout (tests pass Infinity: see runMatrix).
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
  const res = (c: CellResult | undefined) => ({ ok: c?.metrics['migration.succeeded'] === 1, timeMs: c?.metrics['migration.time.mean'] ?? 0 });
  return [...pairs.entries()]
    .map(([k, p]) => ({ writes: Number(k.split('|')[0]), bandwidth: k.split('|')[1], precopy: res(p.none), adamig: res(p.adamig) }))
    .sort((a, b) => a.writes - b.writes || parseFloat(b.bandwidth) - parseFloat(a.bandwidth));
}

if (require.main === module) {
  (async () => {
    const cases = await adamigCases(os.availableParallelism());
    console.log('writes/s  bandwidth   pre-copy            AdaMig');
    for (const c of cases) {
      const f = (r: { ok: boolean; timeMs: number }) => (r.ok ? `ok ${(r.timeMs / 1000).toFixed(1).padStart(6)} s` : 'failed      ');
      console.log(`${String(c.writes).padStart(8)}  ${c.bandwidth.padEnd(10)}  ${f(c.precopy).padEnd(18)}  ${f(c.adamig)}`);
    }
    const pre = cases.filter((c) => c.precopy.ok).length;
    const ada = cases.filter((c) => c.adamig.ok).length;
    const both = cases.filter((c) => c.precopy.ok && c.adamig.ok);
    const best = Math.max(0, ...both.map((c) => 1 - c.adamig.timeMs / c.precopy.timeMs));
    console.log('');
    console.log('quantity                        virtlab model        paper (Li et al.)');
    console.log(`success ratio, pre-copy        ${((pre / cases.length) * 100).toFixed(1).padStart(5)}% (${pre}/${cases.length})      26.7% (4/15)`);
    console.log(`success ratio, AdaMig          ${((ada / cases.length) * 100).toFixed(1).padStart(5)}% (${ada}/${cases.length})      93.3% (14/15)`);
    console.log(`largest time reduction         ${(best * 100).toFixed(1).padStart(5)}%              45.5%`);
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
