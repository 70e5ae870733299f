// The virtlab command line. `main(argv)` returns the exit status:
//
//   0  success
//   1  the run finished but an expectation failed (for matrix: a cell regressed)
//   2  bad input: unknown command or option, invalid scenario, plugin, manifest or
//      plugin types
//   3  internal error: a bug in virtlab or in one of its plugins (plugins/) whose code
//      threw (the message names it); rerun with --debug for the stack trace. A plugin
//      from outside the repository that throws is the user's input: exit 2, naming the
//      plugin and its file:line.
//   guest programs run by `virtlab exec` pass their own exit status through.
//
// Errors print one line with the cause and, where there is one, a hint; the stack
// trace only with --debug. An error thrown by a plugin's code names the plugin and
// the file:line that threw. Every command answers --help from its entry in COMMANDS,
// and a mistyped flag is answered with the nearest real one.

import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BootPhase, ProfileEntry, RunResult, Scenario, Simulation } from 'virtlab';
import { commandHelp, parseAssignment, parseCommand, UsageError, wantsHelp, type CommandSpec } from './args';
import { closest } from '../../core/plugin/closest';
import { BOOT_SPEC } from './boot-spec';
import { EXEC_SPEC } from './exec-spec';
import { LOCALIZE_SPEC } from './localize-spec';
import type { MatrixReport } from '../matrix/matrix';

// Each command loads the modules it uses when it runs, so that `virtlab --help` loads
// no simulator and `virtlab exec` no matrix runner, visualizer or report writer. (A
// new command does the same: import its code inside its case, not up here.)
const core = () => import('virtlab');

/** Every command: its synopsis, options and example; `virtlab <command> --help` prints them. */
const COMMANDS: Record<string, CommandSpec> = {
  run: {
    name: 'run',
    summary: 'run a scenario and write its results folder',
    usage: ['run <scenario | results/<run>/config.json> [--set path=value]… [--unset path]… [--seed n] [--out dir] [--overwrite] [--no-plugin-paths] [--files-root dir] [--quiet] [--force] [--profile]'],
    options: {
      set: { type: 'string', multiple: true, arg: 'path=value', description: 'override a scenario value (YAML syntax), e.g. duration=10s, plugins.placement.first-fit.cpuOvercommit=2 or pluginPaths=[my-plugins]' },
      unset: { type: 'string', multiple: true, arg: 'path', description: 'take a key out of the scenario before the --set values apply, e.g. plugins.mmu.ssp (the plugin is no longer selected)' },
      seed: { type: 'string', arg: 'n', description: "override the scenario's seed" },
      out: { type: 'string', arg: 'dir', description: 'results folder (default results/<name>-seed<seed>-<digest of the configuration>); written whole when the run is complete' },
      'no-plugin-paths': { type: 'boolean', description: "refuse a scenario that names pluginPaths (plugins are code: use it to run others' scenarios)" },
      'files-root': { type: 'string', arg: 'dir', description: 'refuse host files (files:, guest programs) outside this folder' },
      overwrite: { type: 'boolean', description: 'replace a results folder that holds another run (a folder of the same scenario and seed is replaced without it)' },
      quiet: { type: 'boolean', description: 'print no progress and no summary' },
      force: { type: 'boolean', description: 'run even when the estimated work (ticks × entities) exceeds the budget (see Limits in the README)' },
      profile: { type: 'boolean', description: 'time every system and every hook handler, and print where the run’s time went (also with --quiet)' },
    },
    examples: ['virtlab run scenarios/demo.scenario.yaml --set duration=10s', 'virtlab run scenarios/repro/ssp-vs-shadow.scenario.yaml --unset plugins.mmu.ssp --set plugins.mmu.shadow-paging={}', 'virtlab run scenarios/demo.scenario.yaml --profile --quiet', 'virtlab run results/demo-seed42/config.json   (runs a recorded configuration again)'],
    notes: 'Exit status: 0 success, 1 an expectation failed, 2 bad input, 3 internal error.',
  },
  validate: {
    name: 'validate',
    summary: "check scenarios, and plugin folders (manifest, entry module and TypeScript types)",
    usage: ['validate <scenario | plugin folder>…'],
    options: {},
    examples: ['virtlab validate scenarios/demo.scenario.yaml ~/my-plugins/hello'],
    notes: 'A plugin folder is type-checked with the repository\'s compiler settings, with \'virtlab\' mapped to its public API; type errors print as file:line: message. Exit status 2 when anything is wrong.',
  },
  plugins: {
    name: 'plugins',
    summary: 'list the installed plugins with their capabilities and options',
    usage: ['plugins [--plugin-path dir]… [--json]'],
    options: {
      'plugin-path': { type: 'string', multiple: true, arg: 'dir', description: 'also list the plugins in this folder (searched recursively)' },
      json: { type: 'boolean', description: 'print the manifests as JSON' },
    },
    examples: ['virtlab plugins --plugin-path ~/my-plugins'],
  },
  'new-plugin': {
    name: 'new-plugin',
    summary: 'scaffold a plugin: plugin.json, index.ts, options.ts, README.md and a test',
    usage: ['new-plugin <area.name> [--dir parent-folder]'],
    options: {
      dir: { type: 'string', arg: 'parent', description: 'folder to create the plugin folder in (default plugins/<area> of the repository)' },
    },
    examples: ['virtlab new-plugin research.hello --dir ~/my-plugins   (creates ~/my-plugins/hello/)'],
    notes: "The plugin imports only from 'virtlab', so its folder can live and move anywhere.",
  },
  gen: {
    name: 'gen',
    summary: "generate options.ts (the options type) of plugin folders from their plugin.json",
    usage: ['gen <plugin folder>…', 'gen [--check]   (the repository: options types, plugin catalog, editor schemas)'],
    options: {
      check: { type: 'boolean', description: "with no folder: fail if a generated file of the repository is out of date" },
    },
    examples: ['virtlab gen ~/my-plugins/hello'],
  },
  report: {
    name: 'report',
    summary: 'write report.html (charts, metrics, plugins) into a results folder',
    usage: ['report <results folder>'],
    options: {},
    examples: ['virtlab report results/demo-seed42'],
  },
  compare: {
    name: 'compare',
    summary: 'compare results folders: metric deltas with relative changes, and the plugins and options that differ',
    usage: ['compare <baseline results folder> <results folder>… [--html file] [--all]'],
    options: {
      html: { type: 'string', arg: 'file', description: 'also write the comparison as a self-contained HTML page' },
      all: { type: 'boolean', description: 'list the metrics that are the same too' },
    },
    examples: ['virtlab compare results/mmu-ept-seed1 results/mmu-shadow-seed1 --html compare.html'],
    notes: 'Changes are relative to the first folder. Exit status 2 when a folder is not a results folder.',
  },
  view: {
    name: 'view',
    summary: 'animate a scenario or a recorded run in the browser',
    usage: ['view <scenario | results folder> [--port n] [--open] [--compare path=value]… [--build-only] [--verbose]'],
    options: {
      port: { type: 'string', arg: 'n', description: 'port to serve on (default: any free one)' },
      open: { type: 'boolean', description: 'open the page in a browser' },
      compare: { type: 'string', multiple: true, arg: 'path=value', description: 'run a second copy with this override beside the first' },
      'build-only': { type: 'boolean', description: 'build the page (if its sources changed) and stop' },
      verbose: { type: 'boolean', description: "print the bundler's output when the page is built" },
    },
    examples: ['virtlab view scenarios/demo.scenario.yaml --compare plugins.placement.worst-fit='],
  },
  matrix: {
    name: 'matrix',
    summary: 'run every combination of a matrix of plugins and options, and compare with golden values',
    usage: [
      'matrix <matrix.yaml> [--workers n] [--out dir] [--update-golden] [--shard k/n | --shard auto] [--fresh] [--quiet]',
      'matrix <matrix.yaml> --slurm [--tasks n] [--partition p] [--time t] [--cpus-per-task n] [--array-limit m] [--out dir] [--fresh] [--dry-run]',
      'matrix <matrix.yaml> --coverage   (boots every cell: do interacting plugins meet?)',
      'matrix merge <shard output folder>… --out dir',
    ],
    options: {
      workers: { type: 'string', arg: 'n', description: 'worker threads (0 runs cells in this thread)' },
      out: { type: 'string', arg: 'dir', description: 'output folder (default results/matrix/<name>)' },
      'update-golden': { type: 'boolean', description: 'write the golden values from this run' },
      shard: { type: 'string', arg: 'k/n', description: "run the k-th of n shards; 'auto' reads them from a Slurm array task, a Kubernetes Indexed Job or VIRTLAB_SHARD_INDEX/_COUNT" },
      slurm: { type: 'boolean', description: 'submit a Slurm job array (one shard per task) and a merge job that writes the report' },
      tasks: { type: 'string', arg: 'n', description: 'with --slurm: array tasks (default: the previous submission\'s, else about 4 cells per CPU)' },
      partition: { type: 'string', arg: 'p', description: 'with --slurm: the partition' },
      time: { type: 'string', arg: 't', description: 'with --slurm: time limit of each task (Slurm syntax, e.g. 30, 2:00:00, 1-0)' },
      'cpus-per-task': { type: 'string', arg: 'n', description: 'with --slurm: CPUs (and worker threads) of each task (default 1)' },
      'array-limit': { type: 'string', arg: 'm', description: 'with --slurm: at most m tasks at once' },
      'dry-run': { type: 'boolean', description: 'with --slurm: print the scripts and the sbatch commands, submit nothing' },
      fresh: { type: 'boolean', description: 'rerun cells whose results are stored' },
      coverage: { type: 'boolean', description: 'only boot the cells and report interaction coverage' },
      quiet: { type: 'boolean', description: 'print no progress line (the report is still printed)' },
    },
    examples: ['virtlab matrix scenarios/matrices/ci.matrix.yaml --workers 2', 'virtlab matrix scenarios/matrices/ci.matrix.yaml --slurm --partition short --time 30 --dry-run'],
  },
  conformance: {
    name: 'conformance',
    summary: 'run a protocol conformance suite against every netstack personality and print the pass/fail table',
    usage: ['conformance <suite | folder of .pkt scripts> [--kernel id]… [--plugin-path dir]… [--verbose]'],
    options: {
      kernel: { type: 'string', multiple: true, arg: 'id', description: 'run only these personalities (e.g. kernel.lkl); default: every installed provider of netstack' },
      'plugin-path': { type: 'string', multiple: true, arg: 'dir', description: 'also load personalities from this plugin folder' },
      verbose: { type: 'boolean', description: 'print the first failure of each failing script and personality' },
    },
    examples: ['virtlab conformance tcp', 'virtlab conformance tcp --kernel kernel.host-linux --kernel kernel.lkl --verbose'],
    notes: 'Suites by name live in scenarios/conformance/<suite>/; the script format is described in core/models/netstack/conformance.ts.',
  },
  exec: EXEC_SPEC,
  boot: BOOT_SPEC,
  localize: LOCALIZE_SPEC,
  help: {
    name: 'help',
    summary: 'print the commands, or the help of one',
    usage: ['help [command]'],
    options: {},
    examples: ['virtlab help run'],
  },
};

const USAGE = `virtlab — a plugin-based simulator for virtualization research

Usage:
${Object.values(COMMANDS)
  .map((c) => `  virtlab ${c.name.padEnd(10)}  ${c.summary}`)
  .join('\n')}

\`virtlab <command> --help\` shows a command's options and an example.
Every command takes --debug, which prints stack traces of errors.

Exit status: 0 success, 1 an expectation failed, 2 bad input, 3 internal error;
exec passes the guest's own status through (128 + signal when it is killed).`;

type Out = { out: (s: string) => void; err: (s: string) => void };
const stdio: Out = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };

export async function main(argv: string[], io: Out = stdio): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [command, ...rest] = args;
  try {
    const spec = command === undefined ? undefined : COMMANDS[command];
    // exec and localize read their own help flag: what follows the program belongs to the guest.
    if (spec && command !== 'exec' && command !== 'localize' && wantsHelp(rest)) {
      io.out(commandHelp(spec));
      return 0;
    }
    switch (command) {
      case 'run':
        return await runCommand(rest, io);
      case 'validate':
        return await validateCommand(rest, io);
      case 'plugins':
        return await pluginsCommand(rest, io);
      case 'new-plugin':
        return await newPluginCommand(rest, io);
      case 'gen':
        return await genCommand(rest, io);
      case 'exec':
        // A program to run: the interpreter warms up first, so that its loop's
        // compilation (see Interpreter.prepare) overlaps loading exec's own code too.
        if (rest.some((a) => !a.startsWith('-'))) (await import('virtlab')).Interpreter.prepare();
        return await (await import('./exec')).execCommand(rest);
      case 'boot':
        return await (await import('./boot')).bootCommand(rest, io);
      case 'localize':
        return await (await import('./localize')).localizeCommand(rest, io);
      case 'matrix':
        return await matrixCommand(rest, io);
      case 'view': {
        const { values, positionals } = parse('view', rest);
        const { ensurePage, serveView } = await import('../view/serve');
        const log = values.verbose ? (line: string) => io.err(line) : undefined;
        if (values['build-only']) {
          const page = await ensurePage(undefined, log);
          io.out(`${page.built ? 'built the page into' : 'the page is up to date in'} ${page.dir}`);
          return 0;
        }
        if (positionals.length !== 1) throw new UsageError('view takes one scenario file or results folder', 'virtlab view scenarios/demo.scenario.yaml');
        await checkViewInput(positionals[0], (values.compare as string[] | undefined) ?? []);
        let served;
        try {
          served = await serveView({
            target: positionals[0],
            port: Number(values.port ?? 0),
            compare: values.compare as string[] | undefined,
            log,
            // The one wait worth a word: the first start after an edit builds the page.
            building: () => io.err('virtlab view: building the page (once, until its sources change)…'),
          });
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        // Ctrl-C stops the server.
        for (const signal of ['SIGINT', 'SIGTERM'] as const) {
          process.once(signal, () => {
            served.close();
            process.exit(130);
          });
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
        const { positionals } = parse('report', rest);
        if (positionals.length !== 1) throw new UsageError('report takes one results folder', 'virtlab report results/demo-seed42');
        const { writeReport } = await import('../report/report');
        try {
          io.out(`wrote ${writeReport(positionals[0])}`);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        return 0;
      }
      case 'compare': {
        const { values, positionals } = parse('compare', rest);
        if (positionals.length < 2) throw new UsageError('compare takes two or more results folders; the first is the baseline', 'virtlab compare results/a results/b');
        const { compareCommandText, CompareError } = await import('../report/compare');
        try {
          io.out(compareCommandText(positionals, { html: values.html as string | undefined, all: values.all === true }));
        } catch (e) {
          if (e instanceof CompareError || (e as NodeJS.ErrnoException).code) throw new UsageError((e as Error).message);
          throw e;
        }
        return 0;
      }
      case 'conformance': {
        const { values, positionals } = parse('conformance', rest);
        const { formatSuite, loadPersonalities, runSuite, suiteDir } = await import('../node/conformance');
        if (positionals.length !== 1) throw new UsageError('conformance takes one suite', 'virtlab conformance tcp');
        let dir: string;
        try {
          dir = suiteDir(positionals[0]);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        const personalities = await loadPersonalities((values.kernel as string[] | undefined) ?? [], (values['plugin-path'] as string[] | undefined) ?? []).catch((e: Error) => {
          throw new UsageError(e.message);
        });
        io.out(formatSuite(runSuite(dir, personalities), values.verbose === true));
        return 0;
      }
      case 'help': {
        const { positionals } = parse('help', rest);
        const about = positionals[0] === undefined ? undefined : COMMANDS[positionals[0]];
        if (positionals[0] !== undefined && !about) throw unknownCommand(positionals[0]);
        io.out(about ? commandHelp(about) : USAGE);
        return 0;
      }
      case undefined:
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw unknownCommand(command);
    }
  } catch (e) {
    return reportError(e, io, debug);
  }
}

function unknownCommand(command: string): UsageError {
  const near = closestCommand(command);
  return new UsageError(`unknown command '${command}'`, near ? `did you mean ${near}?` : `commands: ${Object.keys(COMMANDS).join(', ')}`);
}

function closestCommand(command: string): string | undefined {
  const names = Object.keys(COMMANDS);
  // A flag given where a command belongs is not a mistyped command.
  if (command.startsWith('-')) return undefined;
  return names.find((n) => n.startsWith(command) && command.length >= 3) ?? closest(command, names);
}

/** Prints an error as one line plus a hint; returns the exit status for it. */
export function reportError(e: unknown, io: Out, debug: boolean): number {
  const err = e as Error & { hint?: string };
  if (e instanceof UsageError) {
    // Bad command-line input (exec's included): nothing else needs loading to say so.
    io.err(`error: ${err.message}`);
    if (err.hint) io.err(`  hint: ${err.hint}`);
    if (debug && err.stack) io.err(err.stack);
    return 2;
  }
  // Any other error came from code that loaded the simulator already.
  const { GuestLoadError, ManifestError, PluginOptionError, RegistryError, ScenarioError, SimulationError } = require('virtlab') as typeof import('virtlab');
  const { ScheduleError } = require('../../core/engine/schedule') as typeof import('../../core/engine/schedule');
  const { MatrixError } = require('../matrix/cells') as typeof import('../matrix/cells');
  const { ResultsDirError } = require('../node/results') as typeof import('../node/results');
  const { throwingPlugin } = require('./plugin-folder') as typeof import('./plugin-folder');
  const { PLUGINS_DIR } = require('../node/catalog') as typeof import('../node/catalog');
  const known =
    e instanceof MatrixError ||
    e instanceof ScenarioError ||
    e instanceof RegistryError ||
    e instanceof ManifestError ||
    e instanceof PluginOptionError ||
    e instanceof ScheduleError ||
    e instanceof SimulationError ||
    e instanceof GuestLoadError ||
    e instanceof ResultsDirError;
  // An error thrown by a plugin's own code (while it registers, or in one of its
  // systems or hook handlers) names the plugin and the line that threw.
  const thrower = e instanceof ScenarioError || e instanceof GuestLoadError ? undefined : throwingPlugin(e);
  const at = thrower ? ` (at ${thrower.file}:${thrower.line})` : '';
  if (e instanceof ScenarioError) io.err(`error: ${e.message}`);
  else if (thrower && !known) {
    io.err(`error: plugin '${thrower.id}' threw: ${err?.message ?? String(e)}${at}`);
    io.err(`  hint: this is a bug in plugin '${thrower.id}'; rerun with --debug for the stack trace`);
  } else {
    const named = thrower && !(err?.message ?? '').includes(`'${thrower.id}'`) ? `plugin '${thrower.id}': ` : '';
    io.err(`error: ${known ? `${named}${err.message}${at}` : `internal error: ${err?.message ?? String(e)}`}`);
    if (err?.hint) io.err(`  hint: ${err.hint}`);
  }
  if (debug && err?.stack) io.err(err.stack);
  else if (!known && !thrower) io.err('  this is a bug in virtlab or a plugin; rerun with --debug for the stack trace');
  // A plugin from outside the repository is the user's input: its failure is exit 2.
  const userPlugin = thrower !== undefined && !path.resolve(thrower.file).startsWith(PLUGINS_DIR + path.sep);
  return known || userPlugin ? 2 : 3;
}

function parse(command: string, rest: string[]) {
  return parseCommand(COMMANDS[command], rest);
}

async function runCommand(rest: string[], io: Out): Promise<number> {
  const { Simulation } = await core();
  const { loadScenarioFile } = await import('../node/scenario-file');
  const { configDigest, defaultResultsDir, prepareResultsDir, writeResults } = await import('../node/results');
  const { BootWatch, describeBootPhase } = await import('./boot-watch');
  const { Progress } = await import('./progress');
  const { values, positionals } = parse('run', rest);
  if (positionals.length !== 1) throw new UsageError('run takes one scenario file', 'virtlab run scenarios/demo.scenario.yaml');
  // Removals first, so that `--unset plugins.a --set plugins.b={}` swaps a plugin in either order.
  const unset = ((values.unset as string[] | undefined) ?? []).map((p) => {
    if (!p || p.includes('=')) throw new UsageError(`--unset expects a path, got '${p}'`, 'for example --unset plugins.mmu.ssp');
    return { path: p, remove: true };
  });
  const set = [...unset, ...((values.set as string[] | undefined) ?? []).map((s) => parseAssignment('--set', s, 'duration=10s'))];
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed expects a non-negative integer, got '${values.seed}'`);
  }
  const quiet = values.quiet === true;
  const t0 = performance.now();
  const filesRoot = values['files-root'] as string | undefined;
  if (filesRoot !== undefined && !(existsSync(filesRoot) && statSync(filesRoot).isDirectory())) throw new UsageError(`--files-root ${filesRoot} is not a folder`);
  const { scenario, catalog, files } = loadScenarioFile(positionals[0], { set, seed }, { noPluginPaths: values['no-plugin-paths'] === true, filesRoot });
  await checkWorkBudget(scenario, positionals[0], values.force === true);
  // The results folder is checked before any work, and written only when complete.
  const results = prepareResultsDir((values.out as string | undefined) ?? defaultResultsDir(scenario.name, scenario.seed, configDigest(scenario)), {
    name: scenario.name,
    seed: scenario.seed,
    overwrite: values.overwrite === true,
  });
  // A failed run leaves no temporary folder behind (a killed one leaves a `.partial-` folder).
  let result: RunResult, dir: string, t1: number, t2: number;
  try {
    // A plugin that hangs boot blocks this thread; a watcher thread names it.
    // (Without a thread to spare, the run goes on unwatched.)
    const watch = await BootWatch.start(Number(process.env.VIRTLAB_BOOT_WATCH_MS ?? 5000)).catch(() => undefined);
    let phase: BootPhase = { step: 'select' };
    // A plugin whose bootAsync promise can never settle leaves nothing for the event loop
    // to wait on, and the process would end as if the run had succeeded.
    const unsettled = () => {
      io.err(`error: ${describeBootPhase(phase)} and can never finish: nothing is left to wait for`);
      process.exitCode = 3;
    };
    process.once('beforeExit', unsettled);
    let sim: Simulation;
    try {
      const profileClock = values.profile === true ? () => performance.now() : undefined;
      sim = await Simulation.create({ scenario, catalog, files, onBootPhase: (p) => ((phase = p), watch?.phase(p)), profileClock });
    } finally {
      process.off('beforeExit', unsettled);
      await watch?.stop();
    }
    t1 = performance.now();
    const progress = new Progress(quiet ? () => {} : (s) => process.stderr.write(s), process.stderr.isTTY === true);
    // Progress is offered every tick (it draws at most ten times a second, and only after
    // the first second), so that a run of few slow ticks shows it from the first second.
    sim.run((done, total) => progress.update(done, total, done * scenario.tick), 1);
    progress.done();
    t2 = performance.now();
    result = await sim.finish();
    const t3 = performance.now();
    const entries = sim.profile();
    if (entries) printProfile(io, entries, t2 - t1, result.ticks);
    dir = results.dir;
    writeResults(results, result, {
      bootMs: t1 - t0,
      runMs: t2 - t1,
      finishMs: t3 - t2,
      ticksPerSecond: result.ticks / Math.max(1e-9, (t2 - t1) / 1000),
      peakRssBytes: process.memoryUsage().rss,
    });
  } finally {
    rmSync(results.tmp, { recursive: true, force: true });
  }
  if (!quiet) printSummary(io, result, scenario.name, dir, t2 - t1, await core());
  const failed = result.expectations.filter((e) => !e.ok);
  for (const f of failed) io.err(`expectation failed: ${f.reason}`);
  return failed.length ? 1 : 0;
}

/**
 * Loads the scenario `view` is to show, and again with its `--compare` values, as `run`
 * would: a value the loader or a schema refuses (a workload's included) exits 2 here,
 * naming the argument, rather than in the page after it is served.
 */
async function checkViewInput(target: string, compare: string[]): Promise<void> {
  if (!existsSync(target)) return; // serveView says so
  const file = statSync(target).isDirectory() ? path.join(target, 'config.json') : target;
  if (!existsSync(file)) return;
  const { loadScenarioFile } = await import('../node/scenario-file');
  const { compareOverrides } = await import('../view/serve');
  loadScenarioFile(file);
  if (compare.length) loadScenarioFile(file, { set: compareOverrides(compare) });
}

/** Refuses, unless forced, a run whose estimated work (ticks × entities) exceeds the budget; before anything is booted. */
async function checkWorkBudget(scenario: Scenario, file: string, force: boolean): Promise<void> {
  const { estimateWork, formatQuantity, limits } = await core();
  const w = estimateWork(scenario);
  if (w.work <= limits.WORK_BUDGET || force) return;
  throw new UsageError(
    `${file}: ${w.ticks.toExponential(2)} ticks of ${formatQuantity(scenario.tick, 'ns')} × ${w.entities + 1} entities (hosts, VMs, the world) is ${w.work.toExponential(2)} entity-ticks; the budget is ${limits.WORK_BUDGET.toExponential(0)}`,
    'use a longer tick, a shorter duration or fewer VMs; or --force to run it anyway',
  );
}

/** The profile of a run: each system and hook handler, with its share of the run's wall time. */
function printProfile(io: Out, entries: readonly ProfileEntry[], runMs: number, ticks: number): void {
  const systems = entries.filter((e) => e.kind === 'system').reduce((n, e) => n + e.time, 0);
  const rows = [['kind', 'system or hook handler', 'plugin', 'calls', 'ms', 'share', 'µs/call']];
  for (const e of entries) {
    rows.push([
      e.kind === 'system' ? 'system' : e.nested ? 'hook*' : 'hook',
      e.name,
      e.owner,
      String(e.calls),
      e.time.toFixed(1),
      runMs > 0 ? `${((100 * e.time) / runMs).toFixed(1)}%` : '—',
      ((1000 * e.time) / e.calls).toFixed(2),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  io.out(`\nprofile: ${ticks} ticks in ${runMs.toFixed(0)} ms; systems ${systems.toFixed(0)} ms, the engine between them ${Math.max(0, runMs - systems).toFixed(0)} ms; shares are of the run (lifecycle.populate and boot run before it)`);
  rows.forEach((r, i) => {
    io.out(r.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
    if (i === 0) io.out(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  if (entries.some((e) => e.nested)) io.out('hook*: some calls ran inside a system or another handler, whose time includes them');
}

function printSummary(io: Out, result: RunResult, name: string, dir: string, runMs: number, api: typeof import('virtlab')): void {
  const metrics = (result.metrics as { metrics: Record<string, import('virtlab').MetricRecord> }).metrics;
  const rows: string[][] = [['metric', 'value', 'what it measures']];
  // Descriptions are cut to the line: summary.md and metrics.json have them whole.
  const cut = (s: string) => (s.length > 72 ? `${s.slice(0, 71)}…` : s);
  for (const [k, m] of Object.entries(metrics)) rows.push([k, api.formatMetric(m), cut(m.description ?? '')]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  io.out(`\n${name}: ${api.formatDuration(result.simulatedNs)} simulated in ${api.formatDuration(runMs * 1e6)} (${api.groupThousands(result.ticks)} ticks)\n`);
  rows.forEach((r, i) => {
    io.out(r.map((cell, c) => (c === 1 ? cell.padStart(widths[c]) : c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '));
    if (i === 0) io.out(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  if (result.expectations.length) {
    const ok = result.expectations.filter((e) => e.ok).length;
    io.out(`\nexpectations: ${ok}/${result.expectations.length} passed`);
  }
  io.out(`results: ${dir}/ (summary.md, metrics.json, config.json, timeseries.csv)`);
}

async function validateCommand(rest: string[], io: Out): Promise<number> {
  const { ManifestError, Simulation } = await core();
  const { readPluginFolder } = await import('../node/catalog');
  const { loadScenarioFile } = await import('../node/scenario-file');
  const { pluginFolders, throwingPlugin, typecheckPlugin } = await import('./plugin-folder');
  const { positionals } = parse('validate', rest);
  if (!positionals.length) throw new UsageError('validate takes scenario files or plugin folders', 'virtlab validate scenarios/demo.scenario.yaml plugins/mmu/ssp');
  let typeErrors = 0;
  for (const target of positionals) {
    if (existsSync(target) && statSync(target).isDirectory()) {
      const folders = pluginFolders(target);
      if (!folders.length) throw new UsageError(`${target} contains no plugin.json`);
      for (const folder of folders) {
        const entry = readPluginFolder(folder);
        let mod: { default?: { kind?: string }; kind?: string };
        try {
          mod = (await entry.load()) as typeof mod;
        } catch (e) {
          const at = throwingPlugin(e);
          throw new ManifestError(`the entry module of '${entry.manifest.id}' (${entry.dir}) throws when imported: ${(e as Error).message?.split('\n')[0]}${at ? ` (at ${at.file}:${at.line})` : ''}`);
        }
        if ((mod.default ?? mod)?.kind !== 'virtlab-plugin') {
          throw new ManifestError(`the entry module of '${entry.manifest.id}' does not export default definePlugin(...)`);
        }
        io.out(`ok  plugin ${entry.manifest.id} ${entry.manifest.version} (${entry.dir})`);
      }
      // The TypeScript of the folder, once for all its plugins.
      const errors = typecheckPlugin(target);
      for (const t of errors) io.err(`${t.file}:${t.line}: ${t.message}`);
      if (errors.length) io.err(`error: ${errors.length} type error${errors.length > 1 ? 's' : ''} in ${target}`);
      else io.out(`ok  types of ${target}`);
      typeErrors += errors.length;
    } else {
      const { scenario, catalog, files } = loadScenarioFile(target);
      // Booting also checks plugin requirements and the system order.
      await Simulation.create({ scenario, catalog, files });
      io.out(`ok  scenario ${scenario.name} (${target})`);
    }
  }
  return typeErrors ? 2 : 0;
}

async function pluginsCommand(rest: string[], io: Out): Promise<number> {
  const { CAPABILITIES } = await core();
  const { loadCatalog } = await import('../node/catalog');
  const { values, positionals } = parse('plugins', rest);
  if (positionals.length) throw new UsageError(`plugins takes no arguments, got '${positionals[0]}'`, `to list the plugins of a folder: virtlab plugins --plugin-path ${positionals[0]}`);
  const catalog = loadCatalog(((values['plugin-path'] as string[] | undefined) ?? []).map((d) => path.resolve(d)));
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

async function newPluginCommand(rest: string[], io: Out): Promise<number> {
  const { loadCatalog } = await import('../node/catalog');
  const { scaffoldPlugin } = await import('./plugin-folder');
  const { values, positionals } = parse('new-plugin', rest);
  const id = positionals[0];
  if (!id || !/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/.test(id)) {
    throw new UsageError(`new-plugin needs an id of the form area.name, got '${id ?? ''}'`, 'for example: virtlab new-plugin mmu.my-strategy');
  }
  if (loadCatalog().get(id)) throw new UsageError(`a plugin '${id}' already exists`);
  let made;
  try {
    made = scaffoldPlugin(id, values.dir as string | undefined);
  } catch (e) {
    throw new UsageError((e as Error).message, 'pick another id or --dir');
  }
  const shown = (p: string) => path.relative(process.cwd(), p) || '.';
  io.out(`created ${shown(made.dir)}/ (plugin.json, index.ts, options.ts, README.md)`);
  io.out(`created ${shown(made.testFile)}`);
  io.out(`next: edit plugin.json and index.ts; after changing options run virtlab gen ${shown(made.dir)}; check with virtlab validate ${shown(made.dir)}; test with ${made.runTest}`);
  return 0;
}

async function genCommand(rest: string[], io: Out): Promise<number> {
  const { ManifestError } = await core();
  const { generatedFiles, staleFiles } = await import('../gen/generate');
  const { generateOptions } = await import('./plugin-folder');
  const { values, positionals } = parse('gen', rest);
  if (!positionals.length) {
    if (values.check) {
      const stale = staleFiles();
      if (stale.length) {
        io.err(`out of date (run virtlab gen): ${stale.join(', ')}`);
        return 1;
      }
      io.out('generated files are up to date');
      return 0;
    }
    for (const [file, text] of generatedFiles()) writeFileSync(file, text);
    io.out('wrote plugins/**/options.ts, plugins/README.md, scenarios/scenario.schema.json and hosts/host.schema.json');
    return 0;
  }
  if (values.check) throw new UsageError('--check applies to the repository, not to plugin folders', 'virtlab gen --check');
  for (const target of positionals) {
    if (!existsSync(target) || !statSync(target).isDirectory()) throw new UsageError(`${target} is not a folder`, 'virtlab gen <plugin folder>');
    let written: string[];
    try {
      written = generateOptions(target);
    } catch (e) {
      if (e instanceof ManifestError) throw e;
      throw new UsageError((e as Error).message);
    }
    for (const f of written) io.out(`wrote ${path.relative(process.cwd(), f) || f}`);
  }
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
  const { matrixCoverage, mergeShards, runMatrix } = await import('../matrix/matrix');
  const { Progress } = await import('./progress');
  if (rest[0] === 'merge') {
    const { values, positionals } = parse('matrix', rest.slice(1));
    if (!positionals.length || !values.out) throw new UsageError('matrix merge takes shard output folders and --out', 'virtlab matrix merge results/matrix/ci-shard1of2 results/matrix/ci-shard2of2 --out results/matrix/ci');
    const report = mergeShards(positionals, values.out as string, (line) => io.err(`note: ${line}`));
    printMatrixReport(io, report, values.out as string);
    return report.exitCode;
  }
  const { values, positionals } = parse('matrix', rest);
  if (positionals.length !== 1) throw new UsageError('matrix takes one matrix file', 'virtlab matrix scenarios/matrices/ci.matrix.yaml');
  if (values.coverage) {
    const { coverage: c, cells, skipped } = await matrixCoverage(positionals[0]);
    io.out(`${cells} cells booted (${skipped} refused or failed)`);
    for (const [pair, why] of Object.entries(c.reasons)) io.out(`  ${c.missing.includes(pair) ? 'never together' : 'together     '}  ${pair}: ${why}`);
    io.out(`interaction coverage: ${c.covered}/${c.pairs} interacting plugin pairs run together`);
    return c.missing.length ? 1 : 0;
  }
  if (values.slurm) return await slurmCommand(positionals[0], values, io);
  const slurmOnly = ['tasks', 'partition', 'time', 'cpus-per-task', 'array-limit', 'dry-run'].filter((k) => values[k] !== undefined);
  if (slurmOnly.length) throw new UsageError(`--${slurmOnly[0]} applies only with --slurm`);
  let shard: { k: number; n: number } | undefined;
  if (values.shard === 'auto') {
    const { shardFromEnv } = await import('../matrix/slurm');
    const s = shardFromEnv(process.env);
    shard = { k: s.k, n: s.n };
    io.out(`shard ${s.k}/${s.n} (from ${s.from})`);
  } else if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard as string);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard expects k/n with 1 ≤ k ≤ n, got '${values.shard}'`);
    shard = { k: Number(m[1]), n: Number(m[2]) };
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0)) throw new UsageError('--workers expects a whole number (0 runs cells in this thread)');
  // --quiet leaves out only the progress line: the report is the command's answer.
  const progress = new Progress(values.quiet ? () => {} : (s) => process.stderr.write(s), process.stderr.isTTY === true);
  const { report, out, ran, reused, rechecked } = await runMatrix({
    file: positionals[0],
    workers,
    out: values.out as string | undefined,
    updateGolden: values['update-golden'] === true,
    shard,
    fresh: values.fresh === true,
    progress: (done, total) => progress.update(done, total),
    warn: (line) => io.err(`note: ${line}`),
  });
  progress.done();
  const storedCheck = rechecked === 0 && report.determinism.checked.length > 0 ? '; the stored determinism check of the same cells holds' : '';
  io.out(`${ran} cells run, ${reused} reused from ${out}/cells${storedCheck}`);
  printMatrixReport(io, report, out);
  if (values['update-golden']) io.out('golden values updated');
  return report.exitCode;
}

/** `matrix --slurm`: plans the job array and its merge job, then prints or submits them. */
async function slurmCommand(file: string, values: Record<string, unknown>, io: Out): Promise<number> {
  const { planSlurm, sbatchCommands, submitSlurm, shellWord } = await import('../matrix/slurm');
  for (const k of ['shard', 'update-golden', 'coverage', 'workers']) {
    if (values[k] !== undefined) throw new UsageError(`--${k} does not go with --slurm`, k === 'workers' ? 'each task runs --cpus-per-task worker threads' : k === 'update-golden' ? 'merge the results, then run the matrix locally with --update-golden: it reuses no cells, so update goldens where the results are' : undefined);
  }
  const num = (k: string) => {
    if (values[k] === undefined) return undefined;
    const v = Number(values[k]);
    if (!/^\d+$/.test(String(values[k])) || v < 1) throw new UsageError(`--${k} expects a whole number ≥ 1, got '${values[k]}'`);
    return v;
  };
  const plan = planSlurm({
    file,
    out: values.out as string | undefined,
    tasks: num('tasks'),
    partition: values.partition as string | undefined,
    time: values.time as string | undefined,
    cpusPerTask: num('cpus-per-task'),
    arrayLimit: num('array-limit'),
    fresh: values.fresh === true,
  });
  const what = `matrix ${plan.name}: ${plan.cells} cells in ${plan.tasks} array task${plan.tasks === 1 ? '' : 's'}${plan.stored ? `, ${plan.stored} already stored (only the other ${plan.cells - plan.stored} run)` : ''}`;
  if (values['dry-run']) {
    io.out(`# ${what}`);
    io.out(`# ${plan.arrayFile}\n${plan.arrayScript}`);
    io.out(`# ${plan.mergeFile}\n${plan.mergeScript}`);
    const [array, merge] = sbatchCommands(plan, '"${ARRAY_JOB%%;*}"');
    io.out(`# submitted with:\nARRAY_JOB=$(${array.map(shellWord).join(' ')})\n${merge.map((w) => (w.startsWith('--dependency') ? w : shellWord(w))).join(' ')}`);
    return 0;
  }
  const s = submitSlurm(plan);
  io.out(`${what}`);
  io.out(`submitted job array ${s.arrayJob} and merge job ${s.mergeJob} (after it); logs in ${plan.out}/slurm, report in ${plan.out}/report.md`);
  return 0;
}
