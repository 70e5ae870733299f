// Post-copy's remote-fault model in closed form (core/models/migration/postcopy-faults.ts):
// it agrees with a fine step-by-step integration of the same equations, with and
// without the push's bound taking over, and a segment split in two gives the same
// result as the whole (what makes post-copy's results independent of the tick).
//
// Mutations that must break these tests (checked once):
// - dropping the bound (returning the free solution even when the push outruns the
//   faults) breaks the agreement in the 'bound takes over' case;
// - counting faults on the bound at the free rate A·m instead of A·m·s breaks the
//   agreement too, and the lost time = faults × stall identity.
import { freeMissing, postcopySegment } from '../../../../core/models/migration/postcopy-faults';

/** The same model stepped with a tiny explicit step: m capped by the bound, then faults. */
function stepped(m0: number, c0: number, c1: number, t: number, A: number, B: number, n = 200_000) {
  let m = Math.min(m0, c0);
  let faults = 0;
  let slow = 0;
  const dt = t / n;
  for (let i = 1; i <= n; i++) {
    const s = 1 / (1 + B * m);
    const f = Math.min(m, A * m * s * dt);
    faults += f;
    slow += (1 - s) * dt;
    m = Math.min(m - f, c0 + ((c1 - c0) * i) / n);
  }
  return { missing: m, faults, slowS: slow };
}

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-9);

describe('post-copy fault model', () => {
  const cases = {
    'faults alone (no push)': [50_000, 60_000, 60_000, 20, 0.05, 2e-4],
    'push slower than the faults': [50_000, 50_000, 45_000, 30, 0.2, 1e-4],
    'bound takes over': [50_000, 50_000, 0, 40, 0.02, 5e-5],
    'guest nearly stalled': [200_000, 200_000, 100_000, 10, 0.5, 1e-2],
  } as const;
  for (const [name, [m0, c0, c1, t, A, B]] of Object.entries(cases)) {
    it(`agrees with a fine step-by-step integration: ${name}`, () => {
      const exact = postcopySegment(m0, c0, c1, t, A, B);
      const ref = stepped(m0, c0, c1, t, A, B);
      expect(close(exact.missing, ref.missing, 2e-3) || Math.abs(exact.missing - ref.missing) < 1).toBe(true);
      expect(close(exact.faults, ref.faults, 2e-3)).toBe(true);
      expect(close(exact.slowS, ref.slowS, 2e-3)).toBe(true);
      // Each fault costs one stall: lost time × A/B = faults.
      expect(close((exact.slowS * A) / B, exact.faults, 1e-9)).toBe(true);
    });
  }

  it('gives the same result for a segment split in two at any point', () => {
    const [m0, c0, c1, t, A, B] = cases['bound takes over'];
    const whole = postcopySegment(m0, c0, c1, t, A, B);
    for (const k of [0.1, 0.37, 0.5, 0.9]) {
      const cm = c0 + (c1 - c0) * k;
      const a = postcopySegment(m0, c0, cm, t * k, A, B);
      const b = postcopySegment(a.missing, cm, c1, t * (1 - k), A, B);
      expect(close(a.faults + b.faults, whole.faults, 1e-9)).toBe(true);
      expect(close(a.slowS + b.slowS, whole.slowS, 1e-9)).toBe(true);
      expect(Math.abs(b.missing - whole.missing)).toBeLessThan(1e-6);
    }
  });

  it('solves the free motion exactly: ln m + B·m falls by A per second', () => {
    const m = freeMissing(1e5, 3, 0.4, 1e-4);
    expect(close(Math.log(m) + 1e-4 * m, Math.log(1e5) + 10 - 1.2, 1e-12)).toBe(true);
    expect(freeMissing(0, 3, 0.4, 1e-4)).toBe(0);
  });
});
