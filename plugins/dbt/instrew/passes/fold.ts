// Constant folding and propagation, with local value numbering, over each block of
// a unit: a register read after a write (or a second read) in the same block is the
// value written (or first read); an operation on constants is computed at
// translation time; x + 0, x | 0, x & −1, x · 1 and shifts by 0 are x; an operation
// already computed on the same operands is reused; a branch on a constant becomes a
// jump; and a chain of additions of constants, (x + c1) + c2, adds x once to c1 + c2
// (addresses `rs1 + imm` computed from a register that was itself `r + imm`). The
// pass only rewrites values: removing what became unused is dce's work.
//
// Rewrite rules, by the names the pass reports them under (PassRules): forward-reg,
// const-reuse, const-eval, identity, add-chain, cse, branch-const.
//
// Injected bugs (the `inject` option, a testing aid for `virtlab localize`; off by
// default): 'fold:imm-sign' — add-chain takes a negative 12-bit immediate as
// unsigned (the sign extension of the I-type immediate forgotten); 'fold:shift-mask'
// — const-eval masks 64-bit shift amounts with 31, the 32-bit mask, instead of 63.

import { ALL_RULES, Inst, IrKind, RiscvOp, WasmOp, mapOperands, mapTermOperands, type Block, type PassRules, type Unit } from 'virtlab';

// Imported bindings compile to getter calls under CommonJS; the hot paths read these local copies.
const K = IrKind;
const W = WasmOp;
const Op = RiscvOp;

/** Bugs fold can be made to have (see the header). */
export interface FoldInject {
  readonly immSign?: boolean;
  readonly shiftMask?: boolean;
}

export interface FoldStats {
  folded: number;
  forwarded: number;
  reused: number;
  branchesResolved: number;
}

const M64 = (1n << 64n) - 1n;

function big(lo: number, hi: number): bigint {
  return BigInt.asIntN(64, (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0));
}

function words(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
}

/** The value of a BIN, BIN32 or CMP on constants, or undefined when not foldable. */
export function evaluate(k: number, op: number, a: bigint, b: bigint, inject: FoldInject = {}): bigint | undefined {
  const ua = BigInt.asUintN(64, a);
  const ub = BigInt.asUintN(64, b);
  const m = inject.shiftMask ? 31n : 63n;
  if (k === K.BIN) {
    switch (op) {
      case W.i64_add: return BigInt.asIntN(64, a + b);
      case W.i64_sub: return BigInt.asIntN(64, a - b);
      case W.i64_mul: return BigInt.asIntN(64, a * b);
      case W.i64_and: return a & b;
      case W.i64_or: return a | b;
      case W.i64_xor: return a ^ b;
      case W.i64_shl: return BigInt.asIntN(64, a << (ub & m));
      case W.i64_shr_u: return BigInt.asIntN(64, ua >> (ub & m));
      case W.i64_shr_s: return a >> (ub & m);
    }
    return undefined;
  }
  if (k === K.BIN32) {
    const a32 = BigInt.asIntN(32, a);
    const b32 = BigInt.asIntN(32, b);
    const ua32 = BigInt.asUintN(32, a);
    const sh = BigInt.asUintN(32, b) & 31n;
    switch (op) {
      case W.i32_add: return BigInt.asIntN(32, a32 + b32);
      case W.i32_sub: return BigInt.asIntN(32, a32 - b32);
      case W.i32_mul: return BigInt.asIntN(32, a32 * b32);
      case W.i32_shl: return BigInt.asIntN(32, a32 << sh);
      case W.i32_shr_u: return BigInt.asIntN(32, ua32 >> sh);
      case W.i32_shr_s: return a32 >> sh;
    }
    return undefined;
  }
  if (k === K.CMP) {
    switch (op) {
      case W.i64_eq: return a === b ? 1n : 0n;
      case W.i64_ne: return a !== b ? 1n : 0n;
      case W.i64_lt_s: return a < b ? 1n : 0n;
      case W.i64_ge_s: return a >= b ? 1n : 0n;
      case W.i64_lt_u: return ua < ub ? 1n : 0n;
      case W.i64_ge_u: return ua >= ub ? 1n : 0n;
    }
  }
  return undefined;
}

/** x op c that is just x. */
function identity(op: number, c: bigint, constOnRight: boolean): boolean {
  switch (op) {
    case W.i64_add:
    case W.i64_or:
    case W.i64_xor:
      return c === 0n;
    case W.i64_sub:
    case W.i64_shl:
    case W.i64_shr_u:
    case W.i64_shr_s:
      return constOnRight && c === 0n;
    case W.i64_and:
      return (c & M64) === M64 || c === -1n;
    case W.i64_mul:
      return c === 1n;
  }
  return false;
}

// The pass's per-value state, shared by the blocks it visits and valid where a value's
// stamp is the current block's: values are numbered densely within a unit, and the
// Maps and closures a block used to make cost more than the folding.
let repStamp = new Int32Array(256);
let repVal = new Int32Array(256);
let constStamp = new Int32Array(256);
let constBig: bigint[] = [];
let sumStamp = new Int32Array(256);
let sumX = new Int32Array(256);
let sumC: bigint[] = [];
/** Constant → the value holding it; small constants by their number, others by text. */
let constValue = new Map<number | string, number>();
/** Expressions already computed, by kind, opcode and operands packed into 53 bits. */
let exprs = new Map<number, number>();
const xval = new Int32Array(33);
const fval = new Int32Array(32);
/** The current block's stamp. */
let S = 0;

/** Starts a block whose values (with those the block may add) are below n. */
function nextBlock(n: number): void {
  if (n > repStamp.length || S >= 0x3fffffff) {
    const size = Math.max(n, 2 * repStamp.length);
    repStamp = new Int32Array(size);
    repVal = new Int32Array(size);
    constStamp = new Int32Array(size);
    sumStamp = new Int32Array(size);
    sumX = new Int32Array(size);
    constBig = [];
    sumC = [];
    S = 0;
  }
  constValue = new Map();
  exprs = new Map();
  xval.fill(-1);
  fval.fill(-1);
  S++;
}

function setRep(v: number, to: number): void {
  repStamp[v] = S;
  repVal[v] = to;
}

function r(v: number): number {
  return v < 0 ? v : repStamp[v] === S ? repVal[v] : v;
}

function constOf(v: number): bigint | undefined {
  return constStamp[v] === S ? constBig[v] : undefined;
}

function setConst(v: number, c: bigint): void {
  constStamp[v] = S;
  constBig[v] = c;
}

/** A constant's key in constValue, from its words: its number when it fits 32 bits, else its text. */
function keyFor(lo: number, hi: number): number | string {
  return hi === lo >> 31 ? lo : `${lo},${hi}`;
}

function keyOf(v: bigint): number | string {
  const [lo, hi] = words(v);
  return keyFor(lo, hi);
}

/** Makes i the constant v, or forwards its value to an equal constant; true if i stays. */
function makeConst(i: Inst, v: bigint, rules: PassRules): boolean {
  const [lo, hi] = words(v);
  return placeConst(i, v, lo, hi, keyFor(lo, hi), rules);
}

/** makeConst with v's words and key (keyFor) already known. */
function placeConst(i: Inst, v: bigint, lo: number, hi: number, key: number | string, rules: PassRules): boolean {
  const existing = constValue.get(key);
  if (existing !== undefined && rules.fire('const-reuse')) {
    setRep(i.dst, existing);
    return false;
  }
  i.k = K.CONST;
  i.lo = lo;
  i.hi = hi;
  i.a = i.b = i.c = -1;
  setConst(i.dst, v);
  if (existing === undefined) constValue.set(key, i.dst);
  return true;
}

function foldBlock(unit: Unit, b: Block, stats: FoldStats, rules: PassRules, inject: FoldInject): void {
  // Each instruction adds at most one value (add-chain's constant).
  nextBlock(unit.valueCount + b.insts.length);
  const s = S;
  const out: Inst[] = [];
  for (const i of b.insts) {
    switch (i.k) {
      case K.CONST: {
        const lo = i.lo;
        const hi = i.hi;
        const v = hi === lo >> 31 ? BigInt(lo) : big(lo, hi);
        // Words that are int32s already are v's words: no BigInt arithmetic for the key.
        const kept = (lo | 0) === lo && (hi | 0) === hi ? placeConst(i, v, lo, hi, keyFor(lo, hi), rules) : makeConst(i, v, rules);
        if (kept) out.push(i);
        continue;
      }
      case K.GETX:
      case K.GETF: {
        const regs = i.k === K.GETX ? xval : fval;
        if (regs[i.a] >= 0 && rules.fire('forward-reg')) {
          setRep(i.dst, regs[i.a]);
          stats.forwarded++;
          continue;
        }
        regs[i.a] = i.dst;
        out.push(i);
        continue;
      }
      case K.SETX:
      case K.SETF:
        i.b = r(i.b);
        (i.k === K.SETX ? xval : fval)[i.a] = i.b;
        out.push(i);
        continue;
      case K.BIN:
      case K.BIN32:
      case K.CMP: {
        i.a = r(i.a);
        i.b = r(i.b);
        const ca = constOf(i.a);
        const cb = constOf(i.b);
        if (ca !== undefined && cb !== undefined) {
          const v = evaluate(i.k, i.op, ca, cb, inject);
          if (v !== undefined && rules.fire('const-eval')) {
            stats.folded++;
            if (makeConst(i, v, rules)) out.push(i);
            continue;
          }
        }
        if (i.k === K.BIN) {
          if (cb !== undefined && identity(i.op, cb, true) && rules.fire('identity')) {
            setRep(i.dst, i.a);
            stats.folded++;
            continue;
          }
          if (ca !== undefined && identity(i.op, ca, false) && rules.fire('identity')) {
            setRep(i.dst, i.b);
            stats.folded++;
            continue;
          }
          const inner = cb !== undefined && i.op === W.i64_add && sumStamp[i.a] === s;
          if (inner && cb !== undefined && rules.fire('add-chain')) {
            // (x + c1) + c2 = x + (c1 + c2): x is added once.
            const c2 = inject.immSign && cb < 0n && cb >= -2048n ? cb & 0xfffn : cb;
            const sum = BigInt.asIntN(64, sumC[i.a] + c2);
            const key = keyOf(sum);
            let k = constValue.get(key);
            if (k === undefined) {
              const [lo, hi] = words(sum);
              k = unit.newValue();
              out.push(new Inst(K.CONST, 0, k, -1, -1, -1, lo, hi, i.gi));
              setConst(k, sum);
              constValue.set(key, k);
            }
            i.a = sumX[i.a];
            i.b = k;
            stats.folded++;
          }
          if (i.op === W.i64_add) {
            const c = constOf(i.b);
            if (c !== undefined) {
              sumStamp[i.dst] = s;
              sumX[i.dst] = i.a;
              sumC[i.dst] = c;
            }
          }
        }
        const key = ((i.k * 256 + i.op) * 1048576 + i.a) * 1048576 + i.b;
        const seen = exprs.get(key);
        if (seen !== undefined && rules.fire('cse')) {
          setRep(i.dst, seen);
          stats.reused++;
          continue;
        }
        if (seen === undefined) exprs.set(key, i.dst);
        out.push(i);
        continue;
      }
      default:
        mapOperands(i, r);
        out.push(i);
    }
  }
  b.insts.length = 0;
  b.insts.push(...out);
  const term = mapTermOperands(b.term, r);
  const c = term.k === 'branch' ? constOf(term.cond) : undefined;
  if (term.k === 'branch' && c !== undefined && rules.fire('branch-const')) {
    b.term = { k: 'jump', target: c !== 0n ? term.taken : term.fall };
    stats.branchesResolved++;
  } else b.term = term;
}

/** Runs the pass over every block of the unit. */
export function fold(unit: Unit, stats: FoldStats, rules: PassRules = ALL_RULES, inject: FoldInject = {}): Unit {
  for (const b of unit.blocks) foldBlock(unit, b, stats, rules, inject);
  return unit;
}
