// Differential fuzzing of the execution engines: seeded random RV64GC programs run
// under the interpreter (the oracle) and under every other engine, in the same
// random budget chunks, and the whole architectural state — registers, FP flags and
// rounding mode, pc, instructions retired, the data the program wrote, how it ended —
// must be equal after every chunk.
//
// A program sets s0 to a data page of random bytes, loads random register values
// from it (NaNs, infinities and subnormals among the FP ones), then runs random items:
// integer and M-extension operations (with zero and −1 divisors forced now and then),
// loads and stores of every width (misaligned ones too, a few crossing into the next
// page), FP operations of both precisions in every rounding mode (the dynamic one
// after random frm writes), fflags reads and clears, atomics, compressed instructions,
// forward branches, counted loops, switches (an indirect jump through a computed
// table, in a loop), calls to small leaf functions, and sometimes a fault at the end
// (a load from page 0, a store across into an unmapped page, grouped accesses whose
// last faults). It exits through exit_group.

import { Rng, signalStatus, type ExecutionEngine, type GuestInstance } from 'virtlab';
import { ALU, Assembler, elf } from './rv-asm';

export const TEXT = 0x10000;
export const DATA = 0x40000;
export const DATA_BYTES = 8192;

/** Integer registers the random items use: not x0, sp (x2), or s0 and s1 (x8, x9: data pointers). */
const POOL = [1, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31];
const S0 = 8;
/** s1 = s0 + 2048, so that 12-bit offsets reach the whole first data page and across it. */
const S1 = 9;
const LOOP = 5;

export interface FuzzProgram {
  readonly seed: number;
  readonly elf: Uint8Array;
  readonly items: number;
}

/** A random program of about `items` items. */
export function randomProgram(seed: number, items = 200): FuzzProgram {
  const rng = new Rng(seed, 'dbt-fuzz');
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  // Inside a counted loop its counter (t0) is left alone; leaf functions leave ra alone.
  let avoid = -1;
  const reg = () => {
    for (;;) {
      const r = pick(POOL);
      if (r !== avoid) return r;
    }
  };
  const leafReg = () => {
    for (;;) {
      const r = pick(POOL);
      if (r !== 1) return r;
    }
  };
  const freg = () => rng.int(32);
  const a = new Assembler(TEXT);
  let label = 0;
  const fresh = () => `L${label++}`;

  a.lui(S0, DATA >>> 12);
  // s0 += the zero at the start of the data: a pointer that translators cannot fold to a
  // constant, so that accesses through it share a base (as real code's do).
  a.load(3, S1, S0, 0);
  a.op(0, 0, S0, S0, S1);
  a.addi(S1, S0, 2047);
  a.addi(S1, S1, 1);
  for (const r of POOL) a.load(3, r, S0, rng.int(255) * 8);
  for (let r = 0; r < 32; r++) a.fload(3, r, S1, 8 * r);

  const alu = (rd: number, inLeaf: boolean): void => {
    const rs1 = inLeaf ? leafReg() : reg();
    const rs2 = inLeaf ? leafReg() : reg();
    switch (rng.int(9)) {
      case 0:
        a.op(rng.int(2) ? 0x20 : 0, pick([0, 5]), rd, rs1, rs2); // sub/sra or add/srl
        break;
      case 1:
        a.op(0, pick(Object.values(ALU)), rd, rs1, rs2);
        break;
      case 2:
        a.opImm(pick([0, 2, 3, 4, 6, 7]), rd, rs1, rng.int(4096) - 2048);
        break;
      case 3:
        a.shiftImm(pick(['slli', 'srli', 'srai'] as const), rd, rs1, rng.int(64));
        break;
      case 4:
        a.opW(pick([0, 0x20]), 0, rd, rs1, rs2);
        a.opW(0, pick([1, 5]), rd, rd, rs2);
        break;
      case 5:
        {
          const f3 = pick([0, 1, 5]);
          a.opImmW(f3, f3 === 5 && rng.int(2) ? 0x20 : 0, rd, rs1, rng.int(4096) - 2048);
        }
        break;
      case 6:
        // M extension; sometimes with a zero or −1 divisor.
        if (rng.int(4) === 0 && rs2 !== avoid) a.addi(rs2, 0, pick([0, -1]));
        if (rng.int(2)) a.op(1, rng.int(8), rd, rs1, rs2);
        else a.opW(1, pick([0, 4, 5, 6, 7]), rd, rs1, rs2);
        break;
      case 7:
        a.lui(rd, rng.int(1 << 20));
        break;
      default:
        switch (rng.int(5)) {
          case 0: a.cAddi(rd, rng.int(64) - 32); break;
          case 1: a.cLi(rd, rng.int(64) - 32); break;
          case 2: a.cMv(rd, rs2); break;
          case 3: a.cAdd(rd, rs2); break;
          default: a.cSlli(rd, 1 + rng.int(63));
        }
    }
  };

  const memory = (inLeaf: boolean): void => {
    const r = inLeaf ? leafReg() : reg();
    const width = rng.int(4);
    // Mostly aligned; sometimes misaligned; rarely across into the second data page.
    const base = rng.int(2) ? S0 : S1;
    let off = (rng.int(2040) & ~((1 << width) - 1)) - (base === S1 ? 1024 : 0);
    if (rng.int(6) === 0) off = rng.int(2000) + 1;
    if (rng.int(20) === 0) {
      off = 2047 - rng.int(3);
      if (base === S0) return;
    }
    if (rng.int(2)) a.load(rng.int(2) && width < 3 ? width + 4 : width, r, base, off);
    else a.store(width, r, base, off);
  };

  const fp = (): void => {
    const rd = freg();
    const rs1 = freg();
    const rs2 = freg();
    const rm = pick([0, 1, 2, 3, 4, 7, 7, 7, 0, 0]);
    const dbl = rng.int(4) !== 0 ? 1 : 0;
    switch (rng.int(12)) {
      case 0:
      case 1:
        a.fop(pick([0x00, 0x04, 0x08, 0x0c]) | dbl, rd, rs1, rs2, rm); // fadd, fsub, fmul, fdiv
        break;
      case 2:
        a.fma(rng.int(4), dbl, rd, rs1, rs2, freg(), rm);
        break;
      case 3:
        if (rng.int(2)) a.fop(0x2c | dbl, rd, rs1, 0, rm); // fsqrt
        else if (rng.int(2)) a.fop(0x20, rd, rs1, 1, rm); // fcvt.s.d (tininess after rounding near FLT_MIN)
        else a.fop(0x21, rd, rs1, 0, rm); // fcvt.d.s
        break;
      case 4:
        a.fop(0x10 | dbl, rd, rs1, rs2, rng.int(3)); // fsgnj, fsgnjn, fsgnjx
        break;
      case 5:
        a.fop(0x14 | dbl, rd, rs1, rs2, rng.int(2)); // fmin, fmax
        break;
      case 6:
        a.fop(0x50 | dbl, reg(), rs1, rs2, rng.int(3)); // fle, flt, feq
        break;
      case 7:
        a.fop(0x60 | dbl, reg(), rs1, rng.int(4), pick([1, 1, 0, rm])); // fcvt to integer
        break;
      case 8:
        a.fop(0x68 | dbl, rd, reg(), rng.int(4), rm); // fcvt from integer
        break;
      case 9:
        if (rng.int(2)) a.fop(0x70 | dbl, reg(), rs1, 0, rng.int(2)); // fmv.x, fclass
        else a.fop(0x78 | dbl, rd, reg(), 0, 0); // fmv from x
        break;
      case 10:
        if (rng.int(2)) a.fload(pick([2, 3]), rd, S0, rng.int(255) * 8);
        else a.fstore(pick([2, 3]), rs1, S0, rng.int(255) * 8);
        break;
      default:
        // The FP CSRs: read the flags, clear them, or set a random rounding mode.
        switch (rng.int(4)) {
          case 0: a.csr(2, reg(), 0x001, 0); break;
          case 1: a.csr(1, reg(), 0x001, 0); break;
          case 2: a.csr(5, 0, 0x002, rng.int(5)); break;
          default: a.csr(2, reg(), 0x003, 0);
        }
    }
  };

  const atomic = (): void => {
    const width = pick([2, 3] as const);
    const addr = 6; // t1: an aligned address in the data page
    a.addi(addr, S0, rng.int(128) * 8);
    if (rng.int(3) === 0) {
      a.amo(0x02, width, pick(POOL.filter((r) => r !== addr && r !== avoid)), addr, 0); // lr
      a.amo(0x03, width, reg(), addr, reg()); // sc
    } else a.amo(pick([0x00, 0x01, 0x04, 0x0c, 0x08, 0x10, 0x14, 0x18, 0x1c]), width, pick(POOL.filter((r) => r !== addr && r !== avoid)), addr, reg());
  };

  const leaves: Array<() => void> = [];
  const item = (depth: number): void => {
    const k = rng.int(20);
    if (k < 8) alu(reg(), false);
    else if (k < 11) memory(false);
    else if (k < 15) fp();
    else if (k === 15) atomic();
    else if (k === 16 && depth < 2) {
      // A forward branch over a few items.
      const skip = fresh();
      a.branch(pick([0, 1, 4, 5, 6, 7]), reg(), reg(), skip);
      for (let i = rng.int(4); i >= 0; i--) item(depth + 1);
      a.label(skip);
    } else if (k === 17 && depth < 2 && avoid < 0) {
      // A counted loop whose body leaves its counter alone.
      const head = fresh();
      a.addi(LOOP, 0, 1 + rng.int(24));
      a.label(head);
      avoid = LOOP;
      for (let i = rng.int(3); i >= 0; i--) {
        if (rng.int(2)) alu(reg(), false);
        else memory(false);
      }
      avoid = -1;
      a.addi(LOOP, LOOP, -1);
      a.branch(1, LOOP, 0, head);
    } else if (k === 18) {
      // A call to a leaf function, emitted after the main body.
      const name = fresh();
      a.jal(1, name);
      leaves.push(() => {
        a.label(name);
        for (let i = rng.int(5); i >= 0; i--) {
          if (rng.int(3)) alu(leafReg(), true);
          else memory(true);
        }
        a.jalr(0, 1, 0);
      });
    } else if (k === 19 && depth < 2 && avoid < 0) {
      // A switch in a counted loop: an indirect jump to one of four equal-sized cases
      // chosen by the counter (a computed jump table), so the jump takes several targets.
      const head = fresh();
      const cases = fresh();
      const join = fresh();
      const dispatch = fresh();
      a.addi(LOOP, 0, 4 + rng.int(12));
      a.label(head);
      a.jal(0, dispatch);
      a.label(cases);
      const caseBase = a.pc;
      const pool = POOL.filter((r) => r !== LOOP && r !== 6 && r !== 7);
      for (let c = 0; c < 4; c++) {
        for (let j = 0; j < 7; j++) a.addi(pick(pool), pick(pool), rng.int(4096) - 2048);
        a.jal(0, join);
      }
      a.label(dispatch);
      a.opImm(7, 6, LOOP, 3); // t1 = counter & 3
      a.shiftImm('slli', 6, 6, 5); // × 32 bytes per case
      const here = a.pc;
      a.auipc(7, 0);
      a.addi(7, 7, caseBase - here);
      a.op(0, 0, 6, 6, 7);
      a.jalr(0, 6, 0);
      a.label(join);
      a.addi(LOOP, LOOP, -1);
      a.branch(1, LOOP, 0, head);
    } else alu(reg(), false);
  };

  for (let i = 0; i < items; i++) item(0);
  // Sometimes a fault at the end: page 0 is unmapped, and so is the page after the data
  // (a store that starts on the last data page and crosses into it).
  const ending = rng.int(6);
  if (ending === 0) a.load(3, reg(), 0, rng.int(64) * 8);
  else if (ending === 1) {
    a.lui(6, (DATA + DATA_BYTES) >>> 12);
    a.store(3, reg(), 6, -3);
  } else if (ending <= 3) {
    // Accesses through one base, the last of them beyond the data: the first ones must
    // still happen before the fault, wherever translators place their checks.
    a.addi(6, S1, 2047);
    a.addi(6, 6, 2047);
    a.addi(6, 6, 2047);
    a.addi(6, 6, 3); // t1 = s1 + 6144, the end of the data
    a.load(3, pick(POOL.filter((r) => r !== 6)), 6, -16);
    a.store(3, reg(), 6, -8);
    a.load(2, pick(POOL.filter((r) => r !== 6)), 6, rng.int(16));
  }
  a.addi(17, 0, 94); // exit_group
  a.addi(10, 0, 0);
  a.ecall();
  for (const leaf of leaves) leaf();
  const data = new Uint8Array(DATA_BYTES);
  rng.fillBytes(data);
  data.fill(0, 0, 8);
  // Doubles worth computing with among the random patterns.
  const dv = new DataView(data.buffer);
  // Among them, values around the least normals whose results round up to exactly
  // FLT_MIN or DBL_MIN while tiny after rounding (RISC-V then owes UF): just below
  // 2^-126, the halfway point below it, and square roots of DBL_MIN a little off.
  const specials = [
    0, -0, 1, -1, 0.1, 1e308, -1e-310, Infinity, -Infinity, NaN, 3.5, 2 ** 52 + 1, -7e-320, 1 / 3, 2147483647.5, -9.3e18,
    2 ** -126 * (1 - 2 ** -25), 2 ** -126 - 2 ** -150, -(2 ** -126 - 2 ** -151), 2 ** -126, 2 ** -511 * (1 + 2 ** -52), 2 ** -511 * (1 - 2 ** -53), 2 ** -1022, 0.5 - 2 ** -54,
  ];
  for (let r = 0; r < 32; r++) {
    const o = 2048 + 8 * r;
    if (rng.int(3) === 0) dv.setFloat64(o, pick(specials), true);
    else if (rng.int(2) === 0) dv.setFloat64(o, (rng.next() - 0.5) * 2 ** (rng.int(200) - 100), true);
    else if (rng.int(3) === 0) {
      dv.setUint32(o + 4, 0xffffffff, true); // a NaN-boxed single
      // Sometimes one near FLT_MIN: the largest subnormal, FLT_MIN, or FLT_MIN a few ulps up.
      if (rng.int(2) === 0) dv.setUint32(o, pick([0x007fffff, 0x00800000, 0x00800001, 0x80800003, 0x3f000001, 0x3effffff]), true);
    }
  }
  const code = a.finish();
  return {
    seed,
    items,
    elf: elf(TEXT, [
      { vaddr: TEXT, bytes: code, flags: 5 },
      { vaddr: DATA, bytes: data, flags: 6 },
    ]),
  };
}

/** Everything architectural about a guest at one point, for comparison. */
export interface GuestSnapshot {
  readonly state: string;
  readonly status: number;
  readonly instructions: number;
  readonly pc: number;
  readonly x: number[];
  readonly f: number[];
  readonly flags: number;
  readonly frm: number;
  readonly data: string;
}

interface SavedProcess {
  hart: { x: Int32Array; f: Uint32Array; pc: number; flags: number; frm: number };
  mem: { pages: Uint32Array; bytes: Uint8Array };
}

function snapshot(instance: GuestInstance, status: ReturnType<GuestInstance['run']>): GuestSnapshot {
  const s = instance.save() as SavedProcess;
  const page = s.mem.pages.indexOf(DATA / 4096);
  const data = page < 0 ? '' : Buffer.from(s.mem.bytes.subarray(page * 4096, page * 4096 + DATA_BYTES)).toString('base64');
  return {
    state: status.state,
    status: status.state === 'exited' ? status.exitCode! : status.state === 'signaled' ? signalStatus(status.signal!) : -1,
    instructions: instance.instructions,
    pc: s.hart.pc,
    x: [...s.hart.x.subarray(0, 64)],
    f: [...s.hart.f],
    flags: s.hart.flags,
    frm: s.hart.frm,
    data,
  };
}

/** Starts a bare program (no files, no input, a 16 MiB memory; `seed` seeds its random bytes). */
export function startBare(engine: ExecutionEngine, elfImage: Uint8Array, name: string, seed: number): GuestInstance {
  const rng = new Rng(seed, 'guest');
  let instance: GuestInstance | undefined = undefined;
  instance = engine.start({
    elf: elfImage,
    programPath: name,
    argv: [name],
    envp: [],
    files: new Map(),
    memoryBytes: 16 * 2 ** 20,
    stackBytes: 2 ** 20,
    maxInstructions: 0,
    readStdin: () => null,
    writeStdout: () => {},
    writeStderr: () => {},
    now: () => instance!.instructions,
    randomBytes: (o) => rng.fillBytes(o),
  });
  return instance;
}

/** Runs a program under an engine in the given budget chunks; the state after each. */
export function runChunks(engine: ExecutionEngine, program: FuzzProgram, chunks: readonly number[]): GuestSnapshot[] {
  const instance = startBare(engine, program.elf, 'fuzz.elf', program.seed);
  const out: GuestSnapshot[] = [];
  for (const n of chunks) {
    const st = instance.run(n);
    out.push(snapshot(instance, st));
    if (st.state !== 'running') break;
  }
  return out;
}

/** Budget chunks for a seed: small ones (exercising exact budgets) and a last large one. */
export function chunksFor(seed: number): number[] {
  const rng = new Rng(seed, 'chunks');
  const chunks = Array.from({ length: 6 }, () => 1 + rng.int(rng.int(2) ? 40 : 400));
  chunks.push(1_000_000);
  return chunks;
}
