// `virtlab matrix` from the command line: cells run in a pool of worker threads
// (which load TypeScript through tsx, as the CLI does), and bad input exits with 2.
// The runs are --quiet: a progress line appears after a second of wall time, so
// without it what the command prints would depend on the machine's speed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { matrixFile, tempDir } from './helpers';

const tmp = tempDir('cli');
const cli = (...args: string[]) => spawnSync(process.execPath, ['tools/cli/bin.js', 'matrix', ...args], { encoding: 'utf8' });

describe('virtlab matrix', () => {
  it('runs cells in worker threads, then reuses them on a rerun', () => {
    const file = matrixFile(tmp, 'pool', 'axes:\n  placement: [first-fit, worst-fit]\n  seed: [1, 2]\nmetrics: { workload.writes: { tolerance: 0 } }\ndeterminismSample: 1\n');
    const out = path.join(tmp, 'pool');
    const r = cli(file, '--workers', '2', '--out', out, '--update-golden', '--quiet');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/4 cells run, 0 reused/);
    expect(r.stdout).toMatch(/matrix pool: 4 unchanged/);
    expect(r.stdout).toMatch(/determinism: 1 cells re-run/);
    expect(r.status).toBe(0);
    expect(readdirSync(path.join(out, 'cells'))).toHaveLength(4);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
    const again = cli(file, '--workers', '2', '--out', out, '--quiet');
    expect(again.stdout).toMatch(/0 cells run, 4 reused/);
    expect(again.status).toBe(0);
  });

  it('exits with 2 on a bad matrix file or option', () => {
    const bad = cli(matrixFile(tmp, 'bad', 'axes: { a: [1] }\n'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/a matrix needs metrics to compare/);
    expect(cli('scenarios/matrices/ci.matrix.yaml', '--shard', '3/2').status).toBe(2);
  });
});
