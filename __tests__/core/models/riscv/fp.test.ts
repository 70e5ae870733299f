// Tininess after rounding (RISC-V): UF is raised for an inexact result whose value,
// rounded with an unbounded exponent, is below the least normal — also when the
// delivered result is exactly FLT_MIN. Breaks if the single fast paths in fp.ts keep
// a result equal to FLT_MIN (`>= FLT_MIN` instead of `> FLT_MIN`).
// And a fused multiply-add whose product underflows to zero from nonzero operands is
// inexact (qemu-riscv64 raises NX for fma(2^-900, 2^-900, 1)). Breaks if fma's fast
// path takes any zero product as exact (`uh === 0` instead of a zero operand).
import { fma, mul, NX, RNE, RUP, RTZ, toSingle, UF } from '../../../../core/models/riscv/fp';

const FLT_MIN = 2 ** -126;

function flagsOf(f: (st: { flags: number }) => number): { value: number; flags: number } {
  const st = { flags: 0 };
  const value = f(st);
  return { value, flags: st.flags };
}

describe('RISC-V underflow: tininess after rounding', () => {
  it('raises UF for fcvt.s.d of a double just below FLT_MIN that rounds up to it', () => {
    // FLT_MIN·(1 − 2^-24) is exact with an unbounded exponent, so it is tiny.
    expect(flagsOf((st) => toSingle(FLT_MIN * (1 - 2 ** -24), RNE, st))).toEqual({ value: FLT_MIN, flags: NX | UF });
    expect(flagsOf((st) => toSingle(FLT_MIN * (1 - 2 ** -25 - 2 ** -30), RNE, st))).toEqual({ value: FLT_MIN, flags: NX | UF });
  });

  it('does not raise UF when the unbounded rounding reaches FLT_MIN', () => {
    // Within half an unbounded ulp of FLT_MIN: rounds to FLT_MIN, not tiny.
    expect(flagsOf((st) => toSingle(FLT_MIN * (1 - 2 ** -26), RNE, st))).toEqual({ value: FLT_MIN, flags: NX });
    expect(flagsOf((st) => toSingle(FLT_MIN * (1 - 2 ** -26), RUP, st))).toEqual({ value: FLT_MIN, flags: NX });
  });

  it('treats a single product the same way, in every mode', () => {
    const a = Math.fround(2 ** -63 * (1 - 2 ** -24));
    expect(flagsOf((st) => mul(a, 2 ** -63, 0, RNE, st))).toEqual({ value: FLT_MIN, flags: NX | UF });
    expect(flagsOf((st) => mul(a, 2 ** -63, 0, RTZ, st)).flags).toBe(NX | UF);
    expect(flagsOf((st) => mul(2 ** -63, 2 ** -63, 0, RNE, st))).toEqual({ value: FLT_MIN, flags: 0 });
  });
});

describe('fused multiply-add: a product that underflows to zero', () => {
  it('is inexact, not an exact zero term', () => {
    expect(flagsOf((st) => fma(2 ** -900, 2 ** -900, 1, 1, RNE, st))).toEqual({ value: 1, flags: NX });
    expect(flagsOf((st) => fma(2 ** -900, -(2 ** -900), 1, 1, RNE, st))).toEqual({ value: 1, flags: NX });
    expect(flagsOf((st) => fma(-(2 ** -600), 2 ** -700, -3, 1, RNE, st))).toEqual({ value: -3, flags: NX });
    // The same in round-towards-zero (the exact path): 1 − 2^-1800 truncates below 1.
    expect(flagsOf((st) => fma(2 ** -900, -(2 ** -900), 1, 1, RTZ, st))).toEqual({ value: 1 - 2 ** -53, flags: NX });
  });

  it('stays exact when an operand is zero', () => {
    expect(flagsOf((st) => fma(0, 2 ** -900, 1, 1, RNE, st))).toEqual({ value: 1, flags: 0 });
    expect(flagsOf((st) => fma(2 ** 900, -0, 0.5, 1, RNE, st))).toEqual({ value: 0.5, flags: 0 });
  });
});
