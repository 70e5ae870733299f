// Writes a run's results folder: config.json (the effective configuration),
// metrics.json (deterministic: same scenario and seed, same bytes), timeseries.csv,
// summary.md, files added by plugins, and host-timing.json (wall-clock figures,
// which vary from run to run and so are kept apart from metrics.json).

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunResult } from 'virtlab';

export interface HostTiming {
  readonly bootMs: number;
  readonly runMs: number;
  readonly finishMs: number;
  readonly ticksPerSecond: number;
  readonly peakRssBytes: number;
}

/** Writes every file through a temporary name and a rename, so no file is half-written. */
export function writeResults(dir: string, result: RunResult, timing: HostTiming): string[] {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, string>([
    ['config.json', result.configJson],
    ['metrics.json', result.metricsJson],
    ['timeseries.csv', result.timeseriesCsv],
    ['summary.md', result.summary],
    ['host-timing.json', JSON.stringify(timing, null, 2) + '\n'],
    ...result.files,
  ]);
  for (const [name, text] of files) {
    const target = path.join(dir, name);
    mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, target);
  }
  return [...files.keys()];
}

/** The default results folder of a scenario: results/<name>-seed<seed>. */
export function defaultResultsDir(name: string, seed: number): string {
  return path.join('results', `${name}-seed${seed}`);
}
