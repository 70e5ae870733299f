// The inline access check of translated loads (core/models/dbt/emit.ts, access): a
// loop loads 2, 4 and 8 bytes ending exactly at a page's end (within the page: the
// translated code performs them) and one byte further (crossing into the next page:
// the unit leaves, and the interpreter performs them). The result is the interpreter's,
// and the instructions the interpreter ran count the crossing loads and little else.
// Mutation that must break it: in access(), the page-crossing term computed with the
// access's size instead of size − 1 (every load ending at the page's end then leaves
// to the interpreter too: about twice the instructions interpreted), or with size − 2
// (a crossing load then runs in translated code: almost nothing interpreted).
import { resolveEngine } from '../../tools/cli/exec';
import { startBare } from '../../tools/node/dbt-fuzz';
import { Assembler, elf } from '../../tools/node/rv-asm';

const TEXT = 0x10000;
const DATA = 0x20000;
const ITERATIONS = 4000;
/** Loads that cross a page boundary, per iteration. */
const CROSSING = 3;

function program(): Uint8Array {
  const [T0, T1, S2, A0, A7] = [5, 6, 18, 10, 17];
  const a = new Assembler(TEXT);
  // s2 = the end of the first data page.
  a.lui(S2, (DATA + 0x1000) >>> 12);
  a.addi(A0, 0, 0);
  a.addi(T0, 0, ITERATIONS >> 1);
  a.shiftImm('slli', T0, T0, 1);
  a.label('loop');
  let k = 0;
  // Each load in a basic block of its own: the optimizing translator coalesces the
  // checks of accesses through one base in a block into one check of their range.
  const load = (f3: number, off: number) => {
    a.load(f3, T1, S2, off);
    a.op(0, 0, A0, A0, T1);
    a.branch(1, T0, 0, `next${k}`);
    a.label(`next${k++}`);
  };
  for (const [f3, size] of [
    [1, 2],
    [2, 4],
    [3, 8],
  ]) {
    load(f3, -size);
    load(f3, -size + 1);
  }
  a.addi(T0, T0, -1);
  a.branch(1, T0, 0, 'loop');
  a.addi(A7, 0, 94); // exit_group(a0)
  a.ecall();
  const data = new Uint8Array(0x2000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) & 255;
  return elf(TEXT, [
    { vaddr: TEXT, bytes: a.finish(), flags: 5 },
    { vaddr: DATA, bytes: data, flags: 6 },
  ]);
}

const image = program();

test.each([
  ['instrew', { hotThreshold: 0 }],
  ['instrew', {}],
  ['block-translator', {}],
] as Array<[string, Record<string, unknown>]>)('%s %j: loads ending at a page end run translated, loads crossing it go to the interpreter', async (name, options) => {
  const reference = startBare(await resolveEngine('interpreter'), image, 'access.elf', 1);
  const want = reference.run(10_000_000);
  const instance = startBare(await resolveEngine(name, options), image, 'access.elf', 1);
  const got = instance.run(10_000_000);
  expect(got.state).toBe('exited');
  expect(got.exitCode).toBe(want.exitCode);
  expect(instance.instructions).toBe(reference.instructions);
  const interpreted = instance.counters().interpreted;
  // Every crossing load, once per iteration; besides them only the warm-up of the
  // loop and of the units that start after each crossing load (a hot threshold of
  // 50 runs of blocks of at most 20 instructions).
  expect(interpreted).toBeGreaterThanOrEqual(CROSSING * ITERATIONS);
  expect(interpreted).toBeLessThan(CROSSING * ITERATIONS + 8 * 50 * 20);
});
