// `virtlab exec`: runs one guest program the way qemu-riscv64 does — standard input,
// output and error pass through, and the guest's exit status becomes ours (128 +
// signal when it is killed) — through an execution-engine plugin. The engine comes
// from the plugin registry like any other service, so `--engine` picks any installed
// `cpu.engine` plugin by its name (`interpreter` means `dbt.interpreter`).
//
// Standard output and error are written synchronously with backpressure: when the
// reader of a pipe is behind (EAGAIN) the guest waits for it, so output is never cut;
// when the reader has gone (EPIPE) the guest gets SIGPIPE, as under Linux and qemu
// (exit status 141, or EPIPE from write() if the guest ignores the signal).

import { existsSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ExecutionEngine, formatQuantity, remoteTranslatorOf, GUEST_MEMORY, GuestProcess, HOST_CLASSES, HOST_PROFILES, hostCodeOf, limits, loadBuiltScenario, parseQuantity, Rng, ScenarioError, Simulation, signalStatus, syscallName, type GuestInstance, type Scenario } from 'virtlab';
import { loadCatalog } from '../node/catalog';
import { HostFileError, readHostFile } from '../node/host-file';
import type { CodeCacheFile } from '../node/code-cache-store';

import { commandHelp, parseAssignment, UsageError, usageFrom, wantsHelp } from './args';
import { EXEC_SPEC } from './exec-spec';

/** A host file for the guest, regular and within the size limit, or bad input. */
function hostFile(file: string, what: string): Uint8Array {
  try {
    return readHostFile(file, limits.MAX_HOST_FILE_BYTES, what);
  } catch (e) {
    if (e instanceof HostFileError) throw new ExecUsageError(e.message);
    throw e;
  }
}

/**
 * The host's monotonic clock in milliseconds, as performance.now() counts them but from
 * another origin (only differences are taken): Node loads the global `performance` at
 * its first use, a dozen modules that cost a start a few milliseconds.
 */
const hostMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Bad input to exec (exit status 2). */
export class ExecUsageError extends UsageError {}

export { EXEC_SPEC };

export interface ExecIo {
  readonly readStdin: (max: number) => Uint8Array | null;
  /** Writes all of `b`; false when the reader has gone (a closed pipe). */
  readonly writeStdout: (b: Uint8Array) => unknown;
  readonly writeStderr: (b: Uint8Array) => unknown;
  readonly err: (line: string) => void;
}

/** Standard streams of this process, read and written synchronously. */
export const processIo: ExecIo = {
  readStdin(max) {
    const buf = new Uint8Array(Math.max(1, Math.min(max, 1 << 16)));
    try {
      const n = readSync(0, buf, 0, buf.length, null);
      return n === 0 ? null : buf.subarray(0, n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') return new Uint8Array(0);
      if (code === 'EOF' || code === 'EBADF') return null;
      throw e;
    }
  },
  writeStdout: (b) => writeAll(1, b),
  writeStderr: (b) => writeAll(2, b),
  err: (line) => {
    writeAll(2, new TextEncoder().encode(line + '\n'));
  },
};

/** One word to wait on: Atomics.wait is the synchronous sleep Node offers. */
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `b` to `fd`, waiting while a non-blocking pipe is full (its reader is
 * behind); false when the reader has closed the pipe.
 */
export function writeAll(fd: number, b: Uint8Array): boolean {
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(fd, b, off, b.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 2);
      else if (code === 'EPIPE') return false;
      else throw e;
    }
  }
  return true;
}

/** Boots a minimal simulation with the engine plugin (and its options) and returns its ExecutionEngine. */
export async function resolveEngine(name: string, options: Record<string, unknown> = {}, extraPlugins: ReadonlyArray<string | readonly [string, Record<string, unknown>]> = []): Promise<ExecutionEngine> {
  const catalog = loadCatalog();
  const id = name.includes('.') ? name : `dbt.${name}`;
  const entry = catalog.get(id);
  if (!entry || !entry.manifest.provides.includes('cpu.engine')) {
    const engines = catalog.providersOf('cpu.engine').map((e) => e.replace(/^dbt\./, ''));
    throw new ExecUsageError(`unknown execution engine '${name}'`, `engines: ${engines.join(', ') || 'none installed'}`);
  }
  const extra = extraPlugins.map((p) => (typeof p === 'string' ? `  ${p}: {}\n` : `  ${p[0]}: ${JSON.stringify(p[1])}\n`)).join('');
  const plugins: Record<string, unknown> = { [id]: options };
  for (const p of extraPlugins) plugins[typeof p === 'string' ? p : p[0]] = typeof p === 'string' ? {} : p[1];
  let scenario: Scenario;
  try {
    // With the catalog already read, and no host profiles: the scenario has no hosts.
    // Built as data, not text: the YAML is parsed only to position an error.
    const doc = { name: 'exec', preset: 'minimal', duration: '1ns', tick: '1ns', plugins };
    scenario = loadBuiltScenario(doc, () => `name: exec\npreset: minimal\nduration: 1ns\ntick: 1ns\nplugins:\n  ${id}: ${JSON.stringify(options)}\n${extra}`, 'exec.scenario.yaml', { catalog, hostProfiles: new Map() });
  } catch (e) {
    // The scenario is made here, not written by the user: name the flag that was wrong.
    if (!(e instanceof ScenarioError)) throw e;
    const optionPath = e.path.startsWith(`plugins.${id}.`) ? e.path.slice(`plugins.${id}.`.length) : '';
    if (optionPath) throw new ExecUsageError(`--option ${optionPath}: ${e.problem}`, e.hint ?? `see virtlab plugins (options of ${id})`);
    const plugin = e.path.startsWith('plugins.') ? e.path.slice('plugins.'.length) : '';
    if (plugin) throw new ExecUsageError(`--plugin ${plugin}: ${e.problem}`, e.hint ?? 'see virtlab plugins');
    throw new ExecUsageError(e.problem, e.hint);
  }
  const sim = await Simulation.create({ scenario, catalog });
  return sim.services.get(ExecutionEngine);
}

export interface ExecResult {
  readonly status: number;
  readonly instance: GuestInstance;
  readonly wallMs: number;
}

/** Parses exec's arguments and runs the program; returns the exit status. */
/** exec's one-letter options, qemu's spelling: -E K=V, -U K, -d items. */
const SHORT_OPTIONS: Readonly<Record<string, string>> = { '-E': 'env', '-U': 'unset-env', '-d': 'log' };

/**
 * The guest's environment: ours (qemu-user passes its own on), or none with
 * --clear-env; then -U removes and -E sets, in that order, as qemu applies them.
 */
export function guestEnvironment(values: Record<string, unknown>, host: Readonly<Record<string, string | undefined>>): string[] {
  const env = new Map<string, string>();
  if (!values['clear-env']) for (const [k, v] of Object.entries(host)) if (v !== undefined) env.set(k, v);
  for (const k of (values['unset-env'] as string[] | undefined) ?? []) {
    if (!k || k.includes('=')) throw new ExecUsageError(`-U/--unset-env expects a variable name, got '${k}'`);
    env.delete(k);
  }
  for (const kv of (values.env as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ExecUsageError(`-E/--env expects K=V, got '${kv}'`, 'for example -E LANG=C');
    env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

export async function execCommand(rest: string[], io: ExecIo = processIo, host: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  // Options end at the program path: everything after it belongs to the guest.
  const takesValue = [...Object.entries(EXEC_SPEC.options).filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`), ...Object.keys(SHORT_OPTIONS)];
  const firstPositional = rest.findIndex((a, i) => !a.startsWith('-') && !takesValue.includes(rest[i - 1]));
  const own = firstPositional < 0 ? rest : rest.slice(0, firstPositional);
  const guestArgs = firstPositional < 0 ? [] : rest.slice(firstPositional);
  if (wantsHelp(own)) {
    io.writeStdout(new TextEncoder().encode(commandHelp(EXEC_SPEC) + '\n'));
    return 0;
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: own,
      strict: true,
      options: {
        engine: { type: 'string', default: 'interpreter' },
        option: { type: 'string', multiple: true },
        plugin: { type: 'string', multiple: true },
        stats: { type: 'boolean', default: false },
        host: { type: 'string' },
        mount: { type: 'string', multiple: true },
        env: { type: 'string', multiple: true, short: 'E' },
        'unset-env': { type: 'string', multiple: true, short: 'U' },
        'clear-env': { type: 'boolean', default: false },
        log: { type: 'string', multiple: true, short: 'd' },
        memory: { type: 'string', default: '256MiB' },
        'max-instructions': { type: 'string', default: '0' },
        seed: { type: 'string', default: '1' },
        'background-compile': { type: 'boolean', default: false },
        'no-code-cache': { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    const u = usageFrom(e as Error, EXEC_SPEC);
    throw new ExecUsageError(u.message, u.hint);
  }
  if (!guestArgs.length) throw new ExecUsageError('exec needs a program', 'virtlab exec [--engine interpreter] [--option name=value]… [--plugin id]… [--stats] prog.elf [args…]');
  const [program, ...args] = guestArgs;
  if (!existsSync(program)) throw new ExecUsageError(`no such program: ${program}`);
  if (statSync(program).isDirectory()) throw new ExecUsageError(`${program} is a folder, not a program`, 'give the path of a RISC-V ELF file');
  const files = new Map<string, Uint8Array>();
  for (const m of (values.mount as string[] | undefined) ?? []) {
    // The guest path is after the last ':' (a host path may hold one).
    const colon = m.lastIndexOf(':');
    const host = m.slice(0, Math.max(0, colon));
    const guest = m.slice(colon + 1);
    if (!host || !guest.startsWith('/')) throw new ExecUsageError(`--mount expects host:/guest/path, got '${m}'`);
    if (!existsSync(host)) throw new ExecUsageError(`--mount: no such file ${host}`);
    files.set(guest, hostFile(host, `--mount ${m}`));
  }
  let memoryBytes: number;
  try {
    memoryBytes = parseQuantity(values.memory as string, 'bytes');
  } catch (e) {
    throw new ExecUsageError(`--memory: ${(e as Error).message}`);
  }
  if (!(memoryBytes >= GUEST_MEMORY.min && memoryBytes <= GUEST_MEMORY.max)) {
    throw new ExecUsageError(`--memory ${values.memory} is out of range: guest memory is ${formatQuantity(GUEST_MEMORY.min, 'bytes')} to ${formatQuantity(GUEST_MEMORY.max, 'bytes')}`, 'for example --memory 256MiB');
  }
  // The guest's memory is made now, before the engine's plugin loads, while the heap is
  // small; the interpreter's warm-up too, unless main already ran it (see GuestProcess.prepare).
  GuestProcess.prepare(memoryBytes);
  const maxInstructions = wholeNumber('--max-instructions', values['max-instructions'] as string);
  const seed = wholeNumber('--seed', values.seed as string);
  const engineOptions: Record<string, unknown> = {};
  for (const kv of (values.option as string[] | undefined) ?? []) {
    const { path: name, value } = parseAssignment('--option', kv, 'promoteRegisters=false', 'name=value');
    engineOptions[name] = value;
  }
  const elf = hostFile(program, 'program');
  const envp = guestEnvironment(values, host);
  const logItems = ((values.log as string[] | undefined) ?? []).flatMap((l) => l.split(','));
  for (const item of logItems) if (item !== 'unimp') throw new ExecUsageError(`-d: unknown log item '${item}'`, 'the one item is unimp (system calls answered ENOSYS)');
  const plugins: Array<string | readonly [string, Record<string, unknown>]> = (values.plugin as string[] | undefined) ?? [];
  const hostId = values.host as string | undefined;
  if (hostId !== undefined) {
    if (!HOST_PROFILES[hostId]) throw new ExecUsageError(`--host: unknown host profile '${hostId}'`, `host profiles: ${Object.keys(HOST_PROFILES).join(', ')}`);
    if (!values.stats) throw new ExecUsageError('--host prints the modelled host code with the statistics: add --stats');
    if (values.engine === 'interpreter' || values.engine === 'dbt.interpreter') throw new ExecUsageError('--host models translated code: use a translating engine', 'for example --engine instrew --option region=block (block units weigh the model exactly)');
    // Any register map switches the host code model on; every strategy is evaluated on the run after it.
    if (!plugins.some((p) => typeof p === 'string' && p.startsWith('regmap.'))) plugins.push(['regmap.memory', { host: hostId }]);
  }
  const engine = await resolveEngine(values.engine as string, engineOptions, plugins);
  // The persistent translation cache: only engines that translate use it (the interpreter
  // ignores it, and does not load its code). Configured by this process's environment,
  // not by the one the guest is given.
  const store = values['no-code-cache'] || engine.id === 'dbt.interpreter' ? undefined : await import('../node/code-cache-store');
  const cacheDir = store ? store.codeCacheDir(process.env) : null;
  const stackBytes = 8 * 2 ** 20;
  const cacheCap = store ? store.codeCacheCap(process.env) : 0;
  let cache: CodeCacheFile | undefined;
  if (store && cacheDir) {
    try {
      cache = store.openCodeCache(cacheDir, cacheCap, { elf, engine: engine.id, options: engineOptions, plugins, memoryBytes, stackBytes });
    } catch (e) {
      if (values.stats) io.err(`virtlab stats: code cache not used: ${(e as Error).message}`);
    }
  }
  const rng = new Rng(seed, 'exec');
  // Translated modules compile on another thread while the guest runs on (given a
  // second core to do it); what the guest computes and prints does not depend on
  // when they arrive. Loaded only then: node:worker_threads brings the stream modules.
  // The whole translation moves to the worker (lifting, passes, encoding, compiling)
  // when the engine's translator can run there; else only the compiling.
  const background = values['background-compile'] && availableParallelism() >= 2;
  const remote = background && remoteTranslatorOf(engine) ? (await import('../node/background-translator')).WorkerTranslator : undefined;
  const backgroundTranslator = remote?.available() ? new remote({ engine: values.engine as string, options: engineOptions, plugins }) : undefined;
  const backgroundCompiler = background && !backgroundTranslator ? new (await import('../node/background-compiler')).WorkerCompiler() : undefined;
  let instance: GuestInstance | undefined = undefined;
  const t0 = hostMs();
  instance = engine.start({
    elf,
    programPath: path.basename(program),
    argv: [program, ...args],
    envp,
    files,
    memoryBytes,
    stackBytes,
    maxInstructions,
    readStdin: io.readStdin,
    writeStdout: io.writeStdout,
    writeStderr: io.writeStderr,
    // The guest's clock: one nanosecond per instruction, from the epoch, plus the time the
    // guest was charged beyond its instructions (hooks, sleeps, threads waiting); deterministic.
    now: () => instance!.instructions + instance!.chargedNs,
    randomBytes: (out) => rng.fillBytes(out),
    hostNow: hostMs,
    backgroundCompiler,
    backgroundTranslator,
    codeCache: cache?.launch,
  });
  let status = instance.run(50_000_000);
  while (status.state === 'running') status = instance.run(50_000_000);
  const wallMs = hostMs() - t0;
  const s0 = hostMs();
  const cacheNotes = store && cache ? saveCodeCache(store.storeCodeCache, cache, instance, cacheCap) : [];
  const saveMs = hostMs() - s0;
  let code: number;
  if (status.state === 'exited') code = status.exitCode ?? 0;
  else if (status.state === 'signaled') {
    code = signalStatus(status.signal ?? 0);
    const f = status.fault;
    if (f) io.err(`virtlab: guest killed by signal ${status.signal}: ${f.reason} at pc 0x${f.pc.toString(16)} (${f.instruction}), address 0x${f.address.toString(16)}`);
    // A shell says nothing when a pipeline's writer dies of SIGPIPE (`prog | head`); neither do we.
    else if (status.signal !== SIGPIPE) io.err(`virtlab: guest killed by signal ${status.signal}${status.message ? `: ${status.message}` : ''}`);
  } else {
    code = 124;
    io.err(`virtlab: ${status.message ?? `stopped after ${instance.instructions} instructions (--max-instructions)`}`);
  }
  // qemu says nothing of calls it lacks unless asked (-d unimp): the guest's stderr stays the guest's.
  const unimplemented = [...instance.unimplemented().entries()].sort((a, b) => a[0] - b[0]);
  const unimpLine = `unimplemented system calls answered ENOSYS: ${unimplemented.map(([n, c]) => `${syscallName(n)} (${n}, ${c}×)`).join(', ') || 'none'}`;
  if (logItems.includes('unimp') && !values.stats) io.err(`virtlab: ${unimpLine}`);
  if (values.stats) {
    const mips = instance.instructions / 1e6 / Math.max(1e-9, wallMs / 1000);
    io.err(`virtlab stats: engine ${engine.id}, ${instance.instructions} instructions in ${(wallMs / 1000).toFixed(3)} s, ${mips.toFixed(1)} MIPS`);
    const calls = [...instance.syscalls().entries()].sort((a, b) => a[0] - b[0]);
    io.err(`virtlab stats: syscalls ${calls.map(([n, c]) => `${syscallName(n)}:${c}`).join(' ') || 'none'}`);
    io.err(`virtlab stats: ${unimpLine}`);
    const counters = Object.entries(instance.counters());
    if (counters.length) io.err(`virtlab stats: ${counters.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const coverage = coverageLine(instance.instructions, instance.counters(), wallMs);
    if (coverage) io.err(`virtlab stats: ${coverage}`);
    const cacheLine = codeCacheLine(instance.counters(), cache, cacheNotes, saveMs);
    if (cacheLine) io.err(`virtlab stats: ${cacheLine}`);
    if (hostId !== undefined) {
      const hostCode = hostCodeOf(instance);
      if (!hostCode) throw new ExecUsageError(`--host: engine ${engine.id} has no host code model`, 'use --engine block-translator or instrew');
      const host = HOST_PROFILES[hostId];
      // Loaded only here: the strategies boot small simulations of their own.
      const { regmapOf, STRATEGIES } = await import('../node/regmaps');
      io.err(`virtlab stats: host code model, ${host.description}; units weighted by their block's runs (exact for block units)`);
      for (const id of STRATEGIES) {
        const r = hostCode(await regmapOf(id, { host: hostId }), host);
        const mix = HOST_CLASSES.filter((c) => r.counts[c] > 0).map((c) => `${c}=${r.counts[c]}`).join(' ');
        io.err(
          `virtlab stats: ${id} on ${hostId}: ${r.hostPerGuest.toFixed(3)} host instructions and ${r.cyclesPerGuest.toFixed(3)} cycles per guest instruction ` +
            `(${r.guestInstructions} guest, ${r.hostInstructions} host, ${r.cycles} cycles; ${r.inGprs} guest registers in integer registers, ${r.inLanes} in SIMD lanes; ${r.packedOps} operations packed, ${r.spills} spills): ${mix}`,
        );
        const hottest = [...r.units].sort((a, b) => b.executions * b.cycles - a.executions * a.cycles || a.entry - b.entry).slice(0, 3);
        io.err(`virtlab stats: ${id} on ${hostId}: hottest units ${hottest.map((u) => `0x${u.entry.toString(16)} (${u.executions}× ${u.cycles} cycles for ${u.guestInstructions} guest instructions)`).join(', ')}`);
      }
    }
  }
  return code;
}

const SIGPIPE = 13;

/** Stores the run's translation cache for the next run; returns what went wrong, if anything. */
function saveCodeCache(storeCodeCache: typeof import('../node/code-cache-store').storeCodeCache, cache: CodeCacheFile, instance: GuestInstance, cap: number): string[] {
  const notes: string[] = [];
  if (cache.note) notes.push(cache.note);
  const cc = instance.codeCache;
  if (!cc) return notes;
  if (cc.note) notes.push(`${cache.file} not used: ${cc.note}`);
  try {
    const saved = cc.save();
    if (saved.note) notes.push(saved.note);
    if (saved.bytes) {
      const failed = storeCodeCache(cache.file, saved.bytes, cap);
      if (failed) notes.push(failed);
    }
  } catch (e) {
    // The guest has run and its output is out: a cache that cannot be made is only a slower next run.
    notes.push(`not saved: ${(e as Error).message}`);
  }
  return notes;
}

/** The cache's line of --stats: where it lives, what came from it, and any problem; null without a cache. */
export function codeCacheLine(counters: Record<string, number>, cache: CodeCacheFile | undefined, notes: readonly string[], saveMs: number): string | null {
  if (!cache) return null;
  if (counters.cacheUnits === undefined) return notes.length ? `code cache: ${notes.join('; ')}` : null;
  return (
    `code cache ${cache.file}: ${counters.cacheUnits} units in ${counters.cacheModules} modules loaded (of ${counters.cacheUnitsOffered} stored), ` +
    `${counters.cacheRejectedUnits} units refused (${counters.cacheRejectedBytes} guest bytes differed), load ${counters.cacheLoadMs.toFixed(0)} ms, save ${saveMs.toFixed(0)} ms (after the run)` +
    (notes.length ? `; ${notes.join('; ')}` : '')
  );
}

/** A whole number ≥ 0 given to a flag, or an ExecUsageError naming the flag. */
function wholeNumber(flag: string, text: string): number {
  const n = /^[0-9]+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new ExecUsageError(`${flag} expects a whole number ≥ 0, got '${text}'`);
  return n;
}

/**
 * Where a translating engine's instructions ran — in the interpreter (code not yet hot,
 * system calls, budget tails) or as translated code — and what translating cost; null
 * for an engine that does not translate.
 */
export function coverageLine(instructions: number, counters: Record<string, number>, wallMs: number): string | null {
  if (counters.interpreted === undefined || counters.translateMs === undefined) return null;
  const interpreted = counters.interpreted;
  const translated = instructions - interpreted;
  const pct = (n: number) => (instructions ? ((100 * n) / instructions).toFixed(1) : '0.0');
  const background =
    counters.backgroundTranslateMs !== undefined
      ? `, ${counters.backgroundTranslateMs.toFixed(0)} ms translating and ${(counters.backgroundCompileMs ?? 0).toFixed(0)} ms compiling in the background`
      : counters.backgroundCompileMs
        ? `, ${counters.backgroundCompileMs.toFixed(0)} ms compiling in the background`
        : '';
  return (
    `coverage: ${interpreted} instructions interpreted (${pct(interpreted)}%), ${translated} run as translated code (${pct(translated)}%); ` +
    `${counters.guestInstructionsTranslated ?? 0} instructions translated in ${counters.units ?? 0} units (a region may cover an instruction twice); ` +
    `translation ${counters.translateMs.toFixed(0)} ms of ${wallMs.toFixed(0)} ms${background}`
  );
}
