// The CI matrix (scenarios/matrices/ci.matrix.yaml): placement policies × exact page
// tracking × the event trace × seeds, pairwise, on a short run of the demo, must match
// its committed golden values and be deterministic. After an intended change, refresh
// the goldens: npx virtlab matrix scenarios/matrices/ci.matrix.yaml --update-golden
// The cells run without the file's wall-clock timeout: on a loaded machine the exact
// page-tracking cells are slow, and slow is not wrong.
import path from 'node:path';
import { runMatrix } from '../../../tools/matrix/matrix';
import { tempDir } from './helpers';

const tmp = tempDir('ci');

describe('the CI matrix', () => {
  it('matches its committed golden values, deterministically', async () => {
    const { report } = await runMatrix({ file: 'scenarios/matrices/ci.matrix.yaml', workers: 0, out: path.join(tmp, 'ci'), fresh: true, timeoutMs: Infinity });
    const problems = report.cells.filter((c) => c.verdict !== 'unchanged').map((c) => `${c.label}: ${c.verdict} ${c.details.join('; ')}`);
    expect(problems).toEqual([]);
    expect(report.cells.length).toBeGreaterThanOrEqual(5);
    expect(report.nondeterministic).toEqual([]);
    expect(report.determinism.checked).toHaveLength(2);
    expect(report.exitCode).toBe(0);
  });
});
