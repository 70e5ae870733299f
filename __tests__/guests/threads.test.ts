// Multi-threaded guests (core/models/riscv/threads.ts): interleaving by instruction
// quanta is deterministic — the same run twice, every engine, any split of the
// caller's budget gives the same output after the same number of instructions; the
// threads really interleave (observed from the guest); a checkpoint of a
// multi-threaded guest resumes exactly. That every program matches qemu-riscv64 is
// guests.test.ts's job; here the model itself is under test.
//
// Mutations that must break these tests (each checked once by hand):
// - ThreadScheduler.run without the quantum (a thread runs until it blocks, yields or
//   exits): threads-interleave's busy-waiting handshake never ends and hits the limit;
// - ThreadScheduler.switchTo keeping each thread's LR reservation across switches
//   instead of breaking it: an SC succeeds after the other thread's AMOs stored to the
//   reserved word, and the guest's mixed LR/SC + AMO counter loses updates;
// - ThreadScheduler.save/load without the quantum left (sliceLeft): the resumed run
//   interleaves differently and ends after another number of instructions.
import { Rng, type ExecutionEngine, type GuestInstance, type GuestStatus } from 'virtlab';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulation } from '../../core/simulation';
import { createGuestCpuHooks } from '../../core/models/cpu/hooks';
import { GuestProcess } from '../../core/models/riscv/process';
import { scenario as newScenario } from '../../core/scenario/builder';
import { loadScenarioFile } from '../../tools/node/scenario-file';
import { writeScenario } from '../../tools/node/testing';
import { resolveEngine } from '../../tools/cli/exec';
import { loadCatalog } from '../../tools/node/catalog';
import { expectedOf, GUESTS_DIR, guestPrograms, runGuestCase, type GuestProgram } from '../../tools/node/guests';

const engines = loadCatalog().providersOf('cpu.engine');
const threaded = guestPrograms().filter((p) => p.name.startsWith('threads-'));
const program = (name: string): GuestProgram => threaded.find((p) => p.name === name)!;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Starts a program's default case (no stdin, no files) and collects its stdout. */
function launch(engine: ExecutionEngine, name: string): { instance: GuestInstance; out: string[] } {
  const out: string[] = [];
  const rng = new Rng(1, 'guest');
  let instance: GuestInstance | undefined = undefined;
  instance = engine.start({
    elf: new Uint8Array(readFileSync(path.join(GUESTS_DIR, 'bin', `${name}.elf`))),
    programPath: `${name}.elf`,
    argv: [`${name}.elf`],
    envp: [],
    files: new Map(),
    memoryBytes: 256 * 2 ** 20,
    stackBytes: 8 * 2 ** 20,
    maxInstructions: 0,
    readStdin: () => null,
    writeStdout: (b) => out.push(text(b)),
    writeStderr: () => {},
    now: () => instance!.instructions + instance!.chargedNs,
    randomBytes: (o) => rng.fillBytes(o),
  });
  return { instance, out };
}

function finish(instance: GuestInstance, budget: number): GuestStatus {
  let s = instance.run(budget);
  while (s.state === 'running') s = instance.run(budget);
  return s;
}

describe('threaded guests', () => {
  const resolved = new Map<string, ExecutionEngine>();
  beforeAll(async () => {
    for (const id of engines) resolved.set(id, await resolveEngine(id));
  });

  it('has the suite of threaded programs', () => {
    expect(threaded.map((p) => p.name).sort()).toEqual(['threads-abort', 'threads-interleave', 'threads-join', 'threads-mutex', 'threads-queue', 'threads-timedwait', 'threads-tls']);
  });

  it.each(threaded.map((p) => [p.name, p] as const))('%s: same output after the same instructions, twice, under every engine and any budget split', (_n, p) => {
    const reference = runGuestCase(resolved.get('dbt.interpreter')!, p, p.cases[0]);
    expect(text(reference.stdout)).toBe(text(expectedOf(p, p.cases[0]).stdout));
    const again = runGuestCase(resolved.get('dbt.interpreter')!, p, p.cases[0]);
    expect(text(again.stdout)).toBe(text(reference.stdout));
    expect(again.instructions).toBe(reference.instructions);
    for (const id of engines) {
      // An odd budget per call, prime to the quantum, so run() boundaries fall everywhere.
      const run = runGuestCase(resolved.get(id)!, p, p.cases[0], 0, 7919);
      expect([id, text(run.stdout), run.status]).toEqual([id, text(reference.stdout), reference.status]);
      expect([id, run.instructions]).toEqual([id, reference.instructions]);
    }
  });

  it('interleaves threads by quanta: a busy-waiting handshake completes, and no atomic update is lost', () => {
    // Each thread spins (no system call) until the other has taken its turn: without
    // preemption the first thread to spin would spin until the limit.
    const run = runGuestCase(resolved.get('dbt.interpreter')!, program('threads-interleave'), { id: 'default' }, 20_000_000);
    expect(text(run.stdout)).toBe('token passed 100 times (50 and 50 turns)\namo counter 40000, lr/sc counter 40000 (expected 40000)\nlr/sc and amo on one word: 160000 (expected 160000)\n');
    expect(run.status).toBe(0);
  });

  // threads-queue blocks and wakes threads all the time; threads-interleave never blocks, so its switches are the quanta's.
  const points: Record<string, [number, number]> = { 'threads-queue': [1_234_567, 765_433], 'threads-interleave': [700_001, 300_001] };
  it.each(engines.flatMap((id) => Object.keys(points).map((name) => [name, id])))('resumes %s from a checkpoint exactly, under %s', (name, id) => {
    const [at, then] = points[name];
    const engine = resolved.get(id)!;
    const cpuState = (i: GuestInstance) => {
      const s = i.save() as { hart: unknown; threads: unknown; status: unknown };
      return structuredClone({ hart: s.hart, threads: s.threads, status: s.status });
    };
    const whole = launch(engine, name);
    const first = launch(engine, name);
    // Mid-run: several threads alive, some of them blocked (the queue) or spinning (the handshake).
    for (const i of [whole.instance, first.instance]) expect(i.run(at).state).toBe('running');
    const saved = structuredClone(first.instance.save());
    const resumed = launch(engine, name);
    resumed.instance.load(saved);
    // Later, every thread's registers, its wait and the quantum left are the uninterrupted run's.
    for (const i of [whole.instance, resumed.instance]) expect(i.run(then).state).toBe('running');
    const later = cpuState(resumed.instance);
    expect((later.threads as { threads: unknown[] }).threads.length).toBeGreaterThanOrEqual(2);
    expect(later).toEqual(cpuState(whole.instance));
    expect(finish(whole.instance, 1_000_000)).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(finish(resumed.instance, 1_000_000)).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(first.out.join('') + resumed.out.join('')).toBe(whole.out.join(''));
    expect(resumed.instance.instructions).toBe(whole.instance.instructions);
  });

  it('runs a threaded guest under workload.guest on one vCPU, which all its threads\' instructions count against', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-threads-'));
    try {
      const built = newScenario('threads-vm')
        .tick('1ms')
        .duration('40ms')
        .preset('minimal')
        .hosts({ profile: 'x86-64-server' })
        .vms({ name: 'mutex', memory: '256MiB', workload: { kind: 'guest', program: path.join(GUESTS_DIR, 'bin', 'threads-mutex.elf') } })
        .plugin('datacenter.racks')
        .plugin('placement.first-fit')
        .plugin('dbt.interpreter')
        .plugin('workload.guest', { memory: '128MiB' });
      const { scenario, catalog, files } = loadScenarioFile(writeScenario(tmp, 'threads-vm', built));
      const sim = await Simulation.create({ scenario, catalog, files });
      sim.run();
      const result = await sim.finish();
      const p = program('threads-mutex');
      expect(result.files.get('guests/mutex-0.stdout')).toBe(text(expectedOf(p, p.cases[0]).stdout));
      const alone = runGuestCase(resolved.get('dbt.interpreter')!, p, p.cases[0]);
      expect(sim.metrics.value('guest.instructions')).toBe(alone.instructions);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('ends a process whose threads all wait on futexes that nothing can wake, naming the deadlock', () => {
    // A plugin that swallows every FUTEX_WAKE (answers 1, wakes no one): the mutex's waiters wait forever.
    const hooks = createGuestCpuHooks();
    hooks.syscall.tap('lose-wakes', (e) => (e.name === 'futex' && (e.args[1] & 127) === 1 ? 1 : undefined));
    const rng = new Rng(1, 'guest');
    const proc: GuestProcess = new GuestProcess({
      memoryBytes: 256 * 2 ** 20, stackBytes: 8 * 2 ** 20, maxInstructions: 50_000_000,
      argv: ['threads-mutex.elf'], envp: [], programPath: 'threads-mutex.elf', files: new Map(),
      readStdin: () => null, writeStdout: () => {}, writeStderr: () => {},
      now: () => proc.instructions, randomBytes: (o) => rng.fillBytes(o), hooks,
    });
    proc.load(new Uint8Array(readFileSync(path.join(GUESTS_DIR, 'bin', 'threads-mutex.elf'))));
    let s = proc.run(1_000_000);
    while (s.state === 'running') s = proc.run(1_000_000);
    expect(s).toMatchObject({ state: 'limit', message: expect.stringMatching(/^deadlock: all \d+ threads are blocked in futex waits that nothing can wake$/) });
    expect(proc.instructions).toBeLessThan(50_000_000);
  });
});
