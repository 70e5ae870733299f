// memory.overcommit: memory overcommitment driven by a working-set estimate. Every
// period the policy sets each watched VM's memory (its balloon target) to the latest
// estimate of the chosen wss.* estimator plus a margin, and packs the VMs' targets onto
// hosts (first-fit decreasing) to count the hosts the datacenter would need. A VM
// squeezed below its true working set runs with fewer resident pages than it touches:
// each access to a page that is not resident is a swap-in (the vCPU stalls for it),
// and the page evicted for it is chosen by CLOCK over per-page reference bits. So an
// estimator's error becomes a datacenter outcome: memory saved against slowdown.

import { definePlugin, Host, MemWorkload, PageAccessStream, Vm, wssEstimators, type WssEstimator } from 'virtlab';
import type { Options } from './options';

interface Resident {
  /** One byte per page: 1 resident, 0 not; `ref` the CLOCK reference bit. */
  resident: Uint8Array;
  ref: Uint8Array;
  count: number;
  capacity: number;
  hand: number;
}

export default definePlugin<Options>((api) => {
  const o = api.options;
  const vms = new Map<number, Resident>();
  let next = Infinity;
  let estimator: WssEstimator | null = null;
  const swapIns = api.counter('memory.overcommit.swap-ins', 'pages', 'Accesses to pages the balloon had taken: each a swap-in that stalls the vCPU.');
  const swapNs = api.counter('memory.overcommit.swap-ns', 'ns', 'vCPU time lost to swap-ins.');
  const allocated = api.gauge('memory.overcommit.allocated-bytes', 'bytes', 'Memory the policy leaves the watched VMs (their balloon targets), summed.');
  const saved = api.gauge('memory.overcommit.saved-bytes', 'bytes', 'Memory the policy takes back from the watched VMs (configured minus target), summed.');
  const savedTime = api.counter('memory.overcommit.saved-byte-seconds', 'byte·s', 'Memory taken back, integrated over time (divide by the run time for the mean saving).');
  const hostsNeeded = api.gauge('memory.overcommit.hosts-needed', 'hosts', 'Hosts the targets pack onto (first-fit decreasing by memory).');
  const hostsBefore = api.gauge('memory.overcommit.hosts-needed-without', 'hosts', 'Hosts the configured memories pack onto, for comparison.');

  /** Evicts with CLOCK until the VM holds at most `capacity` pages. */
  const shrink = (r: Resident) => {
    const n = r.resident.length;
    while (r.count > r.capacity) {
      const p = r.hand;
      r.hand = (p + 1) % n;
      if (!r.resident[p]) continue;
      if (r.ref[p]) {
        r.ref[p] = 0;
        continue;
      }
      r.resident[p] = 0;
      r.count--;
    }
  };

  /** Hosts needed to hold `sizes` by first-fit decreasing over the hosts' memories (largest hosts first). */
  const pack = (sizes: number[], hostMem: number[]) => {
    const free: number[] = [];
    const hosts = [...hostMem].sort((a, b) => b - a);
    for (const s of [...sizes].sort((a, b) => b - a)) {
      let i = free.findIndex((f) => f >= s);
      if (i < 0) {
        if (free.length >= hosts.length) return Infinity;
        free.push(hosts[free.length]);
        i = free.length - 1;
      }
      free[i] -= s;
    }
    return free.length;
  };

  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const ids = sim.scenario.plugins.map((p) => p.id);
    if (!ids.includes(o.estimator)) throw new Error(`memory.overcommit: estimator '${o.estimator}' is not loaded; add the plugin ${o.estimator} (loaded estimators: ${ids.filter((i) => i.startsWith('wss.')).join(', ') || 'none'})`);
    const stream = sim.services.get(PageAccessStream);
    const V = sim.world.store(Vm);
    const names = sim.scenario.vms.map((g) => g.name);
    for (const vm of sim.world.query([Vm, MemWorkload])) {
      if (o.groups.length && !o.groups.includes(names[V.group[vm]])) continue;
      const pages = stream.pages(vm);
      // Every page starts resident (a fresh VM's memory is all its own).
      const r: Resident = { resident: new Uint8Array(pages).fill(1), ref: new Uint8Array(pages), count: pages, capacity: pages, hand: 0 };
      vms.set(vm, r);
      stream.subscribe(vm, (b) => {
        let misses = 0;
        for (let i = 0; i < b.count; i++) {
          const p = b.pages[i];
          if (r.resident[p]) {
            r.ref[p] = 1;
            continue;
          }
          misses++;
          r.resident[p] = 1;
          r.ref[p] = 1;
          r.count++;
          if (r.count > r.capacity) shrink(r);
        }
        if (!misses) return 0;
        swapIns.add(misses);
        const ns = misses * o.swapInNs;
        swapNs.add(ns);
        return ns;
      });
    }
    next = sim.timeNs + o.period;
  });

  api.persist('resident', {
    save: () => ({ next, vms: [...vms].map(([vm, r]) => ({ vm, resident: r.resident, ref: r.ref, count: r.count, capacity: r.capacity, hand: r.hand })) }),
    load: (data) => {
      const d = data as { next: number; vms: Array<{ vm: number; resident: Uint8Array; ref: Uint8Array; count: number; capacity: number; hand: number }> };
      next = d.next;
      for (const x of d.vms) {
        const r = vms.get(x.vm)!;
        r.resident.set(x.resident);
        r.ref.set(x.ref);
        r.count = x.count;
        r.capacity = x.capacity;
        r.hand = x.hand;
      }
    },
  });

  api.addSystem({
    name: `${api.id}/resize`,
    // After the estimators, which publish in the 'control' phase of the same instant.
    phase: 'memory',
    reads: [Vm, Host],
    writes: [],
    nextEventNs: () => next,
    run(sim) {
      if (sim.timeNs < next) return;
      if (!estimator) {
        // Looked up at the first resize: every estimator has registered at boot by then.
        const reg = wssEstimators(sim);
        estimator = reg.get(o.estimator) ?? null;
        if (!estimator) throw new Error(`memory.overcommit: '${o.estimator}' is loaded but registered no estimate; it is not a wss.* estimator (estimators: ${reg.ids().join(', ') || 'none'})`);
      }
      while (next <= sim.timeNs) next += o.period;
      const V = sim.world.store(Vm);
      const H = sim.world.store(Host);
      let alloc = 0;
      let give = 0;
      const targets: number[] = [];
      const full: number[] = [];
      for (const [vm, r] of vms) {
        const pageBytes = V.memory[vm] / r.resident.length;
        const est = estimator!.estimate(vm);
        if (Number.isFinite(est)) {
          const want = Math.max(o.minimum, est * (1 + o.margin));
          r.capacity = Math.min(r.resident.length, Math.max(1, Math.ceil(want / pageBytes)));
          shrink(r);
        }
        alloc += r.capacity * pageBytes;
        give += V.memory[vm] - r.capacity * pageBytes;
        targets.push(r.capacity * pageBytes);
        full.push(V.memory[vm]);
      }
      allocated.set(alloc);
      savedTime.add((give * o.period) / 1e9);
      saved.set(give);
      const hostMem = sim.world.query([Host]).map((h) => H.memory[h]);
      hostsNeeded.set(pack(targets, hostMem));
      hostsBefore.set(pack(full, hostMem));
    },
  });
});
