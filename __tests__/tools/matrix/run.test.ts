// Running a matrix in this thread: combinations the registry refuses are skipped with
// its reason; finished cells are stored atomically and reused on a rerun unless
// something they depend on changed; a cell that throws or runs out of time is
// recorded and the others go on; a plugin whose results drift between runs is caught
// by the determinism re-run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runMatrix } from '../../../tools/matrix/matrix';
import { demoWithPlugins, matrixFile, tempDir, writeLevelPlugin } from './helpers';

const tmp = tempDir('run');
const placementAndSeeds = 'axes:\n  placement: [first-fit, worst-fit, none]\n  seed: [1, 2]\nmetrics:\n  workload.writes: { relative: 0.001, better: lower }\n  dc.vms.running: { tolerance: 0 }\ndeterminismSample: 1\n';

describe('running a matrix', () => {
  it('skips combinations the registry refuses, with its reason, and reuses finished cells', async () => {
    const file = matrixFile(tmp, 'skip', placementAndSeeds);
    const out = path.join(tmp, 'skip');
    const first = await runMatrix({ file, workers: 0, out, updateGolden: true });
    expect(first.ran).toBe(6);
    const skipped = first.report.cells.filter((c) => c.verdict === 'skipped');
    expect(skipped).toHaveLength(2);
    expect(skipped[0].details[0]).toMatch(/no selected plugin provides placement \(add one of: .*placement\.first-fit, placement\.worst-fit/);
    expect(readdirSync(path.join(out, 'cells'))).toHaveLength(6);
    expect(readdirSync(path.join(out, 'cells')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const again = await runMatrix({ file, workers: 0, out });
    expect(again).toMatchObject({ ran: 0, reused: 6 });
    expect(again.report.counts.unchanged).toBe(4);
    expect(again.report.exitCode).toBe(0);
  });

  it('runs a cell again when its fixed overrides change, and drops the stale result', async () => {
    const body = 'axes:\n  seed: [1, 2]\nmetrics: { workload.writes: { tolerance: 0 } }\ndeterminismSample: 0\n';
    const file = matrixFile(tmp, 'stale', body);
    const out = path.join(tmp, 'stale');
    await runMatrix({ file, workers: 0, out });
    matrixFile(tmp, 'stale', body, undefined, '{ duration: 2s }');
    const again = await runMatrix({ file, workers: 0, out });
    expect(again).toMatchObject({ ran: 2, reused: 0 });
    expect(readdirSync(path.join(out, 'cells'))).toHaveLength(2);
  });

  it('records a cell that throws as failed with its error, and runs the others', async () => {
    const plugins = writeLevelPlugin(path.join(tmp, 'throws'), 1, { throwAtTick: 5 });
    const scenario = demoWithPlugins(path.join(tmp, 'throws'), plugins, []);
    const file = matrixFile(tmp, 'throws', "axes:\n  fixture: [none, level]\nmetrics: { dc.vms.running: { tolerance: 0 } }\n", scenario);
    const { report } = await runMatrix({ file, workers: 0, out: path.join(tmp, 'throws-out'), updateGolden: true });
    const failed = report.cells.find((c) => c.verdict === 'failed')!;
    expect(failed.label).toMatch(/fixture=level/);
    expect(failed.details[0]).toMatch(/fixture.level broke at tick 5/);
    expect(report.counts.unchanged).toBe(1);
    expect(report.exitCode).toBe(1);
  });

  it('records a cell that runs past its timeout', async () => {
    const file = matrixFile(tmp, 'slow', 'axes:\n  seed: [1]\nmetrics: { dc.vms.running: { tolerance: 0 } }\ntimeout: 1ms\n', undefined, '{ duration: 30s }');
    const { report } = await runMatrix({ file, workers: 0, out: path.join(tmp, 'slow') });
    expect(report.cells[0].verdict).toBe('timeout');
    expect(report.cells[0].details[0]).toMatch(/timed out after 1 ms at tick \d+ of 300/);
    expect(report.exitCode).toBe(1);
  });

  it('reports a cell whose metrics.json differs on a re-run as not deterministic', async () => {
    const plugins = writeLevelPlugin(path.join(tmp, 'drift'), 1, { drift: true });
    const scenario = demoWithPlugins(path.join(tmp, 'drift'), plugins);
    const file = matrixFile(tmp, 'drift', 'axes:\n  seed: [1]\nmetrics: { fixture.level: { tolerance: 0 } }\ndeterminismSample: 1\n', scenario);
    const out = path.join(tmp, 'drift-out');
    const { report } = await runMatrix({ file, workers: 0, out, updateGolden: true });
    expect(report.nondeterministic).toEqual(['demo-fixture seed=1']);
    expect(report.exitCode).toBe(1);
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/NOT DETERMINISTIC/);
    expect(JSON.parse(readFileSync(path.join(out, 'determinism.json'), 'utf8')).differing).toEqual(['demo-fixture seed=1']);
  });

  it('writes the report as Markdown, JSON and a self-contained HTML page', async () => {
    const out = path.join(tmp, 'skip');
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/\| cell \| verdict \| workload\.writes \| dc\.vms\.running \|/);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|src=/);
    expect(JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')).counts.unchanged).toBe(4);
    expect(existsSync(path.join(out, 'matrix.json'))).toBe(true);
  });
});
