// The F and D operations that do not touch memory, on a hart's register file: the
// user-mode interpreter and the privileged hart of the system machine both execute
// them here, so that the two engines agree bit for bit on every FP result and flag.
// Register numbers are plain (0..31); an integer destination of x0 is the sink
// register 32. Returns false for an illegal instruction (an invalid rounding mode).

import * as decoderModule from './decoder';
import * as fpModule from './fp';
import * as int64 from './int64';
import type { Op as OpEnum } from './decoder';

const Op = (decoderModule as unknown as { Op: { readonly [P in keyof typeof OpEnum]: number } }).Op;
const { usesRm } = decoderModule;
const { fromBig, toBig, toBigU } = int64;
const fp = { ...fpModule };

const CANON_D_HI = 0x7ff80000;
const CANON_S = 0x7fc00000;

/** The registers FP operations read and write, and the FP status. */
export interface FpRegs {
  readonly x: Int32Array;
  readonly f64: Float64Array;
  readonly f32: Float32Array;
  readonly fu32: Uint32Array;
  flags: number;
  frm: number;
}

/** A single from FP register r: improperly NaN-boxed values read as the canonical NaN. */
function readS(h: FpRegs, r: number): number {
  if (h.fu32[2 * r + 1] !== 0xffffffff) return NaN;
  return h.f32[2 * r];
}

function isSignalingS(h: FpRegs, r: number): boolean {
  if (h.fu32[2 * r + 1] !== 0xffffffff) return false;
  const b = h.fu32[2 * r];
  return (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0 && (b & 0x400000) === 0;
}

function isSignalingD(h: FpRegs, r: number): boolean {
  const hi = h.fu32[2 * r + 1];
  const lo = h.fu32[2 * r];
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || lo !== 0) && (hi & 0x80000) === 0;
}

function writeS(h: FpRegs, r: number, v: number): void {
  if (v !== v) h.fu32[2 * r] = CANON_S;
  else h.f32[2 * r] = v;
  h.fu32[2 * r + 1] = 0xffffffff;
}

function writeD(h: FpRegs, r: number, v: number): void {
  if (v !== v) {
    h.fu32[2 * r] = 0;
    h.fu32[2 * r + 1] = CANON_D_HI;
  } else h.f64[r] = v;
}

function setInt(h: FpRegs, rd: number, lo: number, hi: number): void {
  const x = h.x;
  x[rd] = lo;
  x[rd + 1] = hi;
}

function setBig(h: FpRegs, rd: number, v: bigint): void {
  fromBig(h.x, rd, v);
}

export function execFp(h: FpRegs, op: number, rd: number, rs1: number, rs2: number, rs3: number, rmField: number): boolean {
  const x = h.x;
  let rm = rmField;
  if (rm > 4) {
    if (usesRm(op)) {
      if (rm === 7) rm = h.frm;
      if (rm > 4) return false;
    }
  }
  const st = h;
  switch (op) {
    case Op.FMADD_S:
    case Op.FMSUB_S:
    case Op.FNMSUB_S:
    case Op.FNMADD_S: {
      const k = op - Op.FMADD_S;
      if (isSignalingS(h, rs1) || isSignalingS(h, rs2) || isSignalingS(h, rs3)) st.flags |= fp.NV;
      let a = readS(h, rs1);
      let c = readS(h, rs3);
      if (k >= 2) a = -a; // fnmsub, fnmadd negate the product
      if (k === 1 || k === 3) c = -c;
      writeS(h, rd, fp.fma(a, readS(h, rs2), c, 0, rm, st));
      return true;
    }
    case Op.FADD_S:
    case Op.FSUB_S:
    case Op.FMUL_S:
    case Op.FDIV_S: {
      if (isSignalingS(h, rs1) || isSignalingS(h, rs2)) st.flags |= fp.NV;
      const a = readS(h, rs1);
      const b = readS(h, rs2);
      const r = op === Op.FADD_S ? fp.add(a, b, 0, rm, st) : op === Op.FSUB_S ? fp.add(a, -b, 0, rm, st) : op === Op.FMUL_S ? fp.mul(a, b, 0, rm, st) : fp.div(a, b, 0, rm, st);
      writeS(h, rd, r);
      return true;
    }
    case Op.FSQRT_S:
      if (isSignalingS(h, rs1)) st.flags |= fp.NV;
      writeS(h, rd, fp.sqrt(readS(h, rs1), 0, rm, st));
      return true;
    case Op.FSQRT_D:
      if (isSignalingD(h, rs1)) st.flags |= fp.NV;
      writeD(h, rd, fp.sqrt(h.f64[rs1], 1, rm, st));
      return true;
    case Op.FSGNJ_S:
    case Op.FSGNJN_S:
    case Op.FSGNJX_S: {
      // Sign injection works on bits; an improperly boxed input reads as the canonical NaN.
      const a = h.fu32[2 * rs1 + 1] === 0xffffffff ? h.fu32[2 * rs1] : CANON_S;
      const b = h.fu32[2 * rs2 + 1] === 0xffffffff ? h.fu32[2 * rs2] : CANON_S;
      const sign = op === Op.FSGNJ_S ? b & 0x80000000 : op === Op.FSGNJN_S ? ~b & 0x80000000 : (a ^ b) & 0x80000000;
      h.fu32[2 * rd] = ((a & 0x7fffffff) | sign) >>> 0;
      h.fu32[2 * rd + 1] = 0xffffffff;
      return true;
    }
    case Op.FSGNJ_D:
    case Op.FSGNJN_D:
    case Op.FSGNJX_D: {
      const aHi = h.fu32[2 * rs1 + 1];
      const aLo = h.fu32[2 * rs1];
      const b = h.fu32[2 * rs2 + 1];
      const sign = op === Op.FSGNJ_D ? b & 0x80000000 : op === Op.FSGNJN_D ? ~b & 0x80000000 : (aHi ^ b) & 0x80000000;
      h.fu32[2 * rd] = aLo;
      h.fu32[2 * rd + 1] = ((aHi & 0x7fffffff) | sign) >>> 0;
      return true;
    }
    case Op.FMIN_S:
    case Op.FMAX_S:
      writeS(h, rd, fp.minMax(readS(h, rs1), readS(h, rs2), op === Op.FMAX_S, isSignalingS(h, rs1), isSignalingS(h, rs2), st));
      return true;
    case Op.FMIN_D:
    case Op.FMAX_D:
      writeD(h, rd, fp.minMax(h.f64[rs1], h.f64[rs2], op === Op.FMAX_D, isSignalingD(h, rs1), isSignalingD(h, rs2), st));
      return true;
    case Op.FCVT_S_D:
      if (isSignalingD(h, rs1)) st.flags |= fp.NV;
      writeS(h, rd, fp.toSingle(h.f64[rs1], rm, st));
      return true;
    case Op.FCVT_D_S:
      if (isSignalingS(h, rs1)) st.flags |= fp.NV;
      writeD(h, rd, readS(h, rs1));
      return true;
    case Op.FEQ_S:
    case Op.FLT_S:
    case Op.FLE_S:
    case Op.FEQ_D:
    case Op.FLT_D:
    case Op.FLE_D: {
      const single = op <= Op.FLE_S;
      const a = single ? readS(h, rs1) : h.f64[rs1];
      const b = single ? readS(h, rs2) : h.f64[rs2];
      const sig = single ? isSignalingS(h, rs1) || isSignalingS(h, rs2) : isSignalingD(h, rs1) || isSignalingD(h, rs2);
      const kind = single ? op - Op.FEQ_S : op - Op.FEQ_D;
      // feq is quiet (NV only for signalling NaNs); flt and fle signal on any NaN.
      if (sig || (kind !== 0 && (a !== a || b !== b))) st.flags |= fp.NV;
      const r = kind === 0 ? a === b : kind === 1 ? a < b : a <= b;
      setInt(h, rd << 1, r ? 1 : 0, 0);
      return true;
    }
    case Op.FCLASS_S:
      setInt(h, rd << 1, fp.classify(readS(h, rs1), 0, isSignalingS(h, rs1)), 0);
      return true;
    case Op.FCLASS_D:
      setInt(h, rd << 1, fp.classify(h.f64[rs1], 1, isSignalingD(h, rs1)), 0);
      return true;
    case Op.FMV_X_W: {
      const v = h.fu32[2 * rs1] | 0;
      setInt(h, rd << 1, v, v >> 31);
      return true;
    }
    case Op.FMV_X_D:
      setInt(h, rd << 1, h.fu32[2 * rs1] | 0, h.fu32[2 * rs1 + 1] | 0);
      return true;
    case Op.FMV_W_X:
      h.fu32[2 * rd] = x[2 * rs1] >>> 0;
      h.fu32[2 * rd + 1] = 0xffffffff;
      return true;
    case Op.FMV_D_X:
      h.fu32[2 * rd] = x[2 * rs1] >>> 0;
      h.fu32[2 * rd + 1] = x[2 * rs1 + 1] >>> 0;
      return true;
    case Op.FCVT_W_S:
    case Op.FCVT_WU_S:
    case Op.FCVT_L_S:
    case Op.FCVT_LU_S:
    case Op.FCVT_W_D:
    case Op.FCVT_WU_D:
    case Op.FCVT_L_D:
    case Op.FCVT_LU_D: {
      const single = op <= Op.FCVT_LU_S;
      const k = single ? op - Op.FCVT_W_S : op - Op.FCVT_W_D;
      const v = single ? readS(h, rs1) : h.f64[rs1];
      if (rm === fp.RTZ && (k & 1) === 0 && v > -2147483648.5 && v < 2147483648) {
        // The common C cast: truncation to a value that fits in 32 bits.
        const t = Math.trunc(v);
        if (t !== v) st.flags |= fp.NX;
        setInt(h, rd << 1, t | 0, t < 0 ? -1 : 0);
        return true;
      }
      const r = fp.toInt(v, k < 2 ? 32 : 64, (k & 1) === 0, rm, st);
      // 32-bit results are sign-extended, unsigned ones included.
      setBig(h, rd << 1, k < 2 ? BigInt.asIntN(32, r) : r);
      return true;
    }
    case Op.FCVT_S_W:
    case Op.FCVT_S_WU:
    case Op.FCVT_S_L:
    case Op.FCVT_S_LU:
    case Op.FCVT_D_W:
    case Op.FCVT_D_WU:
    case Op.FCVT_D_L:
    case Op.FCVT_D_LU: {
      const single = op <= Op.FCVT_S_LU;
      const k = single ? op - Op.FCVT_S_W : op - Op.FCVT_D_W;
      const lo = x[2 * rs1];
      const hi = x[2 * rs1 + 1];
      if (!single && (k === 0 || k === 1 || (k === 2 && hi === lo >> 31))) {
        // Every 32-bit integer is exact in a double.
        writeD(h, rd, k === 1 ? lo >>> 0 : lo);
        return true;
      }
      let v: bigint;
      if (k === 0) v = BigInt(lo);
      else if (k === 1) v = BigInt(lo >>> 0);
      else if (k === 2) v = toBig(lo, hi);
      else v = toBigU(lo, hi);
      const r = fp.fromInt(v, single ? 0 : 1, rm, st);
      if (single) writeS(h, rd, r);
      else writeD(h, rd, r);
      return true;
    }
  }
  return false;
}
