// placement.contiguous: places each VM in one contiguous region of a host's physical
// memory, as direct segments (Compromis) need. Each host's memory is a list of free
// regions in granules; a VM takes the first region, in rack order, that holds it
// whole, and the region's remainder stays free. A VM that fits no region is refused,
// even where the host's total free memory would suffice: that is fragmentation, and
// the plugin reports it. The region it picks is the VM's direct segment: it is
// provided as DirectSegments, and the MMU (mmu.compromis) translates into it.

import { DatacenterToken, definePlugin, DirectSegments, Host, Placement, Vm } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const o = api.options;
  /** Per host: free regions as [start, length] in granules, sorted by start. */
  let free = new Map<number, Array<[number, number]>>();
  const segments = new Map<number, [number, number, number]>(); // vm → [host, start, length]
  let refusedByFragmentation = 0;
  const fitRatio = api.gauge('placement.contiguous.vms-in-one-segment', 'ratio', 'Share of placed-or-refused VMs that got a single contiguous segment.');
  const largest = api.gauge('placement.contiguous.largest-free', 'bytes', 'Largest free contiguous region over all hosts.');
  const runs = api.gauge('placement.contiguous.free-regions', 'count', 'Free regions over all hosts (more means more fragmented).');
  const granules = (bytes: number) => Math.ceil(bytes / o.granule);

  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const H = sim.world.store(Host);
    for (const h of sim.services.get(DatacenterToken).hosts) free.set(h, [[0, Math.floor(H.memory[h] / o.granule)]]);
  });

  api.provide(Placement, {
    useValue: {
      choose(vm) {
        const sim = api.sim;
        const H = sim.world.store(Host);
        const V = sim.world.store(Vm);
        const need = granules(V.memory[vm]);
        let fragmented = false;
        for (const h of sim.services.get(DatacenterToken).hosts) {
          if (H.allocatedVcpus[h] + V.vcpus[vm] > H.cores[h] * o.cpuOvercommit) continue;
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
          return h;
        }
        if (fragmented) refusedByFragmentation++;
        return 0;
      },
      capacityChanged(host) {
        // A VM that left the host gives its segment back (merged with its neighbours).
        const V = api.sim.world.store(Vm);
        for (const [vm, [h, start, len]] of [...segments]) {
          if (h !== host || V.host[vm] === host) continue;
          segments.delete(vm);
          const regions = free.get(h)!;
          regions.push([start, len]);
          regions.sort((a, b) => a[0] - b[0]);
          for (let i = regions.length - 1; i > 0; i--) {
            if (regions[i - 1][0] + regions[i - 1][1] === regions[i][0]) {
              regions[i - 1][1] += regions[i][1];
              regions.splice(i, 1);
            }
          }
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
      const placed = segments.size;
      fitRatio.set(placed + refusedByFragmentation ? placed / (placed + refusedByFragmentation) : 1);
    },
  });

  api.persist('segments', {
    save: () => ({ free: [...free.entries()], segments: [...segments.entries()], refusedByFragmentation }),
    load: (d) => {
      const s = d as { free: Array<[number, Array<[number, number]>]>; segments: Array<[number, [number, number, number]]>; refusedByFragmentation: number };
      free = new Map(s.free);
      segments.clear();
      for (const [k, v] of s.segments) segments.set(k, v);
      refusedByFragmentation = s.refusedByFragmentation;
    },
  });
});
