// The interpreter's blocks (straight-line runs decoded once and run without a budget
// check per instruction) keep budgets exact: every run stops after exactly the
// instructions it was given, whatever the chunk sizes, and the state at each stop is the
// one reached by running instruction by instruction.
//
// Mutation that must break it (checked): running a whole block when the budget ends
// inside it (checking the budget only at block entry, without falling back to one
// instruction at a time). For budgets longer than the run loop's slices: not counting
// a system call's instructions off the slice's end (`stop -= n`), so that a budget
// with system calls in it runs past its end.
import type { ExecutionEngine } from 'virtlab';
import { Hart, Interpreter, RUN_SLICE } from '../../../../core/models/riscv/interpreter';
import { GUEST_MEMORY, GuestMemory, PERM_MAPPED, PERM_R, PERM_W, PERM_X } from '../../../../core/models/riscv/memory';
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

  it('guest crc32 (small) in budgets longer than a slice of the run loop: every stop exact, and the right output', () => {
    const program = guestPrograms().find((p) => p.name === 'crc32')!;
    const c = program.cases.find((x) => x.id === 'small')!;
    const stops: number[] = [];
    const chunk = 3 * RUN_SLICE + 7;
    const run = runGuestCase(engine, program, c, 0, chunk, { stops });
    const stepped = runGuestCase(engine, program, c, 0, 37);
    expect(Buffer.from(run.stdout).toString()).toBe(Buffer.from(stepped.stdout).toString());
    expect(run.instructions).toBe(stepped.instructions);
    expect(stops.length).toBeGreaterThan(2);
    const wrong = stops.slice(0, -1).filter((s, k) => s !== (k + 1) * chunk);
    expect(wrong).toEqual([]);
  });
});

// Loads and stores compute addresses below 2 GiB in int32 arithmetic and the others
// (negative bases, bases of 4 GiB and more, sums past 2 GiB) exactly: a fault names the
// exact 64-bit address, and a base of -1 plus an offset wraps to a low address that is
// read. Mutation that must break it (checked): taking the int32 sum without testing the
// base's high word.
// Budgets longer than the run loop's slices (see Interpreter.run) stay exact with system
// calls inside them. Mutation that must break it (checked): not counting a system call's
// instructions off the slice's end (`stop -= n`), so that the last slice runs past the budget.
describe('interpreter budgets over several slices', () => {
  it('a loop with a system call in it runs exactly its budget, and every call', () => {
    const mem = new GuestMemory(GUEST_MEMORY.min);
    mem.protect(0x1000, 0x1000, PERM_R | PERM_X | PERM_MAPPED);
    // addi t0, t0, 1; ecall; j back to the addi
    [0x00128293, 0x00000073, 0xff9ff06f].forEach((r, k) => mem.dv.setUint32(0x1000 + 4 * k, r, true));
    const hart = new Hart(mem);
    hart.pc = 0x1000;
    let calls = 0;
    const cpu = new Interpreter(mem, hart, () => (calls++, false), () => 0);
    for (const budget of [2 * RUN_SLICE - 1, RUN_SLICE + 1, 3 * RUN_SLICE + 2]) {
      const before = hart.instret;
      expect(cpu.run(budget).kind).toBe('budget');
      expect(hart.instret - before).toBe(budget);
    }
    const total = 2 * RUN_SLICE - 1 + RUN_SLICE + 1 + 3 * RUN_SLICE + 2;
    expect(hart.instret).toBe(total);
    expect(calls).toBe(Math.floor((total + 1) / 3));
    expect(hart.x[10]).toBe(Math.ceil(total / 3));
  });
});

describe('interpreter load and store addresses', () => {
  const LD = (imm: number) => (((imm & 0xfff) << 20) | (11 << 15) | (3 << 12) | (10 << 7) | 0x03) >>> 0;
  const SD = (imm: number) => ((((imm >> 5) & 0x7f) << 25) | (12 << 20) | (11 << 15) | (3 << 12) | ((imm & 31) << 7) | 0x23) >>> 0;

  function run(raw: number | number[], hi: number, lo: number, budget = 1): { fault?: number; a0: [number, number]; stored: number; pc: number; instret: number; a1: number } {
    const mem = new GuestMemory(GUEST_MEMORY.min);
    mem.protect(0, 0x1000, PERM_R | PERM_MAPPED);
    mem.protect(0x1000, 0x1000, PERM_R | PERM_X | PERM_MAPPED);
    mem.protect(0x2000, 0x1000, PERM_R | PERM_W | PERM_MAPPED);
    [raw].flat().forEach((r, k) => mem.dv.setUint32(0x1000 + 4 * k, r, true));
    mem.dv.setInt32(0x7f8, 0x11223344, true);
    mem.dv.setInt32(0x7fc, 0x55667788, true);
    const hart = new Hart(mem);
    hart.x[22] = lo;
    hart.x[23] = hi;
    hart.x[24] = 0x0badcafe;
    hart.pc = 0x1000;
    const stop = new Interpreter(mem, hart, () => true, () => 0).run(budget);
    return { fault: stop.kind === 'fault' ? stop.fault!.address : undefined, a0: [hart.x[20], hart.x[21]], stored: mem.dv.getInt32(0x2008, true), pc: hart.pc, instret: hart.instret, a1: hart.x[22] };
  }

  it.each([
    ['a negative base', -1, -0x3000, 16, -0x3000 + 16],
    ['a base just under 2 GiB', 0, 0x7ffffff8, 16, 0x80000008],
    ['a base of 4 GiB and more', 1, 0x2000, 0, 2 ** 32 + 0x2000],
    ['a negative sum', -1, -1, -16, -17],
    ['a base past 2 GiB', 0, -0x1000, 8, 2 ** 32 - 0x1000 + 8],
  ])('%s: the fault names the exact address', (_name, hi, lo, imm, address) => {
    expect(run(LD(imm), hi, lo).fault).toBe(address);
    expect(run(SD(imm), hi, lo).fault).toBe(address);
  });

  it('a base of -1 plus an offset reads the low address it wraps to; an ordinary base reads and writes', () => {
    expect(run(LD(2041), -1, -1)).toMatchObject({ fault: undefined, a0: [0x11223344, 0x55667788] });
    expect(run(SD(8), 0, 0x2000)).toMatchObject({ fault: undefined, stored: 0x0badcafe });
  });

  // Mutation that must break it (checked): the fused add+load counting the load only after it ran.
  it('a load fused with the add before it faults at its own pc, with the add done and counted, as unfused', () => {
    const ADD = ((12 << 20) | (11 << 15) | (11 << 7) | 0x33) >>> 0; // add a1, a1, a2
    const both = [true, false].map((fuse) => {
      Interpreter.fuse = fuse;
      try {
        return run([ADD, LD(8), ADD, ADD], 0, 0x3000, 100);
      } finally {
        Interpreter.fuse = true;
      }
    });
    expect(both[0]).toEqual(both[1]);
    expect(both[0]).toMatchObject({ fault: 0x3000 + 0x0badcafe + 8, pc: 0x1004, instret: 1, a1: 0x3000 + 0x0badcafe });
  });
});

// A 4-byte instruction whose second half lies on the next page is decoded into the first
// page's slots; a store to the second page must drop that decoding too, or the old
// instruction runs again. Mutation that must break it (checked): dropPage forgetting the
// page before a written one when an instruction crosses into it.
describe('an instruction across a page boundary', () => {
  it('runs as rewritten after a store to its second half, as QEMU runs it', () => {
    const mem = new GuestMemory(GUEST_MEMORY.min);
    mem.protect(0x1000, 0x1000, PERM_R | PERM_X | PERM_MAPPED);
    mem.protect(0x2000, 0x1000, PERM_R | PERM_W | PERM_X | PERM_MAPPED);
    mem.dv.setUint16(0x1ffe, 0x0513, true); // addi a0, a0, 1: its low half…
    mem.dv.setUint16(0x2000, 0x0015, true); // …and its high half, on the next page
    mem.dv.setUint32(0x2002, 0x00c59023, true); // sh a2, 0(a1): rewrites the high half
    mem.dv.setUint32(0x2006, 0xff9ff06f, true); // j 0x1ffe
    const hart = new Hart(mem);
    hart.x[22] = 0x2000; // a1
    hart.x[24] = 0x0055; // a2: the high half of addi a0, a0, 5
    hart.pc = 0x1ffe;
    const stop = new Interpreter(mem, hart, () => true, () => 0).run(4);
    expect(stop.kind).not.toBe('fault');
    expect(hart.instret).toBe(4);
    expect(hart.x[20]).toBe(1 + 5);
  });
});

// The decoded tables of a dropped page are taken again by the next page decoded, in any
// interpreter of the process: they must come back as new, or the next page runs the
// instructions and blocks of the one before. Mutation that must break it (checked):
// PageCode.clear leaving blockAt as it was.
describe('decoded tables taken again', () => {
  const ADDI_A0 = (k: number) => (((k & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13) >>> 0; // addi a0, a0, k
  const JAL_BACK = 0xffdff06f; // jal x0, -4

  /** A loop of addi a0, a0, k at 0x1000 run for `budget` instructions; the interpreter and a0. */
  function loop(k: number, budget: number): { cpu: Interpreter; a0: number } {
    const mem = new GuestMemory(GUEST_MEMORY.min);
    mem.protect(0x1000, 0x1000, PERM_R | PERM_X | PERM_MAPPED);
    mem.dv.setUint32(0x1000, ADDI_A0(k), true);
    mem.dv.setUint32(0x1004, JAL_BACK, true);
    const hart = new Hart(mem);
    hart.pc = 0x1000;
    const cpu = new Interpreter(mem, hart, () => true, () => 0);
    expect(cpu.run(budget).kind).toBe('budget');
    return { cpu, a0: hart.x[20] };
  }

  it('after fence.i in one interpreter, another decodes its own code at the same place', () => {
    const first = loop(1, 10);
    expect(first.a0).toBe(5);
    first.cpu.flushCode();
    expect(loop(100, 10).a0).toBe(500);
    // And with the blocks of one instruction (a budget that ends inside the loop's block).
    loop(3, 9).cpu.flushCode();
    expect(loop(7, 9).a0).toBe(35);
  });
});
