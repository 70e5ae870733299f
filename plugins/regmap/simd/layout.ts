// The lane layout of regmap.simd: which guest register goes to which lane of which
// SIMD register. The hottest registers that fit (SIMD registers less the temporaries,
// times 64-bit lanes per register) get lanes. With packing, registers that
// independent isomorphic operations read or write at the same operand position (the
// profile's affinities) are clustered first, in operation order, so that the
// operands and results of those operations sit side by side in one register and the
// operation packs without shuffles; the rest fill the free lanes by hotness.

import { GUEST_REGISTERS, lanesOf, IN_CPU_STATE, type Home, type HostCodeProfile, type RegisterUsage } from 'virtlab';
import { byHotness } from '../common';

export function layout(usage: RegisterUsage, host: HostCodeProfile, tempVectors: number, pack: boolean): Home[] {
  const homes: Home[] = Array.from({ length: GUEST_REGISTERS }, () => IN_CPU_STATE);
  const lanes = lanesOf(host);
  const regs = Math.max(0, host.simdRegisters - tempVectors);
  const chosen = byHotness(usage).slice(0, regs * lanes);
  const inSet = new Set(chosen);
  // Clusters of at most `lanes` registers, merged along the strongest affinities.
  const cluster = new Map<number, number[]>(chosen.map((r) => [r, [r]]));
  if (pack && lanes > 1) {
    const pairs = [...usage.affinity].map(([k, w]) => [...k.split(',').map(Number), w] as [number, number, number]);
    pairs.sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]);
    for (const [r, s] of pairs) {
      if (!inSet.has(r) || !inSet.has(s)) continue;
      const cr = cluster.get(r)!;
      const cs = cluster.get(s)!;
      if (cr === cs || cr.length + cs.length > lanes) continue;
      // Keep r before s: r's cluster ends with r and s's starts with s, or the pair would be out of order.
      if (cr[cr.length - 1] !== r || cs[0] !== s) continue;
      const merged = [...cr, ...cs];
      for (const x of merged) cluster.set(x, merged);
    }
  }
  const clusters = [...new Set(cluster.values())];
  // Hottest clusters first (by their hottest member), larger first among equals, first fit.
  const heat = (c: number[]) => Math.max(...c.map((r) => usage.weight[r]));
  clusters.sort((a, b) => heat(b) - heat(a) || b.length - a.length || a[0] - b[0]);
  const fill = new Array<number>(regs).fill(0);
  const leftovers: number[] = [];
  for (const c of clusters) {
    const at = fill.findIndex((f) => f + c.length <= lanes);
    if (at < 0) {
      leftovers.push(...c);
      continue;
    }
    c.forEach((r, i) => (homes[r] = { kind: 'lane', reg: at, lane: fill[at] + i }));
    fill[at] += c.length;
  }
  for (const r of leftovers) {
    const at = fill.findIndex((f) => f < lanes);
    if (at < 0) break;
    homes[r] = { kind: 'lane', reg: at, lane: fill[at]++ };
  }
  return homes;
}
