// placement.contiguous: places each VM in one contiguous region of a host's physical
// memory, as direct segments (Compromis) need. Each host's memory is a list of free
// regions in granules; a VM takes the first region, in rack order, that holds it
// whole, and the region's remainder stays free. The region it picks is the VM's direct
// segment: it is provided as DirectSegments, and the MMU (mmu.compromis) translates
// into it. VMs that leave give their region back, so a long trace of arrivals and
// departures of mixed sizes fragments host memory: a VM may fit no region although a
// host's free memory would hold it. Then, with `defragment`, the placement opens a
// region by live migration: it picks the window of one host whose resident VMs are the
// fewest bytes to move, reserves a region for each of them on another host, and asks
// the migration engine to move them; the VM waits until they have left. Migrations
// cost what the engine charges (time, bandwidth on the network, downtime), and may
// fail, in which case their reservations are returned.

import { DatacenterToken, definePlugin, DirectSegments, Host, MigrationService, Placement, Vm, type MigrationEngine } from 'virtlab';
import type { Options } from './options';

type Region = [number, number];

export default definePlugin<Options>((api) => {
  const o = api.options;
  /** Per host: free regions as [start, length] in granules, sorted by start. */
  let free = new Map<number, Region[]>();
  const segments = new Map<number, [number, number, number]>(); // vm → [host, start, length]
  /** VMs being moved to open a region: vm → [destination host, start, length, migration id]. */
  let moving = new Map<number, [number, number, number, number]>();
  /** VMs that found no single region on arrival, and those a defragmentation placed afterwards. */
  let refused = new Set<number>();
  let rescued = new Set<number>();
  /** VMs waiting for a defragmentation to finish. */
  let waiting = new Set<number>();
  /** Every VM that asked for a place. */
  let seen = new Set<number>();
  const fitRatio = api.gauge('placement.contiguous.vms-in-one-segment', 'ratio', 'Share of arrived VMs that got one contiguous segment on arrival or after a defragmentation.');
  const largest = api.gauge('placement.contiguous.largest-free', 'bytes', 'Largest free contiguous region over all hosts.');
  const runs = api.gauge('placement.contiguous.free-regions', 'count', 'Free regions over all hosts (more means more fragmented).');
  const refusedGauge = api.gauge('placement.contiguous.refused-by-fragmentation', 'VMs', 'VMs that fit no single region on arrival although a host had the memory free.');
  const defragMigrations = api.counter('placement.contiguous.defrag-migrations', 'migrations', 'Live migrations requested to open a contiguous region.');
  const defragBytes = api.counter('placement.contiguous.defrag-bytes', 'bytes', 'Memory of the VMs moved to open contiguous regions.');
  const granules = (bytes: number) => Math.ceil(bytes / o.granule);

  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const H = sim.world.store(Host);
    for (const h of sim.services.get(DatacenterToken).hosts) free.set(h, [[0, Math.floor(H.memory[h] / o.granule)]]);
  });

  /** Takes [start, start+len) out of a host's free regions (it must lie inside one). */
  const take = (h: number, start: number, len: number) => {
    const regions = free.get(h)!;
    const i = regions.findIndex(([s, l]) => s <= start && start + len <= s + l);
    const [s, l] = regions[i];
    const parts: Region[] = [];
    if (start > s) parts.push([s, start - s]);
    if (start + len < s + l) parts.push([start + len, s + l - start - len]);
    regions.splice(i, 1, ...parts);
  };
  /** Gives a region back, merged with its neighbours. */
  const give = (h: number, start: number, len: number) => {
    const regions = free.get(h)!;
    regions.push([start, len]);
    regions.sort((a, b) => a[0] - b[0]);
    for (let i = regions.length - 1; i > 0; i--) {
      if (regions[i - 1][0] + regions[i - 1][1] === regions[i][0]) {
        regions[i - 1][1] += regions[i][1];
        regions.splice(i, 1);
      }
    }
  };
  const cpuFits = (h: number, vm: number, extra = 0) => {
    const H = api.sim.world.store(Host);
    return H.allocatedVcpus[h] + extra + api.sim.world.store(Vm).vcpus[vm] <= H.cores[h] * o.cpuOvercommit;
  };

  /**
   * Opens a region of `need` granules on some host by moving the VMs resident in the
   * cheapest window elsewhere. Returns false if no window can be emptied.
   */
  const defragment = (vm: number, need: number, engine: MigrationEngine): boolean => {
    const sim = api.sim;
    const V = sim.world.store(Vm);
    const H = sim.world.store(Host);
    const hosts = sim.services.get(DatacenterToken).hosts;
    let best: { cost: number; movers: Array<[number, number, number]> } | null = null;
    for (const h of hosts) {
      if (!cpuFits(h, vm)) continue;
      const size = Math.floor(H.memory[h] / o.granule);
      const resident = [...segments].filter(([v, [sh]]) => sh === h && !moving.has(v) && V.host[v] === h);
      // Candidate windows start where a free region or a resident segment starts.
      const starts = new Set<number>([...free.get(h)!.map(([s]) => s), ...resident.map(([, [, s]]) => s)]);
      for (const start of starts) {
        if (start + need > size) continue;
        const inWindow = resident.filter(([, [, s, l]]) => s < start + need && s + l > start);
        // A window that cuts through a reservation or an in-flight move cannot be emptied.
        if ([...moving.values()].some(([mh, s, l]) => mh === h && s < start + need && s + l > start)) continue;
        const cost = inWindow.reduce((n, [, [, , l]]) => n + l, 0);
        if (best && cost >= best.cost) continue;
        // Every VM in the window needs a region on another host (first fit, with what the earlier ones take).
        const trial = new Map([...free].map(([k, r]) => [k, r.map((x) => [...x] as Region)]));
        const movers: Array<[number, number, number]> = [];
        const extraCpu = new Map<number, number>();
        let ok = true;
        for (const [v, [, , l]] of inWindow) {
          let placed = false;
          for (const d of hosts) {
            if (d === h || !cpuFits(d, v, extraCpu.get(d) ?? 0)) continue;
            const r = trial.get(d)!;
            const i = r.findIndex(([, len]) => len >= l);
            if (i < 0) continue;
            movers.push([v, d, r[i][0]]);
            r[i] = [r[i][0] + l, r[i][1] - l];
            extraCpu.set(d, (extraCpu.get(d) ?? 0) + V.vcpus[v]);
            placed = true;
            break;
          }
          if (!placed) {
            ok = false;
            break;
          }
        }
        if (ok && movers.length) best = { cost, movers };
      }
    }
    if (!best) return false;
    for (const [v, d, start] of best.movers) {
      const len = segments.get(v)![2];
      take(d, start, len);
      const id = engine.request(v, d);
      moving.set(v, [d, start, len, id]);
      defragMigrations.add();
      defragBytes.add(V.memory[v]);
    }
    return true;
  };

  api.provide(Placement, {
    useValue: {
      choose(vm) {
        const sim = api.sim;
        const V = sim.world.store(Vm);
        const need = granules(V.memory[vm]);
        let fragmented = false;
        seen.add(vm);
        for (const h of sim.services.get(DatacenterToken).hosts) {
          if (!cpuFits(h, vm)) continue;
          const regions = free.get(h)!;
          const i = regions.findIndex(([, len]) => len >= need);
          if (i < 0) {
            if (regions.reduce((n, [, len]) => n + len, 0) >= need) fragmented = true;
            continue;
          }
          const [start, len] = regions[i];
          if (len === need) regions.splice(i, 1);
          else regions[i] = [start + need, len - need];
          segments.set(vm, [h, start, need]);
          if (waiting.delete(vm)) rescued.add(vm);
          return h;
        }
        if (fragmented) refused.add(vm);
        // A defragmentation for this VM is under way while VMs are moving; otherwise start one.
        if (fragmented && o.defragment && !(waiting.has(vm) && moving.size)) {
          const engine = sim.services.tryGet(MigrationService);
          if (!engine) throw new Error('placement.contiguous: defragment is on, but no migration method (migration.precopy or migration.postcopy) is selected');
          if (defragment(vm, need, engine)) waiting.add(vm);
        }
        return 0;
      },
      capacityChanged(host) {
        const V = api.sim.world.store(Vm);
        // A VM that left the host gives its segment back (merged with its neighbours).
        for (const [vm, [h, start, len]] of [...segments]) {
          if (h !== host || V.host[vm] === host) continue;
          segments.delete(vm);
          give(h, start, len);
        }
        // A VM that landed where a defragmentation reserved room takes its reservation.
        for (const [vm, [d, start, len]] of [...moving]) {
          if (d !== host || V.host[vm] !== d) continue;
          moving.delete(vm);
          segments.set(vm, [d, start, len]);
        }
      },
    },
  });

  api.provide(DirectSegments, {
    useValue: {
      segmentOf(vm) {
        const s = segments.get(vm);
        if (!s) return null;
        const perGranule = o.granule / 4096;
        return { host: s[0], base: Math.floor(s[1] * perGranule), frames: Math.floor(s[2] * perGranule) };
      },
    },
  });

  api.addSystem({
    name: `${api.id}/failed-moves`,
    phase: 'control',
    run(sim) {
      if (!moving.size) return;
      // A failed migration leaves the VM where it was, and a VM that departed moves no
      // more: their reservations are returned.
      const records = sim.services.get(MigrationService).all();
      const V = sim.world.store(Vm);
      for (const [vm, [d, start, len, id]] of [...moving]) {
        if (records[id]?.success !== false && V.host[vm]) continue;
        moving.delete(vm);
        give(d, start, len);
      }
    },
  });

  api.addSystem({
    name: `${api.id}/gauges`,
    phase: 'metrics',
    run(sim) {
      if (!sim.sampling) return;
      let big = 0;
      let n = 0;
      for (const regions of free.values()) {
        n += regions.length;
        for (const [, len] of regions) big = Math.max(big, len);
      }
      largest.set(big * o.granule);
      runs.set(n);
      refusedGauge.set(refused.size);
      const missed = [...refused].filter((v) => !rescued.has(v)).length;
      fitRatio.set(seen.size ? (seen.size - missed) / seen.size : 1);
    },
  });

  api.persist('segments', {
    save: () => ({ free: [...free.entries()], segments: [...segments.entries()], moving: [...moving], refused: [...refused], rescued: [...rescued], waiting: [...waiting], seen: [...seen] }),
    load: (d) => {
      const s = d as { free: Array<[number, Region[]]>; segments: Array<[number, [number, number, number]]>; moving: Array<[number, [number, number, number, number]]>; refused: number[]; rescued: number[]; waiting: number[]; seen: number[] };
      free = new Map(s.free.map(([h, r]) => [h, r.map((x) => [...x] as Region)]));
      segments.clear();
      for (const [k, v] of s.segments) segments.set(k, [...v]);
      moving = new Map(s.moving.map(([k, v]) => [k, [...v]]));
      refused = new Set(s.refused);
      rescued = new Set(s.rescued);
      waiting = new Set(s.waiting);
      seen = new Set(s.seen);
    },
  });
});
