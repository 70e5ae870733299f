// The translators' intermediate representation. Guest RISC-V code is lifted into it
// (lift.ts), optimizing passes rewrite it, and emit.ts lowers it to WebAssembly. It
// is deliberately small: a unit (a block or a region) is a list of basic blocks;
// each block is a list of instructions on SSA values, in guest order, ending in a
// terminator that says where control goes next.
//
// Guest registers are not SSA values: `getx`/`setx` (and `getf`/`setf` for the FP
// registers, as raw 64-bit patterns) read and write the architectural registers at
// that point of the block. The lowering decides where registers live — in the CPU
// state in memory (the block translator, like QEMU) or in WebAssembly locals across
// the region (the optimizing translator). Every value is an i64 except where an
// instruction says otherwise.

import type { Decoded } from '../riscv/decoder';

/** Instruction kinds. */
export const enum K {
  /** dst = the constant hi·2^32 + lo. */
  CONST = 1,
  /** dst = x[a]. */
  GETX,
  /** x[a] = value b. */
  SETX,
  /** dst = the raw bits of f[a]. */
  GETF,
  /** f[a] = raw bits b. */
  SETF,
  /** dst = a `op` b, op a WebAssembly i64 binary opcode. */
  BIN,
  /** dst = sign-extended (wrap(a) `op` wrap(b)), op a WebAssembly i32 binary opcode. */
  BIN32,
  /** dst = (a `op` b) ? 1 : 0, op a WebAssembly i64 comparison opcode. */
  CMP,
  /** dst = RISC-V division: op DIV_* and lo = 64 or 32 (sign-extended W result). */
  DIV,
  /** dst = high 64 bits of the 128-bit product: op MULH_*. */
  MULH,
  /** dst = guest memory at address a: op a WebAssembly i64 load opcode, lo = bytes. */
  LOAD,
  /** guest memory at address a = b: op a WebAssembly i64 store opcode, lo = bytes. */
  STORE,
  /**
   * The access check alone of a load (op 0) or store (op 1) of lo bytes at address a:
   * what remains of a load whose value a pass forwarded from an earlier store.
   */
  CHECK,
  /**
   * One access check for several accesses of a block through the same base: every
   * page of [a, a + lo) must allow a load (op bit 0) and, if op bit 1, a store. lo is
   * at most 4096, so two pages are checked. Placed before the first of the accesses,
   * whose instruction the unit exits before when the check fails.
   */
  CHECKRANGE,
  /**
   * A floating-point instruction (op: the interpreter's Op, `ins` its decoding) on
   * operand values a, b, c (raw bits for FP registers, integers for x registers);
   * dst is its result, raw bits or an integer. The lowering computes the common case
   * inline and hands the rest to the interpreter.
   */
  FP,
  /** dst = the FP control register a (0x001 fflags, 0x002 frm, 0x003 fcsr). */
  GETCSR,
  /** FP control register a = b (only its defined bits are kept). */
  SETCSR,
  /**
   * Runs guest instruction `ins` (at pc) in the interpreter on the architectural
   * state: `reads` are stored into the state first and `writes` loaded after.
   */
  INTERP,
}

export const DIV_S = 0;
export const DIV_U = 1;
export const REM_S = 2;
export const REM_U = 3;

export const MULH_SS = 0;
export const MULH_SU = 1;
export const MULH_UU = 2;

/**
 * Set in `c` of a LOAD or STORE whose access check a pass proved redundant (the same
 * address was accessed, with the permission this access needs, earlier in the block).
 */
export const CHECKED = 1;

/** A register operand of an INTERP instruction: file 0 = x, 1 = f. */
export interface RegRef {
  readonly file: 0 | 1;
  readonly reg: number;
  /** The SSA value holding the register (reads) or receiving it (writes). */
  value: number;
}

export class Inst {
  /** Extra operands of FP and INTERP instructions. */
  ins: Decoded | null = null;
  reads: RegRef[] | null = null;
  writes: RegRef[] | null = null;

  constructor(
    /** The kind (K). */
    public k: number,
    public op: number,
    /** Result value, or -1. */
    public dst: number,
    public a: number,
    public b: number,
    public c: number,
    public lo: number,
    public hi: number,
    /** Index of the guest instruction in the unit (pc = unit.pcs[gi]). */
    public gi: number,
  ) {}
}

/** Where control goes at the end of a block. Targets are guest pcs. */
export type Term =
  | { readonly k: 'jump'; readonly target: number }
  | { readonly k: 'branch'; readonly cond: number; readonly taken: number; readonly fall: number }
  /**
   * An indirect jump (jalr that is neither a call nor a return); `cases` are targets
   * seen before translation (a switch's jump table), which a region may branch to
   * directly after comparing.
   */
  | { readonly k: 'indirect'; readonly target: number; readonly cases?: readonly number[] }
  /** A direct call: the link register already holds `ret`. */
  | { readonly k: 'call'; readonly target: number; readonly ret: number }
  /** An indirect call (jalr with a link register). */
  | { readonly k: 'icall'; readonly target: number; readonly ret: number }
  /** A return (jalr x0, 0(ra) or t0). */
  | { readonly k: 'ret'; readonly target: number }
  /** Stop before the instruction at pc: the interpreter executes it (ecall, CSRs, fence.i). */
  | { readonly k: 'interp'; readonly pc: number };

export class Block {
  readonly insts: Inst[] = [];
  term: Term = { k: 'interp', pc: 0 };
  /** Guest instructions in the block, and the index of the first in the unit. */
  count = 0;
  firstGi = 0;

  constructor(
    /** Guest pc of the first instruction. */
    readonly start: number,
  ) {}

  /** Guest pc just past the last instruction. */
  end = 0;
}

/** One unit of translation: its blocks (the first is the entry) and value types. */
export class Unit {
  readonly blocks: Block[] = [];
  /** pc of every guest instruction, by index; the index of a pc's instruction. */
  readonly pcs: number[] = [];
  /** Values allocated so far (every value is an i64). */
  valueCount = 0;
  /** Pages the unit's code was read from. */
  readonly pages = new Set<number>();

  constructor(readonly entry: number) {}

  newValue(): number {
    return this.valueCount++;
  }

  get guestInstructions(): number {
    return this.pcs.length;
  }

  get guestBytes(): number {
    let n = 0;
    for (const b of this.blocks) n += b.end - b.start;
    return n;
  }
}

/**
 * The guest pcs a terminator may go to that its code names: jump and branch targets,
 * and optionally the targets of direct calls and the return addresses after calls.
 */
export function directTargets(t: Term, calls: boolean, returns: boolean): number[] {
  switch (t.k) {
    case 'jump':
      return [t.target];
    case 'branch':
      return t.taken === t.fall ? [t.fall] : [t.fall, t.taken];
    case 'call':
      return calls && returns ? [t.target, t.ret] : calls ? [t.target] : returns ? [t.ret] : [];
    case 'indirect':
      return t.cases ? [...t.cases] : [];
    case 'icall':
      return returns ? [t.ret] : [];
    default:
      return [];
  }
}

/** Values an instruction reads. */
export function operands(i: Inst): number[] {
  const out: number[] = [];
  mapOperands(i, (v) => (out.push(v), v));
  return out;
}

/** Which fields of an instruction of each kind are operands: 1 a, 2 b, 4 c; 8: b and c only when not −1. */
const OPERAND_FIELDS: Uint8Array = (() => {
  const t = new Uint8Array(32);
  for (const k of [K.SETX, K.SETF, K.SETCSR]) t[k] = 2;
  for (const k of [K.LOAD, K.CHECK, K.CHECKRANGE]) t[k] = 1;
  for (const k of [K.STORE, K.BIN, K.BIN32, K.CMP, K.DIV, K.MULH]) t[k] = 3;
  t[K.FP] = 1 | 2 | 4 | 8;
  return t;
})();

/**
 * Writes the values an instruction reads into `out` (the same as operands); returns
 * how many. For the hot walks of passes and emission, which an array per instruction
 * (and a closure per call) slowed down.
 */
export function operandsInto(i: Inst, out: Int32Array): number {
  if (i.k === K.INTERP) {
    let n = 0;
    for (const x of i.reads!) out[n++] = x.value;
    return n;
  }
  const m = OPERAND_FIELDS[i.k];
  let n = 0;
  if (m & 1) out[n++] = i.a;
  if (m & 2 && (!(m & 8) || i.b >= 0)) out[n++] = i.b;
  if (m & 4 && (!(m & 8) || i.c >= 0)) out[n++] = i.c;
  return n;
}

/** Values a terminator reads. */
export function termOperands(t: Term): number[] {
  switch (t.k) {
    case 'branch':
      return [t.cond];
    case 'indirect':
    case 'icall':
    case 'ret':
      return [t.target];
    default:
      return [];
  }
}

/** Replaces every value an instruction reads by r(value). */
export function mapOperands(i: Inst, r: (v: number) => number): void {
  switch (i.k) {
    case K.SETX:
    case K.SETF:
    case K.SETCSR:
      i.b = r(i.b);
      return;
    case K.LOAD:
    case K.CHECK:
    case K.CHECKRANGE:
      i.a = r(i.a);
      return;
    case K.STORE:
    case K.BIN:
    case K.BIN32:
    case K.CMP:
    case K.DIV:
    case K.MULH:
      i.a = r(i.a);
      i.b = r(i.b);
      return;
    case K.FP:
      i.a = r(i.a);
      if (i.b >= 0) i.b = r(i.b);
      if (i.c >= 0) i.c = r(i.c);
      return;
    case K.INTERP:
      for (const x of i.reads!) x.value = r(x.value);
      return;
  }
}

/** A terminator with every value it reads replaced by r(value). */
export function mapTermOperands(t: Term, r: (v: number) => number): Term {
  switch (t.k) {
    case 'branch':
      return { ...t, cond: r(t.cond) };
    case 'indirect':
    case 'ret':
    case 'icall':
      return { ...t, target: r(t.target) };
    default:
      return t;
  }
}

/** Does removing the instruction (when its result is unused) change nothing? */
export function isPure(i: Inst): boolean {
  switch (i.k) {
    case K.CONST:
    case K.GETX:
    case K.GETF:
    case K.GETCSR:
    case K.BIN:
    case K.BIN32:
    case K.CMP:
    case K.DIV:
    case K.MULH:
      return true;
    default:
      return false;
  }
}
