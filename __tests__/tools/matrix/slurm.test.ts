// Matrices on cluster schedulers without a cluster: which shard `--shard auto` reads
// from a Slurm array, a Kubernetes Indexed Job or a CI matrix; the sbatch scripts of
// `virtlab matrix --slurm`; their submission (sbatch replaced by a recorder); and a
// resubmitted shard, which runs only the cells that are missing.
// (`npm run test:slurm` submits to a real Slurm.)
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runMatrix } from '../../../tools/matrix/matrix';
import { planSlurm, shardFromEnv, shellWord, submitSlurm } from '../../../tools/matrix/slurm';
import { matrixFile, tempDir } from './helpers';

const tmp = tempDir('slurm');
const body = 'axes:\n  placement: [first-fit, worst-fit]\n  seed: [1, 2, 3]\nstrategy: full\nmetrics:\n  workload.writes: { tolerance: 0 }\ndeterminismSample: 1\n';

describe('--shard auto', () => {
  // Breaks if the task's place in the array ignores SLURM_ARRAY_TASK_MIN or _STEP.
  it('reads a Slurm array task: its place in the range, and the range length', () => {
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '8', SLURM_ARRAY_TASK_COUNT: '8' })).toMatchObject({ k: 3, n: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '7' })).toMatchObject({ k: 1, n: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '7', SLURM_ARRAY_TASK_STEP: '2' })).toMatchObject({ k: 4, n: 4 });
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '7', SLURM_ARRAY_TASK_STEP: '2' })).toThrow(/not in a range of 4 tasks from 1 by 2/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' })).toThrow(/submit the array as --array=a-b/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1' })).toThrow(/SLURM_ARRAY_TASK_MIN is not/);
  });

  it('reads a Kubernetes Indexed Job and a CI matrix (0-based indices with a count)', () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0', VIRTLAB_SHARD_COUNT: '5' })).toEqual({ k: 1, n: 5, from: 'JOB_COMPLETION_INDEX' });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '5', VIRTLAB_SHARD_COUNT: '5' })).toThrow(/not below VIRTLAB_SHARD_COUNT=5/);
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '2' })).toThrow(/VIRTLAB_SHARD_COUNT is not/);
    expect(shardFromEnv({ VIRTLAB_SHARD_INDEX: '3', VIRTLAB_SHARD_COUNT: '4', SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '2' })).toMatchObject({ k: 4, n: 4 });
    expect(() => shardFromEnv({ VIRTLAB_SHARD_INDEX: 'x', VIRTLAB_SHARD_COUNT: '4' })).toThrow(/VIRTLAB_SHARD_INDEX=x is not a whole number/);
    expect(() => shardFromEnv({})).toThrow(/found no shard in the environment/);
  });
});

describe('virtlab matrix --slurm', () => {
  const file = matrixFile(tmp, 'sl', body);
  const fixed = { file, cwd: tmp, node: '/opt/node/bin/node', cli: '/srv/virtlab/tools/cli/bin.js' };

  it('writes an array of one shard per task and a merge job over the shard folders', () => {
    const plan = planSlurm({ ...fixed, out: 'res ults', tasks: 3, partition: 'short', time: '1-02:00:00', cpusPerTask: 2, arrayLimit: 2 });
    const out = path.join(tmp, 'res ults');
    expect(plan).toMatchObject({ name: 'sl', cells: 6, tasks: 3, stored: 0, out, arrayFile: path.join(out, 'slurm', 'array.sh') });
    const a = plan.arrayScript.split('\n');
    expect(a[0]).toBe('#!/bin/bash');
    expect(a).toEqual(expect.arrayContaining(['#SBATCH --array=1-3%2', '#SBATCH --cpus-per-task=2', '#SBATCH --partition=short', '#SBATCH --time=1-02:00:00', `#SBATCH --output=${out}/slurm/shard-%a.log`, `cd ${tmp}`]));
    expect(a).toContain(`exec /opt/node/bin/node /srv/virtlab/tools/cli/bin.js matrix sl.matrix.yaml --shard auto --workers "\${SLURM_CPUS_PER_TASK:-2}" --out '${out}/shards'/"$SLURM_ARRAY_TASK_ID" --quiet`);
    const m = plan.mergeScript.split('\n');
    expect(m).toEqual(expect.arrayContaining(['#SBATCH --cpus-per-task=1', '#SBATCH --partition=short', `#SBATCH --output=${out}/slurm/merge.log`]));
    expect(m).toContain(`for d in '${out}/shards'/*/; do`);
    expect(m).toContain(`exec /opt/node/bin/node /srv/virtlab/tools/cli/bin.js matrix merge "\${shards[@]}" --out '${out}'`);
    expect(plan.mergeScript).not.toMatch(/--array|--dependency/);
  });

  it('defaults to about four cells per CPU of a task, and checks its options', () => {
    expect(planSlurm({ ...fixed, out: 'd1' }).tasks).toBe(2);
    expect(planSlurm({ ...fixed, out: 'd2', cpusPerTask: 4 }).tasks).toBe(1);
    expect(planSlurm({ ...fixed, out: 'd3', fresh: true }).arrayScript).toMatch(/--quiet --fresh$/m);
    expect(planSlurm({ ...fixed, out: 'd4' }).arrayScript).not.toMatch(/--partition|--time|--array=1-2%/);
    expect(() => planSlurm({ ...fixed, time: '2h' })).toThrow(/--time '2h' is not a Slurm time limit/);
    expect(() => planSlurm({ ...fixed, partition: 'a b' })).toThrow(/--partition 'a b' is not a partition name/);
    expect(() => planSlurm({ ...fixed, tasks: 1001 })).toThrow(/--tasks expects a whole number from 1 to 1000/);
    expect(() => planSlurm({ ...fixed, cpusPerTask: 0 })).toThrow(/--cpus-per-task/);
  });

  it('quotes words for the shell', () => {
    expect(shellWord('/a/b-c_d.e')).toBe('/a/b-c_d.e');
    expect(shellWord("it's here")).toBe(`'it'\\''s here'`);
  });

  /** A recorder in place of sbatch, squeue and scancel. */
  function fakeSlurm(answers: Record<string, Partial<SpawnSyncReturns<string>>>) {
    const calls: string[][] = [];
    let next = 100;
    const exec = (cmd: string, args: string[]) => {
      calls.push([cmd, ...args]);
      const key = args.some((a) => a.startsWith('--dependency')) ? `${cmd} merge` : cmd;
      const a = answers[key] ?? answers[cmd] ?? { status: 0, stdout: cmd === 'sbatch' ? `${next++};cluster\n` : '' };
      return { pid: 0, output: [], stdout: '', stderr: '', status: 0, signal: null, ...a } as SpawnSyncReturns<string>;
    };
    return { calls, exec };
  }

  it('submits the array, then the merge job after it, and remembers both', () => {
    const plan = planSlurm({ ...fixed, out: 'sub', tasks: 2 });
    const { calls, exec } = fakeSlurm({});
    expect(submitSlurm(plan, exec)).toEqual({ tasks: 2, arrayJob: '100', mergeJob: '101' });
    expect(calls).toEqual([
      ['sbatch', '--parsable', plan.arrayFile],
      ['sbatch', '--parsable', '--dependency=afterany:100', plan.mergeFile],
    ]);
    expect(readFileSync(plan.arrayFile, 'utf8')).toBe(plan.arrayScript);
    // A second submission keeps the number of tasks, so that shard k holds the same cells,
    // and asks whether the first is still in the queue.
    const again = planSlurm({ ...fixed, out: 'sub' });
    expect(again.tasks).toBe(2);
    const busy = fakeSlurm({ squeue: { status: 0, stdout: '100_1\n' } });
    expect(() => submitSlurm(again, busy.exec)).toThrow(/jobs 100 and 101 of .* are still queued or running/);
    expect(busy.calls.map((c) => c[0])).toEqual(['squeue']);
  });

  it('says in one line why it cannot submit, and takes back an array whose merge job was refused', () => {
    const plan = planSlurm({ ...fixed, out: 'err' });
    const missing = fakeSlurm({ sbatch: { status: null, error: Object.assign(new Error('spawnSync sbatch ENOENT'), { code: 'ENOENT' }) } });
    expect(() => submitSlurm(plan, missing.exec)).toThrow(/^sbatch not found: .*--dry-run/);
    const refused = fakeSlurm({ sbatch: { status: 1, stderr: 'sbatch: error: Batch job submission failed: Invalid partition name specified\n' } });
    expect(() => submitSlurm(plan, refused.exec)).toThrow('sbatch refused the job array: sbatch: error: Batch job submission failed: Invalid partition name specified');
    const noMerge = fakeSlurm({ 'sbatch merge': { status: 1, stderr: 'sbatch: error: Job dependency problem\n' } });
    expect(() => submitSlurm(plan, noMerge.exec)).toThrow(/refused the merge job: .*dependency/);
    expect(noMerge.calls.at(-1)).toEqual(['scancel', '100']);
    expect(existsSync(path.join(plan.out, 'slurm', 'submitted.json'))).toBe(false);
  });
});

describe('a resubmitted shard', () => {
  // Breaks if stored cells were not reused (ran would be 3), if a cut-short file were
  // taken as a result, or if a complete shard re-ran its determinism sample.
  it('runs only its missing cells, and nothing when none is missing', async () => {
    const file = matrixFile(tmp, 'resub', body);
    const out = path.join(tmp, 'resub', 'shards', '1');
    const s = shardFromEnv({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '2' });
    const first = await runMatrix({ file, workers: 0, out, shard: s });
    expect(first.ran).toBeGreaterThanOrEqual(2);
    expect(first.rechecked).toBe(1);
    const complete = await runMatrix({ file, workers: 0, out, shard: s });
    expect(complete).toMatchObject({ ran: 0, rechecked: 0 });
    expect(complete.report.determinism).toEqual(first.report.determinism);
    const stored = readdirSync(path.join(out, 'cells')).sort();
    rmSync(path.join(out, 'cells', stored[0]));
    writeFileSync(path.join(out, 'cells', stored[1]), '{"id": "cut sho');
    const warnings: string[] = [];
    const partial = await runMatrix({ file, workers: 0, out, shard: s, warn: (l) => warnings.push(l) });
    expect(partial).toMatchObject({ ran: 2, reused: first.ran - 2, rechecked: 1 });
    expect(warnings).toEqual([expect.stringMatching(/is corrupt .*its cell counts as missing/)]);
    // The submitter counts what is stored before it submits.
    expect(planSlurm({ file, out: path.join(tmp, 'resub'), tasks: 2 }).stored).toBe(first.ran);
  });
});
