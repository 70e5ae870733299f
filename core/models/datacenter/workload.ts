// The synthetic memory workload model: a VM reads and writes pages of its working
// set at given rates, with a uniform, Zipf or sequential page distribution, in
// phases (for example reads first, then writes).
//
// Two levels of detail, so that memory stays bounded at datacenter scale:
// - Aggregate (every VM): the state is a handful of scalars per VM: how many page
//   reads and writes happened since the dirty/accessed logs were last reset. The
//   number of *distinct* pages touched by n independent draws is computed when asked,
//   from the distribution: E[distinct] = Σ_k (1 − (1 − p_k)^n), summed in closed form
//   per bucket of ranks (exact for uniform; for Zipf, ranks are grouped in buckets of
//   nearly equal probability: the first 16 ranks alone, then geometric buckets of
//   ratio 1.25). Per tick the cost is two Poisson draws per VM.
// - Detail (VMs a plugin asked for, e.g. a dirty logger or a migration): actual page
//   numbers are drawn from the distribution (Zipf by rejection-inversion, Hörmann and
//   Derflinger 1996) and set in per-VM bitmaps, one bit per page.
//
// When a phase changes distribution or working set, the aggregate counts are carried
// over as the number of draws that would have produced the same distinct-page count
// under the new distribution; this treats the pages already touched as the new
// phase's hottest ones, and is exact for uniform-to-uniform changes.

import type { Rng } from '../../engine/rng';
import { token } from '../../engine/tokens';
import { Distribution, type DistributionName } from './components';

export interface WorkloadPhase {
  /** Phase length in ns; Infinity for the last, open-ended phase. */
  readonly duration: number;
  readonly distribution: DistributionName;
  /** Zipf exponent s (probability of rank k ∝ k^−s). */
  readonly zipfExponent: number;
  /** Page reads per second. */
  readonly readsPerSecond: number;
  /** Page writes per second. */
  readonly writesPerSecond: number;
  /** Fraction of the VM's vCPUs kept busy. */
  readonly cpu: number;
  /** Working set in bytes (≤ the VM's memory); 0 means all of it. */
  readonly workingSet: number;
}

export interface WorkloadSpec {
  readonly phases: readonly WorkloadPhase[];
  /** Start again from the first phase after the last one ends. */
  readonly repeat: boolean;
  /** What the working set's pages hold (shares of its pages, normalized). */
  readonly pageClasses: PageClassShares;
}

/**
 * What a page holds, which decides how well it compresses and how large a delta
 * against its previous version is: zero-filled, code (rarely rewritten, compresses fairly),
 * data (structured, compresses well, rewrites change little of it), random
 * (encrypted or compressed content: neither compresses nor deltas).
 */
export const PageClass = { Zero: 0, Code: 1, Data: 2, Random: 3 } as const;
export const PAGE_CLASS_NAMES = ['zero', 'code', 'data', 'random'] as const;
export type PageClassName = (typeof PAGE_CLASS_NAMES)[number];
export type PageClassShares = Readonly<Record<PageClassName, number>>;

/** Shares that sum to 1 (all data if every share is 0). */
export function normalizeShares(c: Partial<Record<PageClassName, number>>): PageClassShares {
  const total = PAGE_CLASS_NAMES.reduce((n, k) => n + (c[k] ?? 0), 0);
  if (!total) return { zero: 0, code: 0, data: 1, random: 0 };
  return { zero: (c.zero ?? 0) / total, code: (c.code ?? 0) / total, data: (c.data ?? 0) / total, random: (c.random ?? 0) / total };
}

/**
 * The class of one page of a VM: a fixed hash of (vm, page) against the VM's shares, so
 * that every plugin sees the same class for the same page without any per-page store,
 * and the classes are spread over hot and cold pages alike.
 */
export function pageClassOf(shares: PageClassShares, vm: number, page: number): number {
  let h = Math.imul(page ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(vm + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  const u = (h >>> 0) / 4294967296;
  if (u < shares.zero) return PageClass.Zero;
  if (u < shares.zero + shares.code) return PageClass.Code;
  if (u < shares.zero + shares.code + shares.data) return PageClass.Data;
  return PageClass.Random;
}

type PhaseKey = keyof WorkloadPhase;

/**
 * Builds a WorkloadSpec from a scenario `workload:` mapping that the loader has
 * validated against the schema workload.synthetic declares, so every top-level key
 * has its value or default; a key a phase leaves out comes from the top level.
 */
export function workloadSpecFrom(w: Record<string, unknown>): WorkloadSpec {
  const base = (key: PhaseKey): unknown => {
    if (w[key] === undefined && key !== 'duration') throw new Error(`the workload has no '${key}': build it from a mapping the scenario loader validated`);
    return w[key];
  };
  const phaseList = (w.phases as Array<Record<string, unknown>> | undefined) ?? [{}];
  const phases = phaseList.map((p, i) => {
    const get = (key: PhaseKey) => p[key] ?? base(key);
    const duration = (get('duration') as number | undefined) ?? (i === phaseList.length - 1 ? Infinity : NaN);
    if (Number.isNaN(duration)) throw new Error(`workload phase ${i} needs a duration (only the last phase may be open-ended)`);
    return {
      duration,
      distribution: get('distribution') as DistributionName,
      zipfExponent: get('zipfExponent') as number,
      readsPerSecond: get('readsPerSecond') as number,
      writesPerSecond: get('writesPerSecond') as number,
      cpu: get('cpu') as number,
      workingSet: get('workingSet') as number,
    };
  });
  return { phases, repeat: (w.repeat as boolean | undefined) ?? false, pageClasses: normalizeShares((w.pageClasses as Partial<Record<PageClassName, number>> | undefined) ?? { data: 1 }) };
}

export function distributionCode(name: DistributionName): number {
  return name === 'zipf' ? Distribution.Zipf : name === 'sequential' ? Distribution.Sequential : Distribution.Uniform;
}

/**
 * Expected distinct pages touched by n draws over a working set, for one
 * distribution. Zipf profiles are cached per (pages, exponent).
 */
export class DistinctPages {
  private readonly zipf = new Map<string, ZipfBuckets>();
  private last: ZipfBuckets | undefined;

  distinct(dist: number, pages: number, zipfExponent: number, n: number): number {
    if (n <= 0 || pages <= 0) return 0;
    switch (dist) {
      case Distribution.Sequential:
        return Math.min(pages, n);
      case Distribution.Zipf:
        return this.buckets(pages, zipfExponent).distinct(n);
      default:
        // 1 − (1 − 1/N)^n, computed without cancellation for large N.
        return pages * -Math.expm1(n * Math.log1p(-1 / pages));
    }
  }

  /**
   * Page numbers (rank − 1, as the detail sampler numbers them) of the distinct pages
   * that n draws touched, drawn from the model's expectation: each group of pages of
   * nearly equal probability contributes its expected number of touched pages (rounded
   * at random so that the total is unbiased), chosen uniformly within the group. For a
   * sequential writer, the n pages before `end` (mod pages). Costs O(groups + pages
   * returned), never O(n).
   */
  sample(dist: number, pages: number, zipfExponent: number, n: number, rng: Rng, end = 0): Uint32Array {
    if (n <= 0 || pages <= 0) return new Uint32Array(0);
    if (dist === Distribution.Sequential) {
      const k = Math.min(pages, Math.round(n));
      const out = new Uint32Array(k);
      const start = (((end - k) % pages) + pages) % pages;
      for (let i = 0; i < k; i++) out[i] = (start + i) % pages;
      return out;
    }
    const groups: Array<[number, number, number]> = [];
    if (dist === Distribution.Zipf) {
      const b = this.buckets(pages, zipfExponent);
      let first = 0;
      for (let i = 0; i < b.sizes.length; i++) {
        groups.push([first, b.sizes[i], b.sizes[i] * -Math.expm1(n * b.logMiss[i])]);
        first += b.sizes[i];
      }
    } else groups.push([0, pages, this.distinct(dist, pages, zipfExponent, n)]);
    const picked: number[] = [];
    for (const [first, size, expect] of groups) {
      let k = Math.floor(expect);
      if (rng.next() < expect - k) k++;
      pickDistinct(first, Math.min(size, k), size, rng, picked);
    }
    return Uint32Array.from(picked);
  }

  /** The number of draws n with distinct(n) ≈ d (the inverse, by bisection). */
  drawsFor(dist: number, pages: number, zipfExponent: number, d: number): number {
    if (d <= 0) return 0;
    if (d >= pages) return Infinity;
    if (dist === Distribution.Sequential) return d;
    if (dist === Distribution.Uniform) return Math.log1p(-d / pages) / Math.log1p(-1 / pages);
    let lo = 0;
    let hi = Math.max(1, d);
    while (this.distinct(dist, pages, zipfExponent, hi) < d) hi *= 2;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (this.distinct(dist, pages, zipfExponent, mid) < d) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  private buckets(pages: number, s: number): ZipfBuckets {
    // VMs of one group come in a row: the last profile used saves building a key per call.
    const last = this.last;
    if (last && last.pages === pages && last.s === s) return last;
    const key = `${pages}:${s}`;
    let b = this.zipf.get(key);
    if (!b) {
      b = new ZipfBuckets(pages, s);
      this.zipf.set(key, b);
    }
    this.last = b;
    return b;
  }
}

/**
 * Appends k distinct values of [first, first + size), uniformly and in ascending order:
 * selection sampling (Knuth's Algorithm S, one pass) when k is a large share of the
 * range, Floyd's algorithm (O(k log k)) when it is small.
 */
function pickDistinct(first: number, k: number, size: number, rng: Rng, out: number[]): void {
  if (k <= 0) return;
  if (k >= size) {
    for (let i = 0; i < size; i++) out.push(first + i);
    return;
  }
  if (k * 16 >= size) {
    let need = k;
    for (let i = 0; i < size && need > 0; i++) {
      if (rng.next() * (size - i) < need) {
        out.push(first + i);
        need--;
      }
    }
    return;
  }
  const chosen = new Set<number>();
  for (let j = size - k; j < size; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  for (const c of [...chosen].sort((a, b) => a - b)) out.push(first + c);
}

/** Zipf ranks grouped into buckets of nearly equal per-page probability. */
class ZipfBuckets {
  /** Pages in each bucket. */
  readonly sizes: Float64Array;
  /** log(1 − p) for the bucket's mean per-page probability p. */
  readonly logMiss: Float64Array;

  constructor(
    readonly pages: number,
    readonly s: number,
  ) {
    const sizes: number[] = [];
    const masses: number[] = [];
    let k = 1;
    while (k <= pages) {
      const end = k <= 16 ? k : Math.min(pages, Math.floor(k * 1.25));
      const last = Math.max(k, end);
      sizes.push(last - k + 1);
      masses.push(sumPowers(k, last, s));
      k = last + 1;
    }
    const total = masses.reduce((a, b) => a + b, 0);
    this.sizes = Float64Array.from(sizes);
    this.logMiss = Float64Array.from(masses.map((m, i) => Math.log1p(-m / total / sizes[i])));
  }

  distinct(n: number): number {
    const sizes = this.sizes;
    const logMiss = this.logMiss;
    let d = 0;
    for (let b = 0; b < sizes.length; b++) {
      const x = n * logMiss[b];
      // Below −56·ln 2 expm1 is exactly −1 (fdlibm, which V8 follows): a bucket
      // whose pages were all touched (to double precision) adds its size, the same double.
      d += x < SATURATED ? sizes[b] : sizes[b] * -Math.expm1(x);
    }
    return d;
  }
}

/** Exponents below which Math.expm1 returns exactly −1 (with margin under −56·ln 2 ≈ −38.8). */
const SATURATED = -40;

/** Σ_{k=a}^{b} k^−s: exact for short ranges, Euler–Maclaurin otherwise. */
function sumPowers(a: number, b: number, s: number): number {
  if (b - a < 32) {
    let sum = 0;
    for (let k = a; k <= b; k++) sum += Math.pow(k, -s);
    return sum;
  }
  const integral = s === 1 ? Math.log(b / a) : (Math.pow(b, 1 - s) - Math.pow(a, 1 - s)) / (1 - s);
  return integral + (Math.pow(a, -s) + Math.pow(b, -s)) / 2 + (s * (Math.pow(a, -s - 1) - Math.pow(b, -s - 1))) / 12;
}

/**
 * Draws Zipf-distributed ranks in [1, n] in O(1) expected time by
 * rejection-inversion (Hörmann and Derflinger, 1996).
 */
export class ZipfSampler {
  private readonly hX1: number;
  private readonly hN: number;
  private readonly sBound: number;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    this.hX1 = this.hIntegral(1.5) - 1;
    this.hN = this.hIntegral(n + 0.5);
    this.sBound = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  sample(rng: Rng): number {
    for (;;) {
      const u = this.hN + rng.next() * (this.hX1 - this.hN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.sBound || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }

  private hIntegral(x: number): number {
    const lx = Math.log(x);
    return helperExpm1((1 - this.s) * lx) * lx;
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.s);
    if (t < -1) t = -1;
    return Math.exp(helperLog1p(t) * x);
  }
}

function helperExpm1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x / 2 + (x * x) / 6;
}

function helperLog1p(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x / 2 + (x * x) / 3;
}

/** Exact per-page state of one VM in detail mode: one bit per page. */
export class PageBitmaps {
  readonly dirty: Uint32Array;
  readonly accessed: Uint32Array;
  dirtyCount = 0;
  accessedCount = 0;
  /** Next page of a sequential sweep. */
  cursor = 0;

  constructor(readonly pages: number) {
    const words = Math.ceil(pages / 32);
    this.dirty = new Uint32Array(words);
    this.accessed = new Uint32Array(words);
  }

  /** Marks a page written; returns true when its dirty bit went from 0 to 1. */
  write(page: number): boolean {
    this.read(page);
    const w = page >>> 5;
    const bit = 1 << (page & 31);
    if (this.dirty[w] & bit) return false;
    this.dirty[w] |= bit;
    this.dirtyCount++;
    return true;
  }

  /** Marks a page accessed; returns true when its accessed bit went from 0 to 1. */
  read(page: number): boolean {
    const w = page >>> 5;
    const bit = 1 << (page & 31);
    if (this.accessed[w] & bit) return false;
    this.accessed[w] |= bit;
    this.accessedCount++;
    return true;
  }

  clearDirty(): void {
    this.dirty.fill(0);
    this.dirtyCount = 0;
  }

  clearAccessed(): void {
    this.accessed.fill(0);
    this.accessedCount = 0;
  }
}

/**
 * What a VM's memory is doing, as dirty and accessed logs: the service through which
 * migration and working-set plugins read the workload model, whatever drives it.
 */
export interface MemoryActivity {
  /** Distinct pages written since the dirty log was last reset. */
  dirtyPages(vm: number): number;
  /** Distinct pages read or written since the accessed log was last reset. */
  accessedPages(vm: number): number;
  resetDirty(vm: number): void;
  /**
   * Distinct pages written between the last reset and the instant `timeNs` inside the
   * current step (a migration round that ends mid-step). The step's accesses are drawn
   * at its start; they are taken as spread evenly over it, so the writes after
   * `timeNs` do not count yet. Without it, dirtyPages (the whole step) is used.
   */
  dirtyPagesAt?(vm: number, timeNs: number): number;
  /** Resets the dirty log at the instant `timeNs` inside the current step: the step's writes after it stay logged. */
  resetDirtyAt?(vm: number, timeNs: number): void;
  resetAccessed(vm: number): void;
  /** Page writes per second in the VM's current phase, at full speed. */
  writeRate(vm: number): number;
  /** Page reads per second in the VM's current phase, at full speed. */
  readRate(vm: number): number;
  /** Pages the accesses are spread over (the working set). */
  workingSetPages(vm: number): number;
  /**
   * The pages written since the dirty log was last reset: exact for a VM in detail
   * mode; otherwise drawn from the model's expectation (DistinctPages.sample), at a cost
   * in proportion to the pages returned. Ask once per transfer, not per access.
   */
  dirtyPageList(vm: number): Uint32Array;
  /** What the VM's pages hold, as shares of its pages (see pageClassOf). */
  pageClasses(vm: number): PageClassShares;
  /**
   * Switches a VM to exact per-page tracking and returns its bitmaps; later accesses
   * set bits in them. Costs one draw per access, so ask only for the VMs you study.
   */
  detail(vm: number): PageBitmaps;
}
export const MemoryActivity = token<MemoryActivity>('MemoryActivity');
