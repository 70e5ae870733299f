// The host code model: what a translated program would cost as host machine code
// under a register-mapping strategy (regmap.ts) and a host profile (profile.ts). It
// keeps the IR of every unit the translator installed, after the optimizer's passes,
// and, given how often each unit's block ran (the translator's profile), builds the register
// usage profile, asks the strategy for a placement, lowers every block (lower.ts) and
// weighs each block's modelled host code by how often it ran. It only observes: the
// WebAssembly that runs is the translator's, with one run counter added per unit.
//
// A unit's blocks are weighted by how often its first block ran (the engine counts
// those runs, back edges to itself included, whenever a model is loaded), which is
// exact when units are basic blocks (dbt.instrew with `region: block`, which the
// reproductions use); in a multi-block region a loop's body would be weighted by the
// runs of the region's first block, not by its own.

import { W } from '../../wasm/encoder';
import * as irModule from '../ir';
import type { K as KEnum, Unit } from '../ir';
import { cyclesOf, lowerUnit } from './lower';
import { HOST_CLASSES, type HostClass, type HostCodeProfile } from './profile';
import { GUEST_REGISTERS, type RegisterUsage, type RegMap } from './regmap';

const K = (irModule as unknown as { K: { readonly [P in keyof typeof KEnum]: number } }).K;
const PACKABLE = new Set<number>([W.i64_add, W.i64_sub, W.i64_and, W.i64_or, W.i64_xor]);

export interface HostCodeReport {
  readonly strategy: string;
  readonly host: string;
  /** Host instructions executed, by class. */
  readonly counts: Readonly<Record<HostClass, number>>;
  readonly hostInstructions: number;
  readonly cycles: number;
  /** Guest instructions executed in translated code (the weights' total). */
  readonly guestInstructions: number;
  readonly hostPerGuest: number;
  readonly cyclesPerGuest: number;
  /** Guest registers placed in host registers and in SIMD lanes. */
  readonly inGprs: number;
  readonly inLanes: number;
  /** Vector operations executed that replaced groups of scalar ones, and the scalar operations they replaced. */
  readonly packedGroups: number;
  readonly packedOps: number;
  /** Live ranges spilled or rematerialized, weighted by executions. */
  readonly spills: number;
  /** Per unit: entry pc, executions, guest instructions and modelled cycles per execution. */
  readonly units: ReadonlyArray<{ readonly entry: number; readonly executions: number; readonly guestInstructions: number; readonly cycles: number }>;
}

export class HostCodeModel {
  private readonly units = new Map<number, Unit>();

  /** Records a unit as the translator will install it (the IR after the passes). */
  observe(u: Unit): void {
    if (u.guestInstructions > 0) this.units.set(u.entry, u);
  }

  get size(): number {
    return this.units.size;
  }

  /** The register usage profile: each unit's register accesses and packing affinities, weighted by its runs. */
  usage(entries: ReadonlyMap<number, number>): RegisterUsage {
    const weight = new Float64Array(GUEST_REGISTERS);
    const affinity = new Map<string, number>();
    for (const [entry, u] of this.units) {
      const n = entries.get(entry) ?? 0;
      if (!n) continue;
      for (const b of u.blocks) {
        const getx = new Map<number, number>();
        const setOf = new Map<number, number>();
        const consts = new Set<number>();
        const bins: Array<{ op: number; a: number; b: number; d: number }> = [];
        for (const i of b.insts) {
          if (i.k === K.GETX || i.k === K.SETX) weight[i.a] += n;
          else if (i.k === K.GETF || i.k === K.SETF) weight[32 + i.a] += n;
          else if (i.k === K.INTERP) for (const r of [...i.reads!, ...i.writes!]) weight[r.file * 32 + r.reg] += n;
          if (i.k === K.GETX) getx.set(i.dst, i.a);
          if (i.k === K.CONST) consts.add(i.dst);
          if (i.k === K.SETX) setOf.set(i.b, i.a);
        }
        for (const i of b.insts) {
          if (i.k !== K.BIN || !PACKABLE.has(i.op)) continue;
          const a = getx.get(i.a);
          const bb = getx.get(i.b);
          const d = setOf.get(i.dst);
          if (a && d && (bb || consts.has(i.b))) bins.push({ op: i.op, a, b: bb ?? -1, d });
        }
        for (let x = 0; x < bins.length; x++) {
          for (let y = x + 1; y < bins.length; y++) {
            const p = bins[x];
            const q = bins[y];
            if (p.op !== q.op || (p.b < 0) !== (q.b < 0) || p.d === q.d || p.a === q.d || p.b === q.d || q.a === p.d || q.b === p.d) continue;
            for (const [r, s] of [[p.a, q.a], [p.b, q.b], [p.d, q.d]]) {
              if (r === s || r < 0 || s < 0) continue;
              const key = `${r},${s}`;
              affinity.set(key, (affinity.get(key) ?? 0) + n);
            }
          }
        }
      }
    }
    weight[0] = 0;
    return { weight, affinity };
  }

  /** The modelled host code of the run under a strategy, weighted by the runs of each unit's (first) block. */
  evaluate(regmap: RegMap, entries: ReadonlyMap<number, number>, host: HostCodeProfile = regmap.host): HostCodeReport {
    const placement = regmap.place(this.usage(entries), host);
    if (placement.homes.length !== GUEST_REGISTERS) throw new Error(`register map ${regmap.id} placed ${placement.homes.length} guest registers, not ${GUEST_REGISTERS}`);
    const total = new Float64Array(HOST_CLASSES.length);
    let guest = 0;
    let packedGroups = 0;
    let packedOps = 0;
    let spills = 0;
    const units: Array<{ entry: number; executions: number; guestInstructions: number; cycles: number }> = [];
    const keys = [...this.units.keys()].sort((a, b) => a - b);
    for (const entry of keys) {
      const u = this.units.get(entry)!;
      const n = entries.get(entry) ?? 0;
      if (!n) continue;
      const code = lowerUnit(u, host, placement);
      const unitCounts = new Float64Array(HOST_CLASSES.length);
      for (const b of code) {
        for (let c = 0; c < HOST_CLASSES.length; c++) unitCounts[c] += b.counts[c];
        packedGroups += b.packedGroups * n;
        packedOps += b.packedOps * n;
        spills += b.spilledRanges * n;
      }
      for (let c = 0; c < HOST_CLASSES.length; c++) total[c] += unitCounts[c] * n;
      guest += u.guestInstructions * n;
      units.push({ entry, executions: n, guestInstructions: u.guestInstructions, cycles: cyclesOf(unitCounts, host) });
    }
    const hostInstructions = total.reduce((s, x) => s + x, 0);
    const cycles = cyclesOf(total, host);
    const counts = Object.fromEntries(HOST_CLASSES.map((c, i) => [c, total[i]])) as Record<HostClass, number>;
    return {
      strategy: regmap.id,
      host: host.id,
      counts,
      hostInstructions,
      cycles,
      guestInstructions: guest,
      hostPerGuest: guest ? hostInstructions / guest : 0,
      cyclesPerGuest: guest ? cycles / guest : 0,
      inGprs: placement.homes.filter((h) => h.kind === 'gpr').length,
      inLanes: placement.homes.filter((h) => h.kind === 'lane').length,
      packedGroups,
      packedOps,
      spills,
      units,
    };
  }
}

/** The report as engine counters (flat numbers, `host*` names). */
export function hostCodeCounters(r: HostCodeReport): Record<string, number> {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const out: Record<string, number> = {};
  for (const c of HOST_CLASSES) out[`host${c[0].toUpperCase()}${c.slice(1)}`] = r.counts[c];
  return {
    ...out,
    hostInstructions: r.hostInstructions,
    hostCycles: r.cycles,
    hostGuestInstructions: r.guestInstructions,
    hostPerGuest: round(r.hostPerGuest),
    hostCyclesPerGuest: round(r.cyclesPerGuest),
    hostRegsInGprs: r.inGprs,
    hostRegsInLanes: r.inLanes,
    hostPackedOps: r.packedOps,
    hostSpills: r.spills,
  };
}
