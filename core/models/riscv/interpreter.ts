// The RV64GC interpreter: the reference execution engine and the correctness oracle
// of every translator. It decodes with the decoder of decoder.ts, which the
// translators share, so every engine agrees on what an instruction means.
//
// Speed comes from three choices. Guest registers are pairs of int32 in one
// Int32Array (x[2r] low word, x[2r+1] high word), so no BigInt on hot paths.
// Instructions are decoded once into per-page tables (operation number and operands),
// and the straight-line runs between jumps into blocks that the run loop reads in a
// line, dispatching with one switch; a store to a page holding decoded code, a change of
// its permissions, or fence.i drops the page's tables and blocks, so self-modifying code
// works.
// Writes to x0 are redirected at decode time to a scratch register (index 32), so no
// instruction tests rd at run time.

import * as decoderModule from './decoder';
import * as fpModule from './fp';
import * as fpExecModule from './fpexec';
import * as int64 from './int64';
import * as memory from './memory';
import type { Decoded } from './decoder';


// Imported bindings become getter calls once TypeScript is transpiled to CommonJS, so
// everything the hot loop touches is copied into module constants once, here.
const { GuestFault } = memory;
type GuestFault = memory.GuestFault;
type GuestMemory = memory.GuestMemory;
const { GUEST_MEMORY, GuestMemory, PAGE_SHIFT, PERM_DECODED, PERM_MAPPED, PERM_R, PERM_W, PERM_X, SIGBUS, SIGILL, SIGSEGV, SIGTRAP } = memory;
const { div32, div64, mulh } = int64;
const { add: fpAdd, mul: fpMul, div: fpDiv, fma: fpFma, NV: fpNV } = fpModule;
const { decode16, decode32, newDecoded, writesIntRd } = decoderModule;
const { execFp } = fpExecModule;

function loadFault(a: number): GuestFault {
  return new GuestFault(SIGSEGV, a, 'load from an unmapped or unreadable address');
}

function storeFault(a: number): GuestFault {
  return new GuestFault(SIGSEGV, a, 'store to an unmapped or read-only address');
}

/**
 * The address x[r1] + imm of a load or store whose base is negative or 2 GiB or more, or
 * whose sum overflows an int32: the run loop computes the others in int32 arithmetic
 * (guest memory lies below 2 GiB). Faults when the address lies outside guest memory,
 * with the exact 64-bit address.
 */
function outerAddress(x: Int32Array, r1: number, imm: number, limit: number, write: boolean): number {
  const a = x[r1 + 1] * TWO32 + (x[r1] >>> 0) + imm;
  if (a >= 0 && a < limit) return a;
  throw write ? storeFault(a) : loadFault(a);
}

/** Is FP register pair f[i], f[i+1] (i = 2·reg) a signalling double NaN? */
function isSignalingD(f: Uint32Array, i: number): boolean {
  const hi = f[i + 1];
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || f[i] !== 0) && (hi & 0x80000) === 0;
}

// ---- operation numbers ----

/**
 * The decoder's operation numbers (decoder.ts), copied here so that the dispatch
 * switch below sees them as literals: transpilers inline a const enum's members only
 * in the file that declares it, and a switch over imported members compares case by
 * case (about 10% slower on FP-heavy guests). A test checks that the two agree.
 * 0 means "not decoded yet" in the interpreter's tables.
 */
const enum Op {
  NONE = 0,
  ILLEGAL,
  LUI, AUIPC, JAL, JALR,
  BEQ, BNE, BLT, BGE, BLTU, BGEU,
  LB, LH, LW, LD, LBU, LHU, LWU,
  SB, SH, SW, SD,
  ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
  ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
  ADDIW, SLLIW, SRLIW, SRAIW, ADDW, SUBW, SLLW, SRLW, SRAW,
  FENCE, FENCE_I, ECALL, EBREAK,
  CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI,
  MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU,
  MULW, DIVW, DIVUW, REMW, REMUW,
  LR_W, SC_W, AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W, AMOMIN_W, AMOMAX_W, AMOMINU_W, AMOMAXU_W,
  LR_D, SC_D, AMOSWAP_D, AMOADD_D, AMOXOR_D, AMOAND_D, AMOOR_D, AMOMIN_D, AMOMAX_D, AMOMINU_D, AMOMAXU_D,
  FLW, FSW, FLD, FSD,
  FMADD_S, FMSUB_S, FNMSUB_S, FNMADD_S, FMADD_D, FMSUB_D, FNMSUB_D, FNMADD_D,
  FADD_S, FSUB_S, FMUL_S, FDIV_S, FSQRT_S, FSGNJ_S, FSGNJN_S, FSGNJX_S, FMIN_S, FMAX_S,
  FCVT_W_S, FCVT_WU_S, FCVT_L_S, FCVT_LU_S, FMV_X_W, FEQ_S, FLT_S, FLE_S, FCLASS_S,
  FCVT_S_W, FCVT_S_WU, FCVT_S_L, FCVT_S_LU, FMV_W_X,
  FADD_D, FSUB_D, FMUL_D, FDIV_D, FSQRT_D, FSGNJ_D, FSGNJN_D, FSGNJX_D, FMIN_D, FMAX_D,
  FCVT_S_D, FCVT_D_S, FEQ_D, FLT_D, FLE_D, FCLASS_D,
  FCVT_W_D, FCVT_WU_D, FCVT_L_D, FCVT_LU_D, FMV_X_D,
  FCVT_D_W, FCVT_D_WU, FCVT_D_L, FCVT_D_LU, FMV_D_X,
  COUNT,
}

/**
 * Pairs of instructions executed by one dispatch (see Interpreter.buildBlock): the
 * first instruction's block entry holds the pair's number, the second keeps its own
 * entry, which the pair reads and skips. Numbered
 * right after the decoder's, so that V8 keeps compiling the dispatch into one jump
 * table (numbers far apart split it into a tree of compares).
 */
const enum Fused {
  /** addi then a conditional branch; then the same with addiw (loop counters and their test). */
  ADDI_BRANCH = Op.COUNT,
  ADDIW_BRANCH,
  /** addi, or slli, then add (indices scaled and offsets added to a base). */
  ADDI_ADD,
  SLLI_ADD,
  /** add then ld or lw (an element's address, then the element). */
  ADD_LOAD,
  /** Not an instruction: ends a block that does not end in a jump; its pc word is where to go on. */
  BLOCK_END,
  END,
}

/** Bytes each load and store accesses, by operation (the run loop's load and store cases share their checks). */
const ACCESS_SIZE = new Uint8Array(Op.COUNT);
ACCESS_SIZE.set([1, 2, 4, 8, 1, 2, 4, 1, 2, 4, 8], Op.LB);
ACCESS_SIZE[Op.FLD] = 8;
ACCESS_SIZE[Op.FSD] = 8;

/** The pair an instruction `a` followed by `b` fuses into, or 0. */
function fusedPair(a: number, b: number): number {
  if (b >= Op.BEQ && b <= Op.BGEU) return a === Op.ADDI ? Fused.ADDI_BRANCH : a === Op.ADDIW ? Fused.ADDIW_BRANCH : 0;
  if (b === Op.ADD) return a === Op.ADDI ? Fused.ADDI_ADD : a === Op.SLLI ? Fused.SLLI_ADD : 0;
  if (b === Op.LD || b === Op.LW) return a === Op.ADD ? Fused.ADD_LOAD : 0;
  return 0;
}

/** The instructions of each pair, for the warm-up (the second varies across passes). */
function pairParts(pair: number, pass: number): [number, number] {
  switch (pair) {
    case Fused.ADDI_BRANCH:
      return [Op.ADDI, Op.BEQ + (pass % 6)];
    case Fused.ADDIW_BRANCH:
      return [Op.ADDIW, Op.BEQ + (pass % 6)];
    case Fused.ADDI_ADD:
      return [Op.ADDI, Op.ADD];
    case Fused.SLLI_ADD:
      return [Op.SLLI, Op.ADD];
    case Fused.ADD_LOAD:
      return [Op.ADD, (pass >> 1) & 1 ? Op.LW : Op.LD];
    default:
      // BLOCK_END ends every block of one instruction that is not a jump.
      return [Op.ADDI, Op.ADDI];
  }
}

// ---- execution ----

/**
 * Architectural state of one hart, in typed arrays (saved and restored as is). The
 * registers live in the state area of the guest's WebAssembly memory when one is
 * given, where translated code reads and writes them too.
 */
export class Hart {
  /** Integer registers: x[2r] low, x[2r+1] high; register 32 is the x0 sink. */
  readonly x: Int32Array;
  /** FP registers as raw 64-bit patterns, with double and single views. */
  readonly f64: Float64Array;
  readonly f32: Float32Array;
  readonly fu32: Uint32Array;

  constructor(mem?: GuestMemory) {
    const buffer = mem ? mem.wasm.buffer : new ArrayBuffer(memory.STATE_F + 256);
    const base = mem ? mem.stateBase : 0;
    this.x = new Int32Array(buffer, base + memory.STATE_X, 66);
    this.f64 = new Float64Array(buffer, base + memory.STATE_F, 32);
    this.f32 = new Float32Array(buffer, base + memory.STATE_F, 64);
    this.fu32 = new Uint32Array(buffer, base + memory.STATE_F, 64);
  }

  pc = 0;
  /** Accrued exception flags (fflags). */
  flags = 0;
  /** Dynamic rounding mode (frm). */
  frm = 0;
  /** Address reserved by LR, or -1. */
  reservation = -1;
  instret = 0;

  save(): { x: Int32Array; f: Uint32Array; pc: number; flags: number; frm: number; reservation: number; instret: number } {
    return { x: this.x.slice(), f: this.fu32.slice(), pc: this.pc, flags: this.flags, frm: this.frm, reservation: this.reservation, instret: this.instret };
  }

  load(s: ReturnType<Hart['save']>): void {
    this.x.set(s.x);
    this.fu32.set(s.f);
    this.pc = s.pc;
    this.flags = s.flags;
    this.frm = s.frm;
    this.reservation = s.reservation;
    this.instret = s.instret;
  }
}

/**
 * Decoded instructions of one 4 KiB page, one slot per halfword, and the blocks built
 * from them (see Interpreter.buildBlock). The tables are views into a slab shared by
 * several pages (see takePageCode), not arrays of their own.
 */
class PageCode {
  /** Per slot, the word the run loop dispatches on: op | 2·rd << 8 | 2·rs1 << 15 | 2·rs2 << 21 | compressed << 27. */
  declare readonly w: Int32Array<ArrayBuffer>;
  /**
   * Blocks, each an instruction count then three words per dispatch (the word above, the
   * immediate, the instruction's pc), read in a straight line by the run loop. Index 0
   * is unused, so that 0 in the maps below means "not built".
   */
  declare arena: Int32Array<ArrayBuffer>;
  declare top: number;
  /** Per slot, the block that starts there and runs to its end (up to BLOCK_MAX instructions). */
  declare readonly blockAt: Int32Array<ArrayBuffer>;
  /** Per slot, the block of that one instruction: what runs when the budget ends before the block. */
  declare readonly stepAt: Int32Array<ArrayBuffer>;
  declare readonly op: Uint8Array<ArrayBuffer>;
  declare readonly rd: Uint8Array<ArrayBuffer>;
  declare readonly rs1: Uint8Array<ArrayBuffer>;
  declare readonly rs2: Uint8Array<ArrayBuffer>;
  declare readonly rs3: Uint8Array<ArrayBuffer>;
  declare readonly rm: Uint8Array<ArrayBuffer>;
  declare readonly len: Uint8Array<ArrayBuffer>;
  declare readonly imm: Int32Array<ArrayBuffer>;
  declare readonly raw: Uint32Array<ArrayBuffer>;
  /** Holds an instruction whose second half lies on the next page: a write there drops this page too. */
  declare crossesNext: boolean;
  /** The arena carved with the tables: a page's tables taken again start with it. */
  declare private readonly firstArena: Int32Array<ArrayBuffer>;
  /** Every slot table above, as the one stretch of the slab they make up (cleared at once). */
  declare private readonly slotTables: Uint8Array<ArrayBuffer>;

  /**
   * Carves the tables from `slab` at byte `at` (PAGE_CODE_BYTES of it). The fields are
   * set here, in one order, so that every page's tables have one shape. The slot tables
   * written for every decoded instruction come first, the block maps and the arena
   * last: a page with little code touches few of the slab's memory pages.
   */
  constructor(slab: ArrayBuffer, at: number) {
    this.w = new Int32Array(slab, at, SLOTS);
    this.arena = this.firstArena = new Int32Array(slab, at + 27 * SLOTS, ARENA_START);
    this.top = 1;
    this.blockAt = new Int32Array(slab, at + 19 * SLOTS, SLOTS);
    this.stepAt = new Int32Array(slab, at + 23 * SLOTS, SLOTS);
    this.op = new Uint8Array(slab, at + 12 * SLOTS, SLOTS);
    this.rd = new Uint8Array(slab, at + 13 * SLOTS, SLOTS);
    this.rs1 = new Uint8Array(slab, at + 14 * SLOTS, SLOTS);
    this.rs2 = new Uint8Array(slab, at + 15 * SLOTS, SLOTS);
    this.rs3 = new Uint8Array(slab, at + 16 * SLOTS, SLOTS);
    this.rm = new Uint8Array(slab, at + 17 * SLOTS, SLOTS);
    this.len = new Uint8Array(slab, at + 18 * SLOTS, SLOTS);
    this.imm = new Int32Array(slab, at + 4 * SLOTS, SLOTS);
    this.raw = new Uint32Array(slab, at + 8 * SLOTS, SLOTS);
    this.crossesNext = false;
    this.slotTables = new Uint8Array(slab, at, 27 * SLOTS);
  }

  /** Makes the tables as new (every slot undecoded, no block), for a page taken again. */
  clear(): void {
    this.slotTables.fill(0);
    this.arena = this.firstArena;
    this.top = 1;
    this.crossesNext = false;
  }
}

/** Stores a decoded instruction in its page slot, in the form the run loop reads. */
function fillSlot(code: PageCode, slot: number, d: Decoded, raw: number): void {
  const rdx = d.rd === 0 && writesIntRd(d.op) ? 32 : d.rd;
  code.w[slot] = d.op | (rdx << 9) | (d.rs1 << 16) | (d.rs2 << 22) | (d.len === 2 ? 1 << 27 : 0);
  code.op[slot] = d.op;
  code.rd[slot] = rdx;
  code.rs1[slot] = d.rs1;
  code.rs2[slot] = d.rs2;
  code.rs3[slot] = d.rs3;
  code.rm[slot] = d.rm;
  code.len[slot] = d.len;
  code.imm[slot] = d.imm;
  code.raw[slot] = raw;
}

// Operands of the warm-up (see Interpreter.warmUp): register values as [low, high] words,
// FP register patterns as [low, high] words (doubles, NaN-boxed singles, NaNs, subnormals),
// base addresses (data, crossing pages, crossing into an unmapped page, the code page,
// unmapped, negative), immediates, rounding modes (valid, dynamic, invalid) and code
// (addi, ld, c.addi, then an addi split across the code page and a data page).
let warmedUp = false;
const NO_CODE = new Int32Array(0);
const WARM_INT: ReadonlyArray<readonly [number, number]> = [
  [0, 0], [1, 0], [-1, -1], [0x7fffffff, 0], [-0x80000000, -1], [0x12345678, 0x09abcdef],
  [-5, 0x40000000], [0, -0x80000000], [3, 0], [-0x80000000, 0x7fffffff], [0x2010, 0],
];
const WARM_FP: ReadonlyArray<readonly [number, number]> = [
  [0, 0x3ff80000], [0, 0x80000000], [0, 0x7ff80000], [1, 0x7ff00000], [0x3fc00000, 0xffffffff],
  [0x7f800001, 0xffffffff], [1, 0xffffffff], [0x7f800000, 0xffffffff], [1, 0], [0x8800759c, 0x7e37e43c],
  [0, 0xc0080000], [0xcf000000, 0xffffffff], [0, 0x41e00000], [0x3f800000, 0], [0, 0x43e00000],
];
const WARM_ADDR = [0x2008, 0x2ff9, 0x3ffc, 0x1ff0, 0, 0x2100, -16, 0x3ff8, 0x2ffe];
const WARM_IMM = [0, 8, -8, 2047, -2048, 4, 1, -1];
const WARM_RM = [7, 0, 1, 2, 3, 4, 5];
const WARM_SHIFT64 = [0, 5, 32, 40, 63];
const WARM_SHIFT32 = [0, 5, 31];
const WARM_CSR = [1, 2, 3, 0xc00, 0xc01, 0xc02, 0x7c0];
const WARM_PASSES = 8;
/** Rounds of the warm-up's first part, the decoder's and the block builder's cases (see warmUp). */
const WARM_BUILDER_ROUNDS = 6;
/**
 * The warm-up's closing loop (see warmUp): calls, and loop iterations per call. V8 marked
 * `run` after 2,500–5,000 iterations in one call; 10 calls of 800 leave calls after the mark.
 */
const WARM_LOOP_CALLS = 10;
const WARM_LOOP_ITERATIONS = 800;
const WARM_CODE = new Uint8Array([0x13, 0x05, 0xf5, 0xff, 0x83, 0x35, 0x05, 0x00, 0x05, 0x05, 0x13, 0x05, 0x15, 0x00, 0x00, 0x00]);

export type EcallHandler = () => boolean;

export interface StopReason {
  /** 'budget': the budget ran out; 'stop': the ecall handler asked to stop; 'fault'. */
  kind: 'budget' | 'stop' | 'fault';
  fault?: GuestFault;
  /** The faulting instruction, as raw bits (for reports). */
  raw?: number;
}

const CANON_D_HI = 0x7ff80000;
const CANON_S = 0x7fc00000;
const TWO32 = 4294967296;
/**
 * What the run loop holds for a pc outside guest memory (a jump or a signal handler
 * anywhere in the 64-bit space; the real value is in Interpreter.farPc), so that its pc
 * stays an int32: V8 then keeps it in a register rather than as a double it converts
 * on every instruction. No branch or jal can compute it (they reach ±1 MiB from code
 * in guest memory), and its page lies past the largest guest memory.
 */
const FAR_PC = -0x40000000;
/** The most instructions in a block: the fewer, the sooner the last ones of a budget run as whole blocks. */
const BLOCK_MAX = 32;
/**
 * A run is executed in slices of about this many instructions (see run): each ends at a
 * block boundary, so slices change nothing a guest can see.
 */
export const RUN_SLICE = 100000;
/** A page's block arena starts with this many words. */
const ARENA_START = 1024;
/** A page's block arena grows up to this many words, then starts again. */
const ARENA_MAX = 1 << 16;
/** Slots of a page's tables: one per halfword of a 4 KiB page. */
const SLOTS = 2048;
/**
 * Bytes of a page's tables in a slab (see PageCode's constructor): 27 slot-widths of
 * tables and the first arena, rounded up to whole 4 KiB pages.
 */
const PAGE_CODE_BYTES = Math.ceil((27 * SLOTS + 4 * ARENA_START) / 4096) * 4096;
/**
 * Pages' tables per slab (3.75 MiB, whole 64 KiB units). A slab is fresh mapped memory
 * (see freshMemory), which the kernel supplies only where it is first written: a code
 * page with a few functions decoded touches a few of its tables' 15 memory pages, where
 * 13 arrays of their own were each cleared whole when allocated (a first write of a
 * 4 KiB page costs about 15 µs on a virtual machine).
 */
const SLAB_CODES = 64;
let slab: ArrayBuffer | null = null;
let slabNext = 0;
/**
 * Tables of pages whose code was dropped (fence.i, a store to decoded code, a change of
 * permissions, the warm-up's scratch machines), cleared and taken again before a slab
 * is carved further. They are taken only by Interpreter.pageFor and decodeAt, which
 * the run loop reaches only after looking its page up again; so no loop still reads
 * them. Any Interpreter of the process may take them: cleared, they are as new.
 */
const spareCodes: PageCode[] = [];
/** Spare tables kept (about 60 KB each); more are left to the garbage collector. */
const SPARE_CODES_MAX = 64;

/**
 * `bytes` of zeroed memory (a multiple of 64 KiB) that the kernel supplies page by page
 * at first touch. A plain ArrayBuffer is zeroed by the allocator, which touches all of
 * it when it comes from the allocator's heap: with the 64 MiB heap pad the virtlab
 * command sets (tools/cli/virtlab) it always does, and a slab then cost 960 page faults
 * (about 10 ms) up front however little of it is used. A WebAssembly memory is mapped
 * memory, never cleared by hand; its buffer is an ordinary ArrayBuffer to its views.
 */
function freshMemory(bytes: number): ArrayBuffer {
  const pages = bytes / 65536;
  return new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer as ArrayBuffer;
}

function takePageCode(): PageCode {
  const spare = spareCodes.pop();
  if (spare !== undefined) {
    spare.clear();
    return spare;
  }
  if (slab === null || slabNext === SLAB_CODES) {
    slab = freshMemory(SLAB_CODES * PAGE_CODE_BYTES);
    slabNext = 0;
  }
  return new PageCode(slab, PAGE_CODE_BYTES * slabNext++);
}

function givePageCode(code: PageCode): void {
  if (spareCodes.length < SPARE_CODES_MAX) spareCodes.push(code);
}

export class Interpreter {
  private readonly pagesCode = new Map<number, PageCode>();
  private readonly scratch = newDecoded();
  /** Pages decoded since start, and pages dropped because code was written or fence.i ran. */
  decodedPages = 0;
  invalidations = 0;
  /** Pairs of instructions fused when blocks were built (see buildBlock). */
  fusedPairs = 0;
  /** Incremented whenever decoded code is dropped. */
  private epoch = 0;
  /**
   * Called with the address of every load and store when set (the timing mode in
   * which a memory model sees the guest's accesses); null costs one check per access.
   */
  accessHook: ((address: number, write: boolean) => void) | null = null;
  /** Called after fence.i or a snapshot load dropped every decoded instruction. */
  onFlush: () => void = () => {};

  constructor(
    readonly mem: GuestMemory,
    readonly hart: Hart,
    private readonly onEcall: EcallHandler,
    private readonly timeNs: () => number,
  ) {
    mem.onCodeWrite = (page) => this.dropPage(page);
    Interpreter.prepare();
  }

  /**
   * Warms the run loop up now rather than at the first construction (see warmUp): a
   * process about to run a guest calls it before the rest of its start-up, so that the
   * loop's optimizing compilation overlaps that work.
   */
  static prepare(): void {
    if (!warmedUp) {
      warmedUp = true;
      Interpreter.warmUp();
    }
  }

  /**
   * Runs every kind of instruction, one at a time, on scratch machines of its own
   * before the first guest starts, with operands that take each case's branches (zero
   * and negative values, shifts past 32, division by zero, NaNs, every rounding mode,
   * faults, page-crossing and code-page stores, stops and ecalls). V8 optimizes `run`
   * from the type feedback its cases have gathered and throws the optimized code away
   * when a case runs that had none; without this, a guest's first use of each kind of
   * instruction costs a deoptimization and a new compilation of the whole loop (a
   * tenth of a second or more of compiler time each on a loaded machine). Nothing of
   * it reaches a guest: the scratch machines have their own memory, registers,
   * counters and handlers, and their values are fixed, so the work is the same in
   * every process.
   */
  private static warmUp(): void {
    const R = PERM_R | PERM_W | PERM_X | PERM_MAPPED;
    const ecalls = [0, 0];
    const hooks = [null, (a: number) => void a, (a: number, w: boolean) => void (w ? a : 0)];
    const machines = [0, 1].map((k) => {
      const mem = new GuestMemory(GUEST_MEMORY.min);
      mem.protect(0x1000, 0x1000, R);
      mem.protect(0x2000, 0x2000, R & ~PERM_X);
      const hart = new Hart(mem);
      // Two handlers of different code, so that V8 does not tie the call site to one.
      // The second also redirects some of its calls, as a signal delivery or
      // rt_sigreturn does, inside guest memory and beyond it.
      const onEcall =
        k === 0
          ? () => (ecalls[0]++ & 1) === 0
          : () => {
              const c = ecalls[1]++;
              if (c % 4 === 2) machines[1].resumeAt(c % 8 === 2 ? 0x1000 : 2 ** 40 + 0x1000);
              return c % 3 === 1;
            };
      const cpu = new Interpreter(mem, hart, onEcall, () => ecalls[0] * 977);
      // A guest's system calls resume at addresses computed as doubles; V8 then stores
      // the field as a double and gives the object a new map, which would throw away
      // code optimized here. The field takes that form now, before anything is optimized.
      cpu.resumeAt(2 ** 40);
      cpu.ecallResume = -1;
      return cpu;
    });
    // A field a guest's pages change later (an instruction across the page end; the
    // rounds below grow an arena): changed once now, on a page of no machine, for the
    // same reason. The rounds also fill this page's slots.
    const spare = takePageCode();
    spare.crossesNext = true;
    const d = newDecoded();
    // Register images, built once and copied in with one builtin call per instruction:
    // the warm-up itself must stay cheap (8 passes over every operation, about 1,500 steps).
    const ints: Int32Array[] = [];
    const fps: Uint32Array[] = [];
    for (let p = 0; p < WARM_PASSES; p++) {
      const xi = new Int32Array(66);
      const fi = new Uint32Array(64);
      for (let r = 1; r < 32; r++) {
        const v = WARM_INT[(r + p) % WARM_INT.length];
        const g = WARM_FP[(r + 2 * p) % WARM_FP.length];
        xi.set(v, 2 * r);
        fi.set(g, 2 * r);
      }
      ints.push(xi);
      fps.push(fi);
    }
    // Instructions decoded from memory, up to one whose second half lies on a page
    // without execute permission: with budgets of 1 to 8, and first with the whole
    // budget. The decoder and the block builder are compiled early in the warm-up,
    // while it goes on: what they have not seen by then (a page crossing, an
    // instruction with its top bit set) would throw that code away in the guest.
    const decodeFromMemory = (cpu: Interpreter, budget: number, fullArena = false): void => {
      const x = cpu.hart.x;
      cpu.mem.u8.set(WARM_CODE, 0x1ff4);
      // A full arena, so that the first block grows it.
      if (fullArena) cpu.pageFor(1, 0x1ff4).top = ARENA_START - 3 * (BLOCK_MAX + 2) + 1;
      x[20] = 0x2100;
      x[21] = 0;
      cpu.hart.pc = 0x1ff4;
      cpu.run(budget);
      // Then a compressed instruction (c.nop) in the page's last two bytes, decoded
      // before a block reaches it from the one before.
      cpu.mem.u8[0x1ffe] = 0x01;
      cpu.mem.u8[0x1fff] = 0x00;
      cpu.hart.pc = 0x1ffe;
      cpu.run(1);
      cpu.hart.pc = 0x1ffc;
      cpu.run(2);
      cpu.flushCode();
    };
    // Before anything else, and several times over: V8 records no feedback for a
    // function's first calls (it allocates the function's feedback lazily), and the
    // decoder and block builder are compiled after a few hundred steps, concurrently,
    // from the feedback they have when the compilation starts.
    // Each round is whole, so that a compilation starting after any of them sees every
    // case: memory decoding (a page crossing, a 32-bit instruction with its top bit
    // set, an arena grown), fused pairs with each kind of branch, and slots filled for
    // every operation with x0 as destination.
    for (let r = 0; r < WARM_BUILDER_ROUNDS; r++) {
      decodeFromMemory(machines[r & 1], WARM_PASSES, true);
      for (let p = 0; p < 6; p++) for (let op = Op.COUNT; op < Fused.END; op++) machines[r & 1].warmStep(d, p, op, ints[p], fps[p]);
      for (let op = Op.ILLEGAL; op < Op.COUNT; op++) {
        d.op = op;
        d.rd = 0;
        fillSlot(spare, 0, d, 0);
      }
    }
    for (let p = 0; p < WARM_PASSES; p++) {
      const cpu = machines[p & 1];
      cpu.accessHook = hooks[p % 3];
      // Fused pairs first, for the same reason: the block builder's fusion.
      for (let op = Op.COUNT; op < Fused.END; op++) cpu.warmStep(d, p, op, ints[p], fps[(p + op) % WARM_PASSES]);
      for (let op = Op.ILLEGAL; op < Op.COUNT; op++) cpu.warmStep(d, p, op, ints[p], fps[(p + op) % WARM_PASSES]);
      decodeFromMemory(cpu, p + 1);
    }
    // Last, a tight loop (addi t0, t0, 1; bne t0, t1, back) run in short calls: by
    // its end V8 has marked `run` hot, and the call after the mark starts its
    // optimizing compilation on a background thread, now, while the process still
    // has start-up work to do. Left to the guest, that compilation starts once the
    // guest's own loop is hot, and a short program's exit then waits for it (Node
    // joins V8's compiler threads before exiting): about 100 ms of an exec of a
    // program that only exits. The calls cost about 30 ms of interpreted JavaScript.
    const loopCpu = machines[0];
    loopCpu.accessHook = null;
    loopCpu.mem.u8.set(new Uint8Array(new Uint32Array([0x00128293, 0xfe629ee3]).buffer), 0x1000);
    const lx = loopCpu.hart.x;
    for (let c = 0; c < WARM_LOOP_CALLS; c++) {
      lx.fill(0, 10, 14);
      lx[12] = WARM_LOOP_ITERATIONS;
      loopCpu.hart.pc = 0x1000;
      // Every other call in two slices, so that a slice's end has feedback too.
      if (loopCpu.runSlice(2 * WARM_LOOP_ITERATIONS, c & 1 ? WARM_LOOP_ITERATIONS : 2 * WARM_LOOP_ITERATIONS) === null) loopCpu.run(loopCpu.left);
    }
    // The scratch machines' tables go to the first pages a guest decodes.
    for (const cpu of machines) cpu.flushCode();
    givePageCode(spare);
  }

  dropPage(page: number): void {
    this.epoch++;
    this.forget(page);
    // Only the page before: its instruction read this one's first bytes, the page before it did not.
    if (this.pagesCode.get(page - 1)?.crossesNext) this.forget(page - 1);
  }

  /** Drops one page's decoded instructions and blocks. */
  private forget(page: number): void {
    const code = this.pagesCode.get(page);
    if (code !== undefined) {
      this.pagesCode.delete(page);
      givePageCode(code);
      this.invalidations++;
    }
    this.mem.perm[page] &= ~PERM_DECODED;
  }

  /** Where the ecall in progress resumes (a signal handler, rt_sigreturn), or -1: the next instruction. */
  private ecallResume = -1;

  /** The pc the run loop holds as FAR_PC. */
  private farPc = 0;

  /** Called by the ecall handler: go on at `pc` rather than after the ecall. */
  resumeAt(pc: number): void {
    this.ecallResume = pc;
  }

  /** fence.i: forget every decoded instruction. */
  flushCode(): void {
    this.epoch++;
    for (const [page, code] of this.pagesCode) {
      this.mem.perm[page] &= ~PERM_DECODED;
      givePageCode(code);
    }
    this.invalidations += this.pagesCode.size;
    this.pagesCode.clear();
    this.onFlush();
  }

  private pageFor(page: number, pc: number): PageCode {
    let code = this.pagesCode.get(page);
    if (code) return code;
    if (page >= this.mem.pages || (this.mem.perm[page] & PERM_X) === 0) {
      throw new GuestFault(SIGSEGV, pc === FAR_PC ? this.farPc : pc, 'instruction fetch from a page without execute permission');
    }
    code = takePageCode();
    this.pagesCode.set(page, code);
    this.mem.perm[page] |= PERM_DECODED;
    this.decodedPages++;
    return code;
  }

  /** One instruction of the warm-up (see warmUp): operands chosen from the pass and the operation. */
  private warmStep(d: Decoded, p: number, op: number, ints: Int32Array, fps: Uint32Array): void {
    const x = this.hart.x;
    x.set(ints);
    this.hart.fu32.set(fps);
    const a = WARM_ADDR[(p + op) % WARM_ADDR.length];
    x[10] = a;
    x[11] = a < 0 ? -1 : 0;
    const memOp = (op >= Op.LB && op <= Op.SD) || (op >= Op.LR_W && op <= Op.FSD);
    d.op = op;
    d.rd = (p & 3) === 3 ? 0 : 12;
    d.rs1 = memOp ? 5 : op >= Op.CSRRWI && op <= Op.CSRRCI ? p & 7 : op >= Op.CSRRW && op <= Op.CSRRC ? (p & 1) * 6 : 6 + (p % 3);
    d.rs2 = 7 + (p % 2);
    d.rs3 = 9;
    d.rm = WARM_RM[p % WARM_RM.length];
    d.len = p & 1 ? 2 : 4;
    if (op === Op.SLLI || op === Op.SRLI || op === Op.SRAI) d.imm = WARM_SHIFT64[p % WARM_SHIFT64.length];
    else if (op === Op.SLLIW || op === Op.SRLIW || op === Op.SRAIW) d.imm = WARM_SHIFT32[p % WARM_SHIFT32.length];
    else if (op >= Op.CSRRW && op <= Op.CSRRCI) d.imm = WARM_CSR[p % WARM_CSR.length];
    else if (op === Op.LUI || op === Op.AUIPC) d.imm = WARM_IMM[p % WARM_IMM.length] << 12;
    else d.imm = WARM_IMM[p % WARM_IMM.length];
    const pc = 0x1000 + 2 * op;
    try {
      const code = this.pageFor(pc >>> PAGE_SHIFT, pc);
      const slot = (pc & 4095) >>> 1;
      // Blocks built from the slots of the previous step would run its operands again.
      code.blockAt.fill(0);
      code.stepAt.fill(0);
      code.top = 1;
      if (op < Op.COUNT) fillSlot(code, slot, d, 0);
      else {
        // A fused pair: its two instructions, the second on the first's base register.
        const [first, second] = pairParts(op, p);
        d.op = first;
        if (first === Op.SLLI) d.imm = WARM_SHIFT64[p % WARM_SHIFT64.length];
        if (first === Op.ADD) d.rs1 = 5;
        fillSlot(code, slot, d, 0);
        d.op = second;
        // Signed compares read the low words only when the high words are equal: one
        // pass compares a register with itself so that they do.
        if (p === 3 && second >= Op.BEQ && second <= Op.BGEU) d.rs2 = d.rs1;
        // Loads at the base itself, which lies in the scratch memory in most passes.
        if (second === Op.LW || second === Op.LD) d.imm = 0;
        fillSlot(code, slot + d.len / 2, d, 0);
        if (second < Op.BEQ || second > Op.BGEU) {
          // A jump to itself ends the block, which then fits a budget of three.
          d.op = Op.JAL;
          d.rd = 0;
          d.imm = 0;
          fillSlot(code, slot + d.len, d, 0);
        }
      }
      this.hart.pc = pc;
      // A pair runs whole, as its block (its halves alone run as the single instructions do).
      this.run(op < Op.COUNT ? 1 : op <= Fused.ADDIW_BRANCH ? 2 : 3);
    } catch {
      // A fault the run loop does not catch (none is expected) changes nothing here.
    }
  }

  /** Decodes the instruction at pc into its page slot. */
  private decodeAt(code: PageCode, slot: number, pc: number): void {
    const u8 = this.mem.u8;
    if ((u8[pc] & 3) === 3 && ((pc + 2) & 4095) === 0) {
      // The instruction's second half is on the next page: it must be executable too.
      const p = (pc + 2) >>> PAGE_SHIFT;
      if (p >= this.mem.pages || (this.mem.perm[p] & PERM_X) === 0) throw new GuestFault(SIGSEGV, pc + 2, 'instruction fetch from a page without execute permission');
      code.crossesNext = true;
      this.mem.perm[p] |= PERM_DECODED;
      if (!this.pagesCode.has(p)) {
        this.pagesCode.set(p, takePageCode());
        this.decodedPages++;
      }
    }
    this.decodeBytes(code, slot, pc);
  }

  /** Decodes the instruction whose bytes start at pc into `slot`; returns its length. */
  private decodeBytes(code: PageCode, slot: number, pc: number): number {
    const u8 = this.mem.u8;
    const lo16 = u8[pc] | (u8[pc + 1] << 8);
    const d = this.scratch;
    let raw: number;
    if ((lo16 & 3) !== 3) {
      raw = lo16;
      decode16(lo16, d);
    } else {
      raw = (lo16 | (u8[pc + 2] << 16) | (u8[pc + 3] << 24)) >>> 0;
      decode32(raw, d);
    }
    fillSlot(code, slot, d, raw);
    return d.len;
  }

  /** Fuses pairs when building blocks (a switch for the tests, which compare both ways). */
  static fuse = true;

  /**
   * Builds the block that starts at pc (in `slot`) and returns its index in the page's
   * arena: the instructions up to the first jump, branch or ecall, at most BLOCK_MAX of
   * them, all on this page (an instruction that crosses into the next page ends the block
   * before it unless it comes first, when decodeAt has checked that page). A block that
   * does not end in a jump gets a BLOCK_END. `one` builds the block of the first
   * instruction alone. Pairs are fused only in whole blocks, which run only when they
   * fit in the budget, so a budget never ends between the two halves of a pair. Every
   * instruction is decoded before it runs, so code written meanwhile drops the page,
   * blocks with it.
   */
  private buildBlock(code: PageCode, slot: number, pc: number, one: boolean): number {
    if (code.op[slot] === 0) this.decodeAt(code, slot, pc);
    if (code.top + 3 * (BLOCK_MAX + 2) > code.arena.length) {
      if (code.arena.length >= ARENA_MAX) {
        // A page whose code is entered at very many places: start its blocks afresh.
        code.blockAt.fill(0);
        code.stepAt.fill(0);
        code.top = 1;
      } else {
        const grown = new Int32Array(code.arena.length * 2);
        grown.set(code.arena);
        code.arena = grown;
      }
    }
    const a = code.arena;
    const e = code.top;
    const pageEnd = (pc | 4095) + 1;
    let k = e + 1;
    let count = 0;
    let p = pc;
    let s = slot;
    let second = false;
    for (;;) {
      const w = code.w[s];
      const op = w & 255;
      const next = p + code.len[s];
      a[k] = w;
      a[k + 1] = code.imm[s];
      a[k + 2] = p;
      k += 3;
      count++;
      if (op === Op.JAL || op === Op.JALR || (op >= Op.BEQ && op <= Op.BGEU) || op === Op.ECALL) break;
      const sn = (next & 4095) >>> 1;
      const crosses = next >= pageEnd || ((next & 4095) === 4094 && (code.op[sn] !== 0 ? code.len[sn] === 4 : (this.mem.u8[next] & 3) === 3));
      if (one || count >= BLOCK_MAX || crosses) {
        a[k] = Fused.BLOCK_END;
        a[k + 1] = 0;
        a[k + 2] = next;
        k += 3;
        break;
      }
      if (code.op[sn] === 0) this.decodeBytes(code, sn, next);
      // The second of a pair keeps its own dispatch entry, which the pair reads; it does not start another pair.
      const pair: number = Interpreter.fuse && !second ? fusedPair(op, code.op[sn]) : 0;
      if (pair !== 0) {
        a[k - 3] = (w & ~255) | pair;
        this.fusedPairs++;
      }
      second = pair !== 0;
      p = next;
      s = sn;
    }
    a[e] = count;
    code.top = k;
    if (one) code.stepAt[slot] = e;
    else code.blockAt[slot] = e;
    return e;
  }

  /** The raw bits of the instruction at pc (for reports), or undefined. */
  rawAt(pc: number): number | undefined {
    const code = this.pagesCode.get(pc >>> PAGE_SHIFT);
    return code && code.op[(pc & 4095) >>> 1] ? code.raw[(pc & 4095) >>> 1] : undefined;
  }

  /**
   * Executes up to `budget` instructions, in slices of about RUN_SLICE (runSlice). A
   * compilation of the loop that V8 finishes while a call runs is used from the next
   * call on: in one long call the guest would run unoptimized until V8 also compiled the
   * loop for on-stack replacement. (V8 still starts that second compilation when the
   * first one finishes during a slice, but the guest no longer waits for it.) A slice
   * ends only between blocks and blocks are chosen against the whole budget, so the
   * guest runs the same blocks in the same order as in one call.
   */
  run(budget: number): StopReason {
    let r = this.runSlice(budget, budget < RUN_SLICE ? budget : RUN_SLICE);
    while (r === null) r = this.runSlice(this.left, this.left < RUN_SLICE ? this.left : RUN_SLICE);
    return r;
  }

  /** Budget left after runSlice returned null. */
  private left = 0;

  /** The run loop: up to `budget` instructions; returns null at the first block boundary at or after `stop` (≤ budget) when budget is left. */
  private runSlice(budget: number, stop: number): StopReason | null {
    const h = this.hart;
    const x = h.x;
    const mem = this.mem;
    const perm = mem.perm;
    const limit = mem.size;
    let u8 = mem.u8;
    let dv = mem.dv;
    let pc = h.pc >= 0 && h.pc < limit ? h.pc | 0 : FAR_PC;
    this.farPc = h.pc;
    let n = 0;
    let page = -1;
    let code: PageCode | undefined;
    let slot = 0;
    let epoch = this.epoch;
    const hook = this.accessHook;
    // The block being run, and the index of the dispatch after the current one; `inside`
    // tells a fault in the block (its pc is that dispatch's) from one in finding the next.
    let arena = NO_CODE;
    let i = 0;
    let inside = false;
    try {
      while (n < stop) {
        const pg = pc >>> PAGE_SHIFT;
        if (pg !== page || code === undefined) {
          code = this.pageFor(pg, pc);
          page = pg;
        }
        slot = (pc & 4095) >>> 1;
        // A whole block runs only when it fits in the budget; otherwise one instruction
        // does, so that the run stops at exactly the budget.
        let e = code.blockAt[slot];
        if (e === 0) e = this.buildBlock(code, slot, pc, false);
        arena = code.arena;
        if (arena[e] > budget - n) {
          e = code.stepAt[slot];
          if (e === 0) e = this.buildBlock(code, slot, pc, true);
          arena = code.arena;
        }
        i = e + 1;
        inside = true;
        block: for (;;) {
          const w = arena[i];
          const imm = arena[i + 1];
          i += 3;
          const op = w & 255;
          const rd = (w >>> 8) & 127;
          const r1 = (w >>> 15) & 63;
          const r2 = (w >>> 21) & 63;
          n++;
          switch (op) {
          case Op.LUI:
            x[rd] = imm;
            x[rd + 1] = imm >> 31;
            break;
          case Op.AUIPC: {
            const v = arena[i - 1] + imm;
            x[rd] = v | 0;
            x[rd + 1] = Math.floor(v / TWO32) | 0;
            break;
          }
          // Jumps, branches and ecall end their block: they set pc and leave it.
          case Op.JAL:
            pc = arena[i - 1];
            x[rd] = pc + (w & (1 << 27) ? 2 : 4);
            x[rd + 1] = 0;
            pc = pc + imm;
            break block;
          case Op.JALR: {
            // Read rs1 before writing rd: they may be the same register.
            const target = x[r1 + 1] * TWO32 + (x[r1] >>> 0) + imm - ((x[r1] + imm) & 1);
            x[rd] = arena[i - 1] + (w & (1 << 27) ? 2 : 4);
            x[rd + 1] = 0;
            if (target >= 0 && target < limit) pc = target | 0;
            else {
              this.farPc = target;
              pc = FAR_PC;
            }
            break block;
          }
          case Op.BEQ:
          case Op.BNE:
            pc = arena[i - 1] + ((x[r1] === x[r2] && x[r1 + 1] === x[r2 + 1]) === (op === Op.BEQ) ? imm : w & (1 << 27) ? 2 : 4);
            break block;
          case Fused.BLOCK_END:
            n--;
            pc = arena[i - 1];
            i -= 3;
            break block;
          case Fused.ADDI_BRANCH:
          case Fused.ADDIW_BRANCH: {
            if (op === Fused.ADDIW_BRANCH) {
              const v = (x[r1] + imm) | 0;
              x[rd] = v;
              x[rd + 1] = v >> 31;
            } else {
              const lo = (x[r1] + imm) | 0;
              x[rd + 1] = (x[r1 + 1] + (imm >> 31) + (lo >>> 0 < x[r1] >>> 0 ? 1 : 0)) | 0;
              x[rd] = lo;
            }
            // The branch, the block's last dispatch (a block runs whole, so the budget
            // cannot end between the two).
            n++;
            const wb = arena[i];
            const b1 = (wb >>> 15) & 63;
            const b2 = (wb >>> 21) & 63;
            const hi1 = x[b1 + 1];
            const hi2 = x[b2 + 1];
            const cond = wb & 255;
            let taken: boolean;
            if (cond <= Op.BNE) taken = (x[b1] === x[b2] && hi1 === hi2) === (cond === Op.BEQ);
            else if (cond <= Op.BGE) taken = (hi1 < hi2 || (hi1 === hi2 && x[b1] >>> 0 < x[b2] >>> 0)) === (cond === Op.BLT);
            else taken = (hi1 >>> 0 < hi2 >>> 0 || (hi1 === hi2 && x[b1] >>> 0 < x[b2] >>> 0)) === (cond === Op.BLTU);
            pc = arena[i + 2] + (taken ? arena[i + 1] : wb & (1 << 27) ? 2 : 4);
            break block;
          }
          // Pairs whose second instruction is no jump: it keeps its own entry, read here and skipped.
          case Fused.ADDI_ADD:
          case Fused.SLLI_ADD: {
            const lo = x[r1];
            if (op === Fused.ADDI_ADD) {
              const sum = (lo + imm) | 0;
              x[rd + 1] = (x[r1 + 1] + (imm >> 31) + (sum >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
              x[rd] = sum;
            } else {
              if (imm === 0) x[rd + 1] = x[r1 + 1];
              else if (imm < 32) x[rd + 1] = (x[r1 + 1] << imm) | (lo >>> (32 - imm));
              else x[rd + 1] = lo << (imm - 32);
              x[rd] = imm < 32 ? lo << imm : 0;
            }
            const wb = arena[i];
            i += 3;
            n++;
            const d = (wb >>> 8) & 127;
            const s1 = (wb >>> 15) & 63;
            const s2 = (wb >>> 21) & 63;
            const a = x[s1];
            const sum = (a + x[s2]) | 0;
            x[d + 1] = (x[s1 + 1] + x[s2 + 1] + (sum >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            x[d] = sum;
            break;
          }
          case Fused.ADD_LOAD: {
            const lo = x[r1];
            const sum = (lo + x[r2]) | 0;
            x[rd + 1] = (x[r1 + 1] + x[r2 + 1] + (sum >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
            x[rd] = sum;
            // The load, which may fault: counted, and its entry passed, first.
            const wb = arena[i];
            const ib = arena[i + 1];
            i += 3;
            n++;
            const d = (wb >>> 8) & 127;
            const s1 = (wb >>> 15) & 63;
            const b = x[s1];
            let a = (b + ib) | 0;
            if ((b | a) < 0 || x[s1 + 1] !== 0) a = outerAddress(x, s1, ib, limit, false) | 0;
            const size = (wb & 255) === Op.LD ? 8 : 4;
            if (!(a <= limit - size && perm[a >>> PAGE_SHIFT] & PERM_R && ((a & 4095) <= 4096 - size || perm[(a + size - 1) >>> PAGE_SHIFT] & PERM_R))) throw loadFault(a);
            if (hook !== null) hook(a, false);
            const v = dv.getInt32(a, true);
            x[d] = v;
            x[d + 1] = size === 8 ? dv.getInt32(a + 4, true) : v >> 31;
            break;
          }
          case Op.BLT:
          case Op.BGE: {
            const hi1 = x[r1 + 1];
            const hi2 = x[r2 + 1];
            pc = arena[i - 1] + ((hi1 < hi2 || (hi1 === hi2 && x[r1] >>> 0 < x[r2] >>> 0)) === (op === Op.BLT) ? imm : w & (1 << 27) ? 2 : 4);
            break block;
          }
          case Op.BLTU:
          case Op.BGEU: {
            const hi1 = x[r1 + 1];
            const hi2 = x[r2 + 1];
            pc = arena[i - 1] + ((hi1 >>> 0 < hi2 >>> 0 || (hi1 === hi2 && x[r1] >>> 0 < x[r2] >>> 0)) === (op === Op.BLTU) ? imm : w & (1 << 27) ? 2 : 4);
            break block;
          }
          // Loads and stores, one case per width: the address must lie in guest memory
          // and its page (and the next, for an access that crosses) must allow the access.
          case Op.LB:
          case Op.LBU:
          case Op.LH:
          case Op.LHU:
          case Op.LW:
          case Op.LWU:
          case Op.LD:
          case Op.FLD: {
            const b = x[r1];
            let a = (b + imm) | 0;
            if ((b | a) < 0 || x[r1 + 1] !== 0) a = outerAddress(x, r1, imm, limit, false) | 0;
            const size = ACCESS_SIZE[op];
            if (!(a <= limit - size && perm[a >>> PAGE_SHIFT] & PERM_R && ((a & 4095) <= 4096 - size || perm[(a + size - 1) >>> PAGE_SHIFT] & PERM_R))) throw loadFault(a);
            if (hook !== null) hook(a, false);
            if (size === 1) {
              const v = op === Op.LB ? (u8[a] << 24) >> 24 : u8[a];
              x[rd] = v;
              x[rd + 1] = v >> 31;
            } else if (size === 2) {
              const v = dv.getInt16(a, true);
              x[rd] = op === Op.LH ? v : v & 0xffff;
              x[rd + 1] = op === Op.LH ? v >> 31 : 0;
            } else if (op !== Op.FLD) {
              const v = dv.getInt32(a, true);
              x[rd] = v;
              x[rd + 1] = op === Op.LW ? v >> 31 : op === Op.LD ? dv.getInt32(a + 4, true) : 0;
            } else {
              // rd is the FP register's index ×2 (FP destinations are not remapped).
              const f = h.fu32;
              f[rd] = dv.getUint32(a, true);
              f[rd + 1] = dv.getUint32(a + 4, true);
            }
            break;
          }
          case Op.SB:
          case Op.SH:
          case Op.SW:
          case Op.SD:
          case Op.FSD: {
            const b = x[r1];
            let a = (b + imm) | 0;
            if ((b | a) < 0 || x[r1 + 1] !== 0) a = outerAddress(x, r1, imm, limit, true) | 0;
            const size = ACCESS_SIZE[op];
            if (!(a <= limit - size)) throw storeFault(a);
            const pa = perm[a >>> PAGE_SHIFT];
            const pb = (a & 4095) <= 4096 - size ? pa : perm[(a + size - 1) >>> PAGE_SHIFT];
            if (!(pa & pb & PERM_W)) throw storeFault(a);
            if (hook !== null) hook(a, true);
            if (op === Op.SD) {
              dv.setInt32(a, x[r2], true);
              dv.setInt32(a + 4, x[r2 + 1], true);
            } else if (op === Op.SW) dv.setInt32(a, x[r2], true);
            else if (op === Op.SB) u8[a] = x[r2];
            else if (op === Op.SH) dv.setInt16(a, x[r2], true);
            else {
              const f = h.fu32;
              dv.setUint32(a, f[r2], true);
              dv.setUint32(a + 4, f[r2 + 1], true);
            }
            if ((pa | pb) & PERM_DECODED) {
              // The rest of this block may be the code just written: go on from the page's new decoding.
              mem.wrote(a, size);
              code = undefined;
              pc = arena[i - 1] + (w & (1 << 27) ? 2 : 4);
              break block;
            }
            break;
          }
          // Double-precision arithmetic: one call, so that the loop's compiled code stays
          // small (see double()).
          case Op.FMADD_D:
          case Op.FMSUB_D:
          case Op.FNMSUB_D:
          case Op.FNMADD_D:
          case Op.FADD_D:
          case Op.FSUB_D:
          case Op.FMUL_D:
          case Op.FDIV_D:
            this.double(op, rd, r1, r2, arena[i - 1], code);
            break;
          case Op.ADDI: {
            const lo = (x[r1] + imm) | 0;
            x[rd + 1] = (x[r1 + 1] + (imm >> 31) + (lo >>> 0 < x[r1] >>> 0 ? 1 : 0)) | 0;
            x[rd] = lo;
            break;
          }
          case Op.SLTI:
          case Op.SLTIU:
          case Op.SLT:
          case Op.SLTU: {
            const reg = op === Op.SLT || op === Op.SLTU;
            const blo = reg ? x[r2] : imm;
            const bhi = reg ? x[r2 + 1] : imm >> 31;
            const ahi = x[r1 + 1];
            x[rd] = (op === Op.SLTI || op === Op.SLT ? ahi < bhi : ahi >>> 0 < bhi >>> 0) || (ahi === bhi && x[r1] >>> 0 < blo >>> 0) ? 1 : 0;
            x[rd + 1] = 0;
            break;
          }
          case Op.XORI:
            x[rd + 1] = x[r1 + 1] ^ (imm >> 31);
            x[rd] = x[r1] ^ imm;
            break;
          case Op.ORI:
            x[rd + 1] = x[r1 + 1] | (imm >> 31);
            x[rd] = x[r1] | imm;
            break;
          case Op.ANDI:
            x[rd + 1] = x[r1 + 1] & (imm >> 31);
            x[rd] = x[r1] & imm;
            break;
          // Shifts and MUL are written out here rather than calling int64.ts: V8 gives
          // a loop this large a limited inlining budget, and calls cost more than the work.
          case Op.SLLI:
          case Op.SLL: {
            const sh = op === Op.SLLI ? imm : x[r2] & 63;
            const lo = x[r1];
            if (sh === 0) x[rd + 1] = x[r1 + 1];
            else if (sh < 32) x[rd + 1] = (x[r1 + 1] << sh) | (lo >>> (32 - sh));
            else x[rd + 1] = lo << (sh - 32);
            x[rd] = sh < 32 ? lo << sh : 0;
            break;
          }
          case Op.SRLI:
          case Op.SRL: {
            const sh = op === Op.SRLI ? imm : x[r2] & 63;
            const hi = x[r1 + 1];
            if (sh === 0) x[rd] = x[r1];
            else if (sh < 32) x[rd] = (x[r1] >>> sh) | (hi << (32 - sh));
            else x[rd] = hi >>> (sh - 32);
            x[rd + 1] = sh < 32 ? hi >>> sh : 0;
            break;
          }
          case Op.SRAI:
          case Op.SRA: {
            const sh = op === Op.SRAI ? imm : x[r2] & 63;
            const hi = x[r1 + 1];
            if (sh === 0) x[rd] = x[r1];
            else if (sh < 32) x[rd] = (x[r1] >>> sh) | (hi << (32 - sh));
            else x[rd] = hi >> (sh - 32);
            x[rd + 1] = hi >> (sh < 32 ? sh : 31);
            break;
          }
          case Op.ADD: {
            const a = x[r1];
            const lo = (a + x[r2]) | 0;
            x[rd + 1] = (x[r1 + 1] + x[r2 + 1] + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            x[rd] = lo;
            break;
          }
          case Op.SUB: {
            const a = x[r1];
            const b = x[r2];
            x[rd + 1] = (x[r1 + 1] - x[r2 + 1] - (a >>> 0 < b >>> 0 ? 1 : 0)) | 0;
            x[rd] = (a - b) | 0;
            break;
          }
          case Op.XOR:
            x[rd + 1] = x[r1 + 1] ^ x[r2 + 1];
            x[rd] = x[r1] ^ x[r2];
            break;
          case Op.OR:
            x[rd + 1] = x[r1 + 1] | x[r2 + 1];
            x[rd] = x[r1] | x[r2];
            break;
          case Op.AND:
            x[rd + 1] = x[r1 + 1] & x[r2 + 1];
            x[rd] = x[r1] & x[r2];
            break;
          case Op.ADDIW: {
            const v = (x[r1] + imm) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
          case Op.SLLIW:
          case Op.SLLW: {
            const v = x[r1] << (op === Op.SLLIW ? imm : x[r2] & 31);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
          case Op.SRLIW:
          case Op.SRLW: {
            const v = (x[r1] >>> (op === Op.SRLIW ? imm : x[r2] & 31)) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
          case Op.SRAIW:
          case Op.SRAW: {
            const v = x[r1] >> (op === Op.SRAIW ? imm : x[r2] & 31);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
          case Op.ADDW: {
            const v = (x[r1] + x[r2]) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
          case Op.SUBW: {
            const v = (x[r1] - x[r2]) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
          case Op.ECALL: {
            pc = arena[i - 1];
            const next = pc + 4;
            h.pc = pc;
            h.instret += n;
            budget -= n;
            stop -= n;
            n = 0;
            this.ecallResume = -1;
            if (this.onEcall()) {
              // A stop (the process ended, or its thread scheduler switches threads) keeps
              // where the call said to resume: a signal handler, or after rt_sigreturn.
              h.pc = this.ecallResume >= 0 ? this.ecallResume : next;
              return { kind: 'stop' };
            }
            pc = next;
            if (this.ecallResume >= 0) {
              const resume = this.ecallResume;
              if (resume < limit) pc = resume | 0;
              else {
                this.farPc = resume;
                pc = FAR_PC;
              }
            }
            // The handler may have changed memory mappings or code.
            u8 = mem.u8;
            dv = mem.dv;
            code = undefined;
            break block;
          }
          case Op.MUL: {
            // The low 64 bits of the product from 16-bit limbs of the low words (exact in doubles).
            const alo = x[r1];
            const blo = x[r2];
            const a0 = alo & 0xffff;
            const a1 = alo >>> 16;
            const b0 = blo & 0xffff;
            const b1 = blo >>> 16;
            const p00 = a0 * b0;
            const p01 = a0 * b1;
            const p10 = a1 * b0;
            const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
            const carry = (mid >>> 16) + (p01 >>> 16) + (p10 >>> 16) + a1 * b1;
            x[rd + 1] = (carry + Math.imul(alo, x[r2 + 1]) + Math.imul(x[r1 + 1], blo)) | 0;
            x[rd] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
            break;
          }
          case Op.MULW: {
            const v = Math.imul(x[r1], x[r2]);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
          default: {
            const at = arena[i - 1];
            this.cold(op, rd, r1, r2, code, (at & 4095) >>> 1, at, n);
            // fence.i, atomics and FP stores may have dropped code: look the page up again.
            if (this.epoch !== epoch) {
              epoch = this.epoch;
              code = undefined;
              pc = at + (w & (1 << 27) ? 2 : 4);
              break block;
            }
          }
          }
        }
        inside = false;
        // For a fault in fetching the next instruction, the report names the jump's bits.
        slot = (arena[i - 1] & 4095) >>> 1;
      }
    } catch (e) {
      if (inside) {
        pc = arena[i - 1];
        slot = (pc & 4095) >>> 1;
      }
      h.pc = pc === FAR_PC ? this.farPc : pc;
      h.instret += n - 1;
      if (e instanceof GuestFault) return { kind: 'fault', fault: e, raw: code?.raw[slot] };
      throw e;
    }
    h.pc = pc === FAR_PC ? this.farPc : pc;
    h.instret += n;
    if (n < budget) {
      this.left = budget - n;
      return null;
    }
    return { kind: 'budget' };
  }

  /**
   * The instructions integer code runs rarely (fences, CSRs, upper multiplies and
   * divisions, atomics, FP other than loads, stores and double-precision arithmetic), out of the run loop's switch:
   * a smaller loop compiles faster, and its optimized code does not depend on them.
   */
  private cold(op: number, rd: number, r1: number, r2: number, code: PageCode, slot: number, pc: number, n: number): void {
    const x = this.hart.x;
    switch (op) {
      case Op.FENCE:
        return;
      case Op.FENCE_I:
        this.flushCode();
        return;
      case Op.EBREAK:
        throw new GuestFault(SIGTRAP, pc, 'breakpoint (ebreak)');
      case Op.CSRRW:
      case Op.CSRRS:
      case Op.CSRRC:
      case Op.CSRRWI:
      case Op.CSRRSI:
      case Op.CSRRCI:
        this.csr(op, rd, code.rs1[slot], code.imm[slot], pc, this.hart.instret + n);
        return;
      case Op.MULH:
        mulh(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], true, true);
        return;
      case Op.MULHSU:
        mulh(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], true, false);
        return;
      case Op.MULHU:
        mulh(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], false, false);
        return;
      case Op.DIV:
        div64(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], true, false);
        return;
      case Op.DIVU:
        div64(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], false, false);
        return;
      case Op.REM:
        div64(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], true, true);
        return;
      case Op.REMU:
        div64(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], false, true);
        return;
      case Op.DIVW:
        div32(x, rd, x[r1], x[r2], true, false);
        return;
      case Op.DIVUW:
        div32(x, rd, x[r1], x[r2], false, false);
        return;
      case Op.REMW:
        div32(x, rd, x[r1], x[r2], true, true);
        return;
      case Op.REMUW:
        div32(x, rd, x[r1], x[r2], false, true);
        return;
      default:
        if (op >= Op.LR_W && op <= Op.AMOMAXU_D) this.atomic(op, rd, r1, r2, pc);
        else if (op >= Op.FLW && op <= Op.FMV_D_X) this.float(op, code, slot, pc);
        else throw new GuestFault(SIGILL, pc, 'illegal instruction');
    }
  }

  private csr(op: number, rd: number, rs1: number, csr: number, pc: number, instret: number): void {
    const h = this.hart;
    const x = this.hart.x;
    let old: number;
    let oldHi = 0;
    switch (csr) {
      case 0x001:
        old = h.flags;
        break;
      case 0x002:
        old = h.frm;
        break;
      case 0x003:
        old = (h.frm << 5) | h.flags;
        break;
      case 0xc00:
      case 0xc02:
        old = instret % TWO32 | 0;
        oldHi = Math.floor(instret / TWO32);
        break;
      case 0xc01: {
        const t = Math.floor(this.timeNs() / 100); // a 10 MHz timer, as Linux reports on common boards
        old = t % TWO32 | 0;
        oldHi = Math.floor(t / TWO32);
        break;
      }
      default:
        throw new GuestFault(SIGILL, pc, `access to unsupported CSR 0x${csr.toString(16)}`);
    }
    const imm = op >= Op.CSRRWI;
    const src = imm ? rs1 : x[rs1 << 1];
    const writes = op === Op.CSRRW || op === Op.CSRRWI || rs1 !== 0;
    if (writes) {
      if (csr >= 0xc00) throw new GuestFault(SIGILL, pc, `write to read-only CSR 0x${csr.toString(16)}`);
      let v: number;
      if (op === Op.CSRRW || op === Op.CSRRWI) v = src;
      else if (op === Op.CSRRS || op === Op.CSRRSI) v = old | src;
      else v = old & ~src;
      if (csr === 0x001) h.flags = v & 31;
      else if (csr === 0x002) h.frm = v & 7;
      else {
        h.flags = v & 31;
        h.frm = (v >>> 5) & 7;
      }
    }
    x[rd] = old;
    x[rd + 1] = oldHi;
  }

  private atomic(op: number, rd: number, r1: number, r2: number, pc: number): void {
    const x = this.hart.x;
    const mem = this.mem;
    const a = x[r1 + 1] * TWO32 + (x[r1] >>> 0);
    const wide = op >= Op.LR_D;
    const size = wide ? 8 : 4;
    if (a % size !== 0) throw new GuestFault(SIGBUS, a, 'misaligned atomic access');
    const base = wide ? op - (Op.LR_D - Op.LR_W) : op;
    if (base === Op.LR_W) {
      mem.check(a, size, PERM_R);
      if (this.accessHook !== null) this.accessHook(a, false);
      const lo = mem.dv.getInt32(a, true);
      x[rd] = lo;
      x[rd + 1] = wide ? mem.dv.getInt32(a + 4, true) : lo >> 31;
      this.hart.reservation = a;
      return;
    }
    mem.check(a, size, PERM_W);
    // A store-conditional or read-modify-write is one write access for a memory model.
    if (this.accessHook !== null) this.accessHook(a, true);
    if (base === Op.SC_W) {
      const ok = this.hart.reservation === a;
      this.hart.reservation = -1;
      if (ok) {
        mem.dv.setInt32(a, x[r2], true);
        if (wide) mem.dv.setInt32(a + 4, x[r2 + 1], true);
        mem.wrote(a, size);
      }
      x[rd] = ok ? 0 : 1;
      x[rd + 1] = 0;
      return;
    }
    const oldLo = mem.dv.getInt32(a, true);
    const oldHi = wide ? mem.dv.getInt32(a + 4, true) : oldLo >> 31;
    const bLo = x[r2];
    const bHi = wide ? x[r2 + 1] : bLo >> 31;
    let lo: number;
    let hi: number;
    switch (base) {
      case Op.AMOSWAP_W:
        lo = bLo;
        hi = bHi;
        break;
      case Op.AMOADD_W: {
        lo = (oldLo + bLo) | 0;
        hi = (oldHi + bHi + (lo >>> 0 < oldLo >>> 0 ? 1 : 0)) | 0;
        break;
      }
      case Op.AMOXOR_W:
        lo = oldLo ^ bLo;
        hi = oldHi ^ bHi;
        break;
      case Op.AMOAND_W:
        lo = oldLo & bLo;
        hi = oldHi & bHi;
        break;
      case Op.AMOOR_W:
        lo = oldLo | bLo;
        hi = oldHi | bHi;
        break;
      default: {
        const signed = base === Op.AMOMIN_W || base === Op.AMOMAX_W;
        const less = signed ? oldHi < bHi || (oldHi === bHi && oldLo >>> 0 < bLo >>> 0) : oldHi >>> 0 < bHi >>> 0 || (oldHi === bHi && oldLo >>> 0 < bLo >>> 0);
        const takeOld = base === Op.AMOMIN_W || base === Op.AMOMINU_W ? less : !less;
        lo = takeOld ? oldLo : bLo;
        hi = takeOld ? oldHi : bHi;
      }
    }
    mem.dv.setInt32(a, lo, true);
    if (wide) mem.dv.setInt32(a + 4, hi, true);
    mem.wrote(a, size);
    x[rd] = oldLo;
    x[rd + 1] = oldHi;
  }

  // ---- floating point (the operations without memory are in fpexec.ts) ----

  /**
   * The double-precision arithmetic, the FP operations FP code runs most but loads and
   * stores (which the run loop does), called from the run loop with its operands
   * (register numbers ×2, as the loop holds them).
   */
  private double(op: number, rd: number, r1: number, r2: number, pc: number, code: PageCode): void {
    const h = this.hart;
    const fu = h.fu32;
    const s = (pc & 4095) >>> 1;
    let rm = code.rm[s];
    if (rm === 7) rm = h.frm;
    if (rm > 4) throw new GuestFault(SIGILL, pc, 'invalid rounding mode');
    const f = h.f64;
    let v: number;
    if (op >= Op.FADD_D) {
      if (isSignalingD(fu, r1) || isSignalingD(fu, r2)) h.flags |= fpNV;
      const fa = f[r1 >> 1];
      const fb = f[r2 >> 1];
      v = op === Op.FADD_D ? fpAdd(fa, fb, 1, rm, h) : op === Op.FSUB_D ? fpAdd(fa, -fb, 1, rm, h) : op === Op.FMUL_D ? fpMul(fa, fb, 1, rm, h) : fpDiv(fa, fb, 1, rm, h);
    } else {
      const k = op - Op.FMADD_D;
      const r3 = code.rs3[s];
      if (isSignalingD(fu, r1) || isSignalingD(fu, r2) || isSignalingD(fu, r3 << 1)) h.flags |= fpNV;
      let fa = f[r1 >> 1];
      let fc = f[r3];
      if (k >= 2) fa = -fa;
      if (k === 1 || k === 3) fc = -fc;
      v = fpFma(fa, f[r2 >> 1], fc, 1, rm, h);
    }
    if (v !== v) {
      fu[rd] = 0;
      fu[rd + 1] = CANON_D_HI;
    } else f[rd >> 1] = v;
  }

  private float(op: number, code: PageCode, slot: number, pc: number): void {
    const h = this.hart;
    const x = h.x;
    const rd = code.rd[slot];
    const rs1 = code.rs1[slot];
    const rs2 = code.rs2[slot];
    const imm = code.imm[slot];
    const mem = this.mem;
    switch (op) {
      case Op.FLW: {
        const a = x[2 * rs1 + 1] * TWO32 + (x[2 * rs1] >>> 0) + imm;
        mem.check(a, 4, PERM_R);
        if (this.accessHook !== null) this.accessHook(a, false);
        h.fu32[2 * rd] = mem.dv.getUint32(a, true);
        h.fu32[2 * rd + 1] = 0xffffffff;
        return;
      }
      case Op.FSW: {
        const a = x[2 * rs1 + 1] * TWO32 + (x[2 * rs1] >>> 0) + imm;
        mem.check(a, 4, PERM_W);
        if (this.accessHook !== null) this.accessHook(a, true);
        mem.dv.setUint32(a, h.fu32[2 * rs2], true);
        mem.wrote(a, 4);
        return;
      }
    }
    if (!execFp(h, op, rd, rs1, rs2, code.rs3[slot], code.rm[slot])) throw new GuestFault(SIGILL, pc, 'illegal instruction');
  }
}
