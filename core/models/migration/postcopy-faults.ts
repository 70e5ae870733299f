// Post-copy's remote-fault model in closed form (used by MigrationEngine). With m
// pages of the working set still missing at the destination, the guest runs at
//   s(m) = 1 / (1 + B·m)
// and faults at A·m·s(m) pages per second, each fault bringing its page over:
//   dm/dt = −A·m / (1 + B·m)                          (A = a/ws, B = a·stall/ws)
// for a accesses per second spread evenly over a working set of ws pages, and a stall
// of one round trip plus one page per fault. The background push bounds m from above
// by the working set's share of the pages it has not sent, which falls linearly while
// the push's rate is constant: c(t) = c0 − u·t.
//
// Solving it exactly, rather than stepping it once per tick, is what makes post-copy's
// results the same at any tick and lets a run skip from event to event through it.
// Free of the bound, ln m + B·m falls linearly (A per second); m − c is convex, so
// once the bound is reached (the push outruns the faults) m follows it to the end of
// the segment. The guest time lost is ∫(1 − s) dt, and faults = lost time / stall
// (A/B), since each fault costs one stall.

/** The end of one segment of post-copy during which the push's rate and the access rate are constant. */
export interface PostcopySegment {
  /** Missing working-set pages at the end (an expectation: fractional). */
  readonly missing: number;
  /** Remote faults during the segment. */
  readonly faults: number;
  /** Guest time lost to faults during the segment, s. */
  readonly slowS: number;
}

/** x − ln(1 + x), accurate for small x too. */
function g(x: number): number {
  if (x < 1e-4) return x * x * (0.5 - x * (1 / 3 - x * 0.25));
  return x - Math.log1p(x);
}

/** m after t seconds free of the bound: the root of ln m + B·m = ln m0 + B·m0 − A·t (Newton on ln m). */
export function freeMissing(m0: number, t: number, A: number, B: number): number {
  if (!(m0 > 0)) return 0;
  if (B === 0) return m0 * Math.exp(-A * t);
  const K = Math.log(m0) + B * m0 - A * t;
  // y + B·e^y is convex and increasing: Newton from the right converges monotonically.
  let y = Math.min(Math.log(m0), K);
  for (let i = 0; i < 200; i++) {
    const e = B * Math.exp(y);
    const step = (y + e - K) / (1 + e);
    y -= step;
    if (Math.abs(step) <= 1e-15 * Math.max(1, Math.abs(y))) break;
  }
  return Math.exp(y);
}

/**
 * One segment of `t` seconds: m0 missing pages at its start, the push's bound falling
 * from c0 to c1, coefficients A and B as in the header.
 */
export function postcopySegment(m0: number, c0: number, c1: number, t: number, A: number, B: number): PostcopySegment {
  const start = Math.max(0, Math.min(m0, c0));
  if (!(t > 0)) return { missing: start, faults: 0, slowS: 0 };
  if (!(A > 0)) return { missing: Math.max(0, Math.min(start, c1)), faults: 0, slowS: 0 };
  const u = Math.max(0, (c0 - c1) / t);
  const free = freeMissing(start, t, A, B);
  const faultsPerLost = B > 0 ? A / B : 0;
  if (free <= c1 || u === 0) {
    // The bound never binds (m − c is convex and starts ≤ 0).
    const faults = start - free;
    return { missing: free, faults, slowS: B > 0 ? faults / faultsPerLost : 0 };
  }
  // The instant the faults fall behind the push: m(t*) = c0 − u·t*, by bisection.
  // {t : m(t) ≤ c(t)} is an interval from 0 (convexity), so bisection finds its end.
  let lo = 0;
  let hi = t;
  for (let i = 0; i < 100 && hi - lo > 1e-12 * t; i++) {
    const mid = (lo + hi) / 2;
    if (freeMissing(start, mid, A, B) <= c0 - u * mid) lo = mid;
    else hi = mid;
  }
  const tStar = hi;
  const atBound = Math.max(0, Math.min(start, c0 - u * tStar));
  const freeFaults = start - atBound;
  const end = Math.max(0, c1);
  // On the bound m = c: ∫(1 − s) dt = ∫ B·c/(1 + B·c) dc / u = (g(B·ca) − g(B·c1)) / (B·u).
  let boundLost: number;
  let boundFaults: number;
  if (B > 0) {
    boundLost = (g(B * atBound) - g(B * end)) / (B * u);
    boundFaults = boundLost * faultsPerLost;
  } else {
    boundLost = 0;
    boundFaults = (A * (atBound * atBound - end * end)) / (2 * u);
  }
  return { missing: end, faults: freeFaults + boundFaults, slowS: (B > 0 ? freeFaults / faultsPerLost : 0) + boundLost };
}

/** The guest's speed rises in steps of this much (of full speed) during post-copy: its next event. */
export const POSTCOPY_SPEED_STEP = 0.01;
