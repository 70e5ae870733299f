// Translation compiled on a worker thread (tools/node/background-compiler.ts, the
// runtime's `compiler` option): the guest runs on, interpreted, until a module
// arrives, and nothing the guest can see depends on when that is. Each program runs
// with modules compiled on the guest's thread, on a worker, and on a worker that
// takes a pseudo-random extra 0–20 ms per module (a loaded machine), and must give
// the same output, exit status and instruction count after every run() call of a
// small budget. Self-modifying code (smc) checks that a module whose code was
// rewritten while it compiled is discarded. Mutation that must break this test (and
// does: smc's output differs): installing a module that arrived stale (receive()
// without the `continue` after its p.stale check). Not wiring the compiler through
// (engine.ts not passing launch.backgroundCompiler) breaks the crc32 cases.
import type { BackgroundCompiler } from '../../core';
import { resolveEngine } from '../../tools/cli/exec';
import { WorkerCompiler } from '../../tools/node/background-compiler';
import { expectedOf, guestPrograms, runGuestCase, type GuestRun } from '../../tools/node/guests';

const CASES: Array<[string, string]> = [
  ['crc32', 'small'],
  ['cold-code', 'small'],
  ['smc', 'default'],
  ['int-edge', 'default'],
];
const ENGINES: Array<[string, Record<string, unknown>]> = [
  ['instrew', { hotThreshold: 0 }],
  ['instrew', {}],
  ['block-translator', {}],
];
const BUDGET = 9_973;

function run(engineName: string, options: Record<string, unknown>, name: string, caseId: string, compiler?: BackgroundCompiler): Promise<{ run: GuestRun; stops: number[] }> {
  return resolveEngine(engineName, options).then((engine) => {
    const program = guestPrograms().find((p) => p.name === name)!;
    const c = program.cases.find((x) => x.id === caseId)!;
    const stops: number[] = [];
    const r = runGuestCase(engine, program, c, 0, BUDGET, { backgroundCompiler: compiler, stops });
    return { run: r, stops };
  });
}

describe.each(ENGINES)('%s %j with a background compiler', (engineName, options) => {
  it.each(CASES)('%s.%s: same output, status and instruction counts whenever modules arrive', async (name, caseId) => {
    const program = guestPrograms().find((p) => p.name === name)!;
    const expected = expectedOf(program, program.cases.find((x) => x.id === caseId)!);
    const here = await run(engineName, options, name, caseId);
    expect(Buffer.from(here.run.stdout).toString()).toBe(Buffer.from(expected.stdout).toString());
    expect(here.run.status).toBe(expected.status);
    for (const delayMs of [0, 20]) {
      const compiler = new WorkerCompiler({ delayMs, seed: 7 });
      const submit = jest.spyOn(compiler, 'submit');
      try {
        const there = await run(engineName, options, name, caseId, compiler);
        expect(Buffer.from(there.run.stdout).toString()).toBe(Buffer.from(here.run.stdout).toString());
        expect(there.run.status).toBe(here.run.status);
        expect(there.stops).toEqual(here.stops);
        // crc32 runs long enough to make hot code: the background compiler was given
        // modules. Whether any arrived before the program ended depends on how busy
        // the machine is, so only what arrived is checked: it was installed.
        if (name === 'crc32') {
          expect(submit).toHaveBeenCalled();
          const counters = there.run.instance.counters();
          if (counters.backgroundModules > 0) expect(counters.units).toBeGreaterThan(0);
        }
      } finally {
        await compiler.close();
      }
    }
  });
});

/**
 * A compiler whose modules arrive late by a count of polls rather than of milliseconds:
 * module n is handed out on the (2 + n mod 5)th poll after its submission. The stale-
 * module path is then taken on every machine, however busy, where a worker's delay
 * could let a short program end before any module arrived.
 */
class LateCompiler implements BackgroundCompiler {
  private polls = 0;
  private next = 0;
  private readonly queue: Array<{ ticket: number; module: WebAssembly.Module; at: number }> = [];
  submit(bytes: Uint8Array): number {
    const ticket = this.next++;
    this.queue.push({ ticket, module: new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), at: this.polls + 2 + (ticket % 5) });
    return ticket;
  }
  poll(): Array<{ ticket: number; module: WebAssembly.Module; compileMs: number }> {
    this.polls++;
    const ready = this.queue.filter((q) => q.at <= this.polls);
    for (const r of ready) this.queue.splice(this.queue.indexOf(r), 1);
    return ready.map((r) => ({ ticket: r.ticket, module: r.module, compileMs: 0 }));
  }
}

describe('a module whose code changed while it compiled', () => {
  it('is discarded, and the new code runs', async () => {
    // smc rewrites code it has run: with every module late, some arrive stale.
    const there = await run('instrew', { hotThreshold: 0 }, 'smc', 'default', new LateCompiler());
    const program = guestPrograms().find((p) => p.name === 'smc')!;
    expect(Buffer.from(there.run.stdout).toString()).toBe(Buffer.from(expectedOf(program, program.cases[0]).stdout).toString());
    expect(there.run.instance.counters().backgroundDiscarded).toBeGreaterThan(0);
  });
});
