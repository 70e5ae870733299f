// The helper module every translated unit imports: WebAssembly functions for what
// WebAssembly lacks or what too many units would repeat. Units call these directly
// (module to module, no JavaScript in between):
//
//   lookup()           the in-WebAssembly dispatcher: finds the unit for STATE_PC in the
//                      lookup table and tail-calls it, or returns EXIT_LOOKUP
//   lookupIndex(pc)    the table index of pc's unit, or -1
//   stub()             what an unpatched chain slot holds: returns EXIT_LOOKUP
//   enter(slot)        tail-calls the unit in a chain slot: units jump (return_call)
//                      and call (call) through it, so that only this module imports
//                      the shared table (a table import makes instantiation cost
//                      grow with the table, and every table.set visit every importer)
//   mulh/mulhsu/mulhu  the high 64 bits of 128-bit products
//   nxAdd/nxMul/nxDiv/nxSqrt  whether a correctly rounded result was inexact (1) or
//                      exact (0), by error-free transformations; 2 when they do not
//                      apply (operands too large or too small), and the interpreter
//                      decides instead
//   fma(a, b, c)       a·b + c rounded once to nearest-even, by Boldo and Melquiond's
//                      emulation with rounding to odd (as fp.ts does), with 0/1 for
//                      exact/inexact or 2 when it does not apply
//
// The lookup table holds 16-byte entries [pc: i64][table index: i32][pad]; an empty
// entry holds pc 1, which no instruction has. It is two-way: a pc lives in its first
// entry, (pc >> 1) mod LOOKUP_ENTRIES, or in its second (see lookupSlots), so that two
// hot targets whose pcs agree in those bits (a multiple of 32 KiB apart) no longer evict
// each other. Direct-mapped, SQLite's varint decoder and a function 480 KiB above it
// shared an entry: every call through the decoder's function pointer missed, returned
// to the JavaScript dispatcher, and the host call stack above it unwound through the
// dispatcher too.

import { LOOKUP_ENTRIES, STATE_LOOKUP_HITS, STATE_PC, type GuestMemory } from '../riscv/memory';
import { F64, FuncBody, I32, I64, ModuleBuilder, W, type ValType } from '../wasm/encoder';
import { EXIT_LOOKUP } from './abi';

const SPLIT = 134217729; // 2^27 + 1
const SAFE_HI = 2 ** 995;
const SAFE_LO = 2 ** -960;

export interface RuntimeExports {
  readonly lookup: () => number;
  readonly stub: () => number;
  readonly [name: string]: unknown;
}

/**
 * The helpers, in the order of the helper table that every unit's module imports
 * (units call them with call_indirect): V8 compiles a wrapper per imported
 * function's signature in every module, which made function imports the largest
 * cost of a small module, while a small imported table costs almost nothing.
 * `interp` and `access` wrap the runtime's JavaScript helpers (see abi.ts).
 */
export const HELPERS = ['enter', 'lookup', 'lookupIndex', 'mulh', 'mulhsu', 'mulhu', 'nxAdd', 'nxMul', 'nxDiv', 'nxSqrt', 'fma', 'interp', 'access'] as const;
export type HelperName = (typeof HELPERS)[number];

/** Each helper's parameter and result types. */
export const HELPER_TYPES: Record<HelperName, readonly [readonly ValType[], readonly ValType[]]> = {
  enter: [[I32], [I32]],
  lookup: [[], [I32]],
  lookupIndex: [[I64], [I32]],
  mulh: [[I64, I64], [I64]],
  mulhsu: [[I64, I64], [I64]],
  mulhu: [[I64, I64], [I64]],
  nxAdd: [[F64, F64, F64], [I32]],
  nxMul: [[F64, F64, F64], [I32]],
  nxDiv: [[F64, F64, F64], [I32]],
  nxSqrt: [[F64, F64], [I32]],
  fma: [[F64, F64, F64], [F64, I32]],
  interp: [[I32], [I32]],
  access: [[I32, I32], []],
};

/** Emits |x| < 2^995 && (|x| > 2^-960 || x == 0) for the f64 in local `x`; leaves an i32. */
function safe(f: FuncBody, x: number): void {
  f.get(x).op(W.f64_abs).f64Const(SAFE_HI).op(W.f64_lt);
  f.get(x).op(W.f64_abs).f64Const(SAFE_LO).op(W.f64_gt);
  f.get(x).f64Const(0).op(W.f64_eq).op(W.i32_or);
  f.op(W.i32_and);
}

/** Scratch f64 locals of twoProductLo. */
export interface SplitLocals {
  readonly t: number;
  readonly ah: number;
  readonly al: number;
  readonly bh: number;
  readonly bl: number;
}

/**
 * Emits the low part of a·b = hi + lo (Dekker), leaving an f64; t, ah, al, bh, bl are
 * scratch locals. Exact when the exponents of a and b sum to at least −970 (no partial
 * product falls below the subnormal grid); an overflow in the split or a partial
 * product leaves an infinity or NaN, never a wrong finite value.
 */
export function twoProductLo(f: FuncBody, a: number, b: number, hi: number, s: SplitLocals): void {
  f.f64Const(SPLIT).get(a).op(W.f64_mul).set(s.t);
  f.get(s.t).get(s.t).get(a).op(W.f64_sub).op(W.f64_sub).set(s.ah);
  f.get(a).get(s.ah).op(W.f64_sub).set(s.al);
  f.f64Const(SPLIT).get(b).op(W.f64_mul).set(s.t);
  f.get(s.t).get(s.t).get(b).op(W.f64_sub).op(W.f64_sub).set(s.bh);
  f.get(b).get(s.bh).op(W.f64_sub).set(s.bl);
  // al·bl − (((hi − ah·bh) − al·bh) − ah·bl)
  f.get(s.al).get(s.bl).op(W.f64_mul);
  f.get(hi).get(s.ah).get(s.bh).op(W.f64_mul).op(W.f64_sub);
  f.get(s.al).get(s.bh).op(W.f64_mul).op(W.f64_sub);
  f.get(s.ah).get(s.bl).op(W.f64_mul).op(W.f64_sub);
  f.op(W.f64_sub);
}

/**
 * Emits the error of s = a + b (Knuth's TwoSum), leaving an f64; bb is a scratch local,
 * which may be the local the caller then sets the error into.
 */
export function twoSumLo(f: FuncBody, a: number, b: number, s: number, bb: number): void {
  f.get(s).get(a).op(W.f64_sub).set(bb);
  f.get(a).get(s).get(bb).op(W.f64_sub).op(W.f64_sub);
  f.get(b).get(bb).op(W.f64_sub);
  f.op(W.f64_add);
}

function scratch(f: FuncBody): SplitLocals {
  return { t: f.local(F64), ah: f.local(F64), al: f.local(F64), bh: f.local(F64), bl: f.local(F64) };
}

/** Entry index bits the second way flips, besides a hash of the pc's higher bits. */
const WAY2 = LOOKUP_ENTRIES >> 1;

/** The byte offsets in the lookup table of pc's first and second entries (lookup's hash, in JavaScript). */
export function lookupSlots(pc: number): [number, number] {
  const lo = pc >>> 0;
  const mask = LOOKUP_ENTRIES - 1;
  const e1 = (lo >>> 1) & mask;
  return [e1 * 16, (e1 ^ ((lo >>> 15) & mask) ^ WAY2) * 16];
}

/** Builds the helper module's bytes for a guest memory's layout. */
export function buildRuntimeModule(mem: GuestMemory, tableSize: number): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  const tUnit = m.type([], [I32]);
  const tIdx = m.type([I64], [I32]);
  const tMul = m.type([I64, I64], [I64]);
  const tNx3 = m.type([F64, F64, F64], [I32]);
  const tNx2 = m.type([F64, F64], [I32]);
  const tFma = m.type([F64, F64, F64], [F64, I32]);
  const jsInterp = m.importFunc('js', 'interp', m.type([I32], [I32]));
  const jsAccess = m.importFunc('js', 'access', m.type([I32, I32], []));
  m.importMemory('env', 'mem', mem.wasmPages);
  m.importTable('env', 'table', tableSize);
  {
    const { index, body: f } = m.func(m.type([I32], [I32]));
    f.get(0).returnCall(jsInterp);
    m.export('interp', index);
  }
  {
    const { index, body: f } = m.func(m.type([I32, I32], []));
    f.get(0).get(1).call(jsAccess);
    m.export('access', index);
  }
  const lookupBase = mem.lookupBase;
  const mask = LOOKUP_ENTRIES - 1;

  // pc's first entry's byte offset into local e (as lookupSlots).
  const firstEntry = (f: FuncBody, pc: number, e: number) => {
    f.get(pc).op(W.i32_wrap_i64).i32Const(1).op(W.i32_shr_u).i32Const(mask).op(W.i32_and).i32Const(4).op(W.i32_shl).set(e);
  };
  // pc's second entry's byte offset from its first, in local e.
  const secondEntry = (f: FuncBody, pc: number, e: number) => {
    f.get(e);
    f.get(pc).op(W.i32_wrap_i64).i32Const(15).op(W.i32_shr_u).i32Const(mask).op(W.i32_and).i32Const(WAY2).op(W.i32_xor).i32Const(4).op(W.i32_shl);
    f.op(W.i32_xor).set(e);
  };
  // Does entry e hold pc? (leaves an i32)
  const holds = (f: FuncBody, pc: number, e: number) => {
    f.get(e).mem(W.i64_load, 3, lookupBase).get(pc).op(W.i64_eq);
  };

  {
    const { index, body: f } = m.func(tUnit);
    const pc = f.local(I64);
    const e = f.local(I32);
    const hit = () => {
      f.i32Const(0).i32Const(0).mem(W.i64_load, 3, mem.stateBase + STATE_LOOKUP_HITS).i64Const(1).op(W.i64_add).mem(W.i64_store, 3, mem.stateBase + STATE_LOOKUP_HITS);
      f.get(e).mem(W.i32_load, 2, lookupBase + 8).returnCallIndirect(tUnit);
    };
    f.i32Const(0).mem(W.i64_load, 3, mem.stateBase + STATE_PC).set(pc);
    firstEntry(f, pc, e);
    holds(f, pc, e);
    f.if();
    hit();
    f.end();
    secondEntry(f, pc, e);
    holds(f, pc, e);
    f.if();
    hit();
    f.end();
    f.i32Const(EXIT_LOOKUP);
    m.export('lookup', index);
  }
  {
    const { index, body: f } = m.func(tIdx);
    const e = f.local(I32);
    firstEntry(f, 0, e);
    holds(f, 0, e);
    f.if();
    f.get(e).mem(W.i32_load, 2, lookupBase + 8).op(W.return);
    f.end();
    secondEntry(f, 0, e);
    holds(f, 0, e);
    f.if(I32).get(e).mem(W.i32_load, 2, lookupBase + 8).else().i32Const(-1).end();
    m.export('lookupIndex', index);
  }
  {
    const { index, body: f } = m.func(tUnit);
    f.i32Const(EXIT_LOOKUP);
    m.export('stub', index);
  }
  {
    const { index, body: f } = m.func(m.type([I32], [I32]));
    f.get(0).returnCallIndirect(tUnit);
    m.export('enter', index);
  }
  // High halves of products from 32-bit limbs: a = ah·2^32 + al, b likewise.
  let mulhuIndex: number;
  {
    const { index, body: f } = m.func(tMul);
    mulhuIndex = index;
    const [al, ah, bl, bh, p1, p2, mid] = [f.local(I64), f.local(I64), f.local(I64), f.local(I64), f.local(I64), f.local(I64), f.local(I64)];
    const lo32 = (x: number) => f.get(x).i64Const(-1, 0).op(W.i64_and);
    const hi32 = (x: number) => f.get(x).i64Const(32).op(W.i64_shr_u);
    lo32(0).set(al);
    hi32(0).set(ah);
    lo32(1).set(bl);
    hi32(1).set(bh);
    f.get(al).get(bh).op(W.i64_mul).set(p1);
    f.get(ah).get(bl).op(W.i64_mul).set(p2);
    // mid = (al·bl >> 32) + lo32(p1) + lo32(p2): at most 3·(2^32 − 1), no overflow.
    f.get(al).get(bl).op(W.i64_mul).i64Const(32).op(W.i64_shr_u);
    lo32(p1).op(W.i64_add);
    lo32(p2).op(W.i64_add).set(mid);
    f.get(ah).get(bh).op(W.i64_mul);
    hi32(p1).op(W.i64_add);
    hi32(p2).op(W.i64_add);
    hi32(mid).op(W.i64_add);
    m.export('mulhu', index);
  }
  {
    // Signed: mulhu(a, b) − (a < 0 ? b : 0) − (b < 0 ? a : 0).
    const { index, body: f } = m.func(tMul);
    f.get(0).get(1).call(mulhuIndex);
    f.get(1).i64Const(0).get(0).i64Const(0).op(W.i64_lt_s).op(W.select).op(W.i64_sub);
    f.get(0).i64Const(0).get(1).i64Const(0).op(W.i64_lt_s).op(W.select).op(W.i64_sub);
    m.export('mulh', index);
  }
  {
    // a signed, b unsigned: mulhu(a, b) − (a < 0 ? b : 0).
    const { index, body: f } = m.func(tMul);
    f.get(0).get(1).call(mulhuIndex);
    f.get(1).i64Const(0).get(0).i64Const(0).op(W.i64_lt_s).op(W.select).op(W.i64_sub);
    m.export('mulhsu', index);
  }
  {
    // nxAdd(a, b, s): TwoSum's error is zero exactly when a + b = s.
    const { index, body: f } = m.func(tNx3);
    const bb = f.local(F64);
    twoSumLo(f, 0, 1, 2, bb);
    f.f64Const(0).op(W.f64_ne);
    m.export('nxAdd', index);
  }
  {
    // nxMul(a, b, p): Dekker's product is error-free away from overflow and underflow.
    const { index, body: f } = m.func(tNx3);
    const s = scratch(f);
    safe(f, 0);
    safe(f, 1);
    f.op(W.i32_and);
    f.get(2).op(W.f64_abs).f64Const(SAFE_LO).op(W.f64_gt).op(W.i32_and);
    f.if(I32);
    twoProductLo(f, 0, 1, 2, s);
    f.f64Const(0).op(W.f64_ne);
    f.else().i32Const(2).end();
    m.export('nxMul', index);
  }
  {
    // nxDiv(a, b, q): q = a/b exactly iff q·b = a with no error in the product.
    const { index, body: f } = m.func(tNx3);
    const s = scratch(f);
    const qb = f.local(F64);
    safe(f, 0);
    safe(f, 1);
    f.op(W.i32_and);
    safe(f, 2);
    f.op(W.i32_and);
    f.get(2).f64Const(0).op(W.f64_ne).op(W.i32_and);
    f.if(I32);
    f.get(2).get(1).op(W.f64_mul).set(qb);
    f.get(qb).get(0).op(W.f64_ne);
    twoProductLo(f, 2, 1, qb, s);
    f.f64Const(0).op(W.f64_ne).op(W.i32_or);
    f.else().i32Const(2).end();
    m.export('nxDiv', index);
  }
  {
    // nxSqrt(a, s): s = √a exactly iff s·s = a with no error in the product.
    const { index, body: f } = m.func(tNx2);
    const sc = scratch(f);
    const ss = f.local(F64);
    safe(f, 0);
    safe(f, 1);
    f.op(W.i32_and);
    f.if(I32);
    f.get(1).get(1).op(W.f64_mul).set(ss);
    f.get(ss).get(0).op(W.f64_ne);
    twoProductLo(f, 1, 1, ss, sc);
    f.f64Const(0).op(W.f64_ne).op(W.i32_or);
    f.else().i32Const(2).end();
    m.export('nxSqrt', index);
  }
  {
    // fma(a, b, c) → (z, 0/1), or (0, 2) when the fast path does not apply.
    const { index, body: f } = m.func(tFma);
    const L = fmaLocals(f);
    emitFma(f, 0, 1, 2, L, () => f.f64Const(0).i32Const(2).op(W.return));
    f.get(L.z).get(L.st);
    m.export('fma', index);
  }
  return m.finish();
}

/** Scratch locals of emitFma (all f64 but `bits` and `st`). */
export interface FmaLocals {
  readonly s: SplitLocals;
  readonly uh: number;
  readonly ul: number;
  readonly th: number;
  readonly tl: number;
  readonly v: number;
  readonly e1: number;
  readonly z: number;
  readonly e2: number;
  readonly bb: number;
  readonly bits: number;
  readonly st: number;
}

export function fmaLocals(f: FuncBody): FmaLocals {
  const l = () => f.local(F64);
  return { s: scratch(f), uh: l(), ul: l(), th: l(), tl: l(), v: l(), e1: l(), z: l(), e2: l(), bb: l(), bits: f.local(I64), st: f.local(I32) };
}

/**
 * a·b + c (f64 locals a, b, c) rounded once to nearest-even — the fast path of fp.ts's
 * fma for doubles, Boldo and Melquiond's emulation with rounding to odd — into L.z,
 * with L.st = 1 when inexact, 0 when exact. Where it does not apply (operands not
 * finite or too large or small, a result near underflow or zero) it runs `fail`,
 * which must leave (return, or branch out). (Emitted inline in units instead of
 * called, it measured no faster: the dependent chain of about twenty operations is
 * the cost, not the call.)
 */
export function emitFma(f: FuncBody, a: number, b: number, c: number, L: FmaLocals, fail: () => void): void {
  const { s, uh, ul, th, tl, v, e1, z, e2, bb, bits } = L;
  // Finite and safe operands only (a NaN fails every comparison in safe()).
  safe(f, a);
  safe(f, b);
  f.op(W.i32_and);
  safe(f, c);
  f.op(W.i32_and).op(W.i32_eqz);
  f.if();
  fail();
  f.end();
  f.get(a).get(b).op(W.f64_mul).set(uh);
  // A product above the safe range's floor, or exactly zero from a zero operand (a
  // product that underflowed to zero from nonzero operands is not exact).
  f.get(uh).op(W.f64_abs).f64Const(SAFE_LO).op(W.f64_gt).get(a).f64Const(0).op(W.f64_eq).op(W.i32_or).get(b).f64Const(0).op(W.f64_eq).op(W.i32_or).op(W.i32_eqz);
  f.if();
  fail();
  f.end();
  f.get(uh).f64Const(0).op(W.f64_eq);
  f.if(F64).f64Const(0).else();
  twoProductLo(f, a, b, uh, s);
  f.end().set(ul);
  f.get(c).get(uh).op(W.f64_add).set(th);
  twoSumLo(f, c, uh, th, bb);
  f.set(tl);
  f.get(tl).get(ul).op(W.f64_add).set(v);
  // The exact result is th + tl + ul, and v = RN(tl + ul). When |v| is below half the
  // gap between th and its neighbour on v's side, so is |tl + ul| (rounding is monotonic
  // and the half gap is a power of two), so the fused result rounds to th itself — the
  // unfused sum — and is exact just when v is 0 (a nonzero sum of two doubles does not
  // round to 0). Only a result within about half an ulp of a rounding boundary needs the
  // rounding to odd below. (th in the safe range: its neighbour is finite and normal.)
  f.get(th).op(W.f64_abs).f64Const(SAFE_LO).op(W.f64_gt);
  f.get(th).op(W.f64_abs).f64Const(SAFE_HI).op(W.f64_lt).op(W.i32_and);
  f.if(I32);
  f.get(th).op(W.i64_reinterpret_f64).i64Const(1).i64Const(-1);
  f.get(v).f64Const(0).op(W.f64_gt).get(th).f64Const(0).op(W.f64_gt).op(W.i32_eq);
  f.op(W.select).op(W.i64_add).op(W.f64_reinterpret_i64);
  f.get(th).op(W.f64_sub).op(W.f64_abs).f64Const(0.5).op(W.f64_mul);
  f.get(v).op(W.f64_abs).op(W.f64_gt);
  f.else().i32Const(0).end();
  f.if();
  f.get(th).set(z);
  f.get(v).f64Const(0).op(W.f64_ne).set(L.st);
  f.else();
  twoSumLo(f, tl, ul, v, bb);
  f.set(e1);
  // v rounded to odd: when the sum was inexact and v's last bit is even, move it one
  // ulp towards the error (away from zero when they agree in sign).
  f.get(e1).f64Const(0).op(W.f64_ne);
  f.if();
  f.get(v).f64Const(0).op(W.f64_eq);
  f.if();
  fail();
  f.end();
  f.get(v).op(W.i64_reinterpret_f64).set(bits);
  f.get(bits).i64Const(1).op(W.i64_and).op(W.i64_eqz);
  f.if();
  f.get(bits).i64Const(1).i64Const(-1);
  f.get(e1).f64Const(0).op(W.f64_gt).get(v).f64Const(0).op(W.f64_gt).op(W.i32_eq);
  f.op(W.select).op(W.i64_add).op(W.f64_reinterpret_i64).set(v);
  f.end();
  f.end();
  f.get(th).get(v).op(W.f64_add).set(z);
  // A result near underflow or a zero (whose sign needs care) goes to the interpreter.
  f.get(z).op(W.f64_abs).f64Const(SAFE_LO).op(W.f64_gt).get(z).op(W.f64_abs).f64Const(Infinity).op(W.f64_lt).op(W.i32_and).op(W.i32_eqz);
  f.if();
  fail();
  f.end();
  twoSumLo(f, th, v, z, bb);
  f.set(e2);
  f.get(e1).f64Const(0).op(W.f64_ne).get(e2).f64Const(0).op(W.f64_ne).op(W.i32_or).set(L.st);
  f.end();
}
