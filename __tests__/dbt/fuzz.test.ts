// Differential fuzzing: seeded random RV64GC programs (tools/node/dbt-fuzz.ts) give,
// under every translator configuration, exactly the interpreter's architectural state
// after every budget chunk — registers, FP flags and mode, pc, instructions retired,
// the data written, and how the program ended (exit or the same fault).
import type { ExecutionEngine } from 'virtlab';
import { resolveEngine } from '../../tools/cli/exec';
import { chunksFor, randomProgram, runChunks } from '../../tools/node/dbt-fuzz';

const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);
const CONFIGS: Array<[string, string, Record<string, unknown>]> = [
  ['block-translator', 'block-translator', {}],
  ['block-translator unchained, one block per module', 'block-translator', { chain: false, batch: 1 }],
  ['instrew', 'instrew', {}],
  ['instrew without register promotion', 'instrew', { promoteRegisters: false }],
  ['instrew without call mapping', 'instrew', { mapCalls: false }],
  ['instrew without passes', 'instrew', { fold: false, rle: false, dce: false }],
  ['instrew with single-block units', 'instrew', { region: 'block' }],
];

let oracle: ExecutionEngine;
beforeAll(async () => {
  oracle = await resolveEngine('interpreter');
});

describe.each(CONFIGS)('%s', (_name, engineName, options) => {
  let engine: ExecutionEngine;
  beforeAll(async () => {
    engine = await resolveEngine(engineName, options);
  });

  it.each(SEEDS)('matches the interpreter on random program %i', (seed) => {
    const program = randomProgram(seed);
    const chunks = chunksFor(seed);
    const expected = runChunks(oracle, program, chunks);
    const actual = runChunks(engine, program, chunks);
    expect(actual).toEqual(expected);
  });
});

it('generates programs that end in different ways, so the comparison covers faults too', () => {
  const ends = new Set(SEEDS.map((seed) => runChunks(oracle, randomProgram(seed), [10_000_000]).at(-1)!.state));
  expect(ends).toEqual(new Set(['exited', 'signaled']));
});
