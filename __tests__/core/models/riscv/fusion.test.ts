// The interpreter's fused pairs (an addi or addiw and the conditional branch after it,
// run by one dispatch) change nothing a guest or a caller can see: with fusion on and
// off, random programs and compiled guests give the same state after every budget
// chunk, including chunks that end between the two instructions of a pair (the block
// holding the pair does not fit then, and its instructions run one at a time).
//
// Mutations that must break it (checked): fusing pairs in the one-instruction blocks
// too (running the branch when the budget ended after the addi), and the pair
// evaluating BLT as BLTU.
import type { ExecutionEngine } from 'virtlab';
import { Interpreter } from '../../../../core/models/riscv/interpreter';
import { resolveEngine } from '../../../../tools/cli/exec';
import { chunksFor, randomProgram, runChunks } from '../../../../tools/node/dbt-fuzz';
import { guestPrograms, runGuestCase } from '../../../../tools/node/guests';

let engine: ExecutionEngine;
beforeAll(async () => {
  engine = await resolveEngine('interpreter');
});

afterEach(() => {
  Interpreter.fuse = true;
});

function both<T>(f: () => T): { fused: T; plain: T } {
  Interpreter.fuse = true;
  const fused = f();
  Interpreter.fuse = false;
  const plain = f();
  Interpreter.fuse = true;
  return { fused, plain };
}

describe('fused pairs', () => {
  it.each(Array.from({ length: 6 }, (_, i) => i + 1))('random program %i: same state after every chunk, small chunks too', (seed) => {
    const program = randomProgram(seed);
    // One- and two-instruction chunks stop between the halves of pairs.
    const chunks = [...Array.from({ length: 150 }, (_, i) => 1 + (i % 3 === 0 ? 1 : 0)), ...chunksFor(seed)];
    const { fused, plain } = both(() => runChunks(engine, program, chunks));
    expect(fused).toEqual(plain);
  });

  it.each(['crc32', 'sort'])('guest %s (small): same output and the same instruction count at every stop', (name) => {
    const program = guestPrograms().find((p) => p.name === name)!;
    const c = program.cases.find((x) => x.id === 'small')!;
    const { fused, plain } = both(() => {
      const stops: number[] = [];
      const run = runGuestCase(engine, program, c, 0, 9_973, { stops });
      return { stdout: Buffer.from(run.stdout).toString(), status: run.status, instructions: run.instructions, stops, pairs: run.instance.counters().fusedPairs };
    });
    expect(fused.pairs).toBeGreaterThan(0);
    expect(plain.pairs).toBe(0);
    expect({ ...fused, pairs: 0 }).toEqual({ ...plain, pairs: 0 });
  });
});
