// Lowering of the FP instructions (see emit.ts): the common double-precision
// operations inline, with exact IEEE results — a fast path in WebAssembly when the
// rounding mode is round-to-nearest-even and the result is normal (or an exact zero),
// the inexact flag from the runtime's helpers — and everything else, or any case the
// fast path cannot decide, in the interpreter on the architectural state.

import { fpReadsInt, type Op as OpEnum, writesIntRd } from '../riscv/decoder';
import * as decoderModule from '../riscv/decoder';
import * as memoryModule from '../riscv/memory';
import * as encoderModule from '../wasm/encoder';
import { W as WasmOp } from '../wasm/encoder';
import { ControlEmitter } from './emit-control';
import type { Block, Inst } from './ir';

// Imported bindings compile to getter calls under CommonJS; the emitter reads these local copies.
// (TypeScript's const enums are objects at run time here; they are read once.)
const { STATE_FRM } = memoryModule;
const Op = (decoderModule as unknown as { Op: { readonly [P in keyof typeof OpEnum]: number } }).Op;
const { I32, I64 } = encoderModule;
const W = WasmOp;

const NX = 1;
const MIN_NORMAL = 2.2250738585072014e-308;

/** A unit's emitter, as far as its FP instructions. */
export abstract class FpEmitter extends ControlEmitter {
  /** Runs one instruction in the interpreter (emit.ts). */
  protected abstract interp(b: Block, i: Inst, reads: NonNullable<Inst['reads']>, writes: NonNullable<Inst['writes']>): void;

  /** The slow path of an FP instruction: the interpreter, on the architectural state. */
  protected fpSlow(b: Block, i: Inst): void {
    const d = i.ins!;
    const reads: Array<{ file: 0 | 1; reg: number; value: number }> = [];
    reads.push({ file: fpReadsInt(d.op) ? 0 : 1, reg: d.rs1, value: i.a });
    if (i.b >= 0) reads.push({ file: 1, reg: d.rs2, value: i.b });
    if (i.c >= 0) reads.push({ file: 1, reg: d.rs3, value: i.c });
    this.interp(b, i, reads, [{ file: writesIntRd(d.op) ? 0 : 1, reg: d.rd, value: i.dst }]);
  }

  protected getFrm(): void {
    if (this.frmL >= 0) this.f.get(this.frmL);
    else this.loadI32(STATE_FRM);
  }

  /** Leaves an i32: is the rounding mode round-to-nearest-even? */
  protected rne(rm: number): void {
    const f = this.f;
    if (rm === 0) f.i32Const(1);
    else if (rm !== 7) f.i32Const(0);
    else {
      this.getFrm();
      f.op(W.i32_eqz);
    }
  }

  /** Leaves an i32: is the rounding mode valid (static, or dynamic with frm ≤ 4)? */
  protected rmValid(rm: number): void {
    const f = this.f;
    if (rm !== 7) f.i32Const(1);
    else {
      this.getFrm();
      f.i32Const(4).op(W.i32_le_u);
    }
  }

  protected f64Of(v: number, local: number): void {
    this.val(v);
    this.f.op(W.f64_reinterpret_i64).set(local);
  }

  /**
   * Leaves an i32: is the f64 in `local` finite, with |x| > the least normal? Strictly
   * greater: a result that rounded up to exactly DBL_MIN may be tiny after rounding
   * with an unbounded exponent (RISC-V's rule) and owe UF, which the slow path decides.
   * (The nx helpers also defer results below 2^-960; this keeps the rule visible here.)
   */
  protected normal(local: number): void {
    const f = this.f;
    f.get(local).op(W.f64_abs).f64Const(MIN_NORMAL).op(W.f64_gt);
    f.get(local).op(W.f64_abs).f64Const(Infinity).op(W.f64_lt).op(W.i32_and);
  }

  /**
   * An FP instruction: `fast` leaves an i32 (may the fast result stand?) after
   * computing the result into locals; `result` pushes the fast result (i64). When
   * the fast path does not apply, the interpreter computes the instruction.
   */
  protected fpWith(b: Block, i: Inst, fast: () => void, result: () => void): void {
    const f = this.f;
    fast();
    f.if(I64);
    result();
    f.else();
    this.fpSlow(b, i);
    this.val(i.dst);
    f.end();
    this.def(i.dst);
  }

  /** NX for an inexact fast result: `nx` leaves 0/1/2 (2: undecided, take the slow path). */
  protected withNx(nx: () => void): void {
    const f = this.f;
    // fast && ((flags & NX) || (t = nx()) != 2 && (flags |= t, true))
    f.if(I32);
    this.getFlags();
    f.i32Const(NX).op(W.i32_and);
    f.if(I32);
    f.i32Const(1);
    f.else();
    nx();
    f.tee(this.tI32).i32Const(2).op(W.i32_ne);
    f.if(I32);
    this.orFlags(() => f.get(this.tI32));
    f.i32Const(1);
    f.else();
    f.i32Const(0);
    f.end();
    f.end();
    f.else();
    f.i32Const(0);
    f.end();
  }

  protected fp(b: Block, i: Inst): void {
    const f = this.f;
    const op = i.op;
    const rm = i.lo;
    const { fa, fb, fc, fr } = this;
    const bits = (local: number) => () => f.get(local).op(W.i64_reinterpret_f64);
    switch (op) {
      case Op.FADD_D:
      case Op.FSUB_D:
      case Op.FMUL_D:
      case Op.FDIV_D: {
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        f.get(fa).get(fb).op(op === Op.FADD_D ? W.f64_add : op === Op.FSUB_D ? W.f64_sub : op === Op.FMUL_D ? W.f64_mul : W.f64_div).set(fr);
        this.fpWith(b, i, () => {
          this.rne(rm);
          this.normal(fr);
          // An exact zero: any sum that rounds to zero, a product or quotient with a zero operand.
          f.get(fr).f64Const(0).op(W.f64_eq);
          if (op === Op.FMUL_D) f.get(fa).f64Const(0).op(W.f64_eq).get(fb).f64Const(0).op(W.f64_eq).op(W.i32_or).op(W.i32_and);
          else if (op === Op.FDIV_D) f.get(fa).f64Const(0).op(W.f64_eq).op(W.i32_and);
          f.op(W.i32_or).op(W.i32_and);
          this.withNx(() => {
            f.get(fr).f64Const(0).op(W.f64_eq);
            f.if(I32).i32Const(0).else();
            if (op === Op.FSUB_D) f.get(fa).get(fb).op(W.f64_neg).get(fr);
            else f.get(fa).get(fb).get(fr);
            this.im.call(f, op === Op.FADD_D || op === Op.FSUB_D ? 'nxAdd' : op === Op.FMUL_D ? 'nxMul' : 'nxDiv');
            f.end();
          });
        }, bits(fr));
        return;
      }
      case Op.FSQRT_D:
        this.f64Of(i.a, fa);
        f.get(fa).op(W.f64_sqrt).set(fr);
        this.fpWith(b, i, () => {
          this.rne(rm);
          f.get(fa).f64Const(0).op(W.f64_gt);
          this.normal(fa);
          f.op(W.i32_and);
          f.get(fa).f64Const(0).op(W.f64_eq).op(W.i32_or).op(W.i32_and);
          this.withNx(() => {
            f.get(fa).f64Const(0).op(W.f64_eq);
            f.if(I32).i32Const(0).else();
            f.get(fa).get(fr);
            this.im.call(f, 'nxSqrt');
            f.end();
          });
        }, bits(fr));
        return;
      case Op.FMADD_D:
      case Op.FMSUB_D:
      case Op.FNMSUB_D:
      case Op.FNMADD_D: {
        const k = op - Op.FMADD_D;
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        this.f64Of(i.c, fc);
        if (k >= 2) f.get(fa).op(W.f64_neg).set(fa);
        if (k === 1 || k === 3) f.get(fc).op(W.f64_neg).set(fc);
        this.fpWith(b, i, () => {
          this.rne(rm);
          f.if(I32);
          f.get(fa).get(fb).get(fc);
          this.im.call(f, 'fma');
          f.set(this.tI32).set(fr);
          f.get(this.tI32).i32Const(2).op(W.i32_ne);
          f.if(I32);
          this.orFlags(() => f.get(this.tI32));
          f.i32Const(1);
          f.else().i32Const(0).end();
          f.else().i32Const(0).end();
        }, bits(fr));
        return;
      }
      case Op.FEQ_D:
      case Op.FLT_D:
      case Op.FLE_D:
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        this.fpWith(b, i, () => {
          f.get(fa).get(fa).op(W.f64_eq).get(fb).get(fb).op(W.f64_eq).op(W.i32_and);
        }, () => {
          f.get(fa).get(fb).op(op === Op.FEQ_D ? W.f64_eq : op === Op.FLT_D ? W.f64_lt : W.f64_le).op(W.i64_extend_i32_u);
        });
        return;
      case Op.FMIN_D:
      case Op.FMAX_D:
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        this.fpWith(b, i, () => {
          f.get(fa).get(fa).op(W.f64_eq).get(fb).get(fb).op(W.f64_eq).op(W.i32_and);
        }, () => {
          f.get(fa).get(fb).op(op === Op.FMIN_D ? W.f64_min : W.f64_max).op(W.i64_reinterpret_f64);
        });
        return;
      case Op.FCVT_W_D:
      case Op.FCVT_L_D: {
        // The C cast (round toward zero) of a value in range, inline.
        const w = op === Op.FCVT_W_D;
        this.f64Of(i.a, fa);
        this.fpWith(b, i, () => {
          f.i32Const(rm === 1 ? 1 : 0);
          if (w) f.get(fa).f64Const(-2147483648.5).op(W.f64_gt).get(fa).f64Const(2147483648).op(W.f64_lt);
          else f.get(fa).f64Const(-9223372036854775808).op(W.f64_ge).get(fa).f64Const(9223372036854775808).op(W.f64_lt);
          f.op(W.i32_and).op(W.i32_and);
          f.if(I32);
          f.get(fa).op(W.f64_trunc).get(fa).op(W.f64_ne);
          f.if();
          this.orFlags(() => f.i32Const(NX));
          f.end();
          f.i32Const(1);
          f.else().i32Const(0).end();
        }, () => {
          f.get(fa);
          if (w) f.op(W.i32_trunc_f64_s).op(W.i64_extend_i32_s);
          else f.op(W.i64_trunc_f64_s);
        });
        return;
      }
      case Op.FCVT_D_W:
      case Op.FCVT_D_WU:
        this.fpWith(b, i, () => this.rmValid(rm), () => {
          this.val(i.a);
          f.op(W.i32_wrap_i64).op(op === Op.FCVT_D_W ? W.f64_convert_i32_s : W.f64_convert_i32_u).op(W.i64_reinterpret_f64);
        });
        return;
      case Op.FCVT_D_L:
      case Op.FCVT_D_LU:
        // Exact when the integer fits in 53 bits.
        this.fpWith(b, i, () => {
          this.rmValid(rm);
          this.val(i.a);
          if (op === Op.FCVT_D_L) f.i64Const(0, 0x200000).op(W.i64_add).i64Const(0, 0x400000).op(W.i64_lt_u);
          else f.i64Const(0, 0x200000).op(W.i64_le_u);
          f.op(W.i32_and);
        }, () => {
          this.val(i.a);
          f.op(op === Op.FCVT_D_L ? W.f64_convert_i64_s : W.f64_convert_i64_u).op(W.i64_reinterpret_f64);
        });
        return;
    }
    // Everything else: the interpreter.
    this.fpSlow(b, i);
  }
}
