// `virtlab exec`: runs one guest program the way qemu-riscv64 does — standard input,
// output and error pass through, and the guest's exit status becomes ours (128 +
// signal when it is killed) — through an execution-engine plugin. The engine comes
// from the plugin registry like any other service, so `--engine` picks any installed
// `cpu.engine` plugin by its name (`interpreter` means `dbt.interpreter`).

import { existsSync, readFileSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ExecutionEngine, parseQuantity, Rng, Simulation, signalStatus, syscallName, type GuestInstance } from 'virtlab';
import { parse as parseYaml } from 'yaml';
import { loadCatalog } from '../node/catalog';
import { scenarioFromText } from '../node/testing';

import { commandHelp, UsageError, usageFrom, wantsHelp, type CommandSpec } from './args';

/** Bad input to exec (exit status 2). */
export class ExecUsageError extends UsageError {}

export const EXEC_SPEC: CommandSpec = {
  name: 'exec',
  summary: 'run one RISC-V Linux program the way qemu-riscv64 does',
  usage: ['exec [options] prog.elf [args…]'],
  options: {
    engine: { type: 'string', arg: 'name', description: 'execution engine: interpreter (default), block-translator, instrew, or any cpu.engine plugin' },
    option: { type: 'string', multiple: true, arg: 'name=value', description: 'an option of the engine plugin (YAML value)' },
    plugin: { type: 'string', multiple: true, arg: 'id', description: 'another plugin to load beside the engine (e.g. a translator pass)' },
    stats: { type: 'boolean', description: 'print instructions, MIPS, system calls (by name, unimplemented ones apart) and engine counters to stderr' },
    mount: { type: 'string', multiple: true, arg: 'host:/guest', description: 'let the guest read a host file at a guest path' },
    env: { type: 'string', multiple: true, arg: 'K=V', description: "set a variable in the guest's environment (also -E K=V; qemu's -E)" },
    'unset-env': { type: 'string', multiple: true, arg: 'K', description: "remove a variable from the guest's environment (also -U K; qemu's -U)" },
    'clear-env': { type: 'boolean', description: "start the guest with an empty environment instead of ours (then --env adds to it)" },
    log: { type: 'string', multiple: true, arg: 'items', description: "qemu-style logging to stderr (also -d): unimp lists the system calls answered ENOSYS" },
    memory: { type: 'string', arg: 'size', description: 'guest memory (default 256MiB)' },
    'max-instructions': { type: 'string', arg: 'n', description: 'stop after n instructions, exit status 124 (default 0: no limit)' },
    seed: { type: 'string', arg: 'n', description: 'seed of the bytes getrandom returns (default 1)' },
  },
  examples: ['virtlab exec --engine instrew --stats scenarios/guests/bin/crc32.elf 2'],
  notes:
    "Standard input, output and error pass through; the guest's exit status becomes ours (128 + signal when it is killed). " +
    'Like qemu-user, the guest inherits our environment unless --clear-env is given; -E/--env and -U/--unset-env edit it. ' +
    'Nothing but the guest writes to its stderr unless --stats or -d unimp is given.',
};

export interface ExecIo {
  readonly readStdin: (max: number) => Uint8Array | null;
  readonly writeStdout: (b: Uint8Array) => void;
  readonly writeStderr: (b: Uint8Array) => void;
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
  err: (line) => writeAll(2, new TextEncoder().encode(line + '\n')),
};

function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

/** Boots a minimal simulation with the engine plugin (and its options) and returns its ExecutionEngine. */
export async function resolveEngine(name: string, options: Record<string, unknown> = {}, extraPlugins: readonly string[] = []): Promise<ExecutionEngine> {
  const catalog = loadCatalog();
  const id = name.includes('.') ? name : `dbt.${name}`;
  const entry = catalog.get(id);
  if (!entry || !entry.manifest.provides.includes('cpu.engine')) {
    const engines = catalog.providersOf('cpu.engine').map((e) => e.replace(/^dbt\./, ''));
    throw new ExecUsageError(`unknown execution engine '${name}'`, `engines: ${engines.join(', ') || 'none installed'}`);
  }
  const extra = extraPlugins.map((p) => `  ${p}: {}\n`).join('');
  const { scenario } = scenarioFromText(`name: exec\npreset: minimal\nduration: 1ns\ntick: 1ns\nplugins:\n  ${id}: ${JSON.stringify(options)}\n${extra}`);
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
        mount: { type: 'string', multiple: true },
        env: { type: 'string', multiple: true, short: 'E' },
        'unset-env': { type: 'string', multiple: true, short: 'U' },
        'clear-env': { type: 'boolean', default: false },
        log: { type: 'string', multiple: true, short: 'd' },
        memory: { type: 'string', default: '256MiB' },
        'max-instructions': { type: 'string', default: '0' },
        seed: { type: 'string', default: '1' },
      },
    }));
  } catch (e) {
    const u = usageFrom(e as Error, EXEC_SPEC);
    throw new ExecUsageError(u.message, u.hint);
  }
  if (!guestArgs.length) throw new ExecUsageError('exec needs a program', 'virtlab exec [--engine interpreter] [--option name=value]… [--plugin id]… [--stats] prog.elf [args…]');
  const [program, ...args] = guestArgs;
  if (!existsSync(program)) throw new ExecUsageError(`no such program: ${program}`);
  const files = new Map<string, Uint8Array>();
  for (const m of (values.mount as string[] | undefined) ?? []) {
    const [host, guest] = m.split(':');
    if (!host || !guest || !guest.startsWith('/')) throw new ExecUsageError(`--mount expects host:/guest/path, got '${m}'`);
    if (!existsSync(host)) throw new ExecUsageError(`--mount: no such file ${host}`);
    files.set(guest, new Uint8Array(readFileSync(host)));
  }
  let memoryBytes: number;
  try {
    memoryBytes = parseQuantity(values.memory as string, 'bytes');
  } catch (e) {
    throw new ExecUsageError(`--memory: ${(e as Error).message}`);
  }
  const maxInstructions = Number(values['max-instructions']);
  const seed = Number(values.seed);
  if (!Number.isFinite(maxInstructions) || maxInstructions < 0) throw new ExecUsageError('--max-instructions expects a non-negative number');
  const engineOptions: Record<string, unknown> = {};
  for (const kv of (values.option as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ExecUsageError(`--option expects name=value, got '${kv}'`, 'for example --option promoteRegisters=false');
    engineOptions[kv.slice(0, eq)] = parseYaml(kv.slice(eq + 1));
  }
  const envp = guestEnvironment(values, host);
  const logItems = ((values.log as string[] | undefined) ?? []).flatMap((l) => l.split(','));
  for (const item of logItems) if (item !== 'unimp') throw new ExecUsageError(`-d: unknown log item '${item}'`, 'the one item is unimp (system calls answered ENOSYS)');
  const engine = await resolveEngine(values.engine as string, engineOptions, (values.plugin as string[] | undefined) ?? []);
  const rng = new Rng(seed, 'exec');
  let instance: GuestInstance | undefined = undefined;
  const t0 = performance.now();
  instance = engine.start({
    elf: new Uint8Array(readFileSync(program)),
    programPath: path.basename(program),
    argv: [program, ...args],
    envp,
    files,
    memoryBytes,
    stackBytes: 8 * 2 ** 20,
    maxInstructions,
    readStdin: io.readStdin,
    writeStdout: io.writeStdout,
    writeStderr: io.writeStderr,
    // The guest's clock: one nanosecond per instruction, from the epoch; deterministic.
    // Sleeps advance it by the time they charge.
    now: () => instance!.instructions + instance!.chargedNs,
    randomBytes: (out) => rng.fillBytes(out),
    hostNow: () => performance.now(),
  });
  let status = instance.run(50_000_000);
  while (status.state === 'running') status = instance.run(50_000_000);
  const wallMs = performance.now() - t0;
  let code: number;
  if (status.state === 'exited') code = status.exitCode ?? 0;
  else if (status.state === 'signaled') {
    code = signalStatus(status.signal ?? 0);
    const f = status.fault;
    if (f) io.err(`virtlab: guest killed by signal ${status.signal}: ${f.reason} at pc 0x${f.pc.toString(16)} (${f.instruction}), address 0x${f.address.toString(16)}`);
    else io.err(`virtlab: guest killed by signal ${status.signal}${status.message ? `: ${status.message}` : ''}`);
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
  }
  return code;
}
