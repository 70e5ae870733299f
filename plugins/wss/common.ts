// What the wss.* working-set estimators share: the VMs they watch, the interval
// clock, a time series per VM (written to wss.<estimator>.json in the results, which
// the report charts against wss.truth), the gauges, and the registration in the
// simulation's estimator registry (which the overcommitment policy reads). Each
// estimator supplies `begin` (start watching a VM) and `sample` (the interval ended:
// return the estimate in pages and reset for the next interval).
//
// An interval ends at an instant: the system runs in the 'control' phase of the step
// that starts there, so every access of the interval (the steps before) is counted
// and none after it.

import { MemWorkload, PageAccessStream, Vm, VmState, wssEstimators, type PluginApi } from 'virtlab';

export interface WssOptions {
  /** Interval between estimates, ns. */
  readonly interval: number;
  /** VM groups to watch (by name); empty: every VM with a synthetic workload. */
  readonly groups: readonly string[];
}

export interface Estimator {
  /** Starts watching a VM. */
  begin(vm: number): void;
  /** The interval ended at `nowNs`: the estimate in pages, and the estimator re-arms. */
  sample(vm: number, nowNs: number): number;
  /** The estimator's own state for snapshots (what it counted since the interval began). */
  save?(): unknown;
  load?(data: unknown): void;
}

export interface SeriesFile {
  estimator: string;
  intervalNs: number;
  vms: Array<{ vm: number; group: string; memoryBytes: number; t: number[]; bytes: number[] }>;
}

/** Registers an estimator: its clock, series, gauge, results file and registry entry. */
export function registerEstimator(api: PluginApi<WssOptions>, make: () => Estimator): void {
  const name = api.id;
  const interval = api.options.interval;
  const watched: number[] = [];
  const latest = new Map<number, number>();
  const series = new Map<number, { t: number[]; bytes: number[] }>();
  let est: Estimator | null = null;
  let next = Infinity;
  const gauge = api.gauge(`${name}.bytes`, 'bytes', `Working set estimated by ${name}, summed over the watched VMs (latest interval).`);
  const intervals = api.counter(`${name}.intervals`, 'intervals', `Estimation intervals completed by ${name}, over all watched VMs.`);

  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const V = sim.world.store(Vm);
    const groups = api.options.groups;
    const names = sim.scenario.vms.map((g, i) => g.name ?? `vm-${i}`);
    for (const g of groups) if (!names.includes(g)) throw new Error(`${name}: groups names '${g}', but the scenario's VM groups are ${names.join(', ') || '(none)'}`);
    if (!sim.services.tryGet(PageAccessStream)) throw new Error(`${name} needs a workload with a page access stream (workload.synthetic)`);
    est = make();
    for (const vm of sim.world.query([Vm])) {
      // VMs with a synthetic workload, or a real guest (workload.guest streams it in timing mode).
      if (!sim.world.has(vm, MemWorkload) && sim.scenario.vms[V.group[vm]].workload?.kind !== 'guest') continue;
      if (groups.length && !groups.includes(names[V.group[vm]])) continue;
      watched.push(vm);
      series.set(vm, { t: [], bytes: [] });
      est.begin(vm);
    }
    next = sim.timeNs + interval;
    wssEstimators(sim).register({ id: name, estimate: (vm) => latest.get(vm) ?? NaN, series: (vm) => series.get(vm) ?? { t: [], bytes: [] } });
  });

  api.addSystem({
    name: `${api.id}/interval`,
    phase: 'control',
    reads: [Vm],
    writes: [],
    nextEventNs: () => next,
    run(sim) {
      if (sim.timeNs < next) return;
      const V = sim.world.store(Vm);
      const stream = sim.services.get(PageAccessStream);
      let total = 0;
      for (const vm of watched) {
        if (V.state[vm] !== VmState.Running && V.state[vm] !== VmState.Migrating) continue;
        const pageBytes = V.memory[vm] / stream.pages(vm);
        const bytes = est!.sample(vm, sim.timeNs) * pageBytes;
        latest.set(vm, bytes);
        const s = series.get(vm)!;
        s.t.push(sim.timeNs);
        s.bytes.push(bytes);
        total += bytes;
        intervals.add(1);
      }
      gauge.set(total);
      while (next <= sim.timeNs) next += interval;
    },
  });

  api.hooks.lifecycle.finish.tapPromise(api.id, async (f) => {
    const sim = api.sim;
    const V = sim.world.store(Vm);
    const file: SeriesFile = {
      estimator: name,
      intervalNs: interval,
      vms: watched.map((vm) => ({ vm, group: sim.scenario.vms[V.group[vm]].name ?? `vm-${V.group[vm]}`, memoryBytes: V.memory[vm], ...series.get(vm)! })),
    };
    f.addFile(`${name}.json`, JSON.stringify(file) + '\n');
  });

  api.persist('series', {
    save: () => ({ next, latest: [...latest], series: [...series], est: est?.save?.() ?? null }),
    load: (d) => {
      const x = d as { next: number; latest: Array<[number, number]>; series: Array<[number, { t: number[]; bytes: number[] }]>; est: unknown };
      next = x.next;
      if (x.est !== null) est?.load?.(x.est);
      latest.clear();
      for (const [k, v] of x.latest) latest.set(k, v);
      for (const [k, v] of x.series) series.set(k, v);
    },
  });
}
