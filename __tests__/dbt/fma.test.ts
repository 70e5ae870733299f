// The translators' fused multiply-add helper (core/models/dbt/runtime-module.ts) against
// the interpreter's exact fma (core/models/riscv/fp.ts), result bits and inexact flag,
// on random operands whose product and addend are close in magnitude — the case where
// the fused and the unfused sums differ most often — and on every sign combination.
// The helper takes the unfused sum when it proves the fused result equals it (the
// rounding error of the product and of the sum together stay below half a gap of the
// sum) and rounds to odd otherwise; both paths are exercised here (counted below).
// Mutation that must break it: in emitFma, the half gap `0.5` made `1` (the proof then
// admits sums within a whole gap, which round elsewhere); or the neighbour taken on
// the wrong side (`i64Const(1).i64Const(-1)` swapped). A product that underflows to
// zero from nonzero operands is inexact: breaks if emitFma admits any zero product
// (`uh == 0` instead of a zero operand).
import { GuestMemory } from '../../core/models/riscv/memory';
import { fma as exactFma } from '../../core/models/riscv/fp';
import { buildRuntimeModule } from '../../core/models/dbt/runtime-module';
import { Rng } from 'virtlab';

function helper(): (a: number, b: number, c: number) => [number, number] {
  const mem = new GuestMemory(1 << 20);
  const table = new WebAssembly.Table({ initial: 16, element: 'anyfunc' });
  const mod = new WebAssembly.Module(buildRuntimeModule(mem, 16));
  const inst = new WebAssembly.Instance(mod, { js: { interp: () => 0, access: () => undefined }, env: { mem: mem.wasm, table } });
  return inst.exports.fma as (a: number, b: number, c: number) => [number, number];
}

const bits = (x: number) => Buffer.from(new Float64Array([x]).buffer).readBigUInt64LE();

describe('fused multiply-add helper', () => {
  test('equals the exact fma, bits and inexact flag, on both of its paths', () => {
    const fma = helper();
    const rng = new Rng(17, 'fma');
    let unfused = 0;
    let odd = 0;
    let slow = 0;
    const wrong: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const a = (rng.next() * 2 + 1) * 2 ** (Math.floor(rng.next() * 40) - 20) * (rng.next() < 0.5 ? -1 : 1);
      const b = (rng.next() * 2 + 1) * 2 ** (Math.floor(rng.next() * 40) - 20) * (rng.next() < 0.5 ? -1 : 1);
      // An addend near ±a·b (or of its own size), so that the sum cancels or rounds near a boundary.
      const p = a * b;
      const k = rng.next();
      const c = k < 0.4 ? -p * (1 + (rng.next() - 0.5) * 2 ** -(Math.floor(rng.next() * 50))) : k < 0.8 ? p * rng.next() * 4 : (rng.next() - 0.5) * 2 ** (Math.floor(rng.next() * 80) - 40);
      const st = { flags: 0 };
      const want = exactFma(a, b, c, 1, 0, st);
      const [z, nx] = fma(a, b, c);
      if (nx === 2) {
        slow++;
        continue;
      }
      if (bits(z) !== bits(want) || nx !== (st.flags & 1)) wrong.push(`fma(${a}, ${b}, ${c}) = ${z} (nx ${nx}), exactly ${want} (nx ${st.flags & 1})`);
      // Which path the helper took: the unfused sum is the answer exactly when it is the fused one.
      if (Object.is(z, c + p) || z === c + p) unfused++;
      else odd++;
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    // Both outcomes occur many times, and the interpreter is left only the rare cases.
    expect(unfused).toBeGreaterThan(5_000);
    expect(odd).toBeGreaterThan(5_000);
    expect(slow).toBeLessThan(10_000);
  });

  test('a product that underflowed to zero is not taken as exact', () => {
    const fma = helper();
    for (const [a, b, c] of [
      [2 ** -900, 2 ** -900, 1],
      [2 ** -900, -(2 ** -900), 1],
      [-(2 ** -600), 2 ** -700, -3],
    ]) {
      const st = { flags: 0 };
      const want = exactFma(a, b, c, 1, 0, st);
      const [z, nx] = fma(a, b, c);
      // Deferred (2), or the exact result and NX.
      expect(nx === 2 ? 'deferred' : [z, nx]).toEqual(nx === 2 ? 'deferred' : [want, 1]);
      expect(st.flags & 1).toBe(1);
    }
    // An operand that is zero makes the product exact.
    expect(fma(0, 2 ** -900, 1)).toEqual([1, 0]);
  });
});
