// The matrix runner: covering sets, exclusions, skipped combinations with the
// registry's reason, resumable results, goldens and regressions, shards and merge,
// the worker pool, and the CI matrix against its committed goldens.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coveringRows, matrixCells, readMatrix } from '../../tools/matrix/cells';
import { interactionCoverage, mergeShards, runMatrix } from '../../tools/matrix/matrix';
import { loadCatalog } from '../../tools/node/catalog';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-matrix-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function matrixFile(name: string, body: string): string {
  const file = path.join(tmp, `${name}.matrix.yaml`);
  writeFileSync(file, `name: ${name}\nscenarios:\n  - file: ${path.resolve('scenarios/demo.scenario.yaml')}\n    set: { duration: 3s }\n${body}`);
  return file;
}

describe('the CI matrix', () => {
  it('matches its committed golden values, deterministically', async () => {
    const { report } = await runMatrix({ file: 'scenarios/matrices/ci.matrix.yaml', workers: 0, out: path.join(tmp, 'ci'), fresh: true });
    expect(report.counts.regressed).toBe(0);
    expect(report.counts.new).toBe(0);
    expect(report.nondeterministic).toEqual([]);
    expect(report.counts.unchanged).toBe(report.cells.length);
    expect(report.exitCode).toBe(0);
  });
});

describe('covering sets', () => {
  it('cover every pair of values with fewer cells than the full product', () => {
    const file = matrixFile('pairs', 'axes:\n  a: [1, 2, 3]\n  b: [x, y, z]\n  c: [true, false]\n  d: [p, q, r]\nstrategy: pairwise\nmetrics: { dc.vms: { tolerance: 0 } }\n');
    const m = readMatrix(file);
    const { rows } = coveringRows(m, 2);
    expect(rows.length).toBeLessThan(3 * 3 * 2 * 3);
    for (let i = 0; i < 4; i++) {
      for (let j = i + 1; j < 4; j++) {
        for (let vi = 0; vi < m.axes[i].values.length; vi++) {
          for (let vj = 0; vj < m.axes[j].values.length; vj++) expect(rows.some((r) => r[i] === vi && r[j] === vj)).toBe(true);
        }
      }
    }
    expect(coveringRows(m, 2).rows).toEqual(rows); // deterministic
  });

  it('never produce an excluded combination', () => {
    const file = matrixFile('excl', 'axes:\n  a: [1, 2]\n  b: [x, y]\n  c: [u, v]\nstrategy: pairwise\nexclude:\n  - { a: 1, b: y }\nmetrics: { dc.vms: { tolerance: 0 } }\n');
    const { cells, uncoverable } = matrixCells(readMatrix(file));
    expect(cells.some((c) => c.assignment.a === 1 && c.assignment.b === 'y')).toBe(false);
    expect(uncoverable).toBe(1);
  });
});

describe('running a matrix', () => {
  const body = 'axes:\n  placement: [first-fit, worst-fit, none]\n  seed: [1, 2]\nmetrics:\n  workload.writes: { relative: 0.001, better: lower }\n  dc.vms.running: { tolerance: 0 }\ndeterminismSample: 1\n';

  it('skips combinations the registry refuses, with its reason, and resumes finished cells', async () => {
    const file = matrixFile('skip', body);
    const out = path.join(tmp, 'skip');
    const first = await runMatrix({ file, workers: 0, out, updateGolden: true });
    expect(first.ran).toBe(6);
    const skipped = first.report.cells.filter((c) => c.verdict === 'skipped');
    expect(skipped).toHaveLength(2);
    expect(skipped[0].details[0]).toMatch(/no selected plugin provides placement/);
    const again = await runMatrix({ file, workers: 0, out });
    expect(again.ran).toBe(0);
    expect(again.reused).toBe(6);
    expect(again.report.counts.unchanged).toBe(4);
  });

  it('reports a changed option value as a regression and exits 1', async () => {
    const file = matrixFile('regress', body);
    await runMatrix({ file, workers: 0, out: path.join(tmp, 'regress-a'), updateGolden: true });
    // The same matrix, with the synthetic workload writing more: as a changed default would.
    writeFileSync(file, readFileSync(file, 'utf8').replace('set: { duration: 3s }', "set: { duration: 3s, 'vms.0.workload.writesPerSecond': 40000 }"));
    const compared = await runMatrix({ file, workers: 0, out: path.join(tmp, 'regress-b') });
    expect(compared.report.counts.regressed).toBe(4);
    expect(compared.report.exitCode).toBe(1);
    const md = readFileSync(path.join(tmp, 'regress-b', 'report.md'), 'utf8');
    expect(md).toMatch(/regressed \| workload\.writes: \d+ → \d+ \(worse/);
  });

  it('splits cells into shards deterministically and merges them back', async () => {
    const file = matrixFile('shards', body);
    const a = await runMatrix({ file, workers: 0, out: path.join(tmp, 's1'), shard: { k: 1, n: 2 } });
    const b = await runMatrix({ file, workers: 0, out: path.join(tmp, 's2'), shard: { k: 2, n: 2 } });
    expect(a.report.cells.length + b.report.cells.length).toBe(6);
    const merged = mergeShards([path.join(tmp, 's1'), path.join(tmp, 's2')], path.join(tmp, 'merged'));
    expect(merged.cells).toHaveLength(6);
    expect(merged.cells.filter((c) => c.verdict === 'failed')).toEqual([]);
  });
});

describe('virtlab matrix', () => {
  it('runs cells in worker threads from the command line', () => {
    const dir = path.join(tmp, 'cli');
    copyFileSync('scenarios/matrices/ci.matrix.yaml', path.join(tmp, 'cli.matrix.yaml'));
    const file = path.join(tmp, 'cli.matrix.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('file: ../demo.scenario.yaml', `file: ${path.resolve('scenarios/demo.scenario.yaml')}`).replace('name: ci', 'name: cli'));
    const r = spawnSync(process.execPath, ['tools/cli/bin.js', 'matrix', file, '--workers', '2', '--out', dir, '--update-golden'], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/6 cells run, 0 reused/);
    expect(r.stdout).toMatch(/matrix cli: 6 unchanged/);
    expect(r.status).toBe(0);
  });
});

describe('interaction coverage', () => {
  const result = (id: string, plugins: Record<string, { hooks: string[]; writes: string[] }>) =>
    ({ id, label: id, assignment: {}, status: 'ok', metrics: {}, wallMs: 0, plugins }) as const;
  const catalog = loadCatalog();

  it('finds plugins that tap a common hook or write a common component, and whether they ran together', () => {
    const synthetic = { hooks: ['lifecycle.boot'], writes: ['MemWorkload', 'Vm'] };
    const guest = { hooks: ['lifecycle.boot'], writes: ['GuestCpu', 'Vm'] };
    const trace = { hooks: ['datacenter.vmPlaced', 'lifecycle.finish'], writes: [] };
    const apart = interactionCoverage([result('a', { 'workload.synthetic': synthetic, 'trace.events': trace }), result('b', { 'workload.guest': guest })], catalog);
    expect(apart).toEqual({ pairs: 1, covered: 0, missing: ['workload.guest + workload.synthetic'] });
    const together = interactionCoverage([result('c', { 'workload.synthetic': synthetic, 'workload.guest': guest })], catalog);
    expect(together).toEqual({ pairs: 1, covered: 1, missing: [] });
  });

  it('does not count providers of one exclusive capability, which never run together', () => {
    const p = { hooks: ['datacenter.vmPlaced'], writes: [] };
    const r = interactionCoverage([result('a', { 'placement.first-fit': p }), result('b', { 'placement.worst-fit': p })], catalog);
    expect(r.pairs).toBe(0);
  });
});
