// Shards: `--shard k/n` splits the cells by their id, so that machines agree without
// talking, and `matrix merge` combines the shards' folders into one report — with
// their determinism findings, and with any cell no shard produced marked failed.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { mergeShards, runMatrix } from '../../../tools/matrix/matrix';
import { matrixFile, tempDir } from './helpers';

const tmp = tempDir('shard');
const body = 'axes:\n  placement: [first-fit, worst-fit, none]\n  seed: [1, 2]\nmetrics:\n  workload.writes: { relative: 0.001 }\ndeterminismSample: 1\n';

describe('shards', () => {
  it('split the cells deterministically and merge back into one report', async () => {
    const file = matrixFile(tmp, 'shards', body);
    const a = await runMatrix({ file, workers: 0, out: path.join(tmp, 's1'), shard: { k: 1, n: 2 } });
    const b = await runMatrix({ file, workers: 0, out: path.join(tmp, 's2'), shard: { k: 2, n: 2 } });
    expect(a.report.cells.length + b.report.cells.length).toBe(6);
    expect(a.report.cells.map((c) => c.id).filter((id) => b.report.cells.some((x) => x.id === id))).toEqual([]);
    const merged = mergeShards([path.join(tmp, 's1'), path.join(tmp, 's2')], path.join(tmp, 'merged'));
    expect(merged.cells).toHaveLength(6);
    expect(merged.cells.filter((c) => c.verdict === 'failed')).toEqual([]);
    expect(merged.determinism.checked.length).toBe(a.report.determinism.checked.length + b.report.determinism.checked.length);
    expect(readFileSync(path.join(tmp, 'merged', 'report.md'), 'utf8')).toMatch(/^# Matrix shards/);
  });

  it('mark the cells of a missing shard as failed', () => {
    rmSync(path.join(tmp, 'merged'), { recursive: true, force: true });
    const merged = mergeShards([path.join(tmp, 's1')], path.join(tmp, 'merged'));
    const missing = merged.cells.filter((c) => c.verdict === 'failed');
    expect(missing.length).toBeGreaterThan(0);
    expect(missing[0].details[0]).toMatch(/no shard produced this cell/);
    expect(merged.exitCode).toBe(1);
  });
});
