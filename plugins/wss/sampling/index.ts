// wss.sampling: VMware-style statistical working-set sampling: every interval, N
// random pages of the VM are invalidated; a page touched during the interval faults
// once (a hidden fault that costs the vCPU) and is counted; the estimate is the
// touched share of the sample times the VM's memory. The interval clock, series and
// results file are shared (../common.ts).

import { definePlugin, PageAccessStream } from 'virtlab';
import { hostGhz } from '../../dirty-log/common';
import { registerEstimator } from '../common';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const rng = api.rng();
  const n = api.options.samples;
  const faults = api.counter('wss.sampling.faults', 'faults', 'Hidden faults taken on sampled pages.');
  registerEstimator(api, () => {
    const stream = api.sim.services.get(PageAccessStream);
    /** Per VM: the invalidated (still untouched) sampled pages as a bitmap, and the touched count. */
    const state = new Map<number, { armed: Uint32Array; list: Uint32Array; touched: number }>();
    const draw = (vm: number) => {
      const s = state.get(vm)!;
      const pages = stream.pages(vm);
      s.armed.fill(0);
      s.touched = 0;
      // N distinct pages drawn uniformly (with retries on repeats: N ≪ pages).
      let k = 0;
      while (k < Math.min(n, pages)) {
        const p = rng.int(pages);
        const w = p >>> 5;
        const bit = 1 << (p & 31);
        if (s.armed[w] & bit) continue;
        s.armed[w] |= bit;
        s.list[k++] = p;
      }
    };
    return {
      begin(vm) {
        const pages = stream.pages(vm);
        state.set(vm, { armed: new Uint32Array(Math.ceil(pages / 32)), list: new Uint32Array(Math.min(n, pages)), touched: 0 });
        draw(vm);
        stream.subscribe(vm, (b) => {
          const s = state.get(vm)!;
          let hits = 0;
          for (let i = 0; i < b.count; i++) {
            const p = b.pages[i];
            const w = p >>> 5;
            const bit = 1 << (p & 31);
            if (s.armed[w] & bit) {
              s.armed[w] &= ~bit;
              hits++;
            }
          }
          if (!hits) return 0;
          s.touched += hits;
          faults.add(hits);
          return (hits * api.options.faultCycles) / hostGhz(api.sim, vm);
        });
      },
      sample(vm) {
        const s = state.get(vm)!;
        const pages = stream.pages(vm);
        const est = (s.touched / s.list.length) * pages;
        draw(vm);
        return est;
      },
      save: () => [...state].map(([vm, s]) => ({ vm, armed: s.armed, list: s.list, touched: s.touched })),
      load(data) {
        for (const x of data as Array<{ vm: number; armed: Uint32Array; list: Uint32Array; touched: number }>) {
          const s = state.get(x.vm)!;
          s.armed.set(x.armed);
          s.list.set(x.list);
          s.touched = x.touched;
        }
      },
    };
  });
});
