// Writes a run's results folder: config.json (the effective configuration),
// metrics.json (deterministic: same scenario and seed, same bytes), timeseries.csv,
// summary.md, files added by plugins, and host-timing.json (wall-clock figures,
// which vary from run to run and so are kept apart from metrics.json).
//
// A results folder is complete or absent: the files are written into a temporary
// sibling folder (`.<name>.partial-XXXXXX`) that is renamed into place when all are
// written, so an interrupted run leaves no folder that looks complete, and a folder
// that is replaced is replaced whole (no file of an earlier run survives beside the
// new ones). prepareResultsDir runs before the simulation, so a bad --out is refused
// before any work: a file, a folder that cannot be written, or a folder holding
// something other than an earlier run of the same scenario and seed (unless the user
// asks for --overwrite).

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { RunResult } from 'virtlab';

export interface HostTiming {
  readonly bootMs: number;
  readonly runMs: number;
  readonly finishMs: number;
  readonly ticksPerSecond: number;
  readonly peakRssBytes: number;
}

/** A results folder that cannot be used (bad input: exit status 2). */
export class ResultsDirError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A results folder checked and ready: the files go to `tmp`, which becomes `dir`. */
export interface PreparedResults {
  readonly dir: string;
  readonly tmp: string;
}

/**
 * Checks the results folder before a run and makes its temporary sibling. An
 * existing folder is accepted when it is empty or holds an earlier run of the same
 * scenario name and seed (which the new run replaces whole); anything else needs
 * `overwrite`.
 */
export function prepareResultsDir(dir: string, run: { name: string; seed: number; overwrite?: boolean }): PreparedResults {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new ResultsDirError(`--out ${dir} is a file, not a folder`, 'give a folder for the results');
    const entries = readdirSync(dir);
    if (entries.length && !run.overwrite) {
      const previous = recordedRun(dir);
      if (!previous) throw new ResultsDirError(`--out ${dir} is not empty and holds no virtlab results`, 'choose another folder, or --overwrite to replace its contents');
      if (previous.name !== run.name || previous.seed !== run.seed) {
        throw new ResultsDirError(`${dir} holds the results of another run (${previous.name}, seed ${previous.seed})`, 'choose another --out, or --overwrite to replace them');
      }
    }
  }
  const parent = path.dirname(path.resolve(dir));
  try {
    mkdirSync(parent, { recursive: true });
    return { dir, tmp: mkdtempSync(path.join(parent, `.${path.basename(dir)}.partial-`)) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ResultsDirError(`cannot write the results folder ${dir}: ${code} in ${parent}`, 'choose a folder you can write with --out');
  }
}

/** Name and seed of the run whose results a folder holds, if it holds a readable config.json. */
function recordedRun(dir: string): { name: string; seed: number } | undefined {
  try {
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { scenario?: { name?: unknown; seed?: unknown } };
    const { name, seed } = config.scenario ?? {};
    return typeof name === 'string' && typeof seed === 'number' ? { name, seed } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes every file into the prepared temporary folder and renames it into place,
 * replacing (whole) what was there. A plain folder name is prepared here, with
 * `overwrite`: callers that check first pass what prepareResultsDir returned.
 */
export function writeResults(target: string | PreparedResults, result: RunResult, timing: HostTiming): string[] {
  const { dir, tmp } = typeof target === 'string' ? prepareResultsDir(target, { name: '', seed: 0, overwrite: true }) : target;
  const files = new Map<string, string>([
    ['config.json', result.configJson],
    ['metrics.json', result.metricsJson],
    ['timeseries.csv', result.timeseriesCsv],
    ['summary.md', result.summary],
    ['host-timing.json', JSON.stringify(timing, null, 2) + '\n'],
    ...result.files,
  ]);
  try {
    for (const [name, text] of files) {
      const file = path.resolve(tmp, name);
      // A plugin's file name stays inside the folder.
      if (!file.startsWith(path.resolve(tmp) + path.sep)) throw new ResultsDirError(`a results file name leaves the results folder: ${name}`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    const old = `${tmp}.old`;
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return [...files.keys()];
}

/**
 * The default results folder of a scenario: results/<name>-seed<seed>-<digest>, with
 * the name made a single folder name (a name such as `../../x` must not write outside
 * results/) and the digest of its configuration (configDigest), so that two runs that
 * differ in a plugin or an option never overwrite each other, and a run of the same
 * configuration replaces its earlier self.
 */
export function defaultResultsDir(name: string, seed: number, digest?: string): string {
  return path.join('results', `${safeFolderName(name)}-seed${seed}${digest ? `-${digest}` : ''}`);
}

/**
 * Eight hex digits of the SHA-256 of what a run's results depend on: the scenario as
 * loaded (after --set and --seed), plugins with their options, without where it was
 * read from. Keys are sorted, so the digest does not depend on the order they were
 * written in; lists keep their order (the order of plugins matters).
 */
export function configDigest(scenario: object): string {
  const { file: _file, dir: _dir, ...rest } = scenario as Record<string, unknown>;
  // `where` (file:line of an entry, for errors) moves when a comment is added.
  const stable = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(stable)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).filter((k) => k !== 'where').sort().map((k) => [k, stable((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(stable(rest))).digest('hex').slice(0, 8);
}

/** A scenario name as one folder name: letters, digits, `.`, `_` and `-`; no leading dot. */
export function safeFolderName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 100);
  return safe || 'scenario';
}
