// wss.truth: The oracle: the exact distinct pages the workload touched in each
// interval, read from its access stream at no cost to the VM. The interval clock,
// series and results file are shared (../common.ts).

import { definePlugin, PageAccessStream } from 'virtlab';
import { registerEstimator } from '../common';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerEstimator(api, () => {
    const stream = api.sim.services.get(PageAccessStream);
    const seen = new Map<number, { bits: Uint32Array; count: number }>();
    return {
      begin(vm) {
        const s = { bits: new Uint32Array(Math.ceil(stream.pages(vm) / 32)), count: 0 };
        seen.set(vm, s);
        stream.subscribe(vm, (b) => {
          for (let i = 0; i < b.count; i++) {
            const p = b.pages[i];
            const w = p >>> 5;
            const bit = 1 << (p & 31);
            if (!(s.bits[w] & bit)) {
              s.bits[w] |= bit;
              s.count++;
            }
          }
          return 0;
        });
      },
      sample(vm) {
        const s = seen.get(vm)!;
        const n = s.count;
        s.bits.fill(0);
        s.count = 0;
        return n;
      },
      save: () => [...seen].map(([vm, s]) => ({ vm, bits: s.bits, count: s.count })),
      load(data) {
        for (const x of data as Array<{ vm: number; bits: Uint32Array; count: number }>) {
          const s = seen.get(x.vm)!;
          s.bits.set(x.bits);
          s.count = x.count;
        }
      },
    };
  });
});
