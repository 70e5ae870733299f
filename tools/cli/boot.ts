// `virtlab boot`: a kernel (by default the committed Linux with OpenSBI and our
// initramfs) on the virt-compatible machine, its console on stdout, its power-off
// status as ours.

import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseQuantity } from 'virtlab';
import { parseAssignment, parseCommand, UsageError } from './args';
import { BOOT_SPEC } from './boot-spec';
import { VirtMachine, type HartEngine, type MachineOptions, type RunResult } from '../../core/models/riscv/system/machine';
import { resolveEngine } from './exec';
import { systemEngineOf } from '../../core/models/dbt/engine';
import { consoleLines } from '../../core/models/riscv/system/console-lines';
import { bootTimed, FORKMAP_WINDOW, report, type TimedBoot } from './boot-mmu';
import { REPO_ROOT } from '../node/repo-root';

const LINUX = path.join(REPO_ROOT, 'scenarios', 'linux');
const DEFAULT_APPEND = 'console=ttyS0 earlycon initramfs_async=0';

function readInput(file: string, what: string): Uint8Array {
  if (!existsSync(file)) throw new UsageError(`no such ${what}: ${file}`);
  if (statSync(file).isDirectory()) throw new UsageError(`${file} is a folder, not a ${what}`);
  const bytes = readFileSync(file);
  if (bytes.length === 0) throw new UsageError(`${what} ${file} is empty`);
  return bytes;
}

/** QEMU's sizes (128M, 1G) or ours (128MiB). */
function memorySize(text: string): number {
  const m = /^(\d+)([KMG])$/i.exec(text);
  if (m) return Number(m[1]) * 1024 ** ' KMG'.indexOf(m[2].toUpperCase());
  return parseQuantity(text, 'bytes');
}

export async function bootCommand(args: string[], io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const { values, positionals } = parseCommand(BOOT_SPEC, args);
  if (positionals.length > 1) throw new UsageError('boot takes one kernel', BOOT_SPEC.usage[0]);
  const defaultKernel = positionals.length === 0;
  const kernelFile = defaultKernel ? path.join(LINUX, 'Image') : positionals[0];
  const kernel = readInput(kernelFile, 'kernel');
  const isElf = kernel[0] === 0x7f && kernel[1] === 0x45 && kernel[2] === 0x4c && kernel[3] === 0x46;
  // A raw RISC-V Linux Image carries "RISCV\0\0\0" and "RSC\x05" in its header.
  const isImage = kernel.length > 64 && Buffer.from(kernel.subarray(48, 56)).toString('latin1') === 'RISCV\0\0\0';
  if (!isElf && !isImage && values.bios === undefined && defaultKernel === false) {
    throw new UsageError(`${kernelFile} is neither a RISC-V ELF nor a RISC-V Linux Image`, 'give an ELF, an Image, or a raw image with an explicit --bios');
  }
  let memoryBytes = 128 * 1024 * 1024;
  if (values.mem !== undefined) {
    try {
      memoryBytes = memorySize(values.mem as string);
    } catch (e) {
      throw new UsageError(`--mem: ${(e as Error).message}`, 'for example --mem 256M');
    }
  }
  const biosOpt = values.bios as string | undefined;
  const bios = biosOpt === 'none' ? undefined : readInput(biosOpt ?? path.join(LINUX, 'fw_jump.bin'), 'firmware');
  const initrdFile = (values.initrd as string | undefined) ?? (defaultKernel ? path.join(LINUX, 'initramfs.cpio') : undefined);
  const initrd = initrdFile === undefined ? undefined : readInput(initrdFile, 'initrd');
  const strategy = values.mmu as string | undefined;
  if (strategy === 'sv39' || strategy === 'sv48' || strategy === 'sv57') throw new UsageError(`--mmu now names an MMU strategy (timing mode); the paging mode the device tree announces is --paging ${strategy}`);
  const paging = (values.paging as string | undefined) ?? 'sv57';
  if (paging !== 'sv39' && paging !== 'sv48' && paging !== 'sv57') throw new UsageError(`--paging: ${paging} is not sv39, sv48 or sv57`);
  if (strategy === undefined && (values.host !== undefined || values.window !== undefined)) throw new UsageError('--host and --window go with --mmu <strategy>');
  let window: [string, string] | undefined;
  if (values.window !== undefined) {
    const parts = (values.window as string).split('..');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new UsageError(`--window expects 'from..to', got '${values.window}'`);
    window = [parts[0], parts[1]];
  } else if (defaultKernel) window = [...FORKMAP_WINDOW];
  let max = Infinity;
  if (values['max-instructions'] !== undefined) {
    max = Number(values['max-instructions']);
    if (!Number.isSafeInteger(max) || max <= 0) throw new UsageError(`--max-instructions expects a positive whole number, got '${values['max-instructions']}'`);
  }
  const engineName = (values.engine as string | undefined) ?? 'interpreter';
  let engine: HartEngine | undefined;
  if (engineName !== 'interpreter' && engineName !== 'dbt.interpreter') {
    // Timing mode announces every load and store from the hart's slow paths, which translated code does not take.
    if (strategy !== undefined) throw new UsageError(`--mmu runs on the hart's interpreter: timing mode is not available under --engine ${engineName}`, 'drop --engine, or drop --mmu');
    const options: Record<string, unknown> = {};
    for (const a of (values.option as string[] | undefined) ?? []) {
      const { path: name, value } = parseAssignment('--option', a, 'hotThreshold=0', 'name=value');
      options[name] = value;
    }
    const id = { block: 'block-translator' }[engineName] ?? engineName;
    const resolved = await resolveEngine(id, options);
    const system = systemEngineOf(resolved);
    if (!system) throw new UsageError(`engine ${resolved.id} has no full-system translator`, 'engines for boot: interpreter, block, instrew');
    engine = system({ hostNow: () => performance.now() });
  } else if (values.option !== undefined) throw new UsageError('--option sets options of a translating engine', 'for example --engine instrew --option hotThreshold=0');
  // The console is written in pieces: one write per byte would dominate a boot.
  const pending: number[] = [];
  const flush = () => {
    if (pending.length) process.stdout.write(Buffer.from(pending));
    pending.length = 0;
  };
  const machineOptions = { memoryBytes, kernel, bios, initrd, bootargs: (values.append as string | undefined) ?? DEFAULT_APPEND, mmu: paging as 'sv39' | 'sv48' | 'sv57' };
  const toConsole = (b: number) => {
    pending.push(b);
    if (b === 10 || pending.length >= 4096) flush();
  };
  if (strategy !== undefined) return timedBoot(strategy, machineOptions, toConsole, flush, { profile: (values.host as string | undefined) ?? 'riscv-board', window, max, stats: values.stats === true }, io);
  // When init's first line ("init: …") is complete: instructions, wall and CPU time so far.
  let atInit: { instructions: number; wall: number; cpu: number } | undefined;
  const lines = consoleLines((text) => {
    if (atInit === undefined && text.startsWith('init: ')) {
      const cpu = process.cpuUsage(c0);
      atInit = { instructions: machine.hart.instret, wall: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1e6 };
    }
  });
  let t0 = 0;
  let c0: NodeJS.CpuUsage = { user: 0, system: 0 };
  let machine: VirtMachine;
  try {
    machine = new VirtMachine({
      ...machineOptions,
      engine,
      console: (b) => {
        if (values.stats && atInit === undefined) lines(b);
        toConsole(b);
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  t0 = performance.now();
  c0 = process.cpuUsage();
  const result = machine.run(max);
  flush();
  if (values.stats) {
    const cpu = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    const h = machine.hart;
    io.err(
      `virtlab boot: ${result.reason}, status ${result.status}; ${result.instructions} instructions, ` +
        `${h.traps} exceptions, ${h.interrupts} interrupts, ${h.pageWalks} page walks, ${h.decodedPages} pages decoded, ` +
        `${machine.idleTicks} idle ticks skipped; wall ${(wall / 1000).toFixed(2)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, ` +
        `${(result.instructions / wall / 1000).toFixed(1)} MIPS`,
    );
    if (atInit) io.err(`virtlab boot: init's first line after ${atInit.instructions} instructions, wall ${(atInit.wall / 1000).toFixed(2)} s, CPU ${atInit.cpu.toFixed(2)} s`);
    const counters = machine.executor.counters?.();
    if (counters) io.err(`virtlab boot: engine ${engine!.id}: ` + Object.entries(counters).map(([k, v]) => `${k} ${v}`).join(', '));
  }
  return exitStatus(result);
}

function exitStatus(result: RunResult): number {
  if (result.reason === 'limit') return 124;
  if (result.reason === 'idle') return 125;
  return result.status;
}

/**
 * `--mmu <strategy>`: the boot in timing mode, then (unless the strategy is native) the
 * same boot under native for the overhead, its console discarded; the figures go to stderr.
 */
async function timedBoot(
  strategy: string,
  machine: Omit<MachineOptions, 'console'>,
  toConsole: (b: number) => void,
  flush: () => void,
  opts: { profile: string; window?: [string, string]; max: number; stats: boolean },
  io: { err: (s: string) => void },
): Promise<number> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let run: TimedBoot;
  try {
    run = await bootTimed({ strategy, profile: opts.profile, machine, onConsole: toConsole, window: opts.window, maxInstructions: opts.max });
  } catch (e) {
    flush();
    const msg = (e as Error).message;
    if (/unknown plugin|no plugin|not found|profile/i.test(msg)) throw new UsageError(`--mmu ${strategy}: ${msg}`, 'a strategy is an mmu plugin id: native, nested-paging, shadow-paging, ssp, compromis, btmmu, softmmu');
    throw e;
  }
  flush();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const native = run.strategy === 'native' ? run : await bootTimed({ strategy: 'native', profile: opts.profile, machine, window: opts.window, maxInstructions: opts.max });
  if (native.result.instructions !== run.result.instructions) io.err(`virtlab boot: native ran ${native.result.instructions} instructions, ${run.strategy} ${run.result.instructions}: the runs differ`);
  for (const line of report(run, native)) io.err(line);
  if (opts.stats) {
    io.err(
      `virtlab boot: ${run.result.reason}, status ${run.result.status}; ${run.result.instructions} instructions under ${run.strategy} ` +
        `in wall ${(wall / 1000).toFixed(2)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (native's run for the overhead not included)`,
    );
  }
  return exitStatus(run.result);
}
