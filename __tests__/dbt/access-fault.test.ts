// Faults of translated loads and stores (core/models/dbt/emit.ts: access, rangeCheck,
// pageBits): a loop makes the same accesses through one base register many times, on
// good pages, and in its last iteration moves the base so that an access faults — the
// base gets address bits above 31 set, or points past the guest's memory, or the
// accesses reach at a small offset into a read-only or unmapped page right after
// ones that are allowed. The translated unit must leave before the faulting access,
// and the interpreter raise the fault: the same signal, pc, address, registers and
// instruction count as under the interpreter alone. Accesses in one block share one
// range check (rle's coalescing); accesses in blocks of their own have one each.
//
// Mutations that must break it (each was tried once):
// - access(): the term of the address bits above 31 shifted by 44 instead of 32
//   (bits 32…43 then unchecked: the 2^32 cases run the access translated, on the
//   wrapped address, and exit normally);
// - rangeCheck(): the high bits of the first and last byte left out (the 2^32 and
//   2^63 range cases do the same);
// - rangeCheck(): the last byte's page left out (the store and load reaching into
//   the read-only or unmapped page run translated);
// - pageBits(): the table index masked to the guest's pages, 12 bits here
//   (an address 2^31 above a good one then reads that one's entry).
import { resolveEngine } from '../../tools/cli/exec';
import { startBare } from '../../tools/node/dbt-fuzz';
import { Assembler, elf } from '../../tools/node/rv-asm';

const TEXT = 0x10000;
/** A writable page, then a read-only one; the page after them is unmapped. */
const DATA = 0x20000;
const ITERATIONS = 300;

const [T0, T1, T2, T3, S3, A0, A7] = [5, 6, 7, 28, 19, 10, 17];

interface Access {
  store: boolean;
  /** funct3: 0 lb/sb, 1 lh/sh, 2 lw/sw, 3 ld/sd. */
  f3: number;
  off: number;
}

interface Case {
  /** The base register's value in all iterations but the last. */
  base: number;
  /** In the last iteration the base is base + 2^shift. */
  shift: number;
  accesses: Access[];
  /** Each access in a basic block of its own (no range check shared). */
  split: boolean;
}

function program(c: Case): Uint8Array {
  const a = new Assembler(TEXT);
  a.lui(S3, (c.base + 0x800) >>> 12);
  a.addi(S3, S3, ((c.base & 0xfff) << 20) >> 20);
  a.addi(A0, 0, 0);
  a.addi(T0, 0, ITERATIONS);
  a.label('loop');
  // t1 = base, or base + 2^shift when t0 is 1 (the last iteration).
  a.opImm(3, T2, T0, 2); // sltiu
  a.shiftImm('slli', T2, T2, c.shift);
  a.op(0, 0, T1, S3, T2);
  c.accesses.forEach((x, k) => {
    if (x.store) a.store(x.f3, T0, T1, x.off);
    else {
      a.load(x.f3, T3, T1, x.off);
      a.op(0, 0, A0, A0, T3);
    }
    if (c.split) {
      a.branch(1, T0, 0, `next${k}`);
      a.label(`next${k}`);
    }
  });
  a.addi(T0, T0, -1);
  a.branch(1, T0, 0, 'loop');
  a.addi(A7, 0, 94); // exit_group(a0)
  a.ecall();
  const data = new Uint8Array(0x1000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) & 255;
  return elf(TEXT, [
    { vaddr: TEXT, bytes: a.finish(), flags: 5 },
    { vaddr: DATA, bytes: data, flags: 6 },
    { vaddr: DATA + 0x1000, bytes: data, flags: 4 },
  ]);
}

const ld = (off: number): Access => ({ store: false, f3: 3, off });
const sd = (off: number): Access => ({ store: true, f3: 3, off });
const END = DATA + 0x1000;

const cases: Array<[string, Case]> = [
  ['loads, base + 2^32', { base: DATA + 64, shift: 32, accesses: [ld(0), ld(8), ld(-16)], split: false }],
  ['loads, base + 2^32, one block each', { base: DATA + 64, shift: 32, accesses: [ld(0), ld(8), { store: false, f3: 0, off: 3 }], split: true }],
  ['a byte load, base + 2^40', { base: DATA + 64, shift: 40, accesses: [{ store: false, f3: 0, off: 5 }], split: true }],
  ['stores, base + 2^63', { base: DATA + 64, shift: 63, accesses: [sd(0), sd(8)], split: false }],
  ['a store, base + 2^63, one block', { base: DATA + 64, shift: 63, accesses: [sd(0)], split: true }],
  ['loads, base + 2^31 (past the guest memory)', { base: DATA + 64, shift: 31, accesses: [ld(0), ld(16)], split: false }],
  ['a load, base + 2^31, one block', { base: DATA + 64, shift: 31, accesses: [{ store: false, f3: 2, off: 4 }], split: true }],
  // Base END − 16, then END − 8: the second store reaches the read-only page.
  ['stores reaching the read-only page', { base: END - 16, shift: 3, accesses: [sd(0), sd(8)], split: false }],
  ['stores reaching the read-only page, one block each', { base: END - 16, shift: 3, accesses: [sd(0), sd(8)], split: true }],
  // Base END + 0x1000 − 16, then 8 more: the second load reaches the unmapped page.
  ['loads reaching the unmapped page', { base: END + 0x1000 - 16, shift: 3, accesses: [ld(0), ld(8)], split: false }],
  ['loads reaching the unmapped page, one block each', { base: END + 0x1000 - 16, shift: 3, accesses: [ld(0), ld(8)], split: true }],
];

const engines = [
  ['instrew', { hotThreshold: 0 }],
  ['instrew', {}],
  ['block-translator', {}],
] as Array<[string, Record<string, unknown>]>;

describe.each(cases)('%s', (_name, c) => {
  const image = program(c);
  test.each(engines)('%s %j: the fault is the interpreter’s', async (name, options) => {
    const reference = startBare(await resolveEngine('interpreter'), image, 'fault.elf', 1);
    const want = reference.run(10_000_000);
    expect(want.state).toBe('signaled');
    const instance = startBare(await resolveEngine(name, options), image, 'fault.elf', 1);
    const got = instance.run(10_000_000);
    expect(got.state).toBe('signaled');
    expect(got.signal).toBe(want.signal);
    expect(got.fault?.pc).toBe(want.fault?.pc);
    expect(got.fault?.address).toBe(want.fault?.address);
    expect(instance.instructions).toBe(reference.instructions);
    const regs = (i: typeof instance) => [...(i.save() as { hart: { x: Int32Array } }).hart.x];
    expect(regs(instance)).toEqual(regs(reference));
    // The loop ran translated: only the warm-up and what follows the fault were interpreted.
    if (name === 'instrew') expect(instance.counters().interpreted).toBeLessThan(ITERATIONS * 4);
  });
});
