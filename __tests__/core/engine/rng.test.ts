// The seeded random streams: deterministic per (seed, name), independent across names.
import { Rng, RngStreams } from '../../../core/engine/rng';

const draw = (r: Rng, n = 8) => Array.from({ length: n }, () => r.nextU32());

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
