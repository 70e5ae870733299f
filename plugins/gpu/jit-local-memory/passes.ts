// The passes of gpu.jit.local-memory: each analyses index expressions and rewrites
// the kernel IR to use local memory.
//
// - reductions: a @Reduce becomes a work-group tree reduction in a local array, one
//   slot per work-item, with a barrier per level; work-item 0 stores the group's
//   partial, which the host combines.
// - loop tiling: in a loop over k, a read-only global array whose index is affine in
//   k and in the work-item's id along one dimension only is read by every work-item
//   along the other dimension (matrix multiplication's rows and columns). The loop is
//   split into tiles of the work-group's width: each work-item loads one element of
//   the tile, a barrier, the inner loop reads the tile from local memory, a barrier.
// - halo tiles: an array read at the work-item's own position plus offsets that loop
//   variables sweep (a stencil or convolution) is read by neighbours at overlapping
//   positions: the work-group's block plus its halo is loaded once, cooperatively,
//   and every tap reads local memory.
// - broadcast arrays: an array whose index depends on loop variables only (a filter's
//   weights) is read by every work-item of the group: the range the loops sweep is
//   loaded once per work-group, cooperatively.
// Reuse is computed from the affine forms: a tile is staged only when each element it
// holds is read by more than one work-item (reuse > 1), and only when all of a
// work-group's local arrays fit in the device's local memory.

import {
  affineOf,
  forEachLoad,
  mapExpr,
  mapStmts,
  storedArrays,
  lowerReductions,
  gpuKernel,
  type Affine,
  type ArrayDecl,
  type GpuProfile,
  type Kernel,
  type KernelExpr as Expr,
  type KernelStmt as Stmt,
} from 'virtlab';

const { add, mul, idiv, mod, lt, eq, lit } = gpuKernel;
const lidE = (d: 0 | 1): Expr => ({ k: 'lid', d });
const grpE = (d: 0 | 1): Expr => ({ k: 'grp', d });

export interface PassStats {
  reductions: number;
  loopTiles: number;
  haloTiles: number;
  /** Candidates refused: no reuse, a domain the tile does not divide, or local memory too small. */
  refused: number;
}

const key = (array: string, a: Affine) => `${array}|${a.c}|${[...a.terms].sort().map(([t, c]) => `${t}:${c}`).join(',')}`;

/** @Reduce → work-group tree reduction in local memory (1-D kernels). */
export function reductionsToLocal(k: Kernel, L: number[], stats: PassStats): Kernel {
  if (k.global.length !== 1 || !k.body.some((s) => s.k === 'reduce')) return k;
  const { kernel, lowered } = lowerReductions(k, L[0], 'local');
  stats.reductions += lowered;
  return { ...kernel, local: L };
}

/** Loop tiling of arrays read along one dimension of the work-group and a loop variable. */
export function tileLoops(k: Kernel, L: number[], dev: GpuProfile, stats: PassStats, localBudget: { bytes: number }): Kernel {
  const written = storedArrays(k.body);
  const dims = k.global.length;
  const arrays: ArrayDecl[] = [...k.arrays];
  const notes: string[] = [];
  let changed = false;
  const body: Stmt[] = [];
  for (const s of k.body) {
    if (s.k !== 'for' || s.step !== 1) {
      body.push(s);
      continue;
    }
    // Candidates: loads in the loop, affine in the loop variable and the global ids only.
    const tiles = new Map<string, { array: string; affine: Affine; d: 0 | 1; lo: number; name: string }>();
    forEachLoad(s.body, (ld) => {
      const decl = k.arrays.find((a) => a.name === ld.array);
      if (!decl || decl.space !== 'global' || written.has(ld.array)) return;
      const a = affineOf(ld.index, new Set([s.v]));
      if (!a || !a.terms.get(s.v)) return;
      if ([...a.terms.keys()].some((t) => t !== s.v && t !== 'gid0' && t !== 'gid1')) return;
      // The dimension along which work-items read the same element: its id is absent.
      const absent = ([0, 1] as const).filter((d) => d < dims && !a.terms.has(`gid${d}`) && L[d] > 1);
      if (absent.length !== 1 && !(dims === 1 && absent.length === 1)) {
        if (absent.length > 1) stats.refused++;
        return;
      }
      const d = absent[0];
      const o = (1 - d) as 0 | 1;
      const lo = dims === 2 && a.terms.has(`gid${o}`) ? L[o] : 1;
      const id = key(ld.array, a);
      if (!tiles.has(id)) tiles.set(id, { array: ld.array, affine: a, d, lo, name: `${ld.array}__tile${tiles.size}` });
    });
    const T = (t: { d: 0 | 1 }) => L[t.d];
    const usable = [...tiles.values()].filter((t) => {
      // Reuse: L[d] work-items read each element; the tile must divide the trip count and fit.
      const bytes = T(t) * t.lo * 4;
      const ok = T(t) > 1 && (s.to - s.from) % T(t) === 0 && localBudget.bytes + bytes <= (dev.localMemoryPerGroup || dev.localMemoryPerCu);
      if (ok) localBudget.bytes += bytes;
      else stats.refused++;
      return ok;
    });
    // All tiles of one loop share its tile size.
    const tileSize = usable.length ? T(usable[0]) : 0;
    const staged = usable.filter((t) => T(t) === tileSize);
    if (!staged.length) {
      body.push(s);
      continue;
    }
    changed = true;
    const kt = `${s.v}__t`;
    const kk = `${s.v}__i`;
    const ktE: Expr = { k: 'var', name: kt };
    const kkE: Expr = { k: 'var', name: kk };
    const loads: Stmt[] = [];
    for (const t of staged) {
      arrays.push({ name: t.name, type: k.arrays.find((a) => a.name === t.array)!.type, length: tileSize * t.lo, space: 'local', access: 'temp' });
      const o = (1 - t.d) as 0 | 1;
      const oLocal: Expr = t.lo > 1 ? lidE(o) : lit(0);
      const slot = t.d === 0 ? add(mul(oLocal, tileSize), lidE(0)) : add(mul(lidE(1), t.lo), oLocal);
      const kIndex = add(add(s.from, mul(ktE, tileSize)), lidE(t.d));
      const src = mapExpr(rebuild(t.affine), (e) => (e.k === 'var' && e.name === s.v ? kIndex : undefined));
      const st: Stmt = { k: 'store', array: t.name, index: slot, value: { k: 'load', array: t.array, index: src } };
      // A tile read by every work-item of the group (no id in its index) is loaded by one row of it.
      loads.push(dims === 2 && t.lo === 1 ? { k: 'if', cond: eq(lidE(o), 0), then: [st] } : st);
      notes.push(`loop ${s.v}: ${t.array} staged in local tiles of ${tileSize}×${t.lo} (each element read by ${tileSize} work-items)`);
      stats.loopTiles++;
    }
    const byKey = new Map(staged.map((t) => [key(t.array, t.affine), t]));
    let inner = mapStmts(s.body, (e) => {
      if (e.k !== 'load') return undefined;
      const a = affineOf(e.index, new Set([s.v]));
      const t = a && byKey.get(key(e.array, a));
      if (!t) return undefined;
      const o = (1 - t.d) as 0 | 1;
      const oLocal: Expr = t.lo > 1 ? lidE(o) : lit(0);
      return { k: 'load', array: t.name, index: t.d === 0 ? add(mul(oLocal, tileSize), kkE) : add(mul(kkE, t.lo), oLocal) };
    });
    const kValue = add(add(s.from, mul(ktE, tileSize)), kkE);
    inner = mapStmts(inner, (e) => (e.k === 'var' && e.name === s.v ? kValue : undefined));
    body.push({
      k: 'for',
      v: kt,
      from: 0,
      to: (s.to - s.from) / tileSize,
      step: 1,
      body: [...loads, { k: 'barrier' }, { k: 'for', v: kk, from: 0, to: tileSize, step: 1, body: inner }, { k: 'barrier' }],
    });
  }
  return changed ? { ...k, local: L, arrays, body, notes: [...(k.notes ?? []), ...notes] } : k;
}

/** Halo tiles: arrays read at the work-item's position plus loop-swept offsets (stencils). */
export function haloTiles(k: Kernel, L: number[], dev: GpuProfile, stats: PassStats, localBudget: { bytes: number }): Kernel {
  const written = storedArrays(k.body);
  const dims = k.global.length;
  const groupSize = L.reduce((a, b) => a * b, 1);
  type Halo = { array: string; pitch: number; origin: Affine; spans: number[]; vars: Map<string, { d: number; from: number }>; e0: number; e1: number; name: string };
  const halos = new Map<string, Halo>();
  const refusedArrays = new Set<string>();
  forEachLoad(k.body, (ld, loops) => {
    const decl = k.arrays.find((a) => a.name === ld.array);
    if (!decl || decl.space !== 'global' || written.has(ld.array) || refusedArrays.has(ld.array)) return;
    const lv = new Set(loops.map((l) => l.v));
    const a = affineOf(ld.index, lv);
    if (!a || a.terms.get('gid0') !== 1) return;
    const pitch = dims === 2 ? a.terms.get('gid1') ?? 0 : 0;
    if (dims === 2 && pitch <= 0) return;
    const vars = new Map<string, { d: number; from: number }>();
    const spans = [0, 0];
    const originTerms = new Map<string, number>();
    let c = a.c;
    for (const [t, coef] of a.terms) {
      if (t === 'gid0' || t === 'gid1') continue;
      const loop = loops.find((l) => l.v === t);
      const d = coef === 1 ? 0 : dims === 2 && coef === pitch ? 1 : -1;
      if (!loop || d < 0 || loop.step !== 1) return;
      vars.set(t, { d, from: loop.from });
      spans[d] += loop.to - 1 - loop.from;
      c += coef * loop.from;
    }
    if (!vars.size) return; // read once per work-item at its own position: no neighbour reuse
    const e0 = L[0] + spans[0];
    const e1 = (L[1] ?? 1) + spans[1];
    originTerms.set('grp0', L[0]);
    if (dims === 2) originTerms.set('grp1', L[1] * pitch);
    const origin: Affine = { c, terms: originTerms };
    const id = key(ld.array, { c, terms: new Map([['pitch', pitch], ...[...vars].map(([n, x]) => [n, x.d] as [string, number])]) });
    if (halos.has(id)) return;
    if ([...halos.values()].some((h) => h.array === ld.array)) {
      // Two different access shapes of one array: leave it in global memory.
      refusedArrays.add(ld.array);
      stats.refused++;
      return;
    }
    // Reuse: taps per work-item over tile elements per work-item.
    const taps = [...vars].reduce((p, [n]) => p * (loops.find((l) => l.v === n)!.to - loops.find((l) => l.v === n)!.from), 1);
    const reuse = (taps * groupSize) / (e0 * e1);
    const bytes = e0 * e1 * 4;
    if (reuse <= 1 || localBudget.bytes + bytes > (dev.localMemoryPerGroup || dev.localMemoryPerCu)) {
      refusedArrays.add(ld.array);
      stats.refused++;
      return;
    }
    localBudget.bytes += bytes;
    halos.set(id, { array: ld.array, pitch, origin, spans, vars, e0, e1, name: `${ld.array}__halo` });
  });
  // Broadcast arrays: indices affine in loop variables only, every work-item reads them.
  const broadcasts = new Map<string, { lo: number; hi: number; name: string; bad: boolean }>();
  forEachLoad(k.body, (ld, loops) => {
    const decl = k.arrays.find((a) => a.name === ld.array);
    if (!decl || decl.space !== 'global' || written.has(ld.array) || halos.has(ld.array) || [...halos.values()].some((h) => h.array === ld.array)) return;
    const a = affineOf(ld.index, new Set(loops.map((l) => l.v)));
    if (!a || !a.terms.size || [...a.terms.keys()].some((t) => /^(gid|lid|grp)/.test(t))) return;
    let lo = a.c;
    let hi = a.c;
    for (const [t, c] of a.terms) {
      const l = loops.find((x) => x.v === t)!;
      const last = l.from + Math.floor((l.to - 1 - l.from) / l.step) * l.step;
      lo += Math.min(c * l.from, c * last);
      hi += Math.max(c * l.from, c * last);
    }
    const b = broadcasts.get(ld.array);
    if (b) {
      b.lo = Math.min(b.lo, lo);
      b.hi = Math.max(b.hi, hi);
    } else broadcasts.set(ld.array, { lo, hi, name: `${ld.array}__bcast`, bad: false });
  });
  for (const [array, b] of broadcasts) {
    const bytes = (b.hi - b.lo + 1) * 4;
    // Every work-item of the group reads each element: reuse is the group size. A single
    // element is a uniform scalar, which a register holds better than local memory.
    if (groupSize <= 1 || b.hi === b.lo || localBudget.bytes + bytes > (dev.localMemoryPerGroup || dev.localMemoryPerCu)) {
      broadcasts.delete(array);
      stats.refused++;
    } else localBudget.bytes += bytes;
  }
  const staged = [...halos.values()].filter((h) => !refusedArrays.has(h.array));
  if (!staged.length && !broadcasts.size) return k;
  const arrays: ArrayDecl[] = [...k.arrays];
  const prologue: Stmt[] = [];
  const notes: string[] = [];
  const lidLinear = dims === 2 ? add(mul(lidE(1), L[0]), lidE(0)) : lidE(0);
  for (const h of staged) {
    const n = h.e0 * h.e1;
    arrays.push({ name: h.name, type: k.arrays.find((a) => a.name === h.array)!.type, length: n, space: 'local', access: 'temp' });
    const t = `${h.name}__t`;
    const e = add(mul({ k: 'var', name: t }, groupSize), lidLinear);
    const originE = rebuild(h.origin);
    const src = dims === 2 ? add(originE, add(mul(idiv(e, h.e0), h.pitch), mod(e, h.e0))) : add(originE, e);
    prologue.push({ k: 'for', v: t, from: 0, to: Math.ceil(n / groupSize), step: 1, body: [{ k: 'if', cond: lt(e, n), then: [{ k: 'store', array: h.name, index: e, value: { k: 'load', array: h.array, index: src } }] }] });
    notes.push(`${h.array}: work-group block with its halo (${h.e0}×${h.e1}) staged in local memory`);
    stats.haloTiles++;
  }
  for (const [array, b] of broadcasts) {
    const n = b.hi - b.lo + 1;
    arrays.push({ name: b.name, type: k.arrays.find((a) => a.name === array)!.type, length: n, space: 'local', access: 'temp' });
    const t = `${b.name}__t`;
    const e = add(mul({ k: 'var', name: t }, groupSize), lidLinear);
    prologue.push({ k: 'for', v: t, from: 0, to: Math.ceil(n / groupSize), step: 1, body: [{ k: 'if', cond: lt(e, n), then: [{ k: 'store', array: b.name, index: e, value: { k: 'load', array, index: add(e, b.lo) } }] }] });
    notes.push(`${array}: read by every work-item, elements ${b.lo}..${b.hi} staged in local memory`);
    stats.haloTiles++;
  }
  prologue.push({ k: 'barrier' });
  const byArray = new Map(staged.map((h) => [h.array, h]));
  const body = mapStmts(k.body, (e) => {
    if (e.k !== 'load') return undefined;
    const bc = broadcasts.get(e.array);
    if (bc) return { k: 'load', array: bc.name, index: add(e.index, -bc.lo) };
    const h = byArray.get(e.array);
    if (!h) return undefined;
    // Position in the tile: the work-item's local id plus each loop variable's offset from its start.
    let x: Expr = lidE(0);
    let y: Expr = dims === 2 ? lidE(1) : lit(0);
    for (const [name, { d, from }] of h.vars) {
      const off = add({ k: 'var', name }, -from);
      if (d === 0) x = add(x, off);
      else y = add(y, off);
    }
    return { k: 'load', array: h.name, index: add(mul(y, h.e0), x) };
  });
  return { ...k, local: L, arrays, body: [...prologue, ...body], notes: [...(k.notes ?? []), ...notes] };
}

function rebuild(a: Affine): Expr {
  let e: Expr = lit(a.c);
  for (const [t, c] of a.terms) {
    const m = /^(gid|lid|grp)([01])$/.exec(t);
    const te: Expr = m ? ({ k: m[1] as 'gid', d: Number(m[2]) as 0 | 1 } as Expr) : { k: 'var', name: t };
    e = add(e, c === 1 ? te : mul(c, te));
  }
  return e;
}
