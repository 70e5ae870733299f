// The seeded random streams: deterministic per (seed, name), independent across names.
import { Rng, RngStreams } from '../../../core/engine/rng';

const draw = (r: Rng, n = 8) => Array.from({ length: n }, () => r.nextU32());

/** ln k!, summed term by term (the reference for the sampler's table and series). */
const logFactTable: number[] = [0, 0];
const logFact = (k: number) => {
  for (let i = logFactTable.length; i <= k; i++) logFactTable.push(logFactTable[i - 1] + Math.log(i));
  return logFactTable[k];
};

describe('Rng', () => {
  it('gives the same sequence for the same seed and name', () => {
    expect(draw(new Rng(7, 'a'))).toEqual(draw(new Rng(7, 'a')));
  });

  it('gives different sequences for different seeds or names', () => {
    expect(draw(new Rng(7, 'a'))).not.toEqual(draw(new Rng(8, 'a')));
    expect(draw(new Rng(7, 'a'))).not.toEqual(draw(new Rng(7, 'b')));
  });

  it('draws doubles in [0, 1) with a mean near one half', () => {
    const r = new Rng(1);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 100000; i++) {
      const x = r.next();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
    }
    expect(outside).toBe(0);
    expect(sum / 100000).toBeCloseTo(0.5, 2);
  });

  it('draws integers below n without bias', () => {
    const r = new Rng(3);
    const counts = new Array(3).fill(0);
    for (let i = 0; i < 30000; i++) counts[r.int(3)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    expect(() => r.int(0)).toThrow(/n must be/);
  });

  it('draws Poisson counts with the requested mean, small and large', () => {
    const r = new Rng(5);
    for (const lambda of [0.5, 4, 1000]) {
      let sum = 0;
      for (let i = 0; i < 20000; i++) sum += r.poisson(lambda);
      expect(sum / 20000 / lambda).toBeCloseTo(1, 1);
    }
    expect(r.poisson(0)).toBe(0);
  });

  // Mutations that must break it: the normal approximation put back above 30 (the
  // chi-square at 31 fails), or the chop-down search started from p = 1 instead of
  // e^-lambda (P(0) fails).
  it('draws exact Poisson deviates: mean, variance, P(0) and the whole law, at every lambda', () => {
    const n = 200000;
    for (const lambda of [0.1, 3, 9.99, 10, 29, 31, 500, 1e5]) {
      const r = new Rng(17, `poisson-${lambda}`);
      let sum = 0;
      let sumSq = 0;
      let zeros = 0;
      let bad = 0;
      const counts = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const k = r.poisson(lambda);
        if (!(Number.isInteger(k) && k >= 0)) bad++;
        sum += k;
        sumSq += k * k;
        if (k === 0) zeros++;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      expect(bad).toBe(0);
      const mean = sum / n;
      const variance = (sumSq - n * mean * mean) / (n - 1);
      // Six standard errors: the mean's is sqrt(lambda/n), the sample variance's
      // sqrt((mu4 - sigma^4)/n) with mu4 = lambda(1 + 3 lambda) for a Poisson law.
      expect(Math.abs(mean - lambda)).toBeLessThan(6 * Math.sqrt(lambda / n));
      expect(Math.abs(variance - lambda)).toBeLessThan(6 * Math.sqrt((lambda + 2 * lambda * lambda) / n));
      const p0 = Math.exp(-lambda);
      expect(Math.abs(zeros / n - p0)).toBeLessThan(6 * Math.sqrt((p0 * (1 - p0)) / n) + 1e-9);
      // Pearson's chi-square over the cells of expected count >= 20 (the rest pooled in
      // the two tails), against the 1e-6 quantile: a normal approximation's skew fails it.
      const logPmf = (k: number) => -lambda + k * Math.log(lambda) - logFact(k);
      const mode = Math.floor(lambda);
      let lo = mode;
      while (lo > 0 && n * Math.exp(logPmf(lo - 1)) >= 20) lo--;
      let hi = mode;
      while (n * Math.exp(logPmf(hi + 1)) >= 20) hi++;
      let chi = 0;
      let inside = 0;
      let insideP = 0;
      for (let k = lo; k <= hi; k++) {
        const e = n * Math.exp(logPmf(k));
        const o = counts.get(k) ?? 0;
        chi += ((o - e) * (o - e)) / e;
        inside += o;
        insideP += e / n;
      }
      let below = 0;
      let belowP = 0;
      for (let k = 0; k < lo; k++) {
        below += counts.get(k) ?? 0;
        belowP += Math.exp(logPmf(k));
      }
      const above = n - inside - below;
      const aboveP = 1 - insideP - belowP;
      if (belowP * n >= 5) chi += (below - belowP * n) ** 2 / (belowP * n);
      if (aboveP * n >= 5) chi += (above - aboveP * n) ** 2 / (aboveP * n);
      const df = hi - lo + 2;
      // Wilson–Hilferty: the chi-square quantile at 1 - 1e-6 (z = 4.753).
      const limit = df * (1 - 2 / (9 * df) + 4.753 * Math.sqrt(2 / (9 * df))) ** 3;
      expect(chi).toBeLessThan(limit);
    }
  });

  it('takes no draw for a mean of zero or less', () => {
    const a = new Rng(4, 'z');
    const b = new Rng(4, 'z');
    expect(a.poisson(0) + a.poisson(-1) + a.poisson(NaN)).toBe(0);
    expect(a.nextU32()).toBe(b.nextU32());
  });

  // Mutation that must break it: any change to the generator's shifts, rotations or
  // multipliers (the state kept in fields must step exactly as the published algorithm).
  it('steps as the textbook xoshiro128** on a four-word state', () => {
    const r = new Rng(12, 'ref');
    const s = Uint32Array.from(r.save().state);
    const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
    const ref = () => {
      const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
      const t = s[1] << 9;
      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl(s[3], 11);
      return result;
    };
    for (let i = 0; i < 10000; i++) expect(r.nextU32()).toBe(ref());
    expect(r.save().state).toEqual(Array.from(s));
  });

  it('resumes the same sequence from a saved state', () => {
    const a = new Rng(9, 'x');
    draw(a, 3);
    a.normal();
    const saved = a.save();
    const expected = [a.normal(), ...draw(a)];
    const b = new Rng(1, 'other');
    b.load(saved);
    expect([b.normal(), ...draw(b)]).toEqual(expected);
  });
});

describe('RngStreams', () => {
  it('hands out one generator per name, so a new consumer does not shift others', () => {
    const s1 = new RngStreams(11);
    const a1 = draw(s1.stream('workload'));
    const s2 = new RngStreams(11);
    s2.stream('newcomer').nextU32();
    expect(draw(s2.stream('workload'))).toEqual(a1);
    expect(s1.stream('workload')).toBe(s1.stream('workload'));
  });
});
