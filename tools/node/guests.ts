// The guest program suite (scenarios/guests/guests.json) on the Node side: reads the
// manifest, runs a case under an execution engine with exactly the inputs recorded
// under qemu-riscv64, and compares the result with the expected files. Used by the
// tests (every program under every engine) and by the guest benchmarks.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Rng, signalStatus, type BackgroundCompiler, type BackgroundTranslator, type ExecutionEngine, type GuestLaunch, type GuestInstance } from 'virtlab';
import { REPO_ROOT } from './catalog';

export const GUESTS_DIR = path.join(REPO_ROOT, 'scenarios', 'guests');

export interface GuestCase {
  readonly id: string;
  readonly args?: string[];
  readonly env?: Record<string, string>;
  readonly stdin?: string;
  readonly mounts?: Array<{ host: string; guest: string }>;
  readonly compareStderr?: boolean;
}

export interface GuestProgram {
  readonly name: string;
  readonly kind: 'test' | 'benchmark';
  readonly description: string;
  readonly cases: GuestCase[];
}

export function guestPrograms(): GuestProgram[] {
  return (JSON.parse(readFileSync(path.join(GUESTS_DIR, 'guests.json'), 'utf8')) as { programs: GuestProgram[] }).programs;
}

export interface GuestRun {
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly status: number;
  readonly instructions: number;
  readonly wallMs: number;
  readonly instance: GuestInstance;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** What else a run may be given: a background compiler or translator, a translation cache, and a record of the instruction count after each run() call. */
export interface GuestRunExtras {
  readonly backgroundCompiler?: BackgroundCompiler;
  readonly backgroundTranslator?: BackgroundTranslator;
  readonly codeCache?: GuestLaunch['codeCache'];
  readonly stops?: number[];
}

/** Runs one case of a program under an engine, with the case's inputs, `budget` instructions per run() call. */
export function runGuestCase(engine: ExecutionEngine, program: GuestProgram, c: GuestCase, maxInstructions = 0, budget = 10_000_000, extras: GuestRunExtras = {}): GuestRun {
  const elf = new Uint8Array(readFileSync(path.join(GUESTS_DIR, 'bin', `${program.name}.elf`)));
  let stdin: Uint8Array | null = c.stdin ? new Uint8Array(readFileSync(path.join(GUESTS_DIR, c.stdin))) : new Uint8Array(0);
  const files = new Map<string, Uint8Array>();
  for (const m of c.mounts ?? []) files.set(m.guest, new Uint8Array(readFileSync(path.join(GUESTS_DIR, m.host))));
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const rng = new Rng(1, 'guest');
  let instance: GuestInstance | undefined = undefined;
  const t0 = performance.now();
  instance = engine.start({
    elf,
    programPath: `${program.name}.elf`,
    argv: [`${program.name}.elf`, ...(c.args ?? [])],
    envp: Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`),
    files,
    memoryBytes: 256 * 2 ** 20,
    stackBytes: 8 * 2 ** 20,
    maxInstructions,
    readStdin: (max) => {
      if (!stdin || stdin.length === 0) return null;
      const chunk = stdin.slice(0, max);
      stdin = stdin.slice(max);
      return chunk;
    },
    writeStdout: (b) => out.push(b.slice()),
    writeStderr: (b) => err.push(b.slice()),
    // One nanosecond per instruction plus charged time (hooks, sleeps, threads waiting), as `virtlab exec`.
    now: () => instance!.instructions + instance!.chargedNs,
    randomBytes: (o) => rng.fillBytes(o),
    hostNow: () => performance.now(),
    backgroundCompiler: extras.backgroundCompiler,
    backgroundTranslator: extras.backgroundTranslator,
    codeCache: extras.codeCache,
  });
  let status = instance.run(budget);
  extras.stops?.push(instance.instructions);
  while (status.state === 'running') {
    status = instance.run(budget);
    extras.stops?.push(instance.instructions);
  }
  const wallMs = performance.now() - t0;
  const code = status.state === 'exited' ? status.exitCode! : status.state === 'signaled' ? signalStatus(status.signal!) : -1;
  return { stdout: concat(out), stderr: concat(err), status: code, instructions: instance.instructions, wallMs, instance };
}

/** The recorded output of a case. */
export function expectedOf(program: GuestProgram, c: GuestCase): { stdout: Uint8Array; stderr: Uint8Array; status: number } {
  const base = path.join(GUESTS_DIR, 'expected', `${program.name}.${c.id}`);
  if (!existsSync(`${base}.status`)) throw new Error(`no recorded output for ${program.name}.${c.id}; run python3 scenarios/guests/build.py`);
  return {
    stdout: new Uint8Array(readFileSync(`${base}.stdout`)),
    stderr: new Uint8Array(readFileSync(`${base}.stderr`)),
    status: Number(readFileSync(`${base}.status`, 'utf8').trim()),
  };
}
