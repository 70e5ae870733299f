// The virtlab command line. `main(argv)` returns the exit status:
//
//   0  success
//   1  the run finished but an expectation failed (or `validate` found a problem)
//   2  bad input: unknown command or option, invalid scenario, plugin or manifest
//   3  internal error (a bug: rerun with --debug and report the stack trace)
//   guest programs run by `virtlab exec` pass their own exit status through.
//
// Errors print one line with the cause and, where there is one, a hint; the stack
// trace only with --debug.

import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parse as parseYaml } from 'yaml';
import {
  CAPABILITIES,
  ManifestError,
  PluginOptionError,
  RegistryError,
  Simulation,
  SimulationError,
  formatQuantity,
  type RunResult,
} from 'virtlab';
import { ScenarioError } from '../../core/scenario/loader';
import { ScheduleError } from '../../core/engine/schedule';
import { findManifests, loadCatalog, PLUGINS_DIR, readPluginFolder, REPO_ROOT } from '../node/catalog';
import { defaultResultsDir, writeResults } from '../node/results';
import { loadScenarioFile } from '../node/scenario-file';
import { optionsModule } from '../gen/generate';
import { execCommand, ExecUsageError } from './exec';
import { MatrixError } from '../matrix/cells';
import { matrixCoverage, mergeShards, runMatrix, type MatrixReport } from '../matrix/matrix';
import { Progress } from './progress';
import { writeReport } from '../report/report';
import { buildView, serveView } from '../view/serve';

const USAGE = `virtlab — a plugin-based simulator for virtualization research

Usage:
  virtlab run <scenario> [--set path=value]… [--seed n] [--out dir] [--quiet]
  virtlab validate <scenario | plugin folder>…
  virtlab plugins [--json]
  virtlab new-plugin <id> [--dir folder]
  virtlab report <results folder>   (writes report.html with charts)
  virtlab view <scenario | results folder> [--port n] [--open] [--compare path=value]… [--build-only]
  virtlab matrix <matrix.yaml> [--workers n] [--out dir] [--update-golden] [--shard k/n] [--fresh] [--quiet]
  virtlab matrix <matrix.yaml> --coverage   (boots every cell: do interacting plugins meet?)
  virtlab matrix merge <shard output folder>… --out dir
  virtlab exec [--engine interpreter|block-translator|instrew] [--option name=value]… [--plugin id]…
               [--stats] [--mount host:guest]… [--env K=V]… [--memory 256MiB] [--max-instructions n]
               prog.elf [args…]
  virtlab help

Options:
  --set path=value   override a scenario value (YAML syntax), e.g. --set duration=10s
                     or --set plugins.placement.first-fit.cpuOvercommit=2
  --seed n           override the scenario's seed
  --out dir          results folder (default results/<name>-seed<seed>)
  --debug            print stack traces of errors

Exit status: 0 success, 1 an expectation failed, 2 bad input, 3 internal error;
exec passes the guest's own status through (128 + signal when it is killed).`;

class UsageError extends Error {
  constructor(
    message: string,
    readonly hint = 'see virtlab help',
  ) {
    super(message);
  }
}

type Out = { out: (s: string) => void; err: (s: string) => void };
const stdio: Out = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };

export async function main(argv: string[], io: Out = stdio): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, io);
      case 'validate':
        return await validateCommand(rest, io);
      case 'plugins':
        return pluginsCommand(rest, io);
      case 'new-plugin':
        return newPluginCommand(rest, io);
      case 'exec':
        return await execCommand(rest);
      case 'matrix':
        return await matrixCommand(rest, io);
      case 'view': {
        const { values, positionals } = parse(rest, { port: { type: 'string' }, open: { type: 'boolean' }, compare: { type: 'string', multiple: true }, 'build-only': { type: 'boolean' } });
        if (values['build-only']) {
          io.out(`built the page into ${await buildView()}`);
          return 0;
        }
        if (positionals.length !== 1) throw new UsageError('view takes one scenario file or results folder', 'virtlab view scenarios/demo.scenario.yaml');
        let served;
        try {
          served = await serveView({ target: positionals[0], port: Number(values.port ?? 0), compare: values.compare as string[] | undefined });
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        io.out(`virtlab view: ${served.url}  (Ctrl-C to stop)`);
        if (values.open) {
          const { spawn } = await import('node:child_process');
          spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [served.url], { stdio: 'ignore', detached: true }).on('error', () => io.err('could not open a browser; open the URL yourself'));
        }
        await new Promise(() => {});
        return 0;
      }
      case 'report': {
        const { positionals } = parse(rest, {});
        if (positionals.length !== 1) throw new UsageError('report takes one results folder', 'virtlab report results/demo-seed42');
        try {
          io.out(`wrote ${writeReport(positionals[0])}`);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`, 'commands: run, validate, plugins, new-plugin, exec, matrix, report, view, help');
    }
  } catch (e) {
    return reportError(e, io, debug);
  }
}

/** Prints an error as one line plus a hint; returns the exit status for it. */
export function reportError(e: unknown, io: Out, debug: boolean): number {
  const err = e as Error & { hint?: string };
  const known =
    e instanceof UsageError ||
    e instanceof ExecUsageError ||
    e instanceof MatrixError ||
    e instanceof ScenarioError ||
    e instanceof RegistryError ||
    e instanceof ManifestError ||
    e instanceof PluginOptionError ||
    e instanceof ScheduleError ||
    e instanceof SimulationError;
  if (e instanceof ScenarioError) io.err(`error: ${e.message}`);
  else {
    io.err(`error: ${known ? err.message : `internal error: ${err?.message ?? String(e)}`}`);
    if (err?.hint) io.err(`  hint: ${err.hint}`);
  }
  if (debug && err?.stack) io.err(err.stack);
  else if (!known) io.err('  this is a bug in virtlab or a plugin; rerun with --debug for the stack trace');
  return known ? 2 : 3;
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(rest: string[], options: O) {
  try {
    return parseArgs({ args: rest, options, allowPositionals: true as const, strict: true as const });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

async function runCommand(rest: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(rest, {
    set: { type: 'string', multiple: true },
    seed: { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('run takes one scenario file', 'virtlab run scenarios/demo.scenario.yaml');
  const set = ((values.set as string[] | undefined) ?? []).map((s) => {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set expects path=value, got '${s}'`, 'for example --set duration=10s');
    return { path: s.slice(0, eq), value: parseYaml(s.slice(eq + 1)) as unknown };
  });
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed expects a non-negative integer, got '${values.seed}'`);
  }
  const quiet = values.quiet === true;
  const t0 = performance.now();
  const { scenario, catalog, files } = loadScenarioFile(positionals[0], { set, seed });
  const sim = await Simulation.create({ scenario, catalog, files });
  const t1 = performance.now();
  const progress = new Progress(quiet ? () => {} : (s) => process.stderr.write(s), process.stderr.isTTY === true);
  const every = Math.max(1, Math.floor(sim.totalTicks / 200));
  sim.run((done, total) => progress.update(done, total, done * scenario.tick), every);
  progress.done();
  const t2 = performance.now();
  const result = await sim.finish();
  const t3 = performance.now();
  const dir = (values.out as string | undefined) ?? defaultResultsDir(scenario.name, scenario.seed);
  writeResults(dir, result, {
    bootMs: t1 - t0,
    runMs: t2 - t1,
    finishMs: t3 - t2,
    ticksPerSecond: result.ticks / Math.max(1e-9, (t2 - t1) / 1000),
    peakRssBytes: process.memoryUsage().rss,
  });
  if (!quiet) printSummary(io, result, scenario.name, dir, t2 - t1);
  const failed = result.expectations.filter((e) => !e.ok);
  for (const f of failed) io.err(`expectation failed: ${f.reason}`);
  return failed.length ? 1 : 0;
}

function printSummary(io: Out, result: RunResult, name: string, dir: string, runMs: number): void {
  const metrics = (result.metrics as { metrics: Record<string, { kind: string; unit: string; value?: number; mean?: number; p99?: number }> }).metrics;
  const rows: string[][] = [['metric', 'value', 'unit']];
  for (const [k, m] of Object.entries(metrics)) {
    const v = m.kind === 'histogram' ? `mean ${fmt(m.mean!)}, p99 ${fmt(m.p99!)}` : fmt(m.value!);
    rows.push([k, v, m.unit]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  io.out(`\n${name}: ${formatQuantity(result.simulatedNs, 'ns')} simulated in ${(runMs / 1000).toFixed(2)} s (${result.ticks} ticks)\n`);
  rows.forEach((r, i) => {
    io.out(r.map((cell, c) => (c === 1 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  '));
    if (i === 0) io.out(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  if (result.expectations.length) {
    const ok = result.expectations.filter((e) => e.ok).length;
    io.out(`\nexpectations: ${ok}/${result.expectations.length} passed`);
  }
  io.out(`results: ${dir}/ (summary.md, metrics.json, config.json, timeseries.csv)`);
}

function fmt(x: number): string {
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4);
}

async function validateCommand(rest: string[], io: Out): Promise<number> {
  const { positionals } = parse(rest, {});
  if (!positionals.length) throw new UsageError('validate takes scenario files or plugin folders');
  for (const target of positionals) {
    if (existsSync(target) && statSync(target).isDirectory()) {
      const manifests = existsSync(path.join(target, 'plugin.json')) ? [path.join(target, 'plugin.json')] : findManifests(target);
      if (!manifests.length) throw new UsageError(`${target} contains no plugin.json`);
      for (const m of manifests) {
        const entry = readPluginFolder(path.dirname(m));
        const mod = (await entry.load()) as { default?: { kind?: string }; kind?: string };
        if ((mod.default ?? mod)?.kind !== 'virtlab-plugin') {
          throw new ManifestError(`the entry module of '${entry.manifest.id}' does not export default definePlugin(...)`);
        }
        io.out(`ok  plugin ${entry.manifest.id} ${entry.manifest.version} (${entry.dir})`);
      }
    } else {
      const { scenario, catalog, files } = loadScenarioFile(target);
      // Booting also checks plugin requirements and the system order.
      await Simulation.create({ scenario, catalog, files });
      io.out(`ok  scenario ${scenario.name} (${target})`);
    }
  }
  return 0;
}

function pluginsCommand(rest: string[], io: Out): number {
  const { values } = parse(rest, { json: { type: 'boolean' } });
  const catalog = loadCatalog();
  if (values.json) {
    io.out(JSON.stringify(catalog.list().map((e) => e.manifest), null, 2));
    return 0;
  }
  for (const { manifest: m } of catalog.list()) {
    const caps = m.provides.map((c) => (CAPABILITIES[c]?.exclusive ? `${c}*` : c)).join(', ');
    io.out(`${m.id} ${m.version}  provides: ${caps || '—'}`);
    io.out(`  ${m.description}`);
    for (const [name, o] of Object.entries(m.options.properties)) {
      io.out(`    ${name} = ${JSON.stringify(o.default)}${o.unit ? ` ${o.unit}` : ''}  — ${o.description}`);
    }
  }
  io.out('\n* exclusive: a scenario selects one provider');
  return 0;
}

function newPluginCommand(rest: string[], io: Out): number {
  const { values, positionals } = parse(rest, { dir: { type: 'string' } });
  const id = positionals[0];
  if (!id || !/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/.test(id)) {
    throw new UsageError(`new-plugin needs an id of the form area.name, got '${id ?? ''}'`, 'for example: virtlab new-plugin mmu.my-strategy');
  }
  if (loadCatalog().get(id)) throw new UsageError(`a plugin '${id}' already exists`);
  const [area, ...nameParts] = id.split('.');
  const dir = path.resolve((values.dir as string | undefined) ?? path.join(PLUGINS_DIR, area, nameParts.join('-')));
  if (existsSync(dir)) throw new UsageError(`${dir} already exists`);
  const inRepo = dir.startsWith(REPO_ROOT + path.sep);
  const api = inRepo ? 'virtlab' : path.relative(dir, path.join(REPO_ROOT, 'core', 'index')).split(path.sep).join('/');
  const counterName = `${id}.ticks`;
  const manifest = {
    $schema: path.relative(dir, path.join(REPO_ROOT, 'plugin.schema.json')).split(path.sep).join('/'),
    id,
    version: '0.1.0',
    engine: '^0.1.0',
    description: `TODO: say in one or two sentences what ${id} models.`,
    provides: [] as string[],
    tags: [] as string[],
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        interval: { type: 'integer', minimum: 1, default: 1, unit: 'ticks', description: 'Ticks between two runs of the system.' },
      },
    },
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(
    path.join(dir, 'index.ts'),
    `// ${id}: TODO say what this plugin models and how. The entry module only registers:
// it taps hooks, adds systems and provides services; it does nothing at import time.

import { definePlugin } from '${api}';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const ticks = api.counter('${counterName}', 'ticks', 'Ticks at which the system ran.');
  api.addSystem({
    name: \`\${api.id}/step\`,
    phase: 'control',
    run(sim) {
      if (sim.tick % api.options.interval === 0) ticks.add();
    },
  });
});
`,
  );
  writeFileSync(path.join(dir, 'options.ts'), optionsModule(manifest as never));
  writeFileSync(
    path.join(dir, 'README.md'),
    `# ${id}\n\nTODO: what it models, what it reproduces, and how to use it in a scenario:\n\n\`\`\`yaml\nplugins:\n  ${id}: { interval: 1 }\n\`\`\`\n\nOptions are listed in the generated catalog (\`npm run gen\`, plugins/README.md).\n`,
  );
  const testDir = inRepo ? path.join(REPO_ROOT, '__tests__', 'plugins', area) : dir;
  mkdirSync(testDir, { recursive: true });
  const testFile = path.join(testDir, `${nameParts.join('-')}.test.ts`);
  const harness = path.relative(testDir, path.join(REPO_ROOT, 'tools', 'node', 'testing')).split(path.sep).join('/');
  writeFileSync(
    testFile,
    `// A minimal simulation with ${id}: it boots, runs, and its system runs every tick.
import { bootText } from '${harness.startsWith('.') ? harness : './' + harness}';

describe('${id}', () => {
  it('runs its system once per interval', async () => {
    const sim = await bootText(
      \`name: ${id}-test
preset: minimal
tick: 1ms
duration: 10ms
plugins:
  ${id}: { interval: 2 }
\`,
      {},
      ${inRepo ? '[]' : `[${JSON.stringify(path.dirname(dir))}]`},
    );
    sim.run();
    expect(sim.metrics.value('${counterName}')).toBe(5);
  });
});
`,
  );
  io.out(`created ${path.relative(process.cwd(), dir)}/ (plugin.json, index.ts, options.ts, README.md)`);
  io.out(`created ${path.relative(process.cwd(), testFile)}`);
  const runTest = inRepo ? `npx jest ${path.relative(process.cwd(), testFile)}` : `npx jest ${testFile} --roots ${testDir}`;
  io.out(`next: edit plugin.json and index.ts, run npm run gen after changing options, then ${runTest}`);
  return 0;
}


function printMatrixReport(io: Out, r: MatrixReport, out: string): void {
  io.out(`matrix ${r.name}: ${Object.entries(r.counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ')}`);
  for (const c of r.cells.filter((x) => x.verdict !== 'unchanged')) io.out(`  ${c.verdict.padEnd(9)} ${c.label}${c.details.length ? `: ${c.details.join('; ').split('\n')[0].slice(0, 200)}` : ''}`);
  io.out(`interaction coverage: ${r.coverage.covered}/${r.coverage.pairs} interacting plugin pairs ran together${r.coverage.missing.length ? `; never together: ${r.coverage.missing.map((p) => `${p} (${r.coverage.reasons[p]})`).join('; ')}` : ''}`);
  if (r.nondeterministic.length) io.out(`NOT DETERMINISTIC: ${r.nondeterministic.join(', ')}`);
  else io.out(`determinism: ${r.determinism.checked.length} cells re-run, identical metrics.json`);
  io.out(`report: ${out}/report.md, report.json, report.html`);
}

async function matrixCommand(rest: string[], io: Out): Promise<number> {
  if (rest[0] === 'merge') {
    const { values, positionals } = parse(rest.slice(1), { out: { type: 'string' } });
    if (!positionals.length || !values.out) throw new UsageError('matrix merge takes shard output folders and --out', 'virtlab matrix merge results/matrix/ci-shard1of2 results/matrix/ci-shard2of2 --out results/matrix/ci');
    const report = mergeShards(positionals, values.out as string);
    printMatrixReport(io, report, values.out as string);
    return report.exitCode;
  }
  const { values, positionals } = parse(rest, {
    workers: { type: 'string' },
    out: { type: 'string' },
    'update-golden': { type: 'boolean' },
    shard: { type: 'string' },
    fresh: { type: 'boolean' },
    coverage: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('matrix takes one matrix file', 'virtlab matrix scenarios/matrices/ci.matrix.yaml');
  if (values.coverage) {
    const { coverage: c, cells, skipped } = await matrixCoverage(positionals[0]);
    io.out(`${cells} cells booted (${skipped} refused or failed)`);
    for (const [pair, why] of Object.entries(c.reasons)) io.out(`  ${c.missing.includes(pair) ? 'never together' : 'together     '}  ${pair}: ${why}`);
    io.out(`interaction coverage: ${c.covered}/${c.pairs} interacting plugin pairs run together`);
    return c.missing.length ? 1 : 0;
  }
  let shard: { k: number; n: number } | undefined;
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard as string);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard expects k/n with 1 ≤ k ≤ n, got '${values.shard}'`);
    shard = { k: Number(m[1]), n: Number(m[2]) };
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0)) throw new UsageError('--workers expects a whole number (0 runs cells in this thread)');
  // --quiet leaves out only the progress line: the report is the command's answer.
  const progress = new Progress(values.quiet ? () => {} : (s) => process.stderr.write(s), process.stderr.isTTY === true);
  const { report, out, ran, reused } = await runMatrix({
    file: positionals[0],
    workers,
    out: values.out as string | undefined,
    updateGolden: values['update-golden'] === true,
    shard,
    fresh: values.fresh === true,
    progress: (done, total) => progress.update(done, total),
  });
  progress.done();
  io.out(`${ran} cells run, ${reused} reused from ${out}/cells`);
  printMatrixReport(io, report, out);
  if (values['update-golden']) io.out('golden values updated');
  return report.exitCode;
}
