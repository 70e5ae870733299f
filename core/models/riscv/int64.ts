// 64-bit integer helpers on (lo, hi) pairs of int32, for the interpreter's M extension.
// Guest registers are pairs of int32 so that the hot paths never touch BigInt; the
// rare wide operations below fall back to BigInt only where 32-bit arithmetic cannot
// give the exact result cheaply (full 128-bit products, 64-bit division).

export function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
}

export function toBigU(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Writes the low 64 bits of v into x[i], x[i+1]. */
export function fromBig(x: Int32Array, i: number, v: bigint): void {
  x[i] = Number(BigInt.asIntN(32, v));
  x[i + 1] = Number(BigInt.asIntN(32, v >> 32n));
}

/** Low 64 bits of a 64×64 product, from 16-bit limbs (no BigInt). */
export function mul64(x: Int32Array, d: number, alo: number, ahi: number, blo: number, bhi: number): void {
  const a0 = alo & 0xffff, a1 = alo >>> 16, b0 = blo & 0xffff, b1 = blo >>> 16;
  // Low 32 bits and the carry into the high word of alo*blo.
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lo = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  const carry = (mid >>> 16) + (p01 >>> 16) + (p10 >>> 16) + a1 * b1;
  const hi = (carry + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
  x[d] = lo;
  x[d + 1] = hi;
}

export function mulh(x: Int32Array, d: number, alo: number, ahi: number, blo: number, bhi: number, signedA: boolean, signedB: boolean): void {
  const a = signedA ? toBig(alo, ahi) : toBigU(alo, ahi);
  const b = signedB ? toBig(blo, bhi) : toBigU(blo, bhi);
  fromBig(x, d, (a * b) >> 64n);
}

/** Signed or unsigned 64-bit division or remainder with RISC-V's rules for 0 and overflow. */
export function div64(x: Int32Array, d: number, alo: number, ahi: number, blo: number, bhi: number, signed: boolean, rem: boolean): void {
  if (blo === 0 && bhi === 0) {
    if (rem) {
      x[d] = alo;
      x[d + 1] = ahi;
    } else {
      x[d] = -1;
      x[d + 1] = -1;
    }
    return;
  }
  // Fast path: both operands are sign-extended 32-bit values (signed) or fit in 32 bits.
  if (signed && ahi === alo >> 31 && bhi === blo >> 31) {
    // Exact in doubles; -2^31 / -1 = 2^31 still fits the 64-bit result.
    const q = rem ? alo % blo : Math.trunc(alo / blo);
    x[d] = q | 0;
    x[d + 1] = q < 0 ? -1 : 0;
    return;
  }
  if (!signed && ahi === 0 && bhi === 0) {
    const a = alo >>> 0;
    const b = blo >>> 0;
    const q = rem ? a % b : Math.floor(a / b);
    x[d] = q | 0;
    x[d + 1] = 0;
    return;
  }
  const a = signed ? toBig(alo, ahi) : toBigU(alo, ahi);
  const b = signed ? toBig(blo, bhi) : toBigU(blo, bhi);
  if (signed && a === -(1n << 63n) && b === -1n) {
    if (rem) {
      x[d] = 0;
      x[d + 1] = 0;
    } else {
      x[d] = alo;
      x[d + 1] = ahi;
    }
    return;
  }
  fromBig(x, d, rem ? a % b : a / b);
}

/** 32-bit division or remainder (W forms), result sign-extended into x[d]. */
export function div32(x: Int32Array, d: number, a: number, b: number, signed: boolean, rem: boolean): void {
  let r: number;
  if (b === 0) r = rem ? a : -1;
  else if (signed) {
    if (a === -2147483648 && b === -1) r = rem ? 0 : a;
    else r = rem ? a % b : Math.trunc(a / b);
  } else {
    const ua = a >>> 0;
    const ub = b >>> 0;
    r = rem ? ua % ub : Math.floor(ua / ub);
  }
  r |= 0;
  x[d] = r;
  x[d + 1] = r >> 31;
}


/** x[rd], x[rd+1] = (lo, hi) << n, for n in 0..63. */
export function shl(x: Int32Array, rd: number, lo: number, hi: number, n: number): void {
  if (n === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (n < 32) {
    x[rd + 1] = (hi << n) | (lo >>> (32 - n));
    x[rd] = lo << n;
  } else {
    x[rd + 1] = lo << (n - 32);
    x[rd] = 0;
  }
}

/** x[rd], x[rd+1] = (lo, hi) >> n, arithmetic or logical, for n in 0..63. */
export function shr(x: Int32Array, rd: number, lo: number, hi: number, n: number, arith: boolean): void {
  if (n === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (n < 32) {
    x[rd] = (lo >>> n) | (hi << (32 - n));
    x[rd + 1] = arith ? hi >> n : hi >>> n;
  } else {
    x[rd] = arith ? hi >> (n - 32) : hi >>> (n - 32);
    x[rd + 1] = arith ? hi >> 31 : 0;
  }
}
