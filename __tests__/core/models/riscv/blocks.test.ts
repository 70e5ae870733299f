// The interpreter's blocks (straight-line runs decoded once and run without a budget
// check per instruction) keep budgets exact: every run stops after exactly the
// instructions it was given, whatever the chunk sizes, and the state at each stop is the
// one reached by running instruction by instruction.
//
// Mutation that must break it (checked): running a whole block when the budget ends
// inside it (checking the budget only at block entry, without falling back to one
// instruction at a time).
import type { ExecutionEngine } from 'virtlab';
import { resolveEngine } from '../../../../tools/cli/exec';
import { randomProgram, runChunks } from '../../../../tools/node/dbt-fuzz';
import { guestPrograms, runGuestCase } from '../../../../tools/node/guests';

let engine: ExecutionEngine;
beforeAll(async () => {
  engine = await resolveEngine('interpreter');
});

/** Chunk sizes from 1 to 41 in an order that ends chunks at every place in blocks. */
function oddChunks(count: number, seed: number): number[] {
  return Array.from({ length: count }, (_, i) => 1 + ((i * 7 + seed * 3) % 41));
}

describe('interpreter blocks', () => {
  it.each([1, 2, 3, 4])('random program %i: each chunk runs exactly its budget, and stops where single steps stop', (seed) => {
    const program = randomProgram(seed);
    const chunks = oddChunks(120, seed);
    const runs = runChunks(engine, program, chunks);
    let total = 0;
    for (let k = 0; k < runs.length; k++) {
      total += chunks[k];
      if (runs[k].state === 'running') expect(runs[k].instructions).toBe(total);
    }
    // The same stops reached one instruction at a time, for the first chunks.
    const firstChunks = chunks.slice(0, 12);
    const steps = runChunks(engine, program, Array.from({ length: firstChunks.reduce((s, c) => s + c, 0) }, () => 1));
    let at = 0;
    for (let k = 0; k < firstChunks.length && k < runs.length; k++) {
      at += firstChunks[k];
      const stepped = steps[Math.min(at, steps.length) - 1];
      expect(runs[k]).toEqual(stepped);
    }
  });

  it('guest crc32 (small) in chunks of 37: every stop after exactly 37 more instructions, and the right output', () => {
    const program = guestPrograms().find((p) => p.name === 'crc32')!;
    const c = program.cases.find((x) => x.id === 'small')!;
    const stops: number[] = [];
    const chunk = 37;
    const run = runGuestCase(engine, program, c, 0, chunk, { stops });
    const whole = runGuestCase(engine, program, c);
    expect(Buffer.from(run.stdout).toString()).toBe(Buffer.from(whole.stdout).toString());
    expect(run.instructions).toBe(whole.instructions);
    // Every stop but the last (the exit) is a budget's end.
    const wrong = stops.slice(0, -1).filter((s, k) => s !== (k + 1) * chunk);
    expect(wrong).toEqual([]);
  });
});
