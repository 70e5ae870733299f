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

function run(engineName: string, options: Record<string, unknown>, name: string, caseId: string, compiler?: WorkerCompiler): Promise<{ run: GuestRun; stops: number[] }> {
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
      try {
        const there = await run(engineName, options, name, caseId, compiler);
        expect(Buffer.from(there.run.stdout).toString()).toBe(Buffer.from(here.run.stdout).toString());
        expect(there.run.status).toBe(here.run.status);
        expect(there.stops).toEqual(here.stops);
        // crc32 runs long enough for modules to arrive: the background compiler was
        // used and its modules installed. (The others may end first.)
        if (name === 'crc32') {
          const counters = there.run.instance.counters();
          expect(counters.backgroundModules).toBeGreaterThan(0);
          expect(counters.units).toBeGreaterThan(0);
        }
      } finally {
        await compiler.close();
      }
    }
  });
});

describe('a module whose code changed while it compiled', () => {
  it('is discarded, and the new code runs', async () => {
    // smc rewrites code it has run: with every module delayed, some arrive stale.
    let discarded = 0;
    for (const seed of [1, 2, 3]) {
      const compiler = new WorkerCompiler({ delayMs: 20, seed });
      try {
        const there = await run('instrew', { hotThreshold: 0 }, 'smc', 'default', compiler);
        const program = guestPrograms().find((p) => p.name === 'smc')!;
        expect(Buffer.from(there.run.stdout).toString()).toBe(Buffer.from(expectedOf(program, program.cases[0]).stdout).toString());
        discarded += there.run.instance.counters().backgroundDiscarded;
      } finally {
        await compiler.close();
      }
    }
    expect(discarded).toBeGreaterThan(0);
  });
});
