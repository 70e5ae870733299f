// Running a matrix on a cluster scheduler: which shard this process is (`--shard auto`,
// from a Slurm job array, a Kubernetes Indexed Job or a CI matrix), and the sbatch
// scripts of `virtlab matrix --slurm`: a job array with one shard per task, and a merge
// job that depends on it (afterany, so it runs even when some tasks fail) and writes
// the report.
//
// An output folder of a Slurm run holds:
//   shards/<k>/          shard k's output folder (cells/<key>.json, matrix.json, …)
//   slurm/array.sh, merge.sh, shard-<k>.log, merge.log, submitted.json
//   cells/, report.{md,json,html}   written by the merge job
//
// Cells are stored one file each, atomically, under a key that hashes everything the
// result depends on; a resubmission therefore reruns only the cells that are missing
// (a task that died, a file cut short), provided it keeps the number of tasks, which
// is remembered in submitted.json.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../node/repo-root';
import { matrixCells, readMatrix, MatrixError } from './cells';
import { checkCellInputs } from './run-cell';
import { readCell, writeAtomic } from './matrix';

/** A shard (k of n, 1 ≤ k ≤ n) and where it was read from. */
export interface ShardFromEnv {
  readonly k: number;
  readonly n: number;
  readonly from: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function whole(env: Env, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || v < min) throw new MatrixError(`--shard auto: ${name}=${raw} is not a whole number${min ? ` ≥ ${min}` : ''}`);
  return v;
}

/** A 0-based index and a count, as schedulers other than Slurm give them. */
function fromIndex(index: number, n: number | undefined, from: string, countName: string): ShardFromEnv {
  if (n === undefined) throw new MatrixError(`--shard auto: ${from} is set but ${countName} is not (set it to the number of shards)`);
  if (index >= n) throw new MatrixError(`--shard auto: ${from} is ${index}, not below ${countName}=${n}`);
  return { k: index + 1, n, from };
}

/**
 * The shard of this process, from its environment, for `--shard auto`. In order:
 *   VIRTLAB_SHARD_INDEX (0-based) and VIRTLAB_SHARD_COUNT: any scheduler, e.g. a GitHub
 *     Actions matrix (strategy.job-index and strategy.job-total);
 *   SLURM_ARRAY_TASK_ID of a job array over a range (`--array=1-8`, `0-7`, `1-15:2`):
 *     k is the task's place in the range, n SLURM_ARRAY_TASK_COUNT (or the range's
 *     length from SLURM_ARRAY_TASK_MIN, _MAX and _STEP);
 *   JOB_COMPLETION_INDEX (0-based) of a Kubernetes Indexed Job, with VIRTLAB_SHARD_COUNT
 *     set to the Job's completions (Kubernetes does not export it).
 */
export function shardFromEnv(env: Env): ShardFromEnv {
  const count = whole(env, 'VIRTLAB_SHARD_COUNT', 1);
  const index = whole(env, 'VIRTLAB_SHARD_INDEX', 0);
  if (index !== undefined) return fromIndex(index, count, 'VIRTLAB_SHARD_INDEX', 'VIRTLAB_SHARD_COUNT');
  const id = whole(env, 'SLURM_ARRAY_TASK_ID', 0);
  if (id !== undefined) {
    const min = whole(env, 'SLURM_ARRAY_TASK_MIN', 0);
    const max = whole(env, 'SLURM_ARRAY_TASK_MAX', 0);
    const step = whole(env, 'SLURM_ARRAY_TASK_STEP', 1) ?? 1;
    if (min === undefined) throw new MatrixError('--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not');
    const n = whole(env, 'SLURM_ARRAY_TASK_COUNT', 1) ?? (max === undefined ? undefined : Math.floor((max - min) / step) + 1);
    if (n === undefined) throw new MatrixError('--shard auto: SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is');
    const k = (id - min) / step + 1;
    if (!Number.isInteger(k) || k < 1 || k > n) {
      throw new MatrixError(`--shard auto: Slurm array task ${id} is not in a range of ${n} tasks from ${min} by ${step} (submit the array as --array=a-b or a-b:s, not as a list)`);
    }
    return { k, n, from: `Slurm array task ${id}` };
  }
  const completion = whole(env, 'JOB_COMPLETION_INDEX', 0);
  if (completion !== undefined) return fromIndex(completion, count, 'JOB_COMPLETION_INDEX', 'VIRTLAB_SHARD_COUNT');
  throw new MatrixError('--shard auto found no shard in the environment: it reads SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX with VIRTLAB_SHARD_COUNT, or VIRTLAB_SHARD_INDEX with VIRTLAB_SHARD_COUNT');
}

export interface SlurmOptions {
  readonly file: string;
  /** Output folder (default results/matrix/<name>); made absolute. */
  readonly out?: string;
  /** Array tasks (shards); default: the previous submission's, else about four cells per CPU of a task. */
  readonly tasks?: number;
  readonly partition?: string;
  /** A Slurm time limit per task: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS. */
  readonly time?: string;
  readonly cpusPerTask?: number;
  /** At most this many tasks at once (`--array=1-n%m`). */
  readonly arrayLimit?: number;
  readonly fresh?: boolean;
  /** The folder the jobs run in (matrix and golden paths are relative to it); default: this one. */
  readonly cwd?: string;
  /** The node binary and the CLI the jobs run; default: this process's. */
  readonly node?: string;
  readonly cli?: string;
}

export interface SlurmPlan {
  readonly name: string;
  readonly out: string;
  readonly tasks: number;
  readonly cells: number;
  /** Cells whose results are already stored in the shard folders. */
  readonly stored: number;
  readonly arrayFile: string;
  readonly mergeFile: string;
  readonly arrayScript: string;
  readonly mergeScript: string;
  /** Job ids of the previous submission into this folder, if any. */
  readonly previous?: Submitted;
}

export interface Submitted {
  readonly tasks: number;
  readonly arrayJob: string;
  readonly mergeJob: string;
}

/** Slurm's formats of a time limit. */
const TIME = /^(?:\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/i;
/** Slurm's default MaxArraySize is 1001: indices up to 1000. */
const MAX_TASKS = 1000;

/** A word for a POSIX shell: quoted unless it needs no quoting. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function positive(name: string, v: number | undefined, max = Infinity): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= max)) throw new MatrixError(`${name} expects a whole number from 1${Number.isFinite(max) ? ` to ${max}` : ''}, got ${v}`);
}

function readSubmitted(out: string): Submitted | undefined {
  const file = path.join(out, 'slurm', 'submitted.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Submitted;
  } catch {
    return undefined;
  }
}

/** Keys of the cells already stored in the shard folders of `out`. */
function storedKeys(out: string): Set<string> {
  const keys = new Set<string>();
  const shards = path.join(out, 'shards');
  if (!existsSync(shards)) return keys;
  for (const d of readdirSync(shards)) {
    const cells = path.join(shards, d, 'cells');
    if (!existsSync(cells)) continue;
    for (const f of readdirSync(cells)) if (f.endsWith('.json') && readCell(path.join(cells, f))) keys.add(f.slice(0, -'.json'.length));
  }
  return keys;
}

/** The two scripts of a Slurm run of a matrix, and what they will do; writes nothing. */
export function planSlurm(o: SlurmOptions): SlurmPlan {
  positive('--tasks', o.tasks, MAX_TASKS);
  positive('--cpus-per-task', o.cpusPerTask);
  positive('--array-limit', o.arrayLimit);
  if (o.time !== undefined && !TIME.test(o.time)) throw new MatrixError(`--time '${o.time}' is not a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)`);
  if (o.partition !== undefined && !/^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/.test(o.partition)) throw new MatrixError(`--partition '${o.partition}' is not a partition name (or a comma-separated list of them)`);
  const m = readMatrix(o.file);
  const { cells } = matrixCells(m);
  // Refused values are found here, not by a job array that fails on the cluster.
  checkCellInputs(cells);
  const cwd = path.resolve(o.cwd ?? process.cwd());
  const out = path.resolve(cwd, o.out ?? path.join('results', 'matrix', m.name));
  const previous = readSubmitted(out);
  const cpus = o.cpusPerTask ?? 1;
  const tasks = o.tasks ?? previous?.tasks ?? Math.max(1, Math.min(MAX_TASKS, Math.ceil(cells.length / (4 * cpus))));
  const stored = storedKeys(out);
  const node = shellWord(o.node ?? process.execPath);
  const cli = shellWord(o.cli ?? path.join(REPO_ROOT, 'tools', 'cli', 'bin.js'));
  const rel = path.relative(cwd, path.resolve(cwd, o.file));
  const file = shellWord(rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(cwd, o.file) : rel);
  const q = (p: string) => shellWord(path.join(out, p));
  const common = [...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []), ...(o.time ? [`#SBATCH --time=${o.time}`] : [])];
  const arrayScript = [
    '#!/bin/bash',
    `# Matrix ${m.name} (${cells.length} cells) in ${tasks} shards: array task k runs shard k of ${tasks}`,
    `# (--shard auto reads it from Slurm) and stores each finished cell in shards/k/cells,`,
    '# so that submitting again runs only the cells that are missing.',
    `#SBATCH --job-name=virtlab-${m.name}`,
    `#SBATCH --array=1-${tasks}${o.arrayLimit ? `%${o.arrayLimit}` : ''}`,
    `#SBATCH --cpus-per-task=${cpus}`,
    ...common,
    `#SBATCH --output=${path.join(out, 'slurm', 'shard-%a.log')}`,
    'set -eu',
    `cd ${shellWord(cwd)}`,
    `exec ${node} ${cli} matrix ${file} --shard auto --workers "\${SLURM_CPUS_PER_TASK:-${cpus}}" --out ${q('shards')}/"$SLURM_ARRAY_TASK_ID" --quiet${o.fresh ? ' --fresh' : ''}`,
    '',
  ].join('\n');
  const mergeScript = [
    '#!/bin/bash',
    `# Merges the shards of matrix ${m.name} into ${out} and writes its report; runs after`,
    '# the array whatever became of its tasks (a cell no shard stored is reported failed).',
    `#SBATCH --job-name=virtlab-${m.name}-merge`,
    '#SBATCH --cpus-per-task=1',
    ...common,
    `#SBATCH --output=${path.join(out, 'slurm', 'merge.log')}`,
    'set -eu',
    `cd ${shellWord(cwd)}`,
    'shards=()',
    `for d in ${q('shards')}/*/; do`,
    '  if [ -f "$d/matrix.json" ]; then shards+=("$d"); fi',
    'done',
    `if [ \${#shards[@]} -eq 0 ]; then echo "no shard of matrix ${m.name} finished: see ${path.join(out, 'slurm')}/shard-*.log" >&2; exit 1; fi`,
    `exec ${node} ${cli} matrix merge "\${shards[@]}" --out ${shellWord(out)}`,
    '',
  ].join('\n');
  return {
    name: m.name,
    out,
    tasks,
    cells: cells.length,
    stored: o.fresh ? 0 : cells.filter((c) => stored.has(c.key)).length,
    arrayFile: path.join(out, 'slurm', 'array.sh'),
    mergeFile: path.join(out, 'slurm', 'merge.sh'),
    arrayScript,
    mergeScript,
    previous,
  };
}

/** The sbatch commands that submit a plan; `<array job>` stands for the first's id. */
export function sbatchCommands(plan: SlurmPlan, arrayJob = '<array job id>'): string[][] {
  return [
    ['sbatch', '--parsable', plan.arrayFile],
    ['sbatch', '--parsable', `--dependency=afterany:${arrayJob}`, plan.mergeFile],
  ];
}

type Run = (cmd: string, args: string[]) => SpawnSyncReturns<string>;
const run: Run = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' });

function firstLine(s: string | undefined): string {
  return (s ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
}

/** Runs sbatch; returns the job id. Errors are one line: a missing sbatch, or sbatch's own complaint. */
function sbatch(args: string[], what: string, exec: Run): string {
  const r = exec(args[0], args.slice(1));
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new MatrixError('sbatch not found: --slurm submits jobs with Slurm\'s sbatch, so run it on a machine of the cluster (or add --dry-run to print the scripts)');
  }
  if (r.error) throw new MatrixError(`sbatch could not run: ${r.error.message}`);
  if (r.status !== 0) throw new MatrixError(`sbatch refused the ${what}: ${firstLine(r.stderr) || firstLine(r.stdout) || `exit status ${r.status}`}`);
  // --parsable prints "<id>" or "<id>;<cluster>".
  const id = /^(\d+)(?:;.*)?$/.exec(r.stdout.trim())?.[1];
  if (!id) throw new MatrixError(`sbatch answered '${r.stdout.trim()}' for the ${what}, not a job id`);
  return id;
}

/**
 * Writes the scripts and submits them: the array, then the merge job after it. Refuses
 * while the previous submission into the same folder is still queued or running (two
 * arrays would write the same shard folders).
 */
export function submitSlurm(plan: SlurmPlan, exec: Run = run): Submitted {
  if (plan.previous) {
    const q = exec('squeue', ['--noheader', '--format=%i', `--jobs=${plan.previous.arrayJob},${plan.previous.mergeJob}`]);
    if (!q.error && q.status === 0 && q.stdout.trim()) {
      throw new MatrixError(`jobs ${plan.previous.arrayJob} and ${plan.previous.mergeJob} of ${plan.out} are still queued or running: wait for them, or cancel them with scancel`);
    }
  }
  writeAtomic(plan.arrayFile, plan.arrayScript);
  writeAtomic(plan.mergeFile, plan.mergeScript);
  const arrayJob = sbatch(sbatchCommands(plan)[0], 'job array', exec);
  let mergeJob: string;
  try {
    mergeJob = sbatch(sbatchCommands(plan, arrayJob)[1], 'merge job', exec);
  } catch (e) {
    // An array without its merge would run and never be reported: take it back.
    exec('scancel', [arrayJob]);
    throw e;
  }
  const submitted: Submitted = { tasks: plan.tasks, arrayJob, mergeJob };
  writeAtomic(path.join(plan.out, 'slurm', 'submitted.json'), JSON.stringify(submitted, null, 2) + '\n');
  return submitted;
}
