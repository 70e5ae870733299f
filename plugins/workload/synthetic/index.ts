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
//
// A VM in aggregate mode draws nothing while nobody looks: each step adds its Poisson
// means (the pending writes of the latest step apart from the earlier ones, since
// dirtyPagesAt spreads that step's writes over it), and the counts are drawn when the
// VM's logs are read or reset, its phase changes, it goes to detail mode, at each
// sample (the gauges and the workload.writes/reads counters) and at the end. A sum of
// independent Poisson counts is a Poisson count of the summed mean, and nothing in
// between depends on the counts, so the law of everything observed is unchanged and a
// datacenter pays a few draws per VM and sample instead of two per VM and tick.
//
// A plugin that needs every access (dirty logging, working-set estimation) subscribes
// to a VM's access stream (PageAccessStream): the VM goes to detail mode and each step's
// accesses are handed over as one batch. The sinks return the vCPU time the accesses
// cost (VM exits, faults); that time, and stalls charged directly, come out of the VM's
// next steps, so a disturbed VM makes fewer accesses: its progress shows the slowdown.
// A VM that runs a real guest is handed to workload.guest's stream (GuestPageAccessStream).

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
  PageAccessStream,
  GuestPageAccessStream,
  type PageAccessSink,
} from 'virtlab';
import type { Options } from './options';

// Read once: the package's exports are getters, too slow for the per-VM loop.
const RUNNING = VmState.Running;
const MIGRATING = VmState.Migrating;
const ZIPF = Distribution.Zipf;

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
  /** Access-stream subscribers per VM, and each streamed VM's batch and stall state. */
  const sinks = new Map<number, PageAccessSink[]>();
  const streamed = new Map<number, { pages: Uint32Array; writes: Uint8Array; vcpus: Uint16Array; count: number; nextVcpu: number; debtNs: number; backlogNs: number; stalledNs: number }>();
  /** The batch being filled by drawPages, or null. */
  let batch: { pages: Uint32Array; writes: Uint8Array; vcpus: Uint16Array; count: number; nextVcpu: number } | null = null;
  let batchVcpus = 1;
  /** Writes drawn in the current step per VM entity, and the step's bounds, ns. */
  let stepWrites = new Float64Array(0);
  /**
   * Poisson means not yet drawn, per VM entity in aggregate mode: writes of the steps
   * before the latest, writes of the latest step, reads.
   */
  let pendingOldWrites = new Float64Array(0);
  let pendingStepWrites = new Float64Array(0);
  let pendingReads = new Float64Array(0);
  /**
   * The current phase of each VM entity, unpacked for the per-tick loop (rates, CPU
   * share, distribution code, Zipf exponent); written when a VM enters a phase.
   */
  let writeRates = new Float64Array(0);
  let readRates = new Float64Array(0);
  let cpuShares = new Float64Array(0);
  let distCodes = new Uint8Array(0);
  let zipfExponents = new Float64Array(0);
  const unpackPhase = (vm: number) => {
    const p = phaseOf(vm);
    writeRates[vm] = p.writesPerSecond;
    readRates[vm] = p.readsPerSecond;
    cpuShares[vm] = p.cpu;
    distCodes[vm] = distributionCode(p.distribution);
    zipfExponents[vm] = p.zipfExponent;
  };
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
    const size = vms.reduce((n, v) => Math.max(n, v + 1), 0);
    stepWrites = new Float64Array(size);
    pendingOldWrites = new Float64Array(size);
    pendingStepWrites = new Float64Array(size);
    pendingReads = new Float64Array(size);
    writeRates = new Float64Array(size);
    readRates = new Float64Array(size);
    cpuShares = new Float64Array(size);
    distCodes = new Uint8Array(size);
    zipfExponents = new Float64Array(size);
    for (let i = 0; i < vms.length; i++) unpackPhase(vms[i]);
  });

  /** Draws a VM's pending counts and adds them to its logs and to the counters. */
  const settle = (vm: number, W = api.sim.world.store(MemWorkload)) => {
    const oldW = pendingOldWrites[vm];
    const stepW = pendingStepWrites[vm];
    const lr = pendingReads[vm];
    if (oldW === 0 && stepW === 0 && lr === 0) return;
    pendingOldWrites[vm] = 0;
    pendingStepWrites[vm] = 0;
    pendingReads[vm] = 0;
    const inStep = rng.poisson(stepW);
    const w = rng.poisson(oldW) + inStep;
    const r = rng.poisson(lr);
    W.writes[vm] += w;
    W.reads[vm] += r;
    W.writesSinceReset[vm] += w;
    W.readsSinceReset[vm] += r;
    W.accessesSinceReset[vm] += w + r;
    stepWrites[vm] += inStep;
    writesCounter.add(w);
    readsCounter.add(r);
  };
  const settleAll = () => {
    const W = api.sim.world.store(MemWorkload);
    for (let i = 0; i < vms.length; i++) settle(vms[i], W);
  };

  /** Moves a VM to its next phase, carrying its logs over (see workload.ts). */
  const advancePhase = (vm: number, now: number) => {
    settle(vm);
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
    unpackPhase(vm);
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
      if (batch) {
        if (batch.count === batch.pages.length) {
          const n = batch.pages.length * 2;
          const pg = new Uint32Array(n);
          pg.set(batch.pages);
          batch.pages = pg;
          const wr = new Uint8Array(n);
          wr.set(batch.writes);
          batch.writes = wr;
          const vc = new Uint16Array(n);
          vc.set(batch.vcpus);
          batch.vcpus = vc;
        }
        batch.pages[batch.count] = page;
        batch.writes[batch.count] = write ? 1 : 0;
        batch.vcpus[batch.count++] = batch.nextVcpu;
        batch.nextVcpu = (batch.nextVcpu + 1) % batchVcpus;
      }
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
        if (state !== RUNNING && state !== MIGRATING) continue;
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
      let totalWrites = 0;
      let totalReads = 0;
      const anyStreamed = streamed.size > 0;
      // Arrays are fetched once per step (stores grow only when entities spawn).
      const { state, speed: speeds, cpuDemand } = V;
      const { phaseEnd, detail, writes, reads, writesSinceReset, readsSinceReset, accessesSinceReset } = W;
      for (let i = 0; i < vms.length; i++) {
        const vm = vms[i];
        const s = state[vm];
        if (s !== RUNNING && s !== MIGRATING) {
          stepWrites[vm] = 0;
          pendingOldWrites[vm] += pendingStepWrites[vm];
          pendingStepWrites[vm] = 0;
          continue;
        }
        if (phaseEnd[vm] < 0) phaseEnd[vm] = now + specs[W.spec[vm]].phases[0].duration;
        while (now >= phaseEnd[vm]) advancePhase(vm, phaseEnd[vm]);
        let speed = speeds[vm];
        cpuDemand[vm] = cpuShares[vm] * speed;
        const st = anyStreamed ? streamed.get(vm) : undefined;
        if (st && (st.debtNs > 0 || st.backlogNs > 0)) {
          // The owed stall time is spent in this step. The phase's accesses are the work
          // that keeps its `cpu` share of the vCPUs busy, and the work arrives whatever
          // the vCPUs do (a server's requests): stalls take the idle share first, work
          // they delay beyond it waits (the backlog) and is done in later idle time. With
          // cpu 1 (a loop that runs flat out) there is no idle time and no queue: every
          // stalled ns is progress lost.
          const vcpuNs = sim.stepNs * Math.max(1, V.vcpus[vm]);
          const paid = Math.min(st.debtNs, vcpuNs);
          st.debtNs -= paid;
          const share = Math.min(1, Math.max(0, cpuShares[vm]));
          const busyNs = share * speed * vcpuNs;
          if (share >= 1 || busyNs <= 0) {
            st.backlogNs = 0;
            speed *= 1 - paid / vcpuNs;
          } else {
            const demand = busyNs + st.backlogNs;
            const done = Math.min(demand, vcpuNs - paid);
            st.backlogNs = demand - done;
            speed *= done / busyNs;
          }
        }
        if (!fluid && !detail[vm]) {
          const lw = writeRates[vm] * seconds * speed;
          pendingOldWrites[vm] += pendingStepWrites[vm];
          pendingStepWrites[vm] = lw > 0 ? lw : 0;
          const lr = readRates[vm] * seconds * speed;
          if (lr > 0) pendingReads[vm] += lr;
          stepWrites[vm] = 0;
          continue;
        }
        // Fluid arrivals are fractional in the aggregate model; bitmaps take whole pages.
        let w = fluid ? writeRates[vm] * seconds * speed : rng.poisson(writeRates[vm] * seconds * speed);
        let r = fluid ? readRates[vm] * seconds * speed : rng.poisson(readRates[vm] * seconds * speed);
        if (fluid && detail[vm]) {
          w = Math.round(w);
          r = Math.round(r);
        }
        writes[vm] += w;
        reads[vm] += r;
        writesSinceReset[vm] += w;
        stepWrites[vm] = w;
        readsSinceReset[vm] += r;
        accessesSinceReset[vm] += w + r;
        totalWrites += w;
        totalReads += r;
        if (detail[vm]) {
          const bits = details.get(vm)!;
          const dist = distCodes[vm];
          const pages = W.pages[vm];
          const zipf = dist === ZIPF ? samplerFor(pages, zipfExponents[vm]) : null;
          if (st) {
            batch = st;
            batchVcpus = Math.max(1, V.vcpus[vm]);
            st.count = 0;
          }
          drawPages(bits, dist, zipf, pages, r, false);
          drawPages(bits, dist, zipf, pages, w, true);
          batch = null;
          if (st) {
            const list = sinks.get(vm)!;
            const b = { vm, count: st.count, pages: st.pages, writes: st.writes, vcpus: st.vcpus, vcpuCount: batchVcpus, startNs: now, endNs: now + sim.stepNs };
            let lost = 0;
            for (let k = 0; k < list.length; k++) lost += list[k](b);
            if (lost > 0) stream.stall(vm, lost);
          }
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
      settleAll();
      const W = sim.world.store(MemWorkload);
      let dirty = 0;
      let accessed = 0;
      for (let i = 0; i < vms.length; i++) {
        const vm = vms[i];
        const d = W.detail[vm] ? details.get(vm) : undefined;
        if (d) {
          dirty += d.dirtyCount;
          accessed += d.accessedCount;
          continue;
        }
        const pages = W.pages[vm];
        dirty += distinct.distinct(distCodes[vm], pages, zipfExponents[vm], W.writesSinceReset[vm]);
        accessed += distinct.distinct(distCodes[vm], pages, zipfExponents[vm], W.accessesSinceReset[vm]);
      }
      dirtyGauge.set(dirty);
      accessedGauge.set(accessed);
    },
  });

  // A run that stops between samples still counts every access it made.
  api.hooks.lifecycle.finish.tapPromise(api.id, async () => settleAll());

  /** Distinct pages touched by `draws` accesses of the VM's current phase. */
  const distinctPages = (vm: number, draws: number) => distinct.distinct(distCodes[vm], api.sim.world.store(MemWorkload).pages[vm], zipfExponents[vm], draws);

  const activity: MemoryActivity = {
    dirtyPages(vm) {
      settle(vm);
      return details.get(vm)?.dirtyCount ?? distinctPages(vm, api.sim.world.store(MemWorkload).writesSinceReset[vm]);
    },
    accessedPages(vm) {
      settle(vm);
      return details.get(vm)?.accessedCount ?? distinctPages(vm, api.sim.world.store(MemWorkload).accessesSinceReset[vm]);
    },
    resetDirty(vm) {
      settle(vm);
      api.sim.world.store(MemWorkload).writesSinceReset[vm] = 0;
      details.get(vm)?.clearDirty();
    },
    dirtyPagesAt(vm, timeNs) {
      settle(vm);
      const d = details.get(vm);
      if (d) return d.dirtyCount;
      const n = api.sim.world.store(MemWorkload).writesSinceReset[vm] - stepWrites[vm] * after(timeNs);
      return distinctPages(vm, Math.max(0, n));
    },
    resetDirtyAt(vm, timeNs) {
      settle(vm);
      api.sim.world.store(MemWorkload).writesSinceReset[vm] = stepWrites[vm] * after(timeNs);
      details.get(vm)?.clearDirty();
    },
    resetAccessed(vm) {
      settle(vm);
      const W = api.sim.world.store(MemWorkload);
      W.accessesSinceReset[vm] = 0;
      W.readsSinceReset[vm] = 0;
      details.get(vm)?.clearAccessed();
    },
    writeRate: (vm) => phaseOf(vm).writesPerSecond,
    readRate: (vm) => phaseOf(vm).readsPerSecond,
    workingSetPages: (vm) => api.sim.world.store(MemWorkload).pages[vm],
    dirtyPageList(vm) {
      settle(vm);
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
        // Its aggregate counts so far are drawn before its bitmaps start.
        settle(vm);
        d = new PageBitmaps(Math.max(1, Math.floor(api.sim.world.store(Vm).memory[vm] / pageSize)));
        details.set(vm, d);
        W.detail[vm] = 1;
      }
      return d;
    },
  };
  api.provide(MemoryActivity, { useValue: activity });

  /** The stream of a VM that runs a real guest (workload.guest in timing mode), or undefined. */
  const guestStream = (vm: number): PageAccessStream | undefined => {
    if (api.sim.world.has(vm, MemWorkload)) return undefined;
    const group = api.sim.scenario.vms[api.sim.world.store(Vm).group[vm]];
    return group?.workload?.kind === 'guest' ? api.sim.services.tryGet(GuestPageAccessStream) : undefined;
  };

  const stream: PageAccessStream = {
    subscribe(vm, sink) {
      const g = guestStream(vm);
      if (g) return g.subscribe(vm, sink);
      activity.detail(vm);
      let list = sinks.get(vm);
      if (!list) {
        sinks.set(vm, (list = []));
        streamed.set(vm, { pages: new Uint32Array(1024), writes: new Uint8Array(1024), vcpus: new Uint16Array(1024), count: 0, nextVcpu: 0, debtNs: 0, backlogNs: 0, stalledNs: 0 });
      }
      list.push(sink);
    },
    stall(vm, ns) {
      const g = guestStream(vm);
      if (g) return g.stall(vm, ns);
      const st = streamed.get(vm);
      if (!st) throw new Error(`VM ${vm} has no access stream: subscribe before charging stalls`);
      st.debtNs += ns;
      // Counted by the plugins that cause it (dirty-log.vcpu-stall-ns, memory.overcommit.swap-ns …).
      st.stalledNs += ns;
    },
    stalledNs: (vm) => guestStream(vm)?.stalledNs(vm) ?? streamed.get(vm)?.stalledNs ?? 0,
    pages: (vm) => guestStream(vm)?.pages(vm) ?? Math.max(1, Math.floor(api.sim.world.store(Vm).memory[vm] / pageSize)),
    vcpus: (vm) => guestStream(vm)?.vcpus(vm) ?? Math.max(1, api.sim.world.store(Vm).vcpus[vm]),
  };
  api.provide(PageAccessStream, { useValue: stream });

  // Subscriptions are made at boot (or by a restored plugin) and outlive a restore; the stalls owed are state.
  api.persist('streams', {
    save: () => [...streamed.entries()].sort((a, b) => a[0] - b[0]).map(([vm, st]) => ({ vm, debtNs: st.debtNs, backlogNs: st.backlogNs, stalledNs: st.stalledNs, nextVcpu: st.nextVcpu })),
    load: (data) => {
      for (const x of data as Array<{ vm: number; debtNs: number; backlogNs?: number; stalledNs: number; nextVcpu: number }>) {
        const st = streamed.get(x.vm);
        if (!st) continue;
        st.debtNs = x.debtNs;
        st.backlogNs = x.backlogNs ?? 0;
        st.stalledNs = x.stalledNs;
        st.nextVcpu = x.nextVcpu;
      }
    },
  });

  // The means not yet drawn are state: a restored run draws them as the original would.
  api.persist('pending', {
    save: () => {
      const out: number[][] = [];
      for (let i = 0; i < vms.length; i++) {
        const vm = vms[i];
        if (pendingOldWrites[vm] !== 0 || pendingStepWrites[vm] !== 0 || pendingReads[vm] !== 0) out.push([vm, pendingOldWrites[vm], pendingStepWrites[vm], pendingReads[vm]]);
      }
      return out;
    },
    load: (data) => {
      pendingOldWrites.fill(0);
      pendingStepWrites.fill(0);
      pendingReads.fill(0);
      for (const [vm, oldW, stepW, r] of data as number[][]) {
        pendingOldWrites[vm] = oldW;
        pendingStepWrites[vm] = stepW;
        pendingReads[vm] = r;
      }
    },
  });

  api.persist('detail', {
    save: () =>
      [...details.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([vm, d]) => ({ vm, pages: d.pages, dirty: d.dirty, accessed: d.accessed, dirtyCount: d.dirtyCount, accessedCount: d.accessedCount, cursor: d.cursor })),
    load: (data) => {
      // The world (restored first) holds each VM's phase: unpack it again.
      for (let i = 0; i < vms.length; i++) unpackPhase(vms[i]);
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
