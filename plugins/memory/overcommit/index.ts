// memory.overcommit: memory overcommitment driven by a working-set estimate. Every
// period the policy sets each watched VM's memory (its balloon target) to the latest
// estimate of the chosen wss.* estimator plus a margin. A host cannot give its VMs more
// than its memory: when the targets of the VMs on a host add up to more, each gets its
// share of what there is. With `consolidate`, the policy packs the VMs onto fewer hosts
// by their targets, live-migrating (through the selected migration method) every VM
// off a host whose VMs fit in the room the other hosts leave, one host at a time. A VM
// squeezed below its true working set runs with fewer resident pages than it touches:
// each access to a page that is not resident is a swap-in (the vCPU stalls for it),
// and the page evicted for it is chosen by CLOCK over per-page reference bits. So an
// estimator's error becomes a datacenter outcome: hosts freed and memory saved against
// slowdown. An estimate that is too low packs VMs tightly; when their working sets
// show later, the host has no room to give them back.

import { DatacenterToken, definePlugin, Host, MemWorkload, MigrationService, PageAccessStream, Vm, VmState, wssEstimators, type WssEstimator } from 'virtlab';
import type { Options } from './options';

interface Resident {
  /** One byte per page: 1 resident, 0 not; `ref` the CLOCK reference bit. */
  resident: Uint8Array;
  ref: Uint8Array;
  count: number;
  capacity: number;
  hand: number;
  /** Whether the host's room, not the estimate, holds the VM below its target. */
  short: boolean;
}

export default definePlugin<Options>((api) => {
  const o = api.options;
  const vms = new Map<number, Resident>();
  let next = Infinity;
  let estimator: WssEstimator | null = null;
  const swapIns = api.counter('memory.overcommit.swap-ins', 'pages', 'Accesses to pages the balloon had taken: each a swap-in that stalls the vCPU.');
  const swapInsShort = api.counter('memory.overcommit.swap-ins-host-short', 'pages', 'Swap-ins of VMs held below their targets because their host had no more room (part of swap-ins).');
  const swapNs = api.counter('memory.overcommit.swap-ns', 'ns', 'vCPU time lost to swap-ins.');
  const allocated = api.gauge('memory.overcommit.allocated-bytes', 'bytes', 'Memory the policy leaves the watched VMs (their balloon targets), summed.');
  const saved = api.gauge('memory.overcommit.saved-bytes', 'bytes', 'Memory the policy takes back from the watched VMs (configured minus target), summed.');
  const savedTime = api.counter('memory.overcommit.saved-byte-seconds', 'byte·s', 'Memory taken back, integrated over time (divide by the run time for the mean saving).');
  const hostsNeeded = api.gauge('memory.overcommit.hosts-needed', 'hosts', 'Hosts the targets pack onto (first-fit decreasing by memory).');
  const hostsBefore = api.gauge('memory.overcommit.hosts-needed-without', 'hosts', 'Hosts the configured memories pack onto, for comparison.');
  const hostsUsed = api.gauge('memory.overcommit.hosts-used', 'hosts', 'Hosts that run at least one of the watched VMs (a migrating VM counts on both ends).');
  const hostsFreed = api.gauge('memory.overcommit.hosts-freed', 'hosts', 'Hosts that ran watched VMs when the policy started and run none now.');
  const hostSeconds = api.counter('memory.overcommit.host-seconds', 'host·s', 'Hosts used, integrated over time (divide by the run time for the mean).');
  const capped = api.gauge('memory.overcommit.host-capped-bytes', 'bytes', 'Memory the VMs wanted (their targets) beyond what their hosts have, summed over hosts.');
  const migrations = api.counter('memory.overcommit.migrations', 'migrations', 'Live migrations the policy started to empty hosts.');
  /** VMs the policy is moving, and their destinations; the hosts used at the start. */
  const moving = new Map<number, number>();
  let startHosts: number[] = [];

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
      const r: Resident = { resident: new Uint8Array(pages).fill(1), ref: new Uint8Array(pages), count: pages, capacity: pages, hand: 0, short: false };
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
        if (r.short) swapInsShort.add(misses);
        const ns = misses * o.swapInNs;
        swapNs.add(ns);
        return ns;
      });
    }
    next = sim.timeNs + o.period;
    if (o.consolidate) {
      if (!sim.services.tryGet(MigrationService)) throw new Error('memory.overcommit: consolidate is on, but no migration method (migration.precopy or migration.postcopy) is selected');
      // A migration that failed leaves the VM on its source: the room held on its destination is given back.
      sim.hooks.migration.end.tap(api.id, (e) => {
        if (!moving.delete(e.vm)) return;
        if (!e.success) sim.services.get(DatacenterToken).cancelReservation(e.vm);
      });
    }
  });

  /** The hosts each watched VM occupies: its host, and while the policy moves it, its destination too. */
  const hostsOf = (vm: number): number[] => {
    const h = api.sim.world.store(Vm).host[vm];
    const d = moving.get(vm);
    return d !== undefined && d !== h ? (h ? [h, d] : [d]) : h ? [h] : [];
  };

  /** The memory a host has for the watched VMs: its own, less what the VMs the policy leaves alone were given. */
  const roomOf = (host: number): number => {
    const H = api.sim.world.store(Host);
    const V = api.sim.world.store(Vm);
    let other = 0;
    for (const vm of api.sim.world.query([Vm])) if (V.host[vm] === host && !vms.has(vm)) other += V.memory[vm];
    return H.memory[host] - other;
  };

  /**
   * Empties one host if its VMs fit, by their targets, in the room the other hosts in
   * use leave (first-fit decreasing over the fullest hosts first, so that VMs gather):
   * reserves the room and starts the migrations. The least-loaded host is tried first.
   */
  const consolidate = (target: Map<number, number>) => {
    const V = api.sim.world.store(Vm);
    const load = new Map<number, number>();
    for (const [vm] of vms) for (const h of hostsOf(vm)) load.set(h, (load.get(h) ?? 0) + target.get(vm)!);
    const hosts = [...load.keys()].sort((a, b) => load.get(a)! - load.get(b)! || a - b);
    for (const src of hosts) {
      const free = hosts.filter((h) => h !== src).map((h) => ({ h, free: roomOf(h) - load.get(h)! })).sort((a, b) => a.free - b.free || a.h - b.h);
      const leaving = [...vms.keys()].filter((vm) => V.host[vm] === src && V.state[vm] === VmState.Running).sort((a, b) => target.get(b)! - target.get(a)! || a - b);
      if (!leaving.length) continue;
      const plan: Array<[number, number]> = [];
      for (const vm of leaving) {
        const slot = free.find((f) => f.free >= target.get(vm)!);
        if (!slot) break;
        slot.free -= target.get(vm)!;
        plan.push([vm, slot.h]);
      }
      if (plan.length < leaving.length) continue;
      const engine = api.sim.services.get(MigrationService);
      const dc = api.sim.services.get(DatacenterToken);
      for (const [vm, dst] of plan) {
        // Reserve first: a post-copy migration places the VM on its destination at once.
        dc.reserve(vm, dst);
        moving.set(vm, dst);
        engine.request(vm, dst);
        migrations.add(1);
      }
      return;
    }
  };

  api.persist('resident', {
    save: () => ({ next, moving: [...moving], startHosts, vms: [...vms].map(([vm, r]) => ({ vm, resident: r.resident, ref: r.ref, count: r.count, capacity: r.capacity, hand: r.hand, short: r.short })) }),
    load: (data) => {
      const d = data as { next: number; moving?: Array<[number, number]>; startHosts?: number[]; vms: Array<{ vm: number; resident: Uint8Array; ref: Uint8Array; count: number; capacity: number; hand: number; short?: boolean }> };
      next = d.next;
      moving.clear();
      for (const [vm, h] of d.moving ?? []) moving.set(vm, h);
      startHosts = d.startHosts ?? [];
      for (const x of d.vms) {
        const r = vms.get(x.vm)!;
        r.resident.set(x.resident);
        r.ref.set(x.ref);
        r.count = x.count;
        r.capacity = x.capacity;
        r.hand = x.hand;
        r.short = x.short ?? false;
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
      // Each VM's target, bytes: the estimate plus the margin (its memory before the first estimate).
      const want = new Map<number, number>();
      for (const [vm, r] of vms) {
        const pageBytes = V.memory[vm] / r.resident.length;
        const est = estimator!.estimate(vm);
        const bytes = Number.isFinite(est) ? Math.max(o.minimum, est * (1 + o.margin)) : V.memory[vm];
        want.set(vm, Math.min(r.resident.length, Math.max(1, Math.ceil(bytes / pageBytes))) * pageBytes);
      }
      // A host gives no more than it has: over it, each of its VMs gets its share.
      const load = new Map<number, number>();
      for (const [vm] of vms) for (const h of hostsOf(vm)) load.set(h, (load.get(h) ?? 0) + want.get(vm)!);
      let over = 0;
      const scale = new Map<number, number>();
      for (const [h, l] of load) {
        const room = roomOf(h);
        if (l > room) {
          over += l - room;
          scale.set(h, Math.max(0, room) / l);
        }
      }
      for (const [vm, r] of vms) {
        const pageBytes = V.memory[vm] / r.resident.length;
        let f = 1;
        for (const h of hostsOf(vm)) f = Math.min(f, scale.get(h) ?? 1);
        const cap = Math.min(r.resident.length, Math.max(1, Math.floor((want.get(vm)! * f) / pageBytes)));
        r.short = f < 1;
        r.capacity = cap;
        shrink(r);
        alloc += r.capacity * pageBytes;
        give += V.memory[vm] - r.capacity * pageBytes;
        targets.push(r.capacity * pageBytes);
        full.push(V.memory[vm]);
      }
      capped.set(over);
      if (!startHosts.length) startHosts = [...load.keys()].sort((a, b) => a - b);
      hostsUsed.set(load.size);
      hostsFreed.set(startHosts.filter((h) => !load.has(h)).length);
      hostSeconds.add((load.size * o.period) / 1e9);
      if (o.consolidate && !moving.size) consolidate(want);
      allocated.set(alloc);
      savedTime.add((give * o.period) / 1e9);
      saved.set(give);
      const hostMem = sim.world.query([Host]).map((h) => H.memory[h]);
      hostsNeeded.set(pack(targets, hostMem));
      hostsBefore.set(pack(full, hostMem));
    },
  });
});
