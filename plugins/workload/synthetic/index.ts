// workload.synthetic: drives the synthetic memory workload model
// (core/models/datacenter/workload.ts) for every VM whose group declares
// `workload: { kind: synthetic, … }`. Each tick, a running VM draws its page reads and
// writes from Poisson distributions with its phase's rates (scaled by the VM's speed,
// which migration throttling lowers); the distinct pages they touch are derived from
// the distribution when asked, or tracked exactly in bitmaps for VMs in detail mode.
//
// Event-driven: under `advance: event` one step may span many ticks, and the draws
// then cover the whole step (a Poisson count over a longer interval has the same law
// as the sum of the per-tick counts). Its next event is the earliest phase end. The
// step's writes are taken as spread evenly over it, so a migration round that ends
// inside the step reads the dirty log at that instant (dirtyPagesAt, resetDirtyAt);
// VMs in detail mode set their bits at the step's start and are read whole.

import {
  definePlugin,
  DistinctPages,
  distributionCode,
  MemoryActivity,
  MemWorkload,
  PageBitmaps,
  Vm,
  VmState,
  workloadSpecFrom,
  ZipfSampler,
  Distribution,
  type WorkloadSpec,
  type Rng,
} from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const { pageSize } = api.options;
  const fluid = api.options.arrivals === 'fluid';
  const specs: WorkloadSpec[] = [];
  const distinct = new DistinctPages();
  const details = new Map<number, PageBitmaps>();
  const samplers = new Map<string, ZipfSampler>();
  const rng: Rng = api.rng();
  // A stream of its own, so that asking for dirty-page lists leaves the access draws unchanged.
  const listRng: Rng = api.rng('dirty-page-lists');
  const writesCounter = api.counter('workload.writes', 'accesses', 'Page writes by synthetic workloads.');
  const readsCounter = api.counter('workload.reads', 'accesses', 'Page reads by synthetic workloads.');
  const dirtyGauge = api.gauge('workload.dirty-pages', 'pages', 'Distinct pages dirtied since the last dirty-log reset, over all VMs.');
  const accessedGauge = api.gauge('workload.accessed-pages', 'pages', 'Distinct pages accessed since the last accessed-log reset, over all VMs.');
  let vms: readonly number[] = [];
  /** Writes drawn in the current step per VM entity, and the step's bounds, ns. */
  let stepWrites = new Float64Array(0);
  let stepStart = 0;
  let stepEnd = 0;
  /** The fraction of the current step's writes that fall after `timeNs`. */
  const after = (timeNs: number) => (stepEnd > stepStart && timeNs < stepEnd ? Math.min(1, (stepEnd - timeNs) / (stepEnd - stepStart)) : 0);

  const phaseOf = (vm: number) => {
    const W = api.sim.world.store(MemWorkload);
    return specs[W.spec[vm]].phases[W.phase[vm]];
  };
  const pagesFor = (vm: number, workingSet: number) => {
    const V = api.sim.world.store(Vm);
    const bytes = workingSet > 0 ? Math.min(workingSet, V.memory[vm]) : V.memory[vm];
    return Math.max(1, Math.floor(bytes / pageSize));
  };

  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const V = sim.world.store(Vm);
    const groupSpec = sim.scenario.vms.map((g) => {
      if (g.workload?.kind !== 'synthetic') return -1;
      specs.push(workloadSpecFrom(g.workload));
      return specs.length - 1;
    });
    for (const vm of sim.world.query([Vm])) {
      const spec = groupSpec[V.group[vm]];
      if (spec < 0) continue;
      const W = sim.world.add(vm, MemWorkload);
      W.spec[vm] = spec;
      W.phase[vm] = 0;
      W.phaseEnd[vm] = -1; // set when the VM first runs
      W.pages[vm] = pagesFor(vm, specs[spec].phases[0].workingSet);
      if (api.options.detailAll) activity.detail(vm);
    }
    vms = sim.world.query([Vm, MemWorkload]);
    stepWrites = new Float64Array(vms.reduce((n, v) => Math.max(n, v + 1), 0));
  });

  /** Moves a VM to its next phase, carrying its logs over (see workload.ts). */
  const advancePhase = (vm: number, now: number) => {
    const W = api.sim.world.store(MemWorkload);
    const spec = specs[W.spec[vm]];
    const old = phaseOf(vm);
    let next = W.phase[vm] + 1;
    if (next >= spec.phases.length) next = spec.repeat ? 0 : spec.phases.length - 1;
    W.phase[vm] = next;
    const p = spec.phases[next];
    W.phaseEnd[vm] = now + p.duration;
    const pages = pagesFor(vm, p.workingSet);
    if (!details.has(vm) && (p.distribution !== old.distribution || pages !== W.pages[vm] || p.zipfExponent !== old.zipfExponent)) {
      const oldCode = distributionCode(old.distribution);
      const newCode = distributionCode(p.distribution);
      const carry = (n: number) => distinct.drawsFor(newCode, pages, p.zipfExponent, Math.min(pages, distinct.distinct(oldCode, W.pages[vm], old.zipfExponent, n)));
      W.writesSinceReset[vm] = carry(W.writesSinceReset[vm]);
      W.accessesSinceReset[vm] = carry(W.accessesSinceReset[vm]);
    }
    W.pages[vm] = pages;
  };

  /** The Zipf sampler of a working set, shared by the VMs that use the same one. */
  const samplerFor = (pages: number, s: number): ZipfSampler => {
    const key = `${pages}:${s}`;
    let z = samplers.get(key);
    if (!z) samplers.set(key, (z = new ZipfSampler(pages, s)));
    return z;
  };

  /** Draws `count` page numbers and marks them in the VM's bitmaps. */
  const drawPages = (bits: PageBitmaps, dist: number, zipf: ZipfSampler | null, pages: number, count: number, write: boolean) => {
    for (let k = 0; k < count; k++) {
      let page: number;
      if (dist === Distribution.Uniform) page = rng.int(pages);
      else if (dist === Distribution.Sequential) {
        page = bits.cursor % pages;
        bits.cursor = page + 1;
      } else page = zipf!.sample(rng) - 1;
      if (write) bits.write(page);
      else bits.read(page);
    }
  };

  api.addSystem({
    name: `${api.id}/access`,
    phase: 'workload',
    reads: [Vm],
    writes: [MemWorkload, Vm],
    nextEventNs(sim) {
      const V = sim.world.store(Vm);
      const W = sim.world.store(MemWorkload);
      let next = Infinity;
      for (let i = 0; i < vms.length; i++) {
        const vm = vms[i];
        const state = V.state[vm];
        if (state !== VmState.Running && state !== VmState.Migrating) continue;
        if (W.phaseEnd[vm] < 0) return sim.timeNs;
        if (W.phaseEnd[vm] < next) next = W.phaseEnd[vm];
      }
      return next;
    },
    run(sim) {
      const V = sim.world.store(Vm);
      const W = sim.world.store(MemWorkload);
      const now = sim.timeNs;
      const seconds = sim.stepNs / 1e9;
      stepStart = now;
      stepEnd = now + sim.stepNs;
      stepWrites.fill(0);
      let totalWrites = 0;
      let totalReads = 0;
      for (let i = 0; i < vms.length; i++) {
        const vm = vms[i];
        const state = V.state[vm];
        if (state !== VmState.Running && state !== VmState.Migrating) continue;
        if (W.phaseEnd[vm] < 0) W.phaseEnd[vm] = now + specs[W.spec[vm]].phases[0].duration;
        while (now >= W.phaseEnd[vm]) advancePhase(vm, W.phaseEnd[vm]);
        const p = phaseOf(vm);
        const speed = V.speed[vm];
        V.cpuDemand[vm] = p.cpu * speed;
        // Fluid arrivals are fractional in the aggregate model; bitmaps take whole pages.
        let w = fluid ? p.writesPerSecond * seconds * speed : rng.poisson(p.writesPerSecond * seconds * speed);
        let r = fluid ? p.readsPerSecond * seconds * speed : rng.poisson(p.readsPerSecond * seconds * speed);
        if (fluid && W.detail[vm]) {
          w = Math.round(w);
          r = Math.round(r);
        }
        W.writes[vm] += w;
        W.reads[vm] += r;
        W.writesSinceReset[vm] += w;
        stepWrites[vm] = w;
        W.readsSinceReset[vm] += r;
        W.accessesSinceReset[vm] += w + r;
        totalWrites += w;
        totalReads += r;
        if (W.detail[vm]) {
          const bits = details.get(vm)!;
          const dist = distributionCode(p.distribution);
          const pages = W.pages[vm];
          const zipf = dist === Distribution.Zipf ? samplerFor(pages, p.zipfExponent) : null;
          drawPages(bits, dist, zipf, pages, r, false);
          drawPages(bits, dist, zipf, pages, w, true);
        }
      }
      writesCounter.add(totalWrites);
      readsCounter.add(totalReads);
    },
  });

  api.addSystem({
    name: `${api.id}/gauges`,
    phase: 'metrics',
    reads: [MemWorkload],
    nextEventNs: () => Infinity,
    run(sim) {
      if (!sim.sampling) return;
      let dirty = 0;
      let accessed = 0;
      for (const vm of vms) {
        dirty += activity.dirtyPages(vm);
        accessed += activity.accessedPages(vm);
      }
      dirtyGauge.set(dirty);
      accessedGauge.set(accessed);
    },
  });

  /** Distinct pages touched by `draws` accesses of the VM's current phase. */
  const distinctPages = (vm: number, draws: number) => {
    const p = phaseOf(vm);
    return distinct.distinct(distributionCode(p.distribution), api.sim.world.store(MemWorkload).pages[vm], p.zipfExponent, draws);
  };

  const activity: MemoryActivity = {
    dirtyPages: (vm) => details.get(vm)?.dirtyCount ?? distinctPages(vm, api.sim.world.store(MemWorkload).writesSinceReset[vm]),
    accessedPages: (vm) => details.get(vm)?.accessedCount ?? distinctPages(vm, api.sim.world.store(MemWorkload).accessesSinceReset[vm]),
    resetDirty(vm) {
      api.sim.world.store(MemWorkload).writesSinceReset[vm] = 0;
      details.get(vm)?.clearDirty();
    },
    dirtyPagesAt(vm, timeNs) {
      const d = details.get(vm);
      if (d) return d.dirtyCount;
      const n = api.sim.world.store(MemWorkload).writesSinceReset[vm] - stepWrites[vm] * after(timeNs);
      return distinctPages(vm, Math.max(0, n));
    },
    resetDirtyAt(vm, timeNs) {
      api.sim.world.store(MemWorkload).writesSinceReset[vm] = stepWrites[vm] * after(timeNs);
      details.get(vm)?.clearDirty();
    },
    resetAccessed(vm) {
      const W = api.sim.world.store(MemWorkload);
      W.accessesSinceReset[vm] = 0;
      W.readsSinceReset[vm] = 0;
      details.get(vm)?.clearAccessed();
    },
    writeRate: (vm) => phaseOf(vm).writesPerSecond,
    readRate: (vm) => phaseOf(vm).readsPerSecond,
    workingSetPages: (vm) => api.sim.world.store(MemWorkload).pages[vm],
    dirtyPageList(vm) {
      const d = details.get(vm);
      if (d) {
        const out = new Uint32Array(d.dirtyCount);
        let k = 0;
        for (let w = 0; w < d.dirty.length; w++) {
          let bits = d.dirty[w];
          while (bits) {
            const low = bits & -bits;
            out[k++] = (w << 5) + 31 - Math.clz32(low);
            bits ^= low;
          }
        }
        return out;
      }
      const W = api.sim.world.store(MemWorkload);
      const p = phaseOf(vm);
      return distinct.sample(distributionCode(p.distribution), W.pages[vm], p.zipfExponent, W.writesSinceReset[vm], listRng, W.writes[vm] % W.pages[vm]);
    },
    pageClasses: (vm) => specs[api.sim.world.store(MemWorkload).spec[vm]].pageClasses,
    detail(vm) {
      let d = details.get(vm);
      if (!d) {
        const W = api.sim.world.store(MemWorkload);
        if (!api.sim.world.has(vm, MemWorkload)) throw new Error(`VM ${vm} has no synthetic workload`);
        d = new PageBitmaps(Math.max(1, Math.floor(api.sim.world.store(Vm).memory[vm] / pageSize)));
        details.set(vm, d);
        W.detail[vm] = 1;
      }
      return d;
    },
  };
  api.provide(MemoryActivity, { useValue: activity });

  api.persist('detail', {
    save: () =>
      [...details.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([vm, d]) => ({ vm, pages: d.pages, dirty: d.dirty, accessed: d.accessed, dirtyCount: d.dirtyCount, accessedCount: d.accessedCount, cursor: d.cursor })),
    load: (data) => {
      details.clear();
      for (const s of data as Array<{ vm: number; pages: number; dirty: Uint32Array; accessed: Uint32Array; dirtyCount: number; accessedCount: number; cursor: number }>) {
        const d = new PageBitmaps(s.pages);
        d.dirty.set(s.dirty);
        d.accessed.set(s.accessed);
        d.dirtyCount = s.dirtyCount;
        d.accessedCount = s.accessedCount;
        d.cursor = s.cursor;
        details.set(s.vm, d);
      }
    },
  });
});
