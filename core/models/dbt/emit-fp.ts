// Lowering of the FP instructions (see emit.ts): the common double-precision
// operations inline, with exact IEEE results — a fast path in WebAssembly when the
// rounding mode is round-to-nearest-even and the result is normal (or an exact zero),
// the inexact flag from the runtime's helpers only while NX is not yet raised; fused
// multiply-adds inline, from a bound on the product's error or the error itself, and
// the runtime's exact helper for tiny and huge values — and everything else, or any
// case the fast path cannot decide, in the interpreter on the architectural state.

import { fpReadsInt, type Op as OpEnum, writesIntRd } from '../riscv/decoder';
import * as decoderModule from '../riscv/decoder';
import * as memoryModule from '../riscv/memory';
import * as encoderModule from '../wasm/encoder';
import { W as WasmOp } from '../wasm/encoder';
import { ControlEmitter } from './emit-control';
import { twoProductLo, twoSumLo } from './runtime-module';
import type { Block, Inst } from './ir';

// Imported bindings compile to getter calls under CommonJS; the emitter reads these local copies.
// (TypeScript's const enums are objects at run time here; they are read once.)
const { STATE_FRM } = memoryModule;
const Op = (decoderModule as unknown as { Op: { readonly [P in keyof typeof OpEnum]: number } }).Op;
const { F64, I32, I64 } = encoderModule;
const W = WasmOp;

const NX = 1;
// High words of i64 constants on an f64's bits: the exponent field; the window of
// biased exponents [64, 2000) (2^-959 to 2^977, so that the half gap below is normal and
// every neighbour finite); 53 in the exponent field (dividing by 2^53).
const EXP_HI = 0x7ff00000;
const WIN_LO = 64 << 20;
const WIN_SPAN = (2000 - 64) << 20;
const HALF_ULP = 53 << 20;
/** Products at or below this go to the helper: Dekker's product is exact above 2^-968. */
const PRODUCT_LO = 2 ** -960;

/** A unit's emitter, as far as its FP instructions. */
export abstract class FpEmitter extends ControlEmitter {
  /** fmaInline's locals, made on first use. */
  private readonly fmaL: number[] = [];
  private intLocal = -1;

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

  /**
   * An FP instruction whose result is an f64: each stage computes it into fr, or
   * consumes an i32 through `orElse` (nonzero: the stage cannot decide, try the next);
   * with `int`, one stage computes an integer result (i64) into intL().
   * After the last, the interpreter. Branches rather than combined conditions: V8
   * compiles a compare feeding a branch into one compare-and-jump, while booleans
   * combined with i32 operations each cost a set and a zero extension.
   */
  protected fpStages(b: Block, i: Inst, rm: number, stages: ReadonlyArray<(orElse: () => void) => void>, int = false): void {
    const out = int ? this.intL() : this.fr;
    const f = this.f;
    f.block();
    const done = f.depth;
    f.block();
    const interp = f.depth;
    if (rm === 0 || rm === 7) {
      if (rm === 7) {
        this.getFrm();
        f.brIf(f.depth - interp);
      }
      for (const stage of stages) {
        f.block();
        const next = f.depth;
        stage(() => f.brIf(f.depth - next));
        f.br(f.depth - done);
        f.end();
      }
    }
    f.end();
    this.fpSlow(b, i);
    this.val(i.dst);
    if (!int) f.op(W.f64_reinterpret_i64);
    f.set(out);
    f.end();
    f.get(out);
    if (!int) f.op(W.i64_reinterpret_f64);
    this.def(i.dst);
  }

  /** The i64 result local of fpStages' integer-valued instructions, made on first use. */
  private intL(): number {
    if (this.intLocal < 0) this.intLocal = this.f.local(I64);
    return this.intLocal;
  }

  /**
   * Leaves an i32: is the f64 in `local` not finite with |x| > the least normal (`abs`:
   * of its magnitude, else of its value, so that negative values fail too)? Strictly
   * greater: a result that rounded up to exactly DBL_MIN may be tiny after rounding
   * with an unbounded exponent (RISC-V's rule) and owe UF, which the slow path decides.
   * (The nx helpers also defer results below 2^-960; this keeps the rule visible here.)
   */
  protected notNormal(local: number, abs: boolean): void {
    const f = this.f;
    f.get(local).op(W.i64_reinterpret_f64);
    if (abs) f.i64Const(-1, 0x7fffffff).op(W.i64_and);
    // bits − (DBL_MIN's bits + 1) ≥ +∞'s bits − DBL_MIN's bits − 1, unsigned.
    f.i64Const(1, 0x00100000).op(W.i64_sub).i64Const(-1, 0x7fdfffff).op(W.i64_ge_u);
  }

  /** Unless NX is raised already: `nx` leaves 0/1/2 (2: undecided, through orElse), and 1 raises NX. */
  protected unlessNx(orElse: () => void, nx: () => void): void {
    const f = this.f;
    this.getFlags();
    f.i32Const(NX).op(W.i32_and).op(W.i32_eqz);
    f.if();
    nx();
    f.tee(this.tI32).i32Const(2).op(W.i32_eq);
    orElse();
    this.orFlags(() => f.get(this.tI32));
    f.end();
  }

  /**
   * The fused multiply-add's inline case, fa·fb + fc under round-to-nearest-even:
   * computes the unfused sum th = RN(RN(fa·fb) + fc) into fr, and goes through orElse
   * unless th is provably the fused result. With uh = RN(fa·fb), ul = fa·fb − uh and
   * tl = uh + fc − th (TwoSum, exact), the exact result is th + tl + ul; when |tl + ul|
   * stays below half the smaller gap around th (2^(E−53), or 2^(E−54) when th is a power
   * of two: the exponent of th's bits minus one gives both), the fused result rounds to
   * th itself. First without ul: |ul| ≤ |uh|·2^-53 (plus the least subnormal for a
   * product below the normal range), so |tl| plus that bound below the half gap decides
   * it, and |tl| above the bound proves inexactness (or NX is raised already, which
   * makes exactness moot: NX is the only flag this case can owe, th being normal and
   * finite). Otherwise with ul itself, from Dekker's product (exact for a product above
   * 2^-968): v = RN(tl + ul) below the half gap implies tl + ul below it (rounding is
   * monotonic and the half gap a power of two), and the result is exact just when v is
   * zero (a nonzero sum of two doubles does not round to zero). Above the half gap, the
   * fused result is not th: v rounded to odd, then z = RN(th + v) (Boldo and Melquiond's
   * emulation, as the runtime's helper computes it), inexact unless both sums were
   * exact; an overflow in the product's split leaves an infinity or NaN in v, which
   * fails z's window. The bound alone decides most sums, and costs less than the
   * product's error; it fails for about half of the sums whose addend is near the
   * product in size (x·x + y·y), and matmul-double's sums of products of short
   * fractions tie or cross a rounding boundary in one fma in twelve, all of which the
   * helper took before at several times the cost. Anything else (a sum, th or z, that
   * is zero, subnormal, near the ends of the range, infinite or NaN, which fails the
   * exponent window, and a product at or below 2^-960) is the helper's.
   */
  protected fmaInline(orElse: () => void): void {
    const f = this.f;
    if (this.fmaL.length === 0) for (const t of [F64, F64, I64, F64, F64, F64, F64, F64, F64, F64, F64, I64] as const) this.fmaL.push(f.local(t));
    const [uh, tl, et, bnd, t, ah, al, bh, bl, v, e1, vb] = this.fmaL;
    const { fa, fb, fc, fr } = this;
    const halfGap = () => f.get(et).i64Const(0, HALF_ULP).op(W.i64_sub).op(W.f64_reinterpret_i64);
    // Leaves an i32: is the exponent field of an f64's bits minus one (into et) outside the window?
    const outside = () => {
      f.op(W.i64_reinterpret_f64).i64Const(-1, 0x7fffffff).op(W.i64_and).i64Const(1).op(W.i64_sub).i64Const(0, EXP_HI).op(W.i64_and).tee(et);
      f.i64Const(0, WIN_LO).op(W.i64_sub).i64Const(0, WIN_SPAN).op(W.i64_ge_u);
    };
    f.get(fa).get(fb).op(W.f64_mul).tee(uh).get(fc).op(W.f64_add).set(fr);
    // TwoSum's error of th = fc + uh (tl its scratch too).
    twoSumLo(f, fc, uh, fr, tl);
    f.set(tl);
    f.get(fr);
    outside();
    orElse();
    // Without the product's error term: |ul| ≤ 2^(E(uh)−53) ≤ |uh|·2^-53 when uh is
    // normal, and the least subnormal covers a subnormal or zero product (a non-finite one
    // made th fail its window); |tl| plus that bound below the half gap decides the
    // rounding, and |tl| above the bound decides inexactness (or NX is raised already).
    f.get(uh).op(W.f64_abs).f64Const(2 ** -53).op(W.f64_mul).f64Const(2 ** -1074).op(W.f64_add).set(bnd);
    f.get(tl).op(W.f64_abs).get(bnd).op(W.f64_add);
    halfGap();
    f.op(W.f64_lt);
    this.getFlags();
    f.i32Const(NX).op(W.i32_and).get(tl).op(W.f64_abs).get(bnd).op(W.f64_gt).op(W.i32_or).op(W.i32_and);
    f.if();
    this.orFlags(() => f.i32Const(NX));
    f.else();
    // With it (into bnd): Dekker's product, exact for a product above 2^-968.
    f.get(uh).op(W.f64_abs).f64Const(PRODUCT_LO).op(W.f64_le);
    orElse();
    twoProductLo(f, fa, fb, uh, { t, ah, al, bh, bl });
    f.tee(bnd).get(tl).op(W.f64_add).tee(v);
    f.op(W.f64_abs);
    halfGap();
    f.op(W.f64_lt);
    f.if();
    this.orFlags(() => f.get(v).f64Const(0).op(W.f64_ne));
    f.else();
    // The fused result differs from th (or v is infinite or NaN, which fails z's window):
    // v rounded to odd (when tl + ul was inexact and v's last bit even, v moves one ulp
    // towards the error), then z = RN(th + v), Boldo and Melquiond's emulation as the
    // helper's; inexact unless both sums were exact.
    // TwoSum's error of v = ul + tl (e1 its scratch too).
    twoSumLo(f, bnd, tl, v, e1);
    f.set(e1);
    f.get(v).op(W.i64_reinterpret_f64).tee(vb);
    f.get(e1).f64Const(0).op(W.f64_ne).get(vb).op(W.i32_wrap_i64).i32Const(1).op(W.i32_and).op(W.i32_eqz).op(W.i32_and);
    f.if(I64);
    f.i64Const(1).i64Const(-1).get(e1).f64Const(0).op(W.f64_gt).get(v).f64Const(0).op(W.f64_gt).op(W.i32_eq).op(W.select);
    f.else().i64Const(0).end();
    f.op(W.i64_add).op(W.f64_reinterpret_i64).set(v);
    f.get(fr).get(v).op(W.f64_add).tee(bnd);
    outside();
    orElse();
    // Inexact unless tl + ul was exact and th + v is (TwoSum's error of z, tl its scratch).
    twoSumLo(f, fr, v, bnd, tl);
    f.f64Const(0).op(W.f64_ne).get(e1).f64Const(0).op(W.f64_ne).op(W.i32_or).set(this.tI32);
    this.orFlags(() => f.get(this.tI32));
    f.get(bnd).set(fr);
    f.end();
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
      case Op.FDIV_D:
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        this.fpStages(b, i, rm, [(orElse) => {
          f.get(fa).get(fb).op(op === Op.FADD_D ? W.f64_add : op === Op.FSUB_D ? W.f64_sub : op === Op.FMUL_D ? W.f64_mul : W.f64_div).set(fr);
          this.notNormal(fr, true);
          f.if();
          // An exact zero: any sum that rounds to zero, a product or quotient with a zero operand.
          f.get(fr).f64Const(0).op(W.f64_eq);
          if (op === Op.FMUL_D) f.get(fa).f64Const(0).op(W.f64_eq).get(fb).f64Const(0).op(W.f64_eq).op(W.i32_or).op(W.i32_and);
          else if (op === Op.FDIV_D) f.get(fa).f64Const(0).op(W.f64_eq).op(W.i32_and);
          f.op(W.i32_eqz);
          orElse();
          f.end();
          this.unlessNx(orElse, () => {
            f.get(fr).f64Const(0).op(W.f64_eq);
            f.if(I32).i32Const(0).else();
            if (op === Op.FSUB_D) f.get(fa).get(fb).op(W.f64_neg).get(fr);
            else f.get(fa).get(fb).get(fr);
            this.im.call(f, op === Op.FADD_D || op === Op.FSUB_D ? 'nxAdd' : op === Op.FMUL_D ? 'nxMul' : 'nxDiv');
            f.end();
          });
        }]);
        return;
      case Op.FSQRT_D:
        this.f64Of(i.a, fa);
        this.fpStages(b, i, rm, [(orElse) => {
          f.get(fa).op(W.f64_sqrt).set(fr);
          // A positive normal operand (its root is normal), or a zero (exact).
          this.notNormal(fa, false);
          f.if();
          f.get(fa).f64Const(0).op(W.f64_ne);
          orElse();
          f.end();
          this.unlessNx(orElse, () => {
            f.get(fa).f64Const(0).op(W.f64_eq);
            f.if(I32).i32Const(0).else();
            f.get(fa).get(fr);
            this.im.call(f, 'nxSqrt');
            f.end();
          });
        }]);
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
        this.fpStages(b, i, rm, [
          (orElse) => this.fmaInline(orElse),
          (orElse) => {
            f.get(fa).get(fb).get(fc);
            this.im.call(f, 'fma');
            f.set(this.tI32).set(fr);
            f.get(this.tI32).i32Const(2).op(W.i32_eq);
            orElse();
            this.orFlags(() => f.get(this.tI32));
          },
        ]);
        return;
      }
      case Op.FEQ_D:
      case Op.FLT_D:
      case Op.FLE_D:
        // The comparison itself when neither operand is a NaN (the flags then stay).
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        this.fpStages(b, i, 0, [(orElse) => {
          f.get(fa).get(fa).op(W.f64_ne);
          orElse();
          f.get(fb).get(fb).op(W.f64_ne);
          orElse();
          f.get(fa).get(fb).op(op === Op.FEQ_D ? W.f64_eq : op === Op.FLT_D ? W.f64_lt : W.f64_le).op(W.i64_extend_i32_u).set(this.intL());
        }], true);
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
