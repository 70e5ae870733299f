// Matrix benchmark (`npm run bench:matrix`): cells per second with one and with two
// worker threads, measured in this run, and the speedup. The cells are the CI matrix's
// combinations on a longer run of the demo (thirty simulated minutes), so that a cell's
// work, not the workers' start-up, dominates.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runMatrix } from './matrix';

async function measure(workers: number): Promise<{ cells: number; seconds: number }> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'virtlab-matrix-bench-'));
  const file = path.join(out, 'bench.matrix.yaml');
  const ci = readFileSync('scenarios/matrices/ci.matrix.yaml', 'utf8');
  writeFileSync(
    file,
    ci
      .replace('name: ci', 'name: bench')
      .replace('file: ../demo.scenario.yaml', `file: ${path.resolve('scenarios/demo.scenario.yaml')}`)
      .replace('duration: 12s', 'duration: 30min')
      .replace('strategy: pairwise', 'strategy: full')
      .replace(/exclude:\n(  - .*\n)+/, ''),
  );
  try {
    const t0 = performance.now();
    const { ran } = await runMatrix({ file, workers, out, fresh: true });
    return { cells: ran, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

(async () => {
  const one = await measure(1);
  const two = await measure(2);
  const r1 = one.cells / one.seconds;
  const r2 = two.cells / two.seconds;
  console.log(`1 worker:  ${one.cells} cells in ${one.seconds.toFixed(2)} s, ${r1.toFixed(2)} cells/s`);
  console.log(`2 workers: ${two.cells} cells in ${two.seconds.toFixed(2)} s, ${r2.toFixed(2)} cells/s`);
  console.log(`speedup ${(r2 / r1).toFixed(2)}× (each run includes the determinism re-runs and worker start-up)`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
