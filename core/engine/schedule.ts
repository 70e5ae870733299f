// The frame order. Every tick runs the phases below in this order, and within a phase
// the systems that plugins added, ordered by their explicit `before`/`after`
// constraints (ties broken by registration order, which follows the scenario's plugin
// order). This file is the one place to read what runs when.
//
//   control    placement, scheduling and admission decisions
//   workload   workload models: guest programs and synthetic memory workloads
//   cpu        vCPUs execute (interpreter, translators)
//   memory     memory virtualization: TLBs, walks, dirty logging
//   network    flows advance on links, packets are delivered
//   gpu        GPU kernels run
//   migration  live migration rounds and decisions
//   metrics    samplers and recorders; read-only with respect to the models
//
// Two systems in one phase that write the same component, with no order between
// them, would make results depend on registration order: that is a boot error that
// names both systems and their plugins.
//
// Time advance. By default every tick runs every system. A system may declare itself
// event-driven by giving `nextEventNs`: the absolute simulated time of the next
// instant at which something happens that it must act on (Infinity: nothing
// scheduled). It then promises to be correct when run once over a step of several
// ticks (`sim.stepNs`), handling what happens inside the step at its exact instant. In
// a scenario with `advance: event`, when every system is event-driven (and no plugin
// taps the per-tick lifecycle hooks), the engine runs one step from now to the end of
// the tick that holds min(next event of any system, next sample, end of the run): the
// phases still run in this order, once per step. Steps start and end on tick
// boundaries, so snapshots, sampling instants and the tick index stay those of a
// tick-by-tick run; a scenario that does not opt in runs exactly as before.

import type { ComponentDef } from '../ecs/world';
import type { SimContext } from './context';
import type { TickInfo } from './hooks';

export const PHASES = ['control', 'workload', 'cpu', 'memory', 'network', 'gpu', 'migration', 'metrics'] as const;
export type Phase = (typeof PHASES)[number];

export interface SystemDef {
  /** Unique name, by convention `<plugin id>/<what>` (e.g. `placement.first-fit/place`). */
  readonly name: string;
  readonly phase: Phase;
  /** The system: a function of the simulation and the tick. */
  readonly run: (sim: SimContext, tick: TickInfo) => void;
  /** Systems of the same phase that must run after this one. */
  readonly before?: readonly string[];
  /** Systems of the same phase that must run before this one. */
  readonly after?: readonly string[];
  /** Components this system reads (documentation, and the matrix tool's interaction analysis). */
  readonly reads?: readonly ComponentDef[];
  /** Components this system writes; unordered writers of one component are an error. */
  readonly writes?: readonly ComponentDef[];
  /**
   * Declares the system event-driven (see the header): the absolute time, ns, of its
   * next event, or Infinity. Called between steps; must not change any state.
   */
  readonly nextEventNs?: (sim: SimContext) => number;
}

/**
 * The number of ticks the next step may span: 1 unless every system is event-driven,
 * else the ticks up to and including the one that holds the earliest of the systems'
 * next events and `horizonNs` (the next sample or the end), at least 1 and at most
 * `maxTicks`.
 */
export function ticksToNextEvent(systems: readonly SystemDef[], sim: SimContext, horizonNs: number, maxTicks: number): number {
  let next = horizonNs;
  for (let i = 0; i < systems.length; i++) {
    const f = systems[i].nextEventNs;
    if (!f) return 1;
    const t = f(sim);
    if (t < next) next = t;
  }
  const now = sim.timeNs;
  if (!(next > now)) return 1;
  // A relative tolerance keeps an event that falls on a tick boundary (up to rounding)
  // in the step that ends there.
  const k = Math.ceil((next - now) / sim.dtNs - 1e-9);
  return Math.max(1, Math.min(maxTicks, k));
}

export interface ScheduledSystem extends SystemDef {
  /** Id of the plugin that added it, or 'core'. */
  readonly owner: string;
}

export class ScheduleError extends Error {}

export class Schedule {
  private readonly systems: ScheduledSystem[] = [];
  private ordered: ScheduledSystem[] | null = null;

  add(def: SystemDef, owner: string): void {
    if (this.ordered) throw new ScheduleError(`system '${def.name}' (${owner}) was added after boot; add systems while registering`);
    if (!(PHASES as readonly string[]).includes(def.phase)) {
      throw new ScheduleError(`system '${def.name}' (${owner}) names unknown phase '${def.phase}'; phases are ${PHASES.join(', ')}`);
    }
    const dup = this.systems.find((s) => s.name === def.name);
    if (dup) throw new ScheduleError(`system '${def.name}' is added twice (by ${dup.owner} and ${owner}); system names must be unique`);
    this.systems.push({ ...def, owner });
  }

  /** Orders every phase and checks the write rule. Throws ScheduleError on a problem. */
  build(): readonly ScheduledSystem[] {
    const out: ScheduledSystem[] = [];
    for (const phase of PHASES) out.push(...this.orderPhase(phase));
    this.ordered = out;
    return out;
  }

  /** The systems in run order (after build). */
  get order(): readonly ScheduledSystem[] {
    if (!this.ordered) throw new ScheduleError('the schedule has not been built');
    return this.ordered;
  }

  private orderPhase(phase: Phase): ScheduledSystem[] {
    const nodes = this.systems.filter((s) => s.phase === phase);
    const n = nodes.length;
    const idx = new Map(nodes.map((s, i) => [s.name, i]));
    const succ: number[][] = nodes.map(() => []);
    const edge = (from: number, to: number) => {
      if (!succ[from].includes(to)) succ[from].push(to);
    };
    const resolve = (sys: ScheduledSystem, other: string, rel: string): number => {
      const j = idx.get(other);
      if (j === undefined) {
        const elsewhere = this.systems.find((s) => s.name === other);
        const hint = elsewhere
          ? `it runs in phase '${elsewhere.phase}', and phases are already ordered`
          : `systems in phase '${phase}': ${nodes.map((s) => s.name).join(', ') || 'none'}`;
        throw new ScheduleError(`system '${sys.name}' (${sys.owner}) says ${rel} '${other}', which is not in phase '${phase}'; ${hint}`);
      }
      return j;
    };
    nodes.forEach((s, i) => {
      for (const b of s.before ?? []) edge(i, resolve(s, b, 'before'));
      for (const a of s.after ?? []) edge(resolve(s, a, 'after'), i);
    });
    // Kahn's algorithm; among ready systems the earliest registered runs first.
    const indeg = new Array<number>(n).fill(0);
    for (const list of succ) for (const j of list) indeg[j]++;
    const ready: number[] = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0) ready.push(i);
    const order: number[] = [];
    while (ready.length) {
      ready.sort((a, b) => a - b);
      const i = ready.shift()!;
      order.push(i);
      for (const j of succ[i]) if (--indeg[j] === 0) ready.push(j);
    }
    if (order.length < n) {
      const stuck = nodes.filter((_, i) => !order.includes(i)).map((s) => `'${s.name}'`);
      throw new ScheduleError(`systems in phase '${phase}' have a cycle in their before/after constraints: ${stuck.join(', ')}`);
    }
    // Reachability, to find writers of one component with no path between them.
    const reach: boolean[][] = nodes.map(() => new Array<boolean>(n).fill(false));
    for (let k = order.length - 1; k >= 0; k--) {
      const i = order[k];
      for (const j of succ[i]) {
        reach[i][j] = true;
        for (let m = 0; m < n; m++) if (reach[j][m]) reach[i][m] = true;
      }
    }
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const shared = (nodes[a].writes ?? []).filter((c) => (nodes[b].writes ?? []).includes(c));
        if (shared.length && !reach[a][b] && !reach[b][a]) {
          throw new ScheduleError(
            `systems '${nodes[a].name}' (${nodes[a].owner}) and '${nodes[b].name}' (${nodes[b].owner}) both write ` +
              `${shared.map((c) => c.name).join(', ')} in phase '${phase}' with no order between them; ` +
              `give one of them after: ['${nodes[a].name}'] or before: ['${nodes[a].name}']`,
          );
        }
      }
    }
    return order.map((i) => nodes[i]);
  }
}
