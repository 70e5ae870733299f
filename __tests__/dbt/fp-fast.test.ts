// The translators' inline FP fast paths (core/models/dbt/emit-fp.ts) against the
// interpreter, result bits and fflags after every operation: a guest program runs the
// four fused multiply-adds, fadd, fsub, fmul, fdiv, fsqrt, feq, flt and fle over a
// table of operand triples — products and addends close in magnitude, cancelling,
// summing to near a power of two, addends far below the product, short significands
// (exact results), products that underflow to zero, zeros, subnormals, infinities,
// NaNs and values near the ends of the exponent range — three times: clearing fflags
// before every operation (so that exactness decides NX), with NX left raised (the
// inline fused multiply-add's first bound then decides alone), and in round-towards-
// zero (the interpreter's).
// Mutations that must break it: in fmaInline, the product's error bound halved
// (`2 ** -53` made `2 ** -54`: sums within reach of a rounding boundary pass as
// unfused); the NX condition dropped (the fast path then claims inexact results that
// are exact); the second stage's half gap doubled (its `halfGap()` compared against
// 2·H); the product guard dropped (a product that underflowed to zero is then taken as
// exact); or, in the comparisons, the NaN check of the second operand dropped (NV is
// then not raised). In the second stage's rounding to odd: the one-ulp step dropped (the
// products that round onto a midpoint above c then tie to even, as the unfused sum).
import type { ExecutionEngine } from 'virtlab';
import { Rng } from 'virtlab';
import { fma as exactFma } from '../../core/models/riscv/fp';
import { resolveEngine } from '../../tools/cli/exec';
import { startBare } from '../../tools/node/dbt-fuzz';
import { Assembler, elf } from '../../tools/node/rv-asm';

const TEXT = 0x10000;
const DATA = 0x40000;
const N = 600;
const OUT_OFF = 0x4000;
const OPS = 12;
const MODES = 3;
const OUT_BYTES = MODES * N * OPS * 16;

function operands(): Float64Array {
  const rng = new Rng(23, 'fp-fast');
  const scale = (lo: number, hi: number) => 2 ** (lo + Math.floor(rng.next() * (hi - lo)));
  const sign = () => (rng.next() < 0.5 ? -1 : 1);
  const specials = [0, -0, 5e-324, -2.2250738585072014e-308, Infinity, -Infinity, NaN, 2 ** 1000, -(2 ** -1000), 2 ** 990, 2 ** -965, 1.7976931348623157e308];
  const out = new Float64Array(3 * N);
  for (let n = 0; n < N; n++) {
    let a = (rng.next() * 2 + 1) * scale(-20, 20) * sign();
    let b = (rng.next() * 2 + 1) * scale(-20, 20) * sign();
    const p = a * b;
    const k = rng.next();
    let c: number;
    if (k < 0.25) c = -p * (1 + (rng.next() - 0.5) * 2 ** -Math.floor(rng.next() * 50));
    else if (k < 0.5) c = p * rng.next() * 4;
    else if (k < 0.62) c = Math.sign(p || 1) * 2 ** Math.round(Math.log2(Math.abs(p) + 1)) - p * (1 + (rng.next() - 0.5) * 2 ** -40);
    else if (k < 0.74) c = p * (rng.next() + 0.5) * 2 ** -Math.floor(rng.next() * 60);
    else if (k < 0.78) c = (rng.next() - 0.5) * scale(-40, 40);
    else if (k < 0.88) {
      // Short significands: exact products and sums, whose NX must stay clear.
      a = (Math.floor(rng.next() * 4096) + 1) * scale(-8, 8) * sign();
      b = (Math.floor(rng.next() * 4096) + 1) * scale(-8, 8) * sign();
      c = Math.floor(rng.next() * 65536) * scale(-16, 8) * sign();
    }
    else {
      const s = specials[Math.floor(rng.next() * specials.length)];
      const which = Math.floor(rng.next() * 3);
      c = (rng.next() - 0.5) * scale(-30, 30);
      if (which === 0) a = s;
      else if (which === 1) b = s;
      else c = s;
    }
    out.set([a, b, c], 3 * n);
  }
  // Products that round onto the midpoint above c (a·b ≈ half an ulp of c): the unfused
  // sum then ties to even where the fused one need not; the inline fused multiply-add
  // rounds tl + ul to odd for these.
  const near = new Rng(29, 'fp-fast midpoints');
  const MID = 40;
  for (let k = 0; k < MID; k++) {
    // c in [2^e, 2^(e+1)): half its ulp is 2^(e−53), which RN(a·b) lands on for most a.
    const e = Math.floor(near.next() * 40 - 20);
    const c = (near.next() + 1) * 2 ** e * (k & 1 ? -1 : 1);
    const a = (near.next() + 1) * (k & 2 ? -1 : 1);
    const b = (Math.sign(c) * 2 ** (e - 53)) / a;
    out.set([a, b, c], 3 * (N - 3 * specials.length - 3 - MID + k));
  }
  // Products that underflow to zero from nonzero operands (inexact, though the product rounds to 0).
  const tiny = [[2 ** -900, 2 ** -900, 1], [2 ** -900, -(2 ** -900), -1.5], [-(2 ** -600), 2 ** -700, 3]];
  tiny.forEach((t, k) => out.set(t, 3 * (N - 3 * specials.length - tiny.length + k)));
  // And every special value in every position, with ordinary values beside it.
  specials.forEach((s, k) => {
    for (let which = 0; which < 3; which++) {
      const t = [1.5 + k, -0.75 - k, 3.25 * k];
      t[which] = s;
      out.set(t, 3 * (N - 3 * specials.length + 3 * k + which));
    }
  });
  return out;
}

function program(inputs: Float64Array): Uint8Array {
  const a = new Assembler(TEXT);
  const [S0, A0, A1, T0, T1, T2] = [8, 10, 11, 5, 6, 7];
  a.lui(S0, DATA >>> 12);
  a.lui(A1, (DATA + OUT_OFF) >>> 12);
  for (let mode = 0; mode < MODES; mode++) {
    if (mode === 2) a.csr(5, 0, 0x002, 1); // frm = round towards zero
    a.csr(1, 0, 0x001, 0); // fflags = 0
    a.addi(A0, S0, 0);
    a.addi(T0, 0, N);
    a.label(`loop${mode}`);
    for (let r = 0; r < 3; r++) a.fload(3, r, A0, 8 * r);
    for (let j = 0; j < OPS; j++) {
      if (mode === 0) a.csr(1, 0, 0x001, 0);
      if (j < 4) a.fma(j, 1, 3, 0, 1, 2, j === 1 ? 0 : 7);
      else if (j === 4) a.fop(0x01, 3, 0, 2, 7); // fadd.d
      else if (j === 5) a.fop(0x05, 3, 0, 2, 0); // fsub.d
      else if (j === 6) a.fop(0x09, 3, 0, 1, 7); // fmul.d
      else if (j === 7) a.fop(0x0d, 3, 2, 1, 7); // fdiv.d
      else if (j === 8) a.fop(0x2d, 3, 2, 0, 7); // fsqrt.d
      else a.fop(0x51, T2, 0, 2, [2, 1, 0][j - 9]); // feq.d, flt.d, fle.d
      a.csr(2, T1, 0x001, 0); // t1 = fflags
      if (j < 9) a.fstore(3, 3, A1, 16 * j);
      else a.store(3, T2, A1, 16 * j);
      a.store(3, T1, A1, 16 * j + 8);
    }
    a.addi(A0, A0, 24);
    a.addi(A1, A1, 16 * OPS);
    a.addi(T0, T0, -1);
    a.branch(1, T0, 0, `loop${mode}`);
  }
  a.addi(17, 0, 94); // exit_group
  a.addi(A0, 0, 0);
  a.ecall();
  const data = new Uint8Array(inputs.buffer.slice(0));
  return elf(TEXT, [
    { vaddr: TEXT, bytes: a.finish(), flags: 5 },
    { vaddr: DATA, bytes: data, flags: 6, memsz: OUT_OFF + OUT_BYTES },
  ]);
}

interface SavedProcess {
  mem: { pages: Uint32Array; bytes: Uint8Array };
}

function outputs(engine: ExecutionEngine, image: Uint8Array): Uint8Array {
  const instance = startBare(engine, image, 'fp-fast.elf', 23);
  const status = instance.run(100_000_000);
  expect(status.state).toBe('exited');
  const s = instance.save() as SavedProcess;
  const out = new Uint8Array(OUT_BYTES);
  for (let off = 0; off < OUT_BYTES; off += 4096) {
    const page = s.mem.pages.indexOf((DATA + OUT_OFF + off) / 4096);
    expect(page).toBeGreaterThanOrEqual(0);
    out.set(s.mem.bytes.subarray(page * 4096, page * 4096 + Math.min(4096, OUT_BYTES - off)), off);
  }
  return out;
}

const inputs = operands();
const image = program(inputs);
const NAMES = ['fmadd', 'fmsub', 'fnmsub', 'fnmadd', 'fadd', 'fsub', 'fmul', 'fdiv', 'fsqrt', 'feq', 'flt', 'fle'];
const MODE_NAMES = ['fflags cleared', 'NX raised', 'round towards zero'];

let expected: Uint8Array;
beforeAll(async () => {
  expected = outputs(await resolveEngine('interpreter'), image);
});

test('the operands reach both sides of the unfused shortcut', () => {
  // The fused result is the unfused sum for most triples, and differs for many.
  let same = 0;
  let differ = 0;
  for (let n = 0; n < N; n++) {
    const [a, b, c] = inputs.subarray(3 * n, 3 * n + 3);
    const fused = exactFma(a, b, c, 1, 0, { flags: 0 });
    if (!Number.isFinite(fused)) continue;
    if (Object.is(fused, a * b + c)) same++;
    else differ++;
  }
  expect(same).toBeGreaterThan(N / 3);
  expect(differ).toBeGreaterThan(N / 10);
});

describe.each([
  ['instrew', 'instrew', { hotThreshold: 0 }],
  ['instrew without register promotion', 'instrew', { hotThreshold: 0, promoteRegisters: false }],
  ['instrew tiered', 'instrew', {}],
  ['block-translator', 'block-translator', {}],
] as Array<[string, string, Record<string, unknown>]>)('%s', (_name, engineName, options) => {
  test('gives the interpreter\'s result bits and fflags after every FP operation', async () => {
    const got = outputs(await resolveEngine(engineName, options), image);
    const wrong: string[] = [];
    const dv = (x: Uint8Array) => new DataView(x.buffer, x.byteOffset, x.byteLength);
    for (let at = 0; at < OUT_BYTES && wrong.length < 5; at += 16) {
      const w = dv(expected);
      const g = dv(got);
      if (w.getBigUint64(at, true) === g.getBigUint64(at, true) && w.getBigUint64(at + 8, true) === g.getBigUint64(at + 8, true)) continue;
      const k = at / 16;
      const n = Math.floor(k / OPS) % N;
      const [a, b, c] = inputs.subarray(3 * n, 3 * n + 3);
      wrong.push(
        `${MODE_NAMES[Math.floor(k / OPS / N)]}: ${NAMES[k % OPS]}(${a}, ${b}, ${c}) = ${g.getFloat64(at, true)} flags ${g.getBigUint64(at + 8, true)}, ` +
          `interpreter ${w.getFloat64(at, true)} flags ${w.getBigUint64(at + 8, true)}`,
      );
    }
    expect(wrong).toEqual([]);
  });
});
