// Seeded random streams. Every subsystem asks the engine for its own named stream
// (`rng.stream('workload.synthetic')`), so adding a consumer of randomness never
// shifts the numbers another subsystem sees, and a run is a function of the scenario
// and its seed alone.
//
// Generator: xoshiro128** (Blackman and Vigna, 2018). It uses only 32-bit integer
// operations (Math.imul and shifts), so it is fast in JavaScript without BigInt; its
// state is four uint32 words, so snapshots are tiny; and it passes BigCrush. Each
// stream is seeded by SplitMix32 over (scenario seed, FNV-1a hash of the stream name),
// which decorrelates streams whose names or seeds differ in a single bit.

/** FNV-1a over the UTF-16 code units of a string: a stable 32-bit name hash. */
export function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** One step of SplitMix32: used only to expand a seed into generator state. */
function splitMix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** A xoshiro128** generator. All draws are deterministic functions of its state. */
export class Rng {
  // The four state words live in int32 fields rather than a typed array: the draws are
  // the inner loop of datacenter-scale runs, and V8 keeps fields in registers across
  // an inlined call chain where it reloads a typed array's elements on every access.
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal = 0;
  private hasSpare = false;

  constructor(seed: number, name = '') {
    const sm = { s: (seed ^ hashName(name)) | 0 };
    // Mix the high part of large seeds in as well, so seeds above 2^32 differ.
    sm.s = (sm.s + Math.floor(seed / TWO_POW_32)) | 0;
    this.s0 = splitMix32(sm) | 0;
    this.s1 = splitMix32(sm) | 0;
    this.s2 = splitMix32(sm) | 0;
    this.s3 = splitMix32(sm) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The four state words, as unsigned 32-bit integers (a copy). */
  get state(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.s1;
    let s0 = this.s0;
    let s2 = this.s2;
    let s3 = this.s3;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    this.s1 = s1 ^ s2;
    s0 ^= s3;
    s2 ^= t;
    this.s0 = s0;
    this.s2 = s2;
    this.s3 = rotl(s3, 11);
    return result;
  }

  /** A double uniformly distributed in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** An integer uniformly distributed in [0, n), without modulo bias (n ≤ 2^32). */
  int(n: number): number {
    if (!(n > 0) || n > TWO_POW_32) throw new RangeError(`Rng.int: n must be in (0, 2^32], got ${n}`);
    // Lemire's nearly-divisionless method, with the exact rejection threshold.
    const threshold = (TWO_POW_32 - n) % n;
    for (;;) {
      const x = this.nextU32();
      const m = x * n;
      const lo = m % TWO_POW_32;
      if (lo >= threshold) return Math.floor(m / TWO_POW_32);
    }
  }

  /** A standard normal deviate (Marsaglia's polar method; caches the second value). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spareNormal;
    }
    let u: number, v: number, s: number;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /** An exponential deviate with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /**
   * A Poisson deviate with mean lambda, exact at every lambda (up to the 53-bit
   * uniforms and double arithmetic): below 10, inversion by chop-down search from one
   * uniform (lambda + 1 multiply-adds on average, no further draws); from 10 up, PTRS,
   * Hörmann's transformed rejection with squeeze (1993), about 1.1 uniform pairs per
   * deviate and a logarithm only for the few candidates the squeeze does not settle.
   * A lambda of 0 or less costs no draw.
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 10) {
      for (;;) {
        let u = this.next();
        let p = Math.exp(-lambda);
        let k = 0;
        while (u > p) {
          u -= p;
          k++;
          p *= lambda / k;
          // Rounding can leave u above the whole remaining mass (probability ~1e-16):
          // reject that uniform rather than loop on an underflowed term.
          if (p === 0) break;
        }
        if (p > 0) return k;
      }
    }
    if (lambda !== this.ptrsLambda) this.ptrsSetup(lambda);
    const a = this.ptrsA;
    const b = this.ptrsB;
    for (;;) {
      const u = this.next() - 0.5;
      const v = this.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= this.ptrsVr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      // The logarithms are taken here, not at setup: callers whose mean changes at every
      // draw mostly return from the squeeze above.
      if (Math.log(v) + Math.log(this.ptrsInvAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * Math.log(lambda) - logFactorial(k)) return k;
    }
  }

  // PTRS's constants for the last lambda drawn from (callers often repeat one).
  private ptrsLambda = NaN;
  private ptrsA = 0;
  private ptrsB = 0;
  private ptrsVr = 0;
  private ptrsInvAlpha = 0;

  private ptrsSetup(lambda: number): void {
    const b = 0.931 + 2.53 * Math.sqrt(lambda);
    this.ptrsLambda = lambda;
    this.ptrsB = b;
    this.ptrsA = -0.059 + 0.02483 * b;
    this.ptrsVr = 0.9277 - 3.6224 / (b - 2);
    this.ptrsInvAlpha = 1.1239 + 1.1328 / (b - 3.4);
  }

  /** Fills a byte array with random bytes (for guest AT_RANDOM, getrandom). */
  fillBytes(out: Uint8Array): void {
    for (let i = 0; i < out.length; i += 4) {
      let x = this.nextU32();
      for (let j = 0; j < 4 && i + j < out.length; j++) {
        out[i + j] = x & 0xff;
        x >>>= 8;
      }
    }
  }

  /** The generator's full state, for snapshots. */
  save(): { state: number[]; spare: number } {
    return { state: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: this.hasSpare ? this.spareNormal : NaN };
  }

  load(saved: { state: number[]; spare: number }): void {
    this.s0 = saved.state[0] | 0;
    this.s1 = saved.state[1] | 0;
    this.s2 = saved.state[2] | 0;
    this.s3 = saved.state[3] | 0;
    // A spare of NaN means none (a NaN deviate cannot occur).
    this.hasSpare = saved.spare === saved.spare;
    this.spareNormal = this.hasSpare ? saved.spare : 0;
  }
}

/** ln k! for k < 256, summed once. */
const LOG_FACTORIAL = (() => {
  const t = new Float64Array(256);
  for (let k = 2; k < 256; k++) t[k] = t[k - 1] + Math.log(k);
  return t;
})();

/** ln k!: the table, then Stirling's series (its error below 1e-17 from k = 256). */
function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIAL[k];
  const r = 1 / k;
  const r2 = r * r;
  return (k + 0.5) * Math.log(k) - k + 0.9189385332046728 + r * (1 / 12 - r2 * (1 / 360 - r2 / 1260));
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The engine's stream registry: one generator per name, seeded from the run's seed. */
export class RngStreams {
  private readonly streams = new Map<string, Rng>();

  constructor(readonly seed: number) {}

  /** The stream called `name`; asking twice returns the same generator. */
  stream(name: string): Rng {
    let rng = this.streams.get(name);
    if (!rng) {
      rng = new Rng(this.seed, name);
      this.streams.set(name, rng);
    }
    return rng;
  }

  /** Every stream's state, keyed by name, in a stable order. */
  save(): Record<string, { state: number[]; spare: number }> {
    const out: Record<string, { state: number[]; spare: number }> = {};
    for (const name of [...this.streams.keys()].sort()) out[name] = this.streams.get(name)!.save();
    return out;
  }

  load(saved: Record<string, { state: number[]; spare: number }>): void {
    for (const [name, s] of Object.entries(saved)) this.stream(name).load(s);
  }
}
