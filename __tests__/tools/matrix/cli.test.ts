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
    expect(again.stdout).toMatch(/0 cells run, 4 reused from .*; the stored determinism check of the same cells holds/);
    expect(again.status).toBe(0);
  });

  it('exits with 2 on a bad matrix file or option', () => {
    const bad = cli(matrixFile(tmp, 'bad', 'axes: { a: [1] }\n'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/a matrix needs metrics to compare/);
    expect(cli('scenarios/matrices/ci.matrix.yaml', '--shard', '3/2').status).toBe(2);
  });

  // Mutation that must break it: checkCellInputs returning at once (the refused cell is
  // then run and reported failed, exit 1, after the other cells ran).
  it('exits with 2, before running any cell, when a cell has a value the schema refuses', () => {
    const cases: Array<[string, string, string, RegExp]> = [
      ['optval', '{ duration: 3s }', '  plugins.placement.worst-fit.cpuOvercommit: [2, many]', /^error: \S+optval\.matrix\.yaml, axis plugins\.placement\.worst-fit\.cpuOvercommit: "many" \(cell demo plugins\.placement\.worst-fit\.cpuOvercommit=many\): plugins\.placement\.worst-fit\.cpuOvercommit: .*must be number/],
      ['setval', '{ duration: 3 }', '  seed: [1, 2]', /^error: \S+setval\.matrix\.yaml, scenarios\.0\.set duration: 3 \(cell demo seed=1\): duration: 3 has no unit/],
      ['provider', '{ duration: 3s }', '  placement: [first-fit, wrost-fit]', /^error: \S+provider\.matrix\.yaml, axis placement: "wrost-fit" \(cell demo placement=wrost-fit\): unknown plugin 'placement\.wrost-fit'\n {2}hint: did you mean 'placement\.worst-fit'\?/],
    ];
    for (const [name, set, axes, line] of cases) {
      const file = matrixFile(tmp, name, `axes:\n${axes}\nmetrics: { dc.vms.running: { tolerance: 0 } }\n`, undefined, set);
      const out = path.join(tmp, name);
      for (const args of [['--workers', '0', '--out', out, '--quiet'], ['--coverage'], ['--slurm', '--dry-run', '--out', out]]) {
        const r = cli(file, ...args);
        expect({ name, args, err: r.stderr }).toEqual({ name, args, err: expect.stringMatching(line) });
        expect({ name, args, status: r.status }).toEqual({ name, args, status: 2 });
      }
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('virtlab matrix --slurm', () => {
  const file = () => matrixFile(tmp, 'slurmcli', 'axes:\n  seed: [1, 2, 3]\nmetrics: { workload.writes: { tolerance: 0 } }\n');

  it('prints the scripts and the sbatch commands with --dry-run, and submits nothing', () => {
    const out = path.join(tmp, 'slurm-dry');
    const r = cli(file(), '--slurm', '--tasks', '2', '--partition', 'short', '--time', '30', '--dry-run', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# matrix slurmcli: 3 cells in 2 array tasks$/m);
    expect(r.stdout).toMatch(/^#SBATCH --array=1-2$/m);
    expect(r.stdout).toMatch(/^ARRAY_JOB=\$\(sbatch --parsable .*\/slurm\/array\.sh\)$/m);
    expect(r.stdout).toMatch(/^sbatch --parsable --dependency=afterany:"\$\{ARRAY_JOB%%;\*\}" .*\/slurm\/merge\.sh$/m);
    expect(existsSync(out)).toBe(false);
  });

  it('exits with 2 and one line when sbatch is missing or an option does not fit', () => {
    const noSbatch = spawnSync(process.execPath, ['tools/cli/bin.js', 'matrix', file(), '--slurm', '--out', path.join(tmp, 'slurm-none')], { encoding: 'utf8', env: { ...process.env, PATH: tmp } });
    expect(noSbatch.status).toBe(2);
    expect(noSbatch.stderr).toMatch(/^error: sbatch not found: [^\n]*\n$/);
    const notSlurm = cli(file(), '--partition', 'short');
    expect(notSlurm.status).toBe(2);
    expect(notSlurm.stderr).toMatch(/^error: --partition applies only with --slurm\n/);
    expect(cli(file(), '--slurm', '--shard', '1/2', '--dry-run').status).toBe(2);
    const noShard = spawnSync(process.execPath, ['tools/cli/bin.js', 'matrix', file(), '--shard', 'auto'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(noShard.status).toBe(2);
    expect(noShard.stderr).toMatch(/^error: --shard auto found no shard in the environment/);
  });

  it('runs the shard of a Slurm array task with --shard auto', () => {
    const out = path.join(tmp, 'slurm-auto');
    const env = { ...process.env, SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '0' };
    const r = spawnSync(process.execPath, ['tools/cli/bin.js', 'matrix', file(), '--shard', 'auto', '--workers', '1', '--out', out, '--quiet'], { encoding: 'utf8', env });
    expect(r.stdout).toMatch(/^shard 1\/1 \(from Slurm array task 0\)$/m);
    expect(r.stdout).toMatch(/3 cells run, 0 reused/);
    expect(r.status).toBe(0);
  });
});
