// The translators' in-WebAssembly lookup table (core/models/dbt/runtime-module.ts) is
// two-way: a guest program calls, through function pointers, two functions exactly
// 32 KiB apart — whose pcs give the same first entry — one after the other, many
// times. Both stay reachable from translated code, so the calls do not fall back to
// the JavaScript dispatcher loop, and the result is the interpreter's.
// Mutation that must break it: in DbtRuntime.setLookup, always the first entry
// (`let e = e1;` with the choice of e2 removed): the two functions then evict each
// other and every other call returns to the dispatcher; or, in the lookup helpers,
// the second entry not probed.
import { resolveEngine } from '../../tools/cli/exec';
import { startBare } from '../../tools/node/dbt-fuzz';
import { Assembler, elf } from '../../tools/node/rv-asm';

const TEXT = 0x10000;
const F1 = 0x11000;
// 32 KiB above F1: (pc >> 1) mod 16384 is the same.
const F2 = F1 + 0x8000;
const CALLS = 2000 << 3;

function program(): Uint8Array {
  const [RA, T0, S1, S2, A0, A7] = [1, 5, 9, 18, 10, 17];
  const main = new Assembler(TEXT);
  main.lui(S1, F1 >>> 12);
  main.lui(S2, F2 >>> 12);
  main.addi(A0, 0, 0);
  main.addi(T0, 0, CALLS >> 3);
  main.shiftImm('slli', T0, T0, 3);
  main.label('loop');
  main.jalr(RA, S1, 0);
  main.jalr(RA, S2, 0);
  main.addi(T0, T0, -1);
  main.branch(1, T0, 0, 'loop');
  main.addi(A7, 0, 94); // exit_group(a0)
  main.ecall();
  const fn = (at: number, k: number) => {
    const a = new Assembler(at);
    a.addi(A0, A0, k);
    a.jalr(0, RA, 0);
    return a.finish();
  };
  return elf(TEXT, [
    { vaddr: TEXT, bytes: main.finish(), flags: 5 },
    { vaddr: F1, bytes: fn(F1, 1), flags: 5 },
    { vaddr: F2, bytes: fn(F2, 2), flags: 5 },
  ]);
}

const image = program();

test.each([
  ['instrew', { hotThreshold: 0 }],
  ['instrew', {}],
  ['block-translator', {}],
] as Array<[string, Record<string, unknown>]>)('%s %j: two called functions 32 KiB apart both stay in the lookup table', async (name, options) => {
  const reference = startBare(await resolveEngine('interpreter'), image, 'ways.elf', 1);
  const want = reference.run(10_000_000);
  const instance = startBare(await resolveEngine(name, options), image, 'ways.elf', 1);
  const got = instance.run(10_000_000);
  expect(got.state).toBe('exited');
  expect(got.exitCode).toBe((3 * CALLS) & 255);
  expect(got.exitCode).toBe(want.exitCode);
  expect(instance.instructions).toBe(reference.instructions);
  const c = instance.counters();
  // Direct-mapped, one call in two (CALLS of them) came back to the dispatcher loop.
  expect(c.dispatcherEntries).toBeLessThan(CALLS / 20);
  expect(c.lookupHits + c.hostCalls).toBeGreaterThan(CALLS);
});

// A new guest memory reads zero, and the lookup table is left so (every entry then
// holds pc 0, slot 0) except the two entries a lookup of pc 0 reads. A jump to address
// 0 from translated code, after many calls through a function pointer (so that slot 0
// holds a unit), must still fault at pc 0 as under the interpreter. Mutation that must
// break it (checked): DbtRuntime's constructor not marking lookupSlots(0) empty (the
// jump then enters the unit of slot 0).
test.each([
  ['instrew', { hotThreshold: 0 }],
  ['block-translator', {}],
] as Array<[string, Record<string, unknown>]>)('%s %j: a jump to address 0 from translated code faults there, as interpreted', async (name, options) => {
  const [RA, T0, S1, A0] = [1, 5, 9, 10];
  const main = new Assembler(TEXT);
  main.lui(S1, F1 >>> 12);
  main.addi(A0, 0, 0);
  main.addi(T0, 0, 200);
  main.label('loop');
  main.jalr(RA, S1, 0);
  main.addi(T0, T0, -1);
  main.branch(1, T0, 0, 'loop');
  main.jalr(RA, 0, 0); // call through a null function pointer
  main.addi(17, 0, 94); // exit_group(a0), not reached
  main.ecall();
  const fn = new Assembler(F1);
  fn.addi(A0, A0, 1);
  fn.jalr(0, RA, 0);
  const nullCall = elf(TEXT, [
    { vaddr: TEXT, bytes: main.finish(), flags: 5 },
    { vaddr: F1, bytes: fn.finish(), flags: 5 },
  ]);
  const want = startBare(await resolveEngine('interpreter'), nullCall, 'null.elf', 1).run(1_000_000);
  expect(want.state).toBe('signaled');
  const got = startBare(await resolveEngine(name, options), nullCall, 'null.elf', 1).run(1_000_000);
  expect(got.state).toBe(want.state);
  expect(got.signal).toBe(want.signal);
  expect(got.fault?.pc).toBe(0);
});
