// Exact IEEE 754 arithmetic for the F and D extensions, on JavaScript doubles.
//
// JavaScript computes +, −, ×, ÷ and √ of doubles correctly rounded to nearest-even,
// and for singles the double result rounded again with Math.fround is also correct
// (53 ≥ 2·24 + 2 makes that double rounding innocuous). What JavaScript does not give
// is the exception flags, the other four rounding modes, and a fused multiply-add.
// So each operation takes a fast path when the result is in the normal range and the
// mode is round-to-nearest-even: error-free transformations (TwoSum, Dekker's
// product) tell whether the result is exact, which decides NX. Everything else —
// directed rounding, RMM, results near the underflow or overflow thresholds — goes
// through `roundExact`, which rounds an exact value held as a BigInt significand and
// a binary exponent, with the RISC-V rules (tininess after rounding).
// FMA in round-to-nearest uses Boldo and Melquiond's emulation with rounding to odd.

export const NX = 1;
export const UF = 2;
export const OF = 4;
export const DZ = 8;
export const NV = 16;

export const RNE = 0;
export const RTZ = 1;
export const RDN = 2;
export const RUP = 3;
export const RMM = 4;

/** Format parameters: precision, minimum and maximum normal exponents. */
const FMT = [
  { p: 24, emin: -126, emax: 127 },
  { p: 53, emin: -1022, emax: 1023 },
] as const;

export interface FlagSink {
  flags: number;
}

const buf = new DataView(new ArrayBuffer(8));

/**
 * The smallest normal single. A single fast path keeps its result only when it is
 * strictly above: a result rounded up to exactly FLT_MIN may still be tiny after
 * rounding with an unbounded exponent (RISC-V's rule), which only roundExact decides.
 */
const FLT_MIN = 1.1754943508222875e-38;

/** Sign, significand and exponent of a finite double: value = sign · mant · 2^exp. */
export function decompose(x: number): { neg: boolean; mant: bigint; exp: number } {
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  const f = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === 0) return { neg: hi >>> 31 === 1, mant: f, exp: -1074 };
  return { neg: hi >>> 31 === 1, mant: f | (1n << 52n), exp: e - 1075 };
}

function bitLength(m: bigint): number {
  return m.toString(2).length;
}

function pow2(e: number): number {
  // 2^e exactly, for e down to -1074 (Math.pow can lose the subnormal range).
  if (e >= -1022) return Math.pow(2, e);
  return Math.pow(2, e + 100) * Math.pow(2, -100);
}

/** Largest finite value of a format. */
function maxFinite(fmt: number): number {
  return fmt === 0 ? 3.4028234663852886e38 : Number.MAX_VALUE;
}

/**
 * Rounds the exact value (neg ? −1 : 1) · mant · 2^exp (+ a sticky fraction below the
 * last bit when `sticky`) to the format, in mode rm, and accrues the flags.
 */
export function roundExact(neg: boolean, mant: bigint, exp: number, fmt: number, rm: number, st: FlagSink, sticky = false): number {
  const { p, emin, emax } = FMT[fmt];
  if (mant === 0n) {
    if (sticky) {
      // Below the smallest representable quantum: behaves like a tiny non-zero value.
      mant = 1n;
      exp -= 2000;
      sticky = false;
    } else return neg ? -0 : 0;
  }
  if (sticky) {
    mant = (mant << 2n) | 1n;
    exp -= 2;
  }
  const L = bitLength(mant);
  const E = exp + L - 1;
  const roundAt = (q: number): { m: bigint; inexact: boolean } => {
    const shift = q - exp;
    if (shift <= 0) return { m: mant << BigInt(-shift), inexact: false };
    const s = BigInt(shift);
    let kept = mant >> s;
    const rem = mant - (kept << s);
    if (rem === 0n) return { m: kept, inexact: false };
    const half = 1n << (s - 1n);
    let up = false;
    switch (rm) {
      case RNE:
        up = rem > half || (rem === half && (kept & 1n) === 1n);
        break;
      case RTZ:
        up = false;
        break;
      case RDN:
        up = neg;
        break;
      case RUP:
        up = !neg;
        break;
      case RMM:
        up = rem >= half;
        break;
    }
    if (up) kept += 1n;
    return { m: kept, inexact: true };
  };
  const qUnbounded = E - p + 1;
  const q = Math.max(qUnbounded, emin - p + 1);
  const r = roundAt(q);
  let flags = r.inexact ? NX : 0;
  // Tininess after rounding: the result rounded with an unbounded exponent range is below 2^emin.
  if (r.inexact) {
    const ru = roundAt(qUnbounded);
    const mag = bitLength(ru.m) - 1 + qUnbounded;
    if (ru.m === 0n || mag < emin) flags |= UF;
  }
  let value: number;
  const bits = r.m === 0n ? 0 : bitLength(r.m);
  if (r.m !== 0n && bits - 1 + q > emax) {
    flags |= OF | NX;
    const toInf = rm === RNE || rm === RMM || (rm === RUP && !neg) || (rm === RDN && neg);
    value = toInf ? Infinity : maxFinite(fmt);
  } else value = Number(r.m) * pow2(q);
  st.flags |= flags;
  return neg ? -value : value;
}

/** Rounds num/den · 2^exp (num, den > 0) to the format. */
function roundQuotient(neg: boolean, num: bigint, den: bigint, exp: number, fmt: number, rm: number, st: FlagSink): number {
  // Scale so that the integer quotient has at least p + 3 bits.
  const need = FMT[fmt].p + 3 + bitLength(den) - bitLength(num);
  const k = Math.max(0, need);
  const scaled = num << BigInt(k);
  const q = scaled / den;
  const sticky = q * den !== scaled;
  return roundExact(neg, q, exp - k, fmt, rm, st, sticky);
}

/** Integer square root (floor). */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

// ---- error-free transformations ----

const SPLIT = 134217729; // 2^27 + 1

/** a·b = hi + lo exactly, when no intermediate overflows or underflows. */
function twoProductLo(a: number, b: number, hi: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return al * bl - (((hi - ah * bh) - al * bh) - ah * bl);
}

function twoSumLo(a: number, b: number, s: number): number {
  const bb = s - a;
  return a - (s - bb) + (b - bb);
}

const SAFE_HI = 2 ** 995;
const SAFE_LO = 2 ** -960;

function safe(x: number): boolean {
  const m = Math.abs(x);
  return m < SAFE_HI && (m > SAFE_LO || m === 0);
}

// ---- the operations (a, b, c are values of the format, as doubles) ----

function isNaN(x: number): boolean {
  return x !== x;
}

export function add(a: number, b: number, fmt: number, rm: number, st: FlagSink): number {
  if (isNaN(a) || isNaN(b)) return NaN;
  if (a === Infinity && b === -Infinity || a === -Infinity && b === Infinity) {
    st.flags |= NV;
    return NaN;
  }
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a + b;
  if (a === 0 && b === 0) {
    const aNeg = Object.is(a, -0);
    const bNeg = Object.is(b, -0);
    return (rm === RDN ? aNeg || bNeg : aNeg && bNeg) ? -0 : 0;
  }
  // Exact cancellation gives +0, or −0 when rounding down.
  if (a === -b) return rm === RDN ? -0 : 0;
  const s = a + b;
  if (rm === RNE && Number.isFinite(s) && Math.abs(s) > 2.3e-308) {
    const err = twoSumLo(a, b, s);
    if (fmt === 1) {
      if (err !== 0) st.flags |= NX;
      return s;
    }
    const f = Math.fround(s);
    if (Number.isFinite(f) && Math.abs(f) > FLT_MIN) {
      if (err !== 0 || f !== s) st.flags |= NX;
      return f;
    }
  }
  return exactSum(a, b, fmt, rm, st);
}

function exactSum(a: number, b: number, fmt: number, rm: number, st: FlagSink): number {
  const x = decompose(a);
  const y = decompose(b);
  const e = Math.min(x.exp, y.exp);
  const mx = (x.neg ? -x.mant : x.mant) << BigInt(x.exp - e);
  const my = (y.neg ? -y.mant : y.mant) << BigInt(y.exp - e);
  const sum = mx + my;
  if (sum === 0n) return rm === RDN ? -0 : 0;
  return roundExact(sum < 0n, sum < 0n ? -sum : sum, e, fmt, rm, st);
}

export function mul(a: number, b: number, fmt: number, rm: number, st: FlagSink): number {
  if (isNaN(a) || isNaN(b)) return NaN;
  if ((a === 0 && !Number.isFinite(b)) || (b === 0 && !Number.isFinite(a))) {
    st.flags |= NV;
    return NaN;
  }
  const p = a * b;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0 || b === 0) return p;
  if (rm === RNE && safe(a) && safe(b) && Number.isFinite(p) && Math.abs(p) > SAFE_LO) {
    if (fmt === 1) {
      if (twoProductLo(a, b, p) !== 0) st.flags |= NX;
      return p;
    }
    const f = Math.fround(p); // the single product is exact in double
    if (Number.isFinite(f) && Math.abs(f) > FLT_MIN) {
      if (f !== p) st.flags |= NX;
      return f;
    }
  }
  const x = decompose(a);
  const y = decompose(b);
  return roundExact(x.neg !== y.neg, x.mant * y.mant, x.exp + y.exp, fmt, rm, st);
}

export function div(a: number, b: number, fmt: number, rm: number, st: FlagSink): number {
  if (isNaN(a) || isNaN(b)) return NaN;
  if ((a === 0 && b === 0) || (!Number.isFinite(a) && !Number.isFinite(b))) {
    st.flags |= NV;
    return NaN;
  }
  if (b === 0) {
    if (Number.isFinite(a)) st.flags |= DZ;
    return a / b;
  }
  const q = a / b;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) return q;
  if (rm === RNE && safe(a) && safe(b) && safe(q) && q !== 0) {
    const exact = q * b === a && twoProductLo(q, b, q * b) === 0;
    if (fmt === 1) {
      if (!exact) st.flags |= NX;
      return q;
    }
    const f = Math.fround(q);
    if (Number.isFinite(f) && Math.abs(f) > FLT_MIN) {
      if (!exact || f !== q) st.flags |= NX;
      return f;
    }
  }
  const x = decompose(a);
  const y = decompose(b);
  return roundQuotient(x.neg !== y.neg, x.mant, y.mant, x.exp - y.exp, fmt, rm, st);
}

export function sqrt(a: number, fmt: number, rm: number, st: FlagSink): number {
  if (isNaN(a)) return NaN;
  if (a < 0) {
    st.flags |= NV;
    return NaN;
  }
  if (a === 0 || a === Infinity) return a;
  const s = Math.sqrt(a);
  if (rm === RNE && safe(a) && safe(s)) {
    const exact = s * s === a && twoProductLo(s, s, s * s) === 0;
    if (fmt === 1) {
      if (!exact) st.flags |= NX;
      return s;
    }
    const f = Math.fround(s);
    if (!exact || f !== s) st.flags |= NX;
    return f;
  }
  const x = decompose(a);
  // sqrt(m · 2^e): make e even and scale m so the root has p + 3 bits.
  let m = x.mant;
  let e = x.exp;
  if (e & 1) {
    m <<= 1n;
    e -= 1;
  }
  const want = 2 * (FMT[fmt].p + 3);
  let k = Math.max(0, want - bitLength(m));
  if (k & 1) k++;
  m <<= BigInt(k);
  e -= k;
  const r = isqrt(m);
  return roundExact(false, r, e / 2, fmt, rm, st, r * r !== m);
}

/** Fused a·b + c with one rounding. */
export function fma(a: number, b: number, c: number, fmt: number, rm: number, st: FlagSink): number {
  if (isNaN(a) || isNaN(b) || isNaN(c)) {
    // 0·∞ is invalid even when c is a quiet NaN.
    if ((a === 0 && !Number.isFinite(b) && !isNaN(b)) || (b === 0 && !Number.isFinite(a) && !isNaN(a))) st.flags |= NV;
    return NaN;
  }
  if ((a === 0 && !Number.isFinite(b)) || (b === 0 && !Number.isFinite(a))) {
    st.flags |= NV;
    return NaN;
  }
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    const p = a * b;
    if (!Number.isFinite(c) && p !== c) {
      st.flags |= NV;
      return NaN;
    }
    return p;
  }
  if (!Number.isFinite(c)) return c;
  if (rm === RNE && safe(a) && safe(b) && safe(c)) {
    const uh = a * b;
    // A zero product is exact only from a zero operand: one that underflowed to zero
    // from nonzero operands has an error Dekker's product cannot represent.
    if (Math.abs(uh) > SAFE_LO || a === 0 || b === 0) {
      const ul = uh === 0 ? 0 : twoProductLo(a, b, uh);
      const th = c + uh;
      const tl = twoSumLo(c, uh, th);
      // v = tl + ul rounded to odd.
      let v = tl + ul;
      const e1 = twoSumLo(tl, ul, v);
      if (e1 !== 0) v = toOdd(v, e1);
      if (fmt === 1) {
        const z = th + v;
        if (Number.isFinite(z) && (Math.abs(z) > SAFE_LO || (z === 0 && e1 === 0 && v === 0 && th === 0))) {
          const e2 = twoSumLo(th, v, z);
          if (e1 !== 0 || e2 !== 0) st.flags |= NX;
          if (z === 0 && e1 === 0 && e2 === 0) return signedZeroSum(a * b, c, rm);
          return z;
        }
      } else {
        // Single: round the double sum to odd, then to single (53 ≥ 24 + 2).
        let z = th + v;
        const e2 = twoSumLo(th, v, z);
        if (Number.isFinite(z) && Math.abs(z) > 1e-37) {
          if (e2 !== 0) z = toOdd(z, e2);
          const f = Math.fround(z);
          if (Number.isFinite(f)) {
            if (e1 !== 0 || e2 !== 0 || f !== z) st.flags |= NX;
            return f;
          }
        }
      }
    }
  }
  const x = decompose(a);
  const y = decompose(b);
  const zc = decompose(c);
  const pe = x.exp + y.exp;
  const e = Math.min(pe, zc.exp);
  const pm = (x.neg !== y.neg ? -(x.mant * y.mant) : x.mant * y.mant) << BigInt(pe - e);
  const cm = (zc.neg ? -zc.mant : zc.mant) << BigInt(zc.exp - e);
  const sum = pm + cm;
  if (sum === 0n) return signedZeroSum(a * b, c, rm);
  return roundExact(sum < 0n, sum < 0n ? -sum : sum, e, fmt, rm, st);
}

/** The sign of an exact zero sum x + y: −0 only if both are −0, or when rounding down. */
function signedZeroSum(x: number, y: number, rm: number): number {
  if (x === 0 && y === 0 && Object.is(x, -0) === Object.is(y, -0)) return x;
  return rm === RDN ? -0 : 0;
}

/** Moves v one ulp towards the side of err when v's last significand bit is even. */
function toOdd(v: number, err: number): number {
  buf.setFloat64(0, v);
  const lo = buf.getUint32(4);
  if (lo & 1) return v;
  // One ulp away from v in the direction of err.
  const up = (err > 0) === (v > 0 || (v === 0 && err > 0));
  let hi = buf.getUint32(0);
  let l = lo;
  if (v === 0) {
    buf.setUint32(0, err > 0 ? 0 : 0x80000000);
    buf.setUint32(4, 1);
    return buf.getFloat64(0);
  }
  if (up) {
    l = (l + 1) >>> 0;
    if (l === 0) hi++;
  } else {
    if (l === 0) hi--;
    l = (l - 1) >>> 0;
  }
  buf.setUint32(0, hi);
  buf.setUint32(4, l);
  return buf.getFloat64(0);
}

// ---- conversions ----

/** Float (as a double) to a 32- or 64-bit integer with RISC-V saturation; returns a BigInt. */
export function toInt(a: number, bits: 32 | 64, signed: boolean, rm: number, st: FlagSink): bigint {
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (isNaN(a)) {
    st.flags |= NV;
    return max;
  }
  if (!Number.isFinite(a)) {
    st.flags |= NV;
    return a > 0 ? max : min;
  }
  let r = Math.trunc(a);
  const frac = a - r;
  if (frac !== 0) {
    switch (rm) {
      case RNE: {
        const d = Math.abs(frac);
        if (d > 0.5 || (d === 0.5 && Math.abs(r) % 2 === 1)) r += Math.sign(a);
        break;
      }
      case RDN:
        if (a < 0) r -= 1;
        break;
      case RUP:
        if (a > 0) r += 1;
        break;
      case RMM:
        if (Math.abs(frac) >= 0.5) r += Math.sign(a);
        break;
    }
  }
  const v = BigInt(r);
  if (v < min || v > max) {
    st.flags |= NV;
    return v < min ? min : max;
  }
  if (frac !== 0) st.flags |= NX;
  return v;
}

/** An integer (BigInt) to the format, rounded in mode rm. */
export function fromInt(v: bigint, fmt: number, rm: number, st: FlagSink): number {
  if (v === 0n) return 0;
  const neg = v < 0n;
  return roundExact(neg, neg ? -v : v, 0, fmt, rm, st);
}

/** A double narrowed to single precision in mode rm. */
export function toSingle(a: number, rm: number, st: FlagSink): number {
  if (isNaN(a)) return NaN;
  if (!Number.isFinite(a) || a === 0) return a;
  const f = Math.fround(a);
  if (rm === RNE && Number.isFinite(f) && Math.abs(f) > FLT_MIN) {
    if (f !== a) st.flags |= NX;
    return f;
  }
  const x = decompose(a);
  return roundExact(x.neg, x.mant, x.exp, 0, rm, st);
}

// ---- comparisons, min/max, classification ----

/** RISC-V fmin/fmax (2.2): NaN operands are ignored; signalling NaNs raise NV; −0 < +0. */
export function minMax(a: number, b: number, isMax: boolean, aSignaling: boolean, bSignaling: boolean, st: FlagSink): number {
  if (aSignaling || bSignaling) st.flags |= NV;
  if (isNaN(a) && isNaN(b)) return NaN;
  if (isNaN(a)) return b;
  if (isNaN(b)) return a;
  if (a === 0 && b === 0) {
    const aNeg = Object.is(a, -0);
    const bNeg = Object.is(b, -0);
    return isMax ? (aNeg && bNeg ? -0 : 0) : aNeg || bNeg ? -0 : 0;
  }
  return isMax ? Math.max(a, b) : Math.min(a, b);
}

/** fclass bits: 0 −∞, 1 −normal, 2 −subnormal, 3 −0, 4 +0, 5 +subnormal, 6 +normal, 7 +∞, 8 sNaN, 9 qNaN. */
export function classify(a: number, fmt: number, signaling: boolean): number {
  if (isNaN(a)) return signaling ? 1 << 8 : 1 << 9;
  const neg = a < 0 || Object.is(a, -0);
  if (!Number.isFinite(a)) return neg ? 1 : 1 << 7;
  if (a === 0) return neg ? 1 << 3 : 1 << 4;
  const sub = Math.abs(a) < (fmt === 0 ? 1.1754943508222875e-38 : 2.2250738585072014e-308);
  if (neg) return sub ? 1 << 2 : 1 << 1;
  return sub ? 1 << 5 : 1 << 6;
}
