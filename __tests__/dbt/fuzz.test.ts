// Differential fuzzing: seeded random RV64GC programs (tools/node/dbt-fuzz.ts) give,
// under every translator configuration, exactly the interpreter's architectural state
// after every budget chunk — registers, FP flags and mode, pc, instructions retired,
// the data written, and how the program ended (exit or the same fault).
import type { ExecutionEngine } from 'virtlab';
import { resolveEngine } from '../../tools/cli/exec';
import { chunksFor, randomProgram, runChunks } from '../../tools/node/dbt-fuzz';

const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);
// Instrew translates on first execution here (hotThreshold 0), so that the random
// code, most of which runs once, is translated code; one configuration tiers.
const CONFIGS: Array<[string, string, Record<string, unknown>]> = [
  ['block-translator', 'block-translator', {}],
  ['block-translator unchained, one block per module', 'block-translator', { chain: false, batch: 1 }],
  ['instrew', 'instrew', { hotThreshold: 0 }],
  ['instrew without register promotion', 'instrew', { hotThreshold: 0, promoteRegisters: false }],
  ['instrew without call mapping', 'instrew', { hotThreshold: 0, mapCalls: false }],
  ['instrew without passes', 'instrew', { hotThreshold: 0, fold: false, rle: false, dce: false }],
  ['instrew with single-block units', 'instrew', { hotThreshold: 0, region: 'block' }],
  ['instrew tiered (regions translated on their third execution)', 'instrew', { hotThreshold: 3 }],
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
