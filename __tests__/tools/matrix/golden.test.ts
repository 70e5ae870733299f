// Golden values: a plugin whose default changes shows up as a regression (exit status
// 1) even when the previous results are still in the output folder; a change in the
// better direction is an improvement; and updating the goldens from one shard keeps
// the other shards' values.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runMatrix } from '../../../tools/matrix/matrix';
import { demoWithPlugins, matrixFile, tempDir, writeLevelPlugin } from './helpers';

const tmp = tempDir('golden');

describe('golden values', () => {
  it('report a changed plugin default as a regression, with exit status 1', async () => {
    const plugins = writeLevelPlugin(tmp, 10);
    const scenario = demoWithPlugins(tmp, plugins);
    const file = matrixFile(tmp, 'default', 'axes:\n  placement: [first-fit, worst-fit]\nmetrics:\n  fixture.level: { tolerance: 0.5 }\n  dc.vms.running: { tolerance: 0 }\ndeterminismSample: 0\n', scenario);
    const out = path.join(tmp, 'default-out');
    const before = await runMatrix({ file, workers: 0, out, updateGolden: true });
    expect(before.report.counts.unchanged).toBe(2);
    // The plugin's default changes from 10 to 11; nothing else does.
    writeLevelPlugin(tmp, 11);
    const after = await runMatrix({ file, workers: 0, out });
    expect(after.ran).toBe(2); // the stored results depended on the old manifest
    expect(after.report.counts.regressed).toBe(2);
    expect(after.report.exitCode).toBe(1);
    expect(after.report.cells[0].changes).toEqual([{ metric: 'fixture.level', golden: 10, value: 11, tolerance: 0.5, direction: 'worse' }]);
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| demo-fixture placement=first-fit \| regressed \| fixture\.level \| 10 \| 11 \| \+1 \(\+10\.0%\) \| 0\.5 \|/);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/regressed/);
  });

  it('call a change in the better direction an improvement, and one within tolerance unchanged', async () => {
    const body = 'axes:\n  seed: [1]\nmetrics:\n  workload.writes: { relative: 0.01, better: lower }\ndeterminismSample: 0\n';
    const file = matrixFile(tmp, 'better', body);
    await runMatrix({ file, workers: 0, out: path.join(tmp, 'better-a'), updateGolden: true });
    // The same cell with another write rate of the second VM group, against the first one's goldens.
    const variant = (name: string, writesPerSecond: number) =>
      matrixFile(tmp, name, `${body}golden: ${path.join(tmp, 'better.golden.json')}\n`, undefined, `{ duration: 3s, 'vms.1.workload.writesPerSecond': ${writesPerSecond} }`);
    const lower = variant('better-lower', 25000);
    const improved = await runMatrix({ file: lower, workers: 0, out: path.join(tmp, 'better-b') });
    expect(improved.report.counts.improved).toBe(1);
    expect(improved.report.exitCode).toBe(0);
    const same = variant('better-same', 50100);
    expect((await runMatrix({ file: same, workers: 0, out: path.join(tmp, 'better-c') })).report.counts.unchanged).toBe(1);
  });

  it('keep the other shards’ values when one shard updates them', async () => {
    const file = matrixFile(tmp, 'shards', 'axes:\n  seed: [1, 2, 3, 4]\nmetrics: { workload.writes: { tolerance: 0 } }\ndeterminismSample: 0\n');
    await runMatrix({ file, workers: 0, out: path.join(tmp, 'g1'), shard: { k: 1, n: 2 }, updateGolden: true });
    await runMatrix({ file, workers: 0, out: path.join(tmp, 'g2'), shard: { k: 2, n: 2 }, updateGolden: true });
    const golden = JSON.parse(readFileSync(path.join(tmp, 'shards.golden.json'), 'utf8')) as { cells: Record<string, unknown> };
    expect(Object.keys(golden.cells)).toHaveLength(4);
    const whole = await runMatrix({ file, workers: 0, out: path.join(tmp, 'g-all') });
    expect(whole.report.counts.unchanged).toBe(4);
  });
});
