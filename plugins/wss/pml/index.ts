// wss.pml: Working-set estimation from the PML dirty log: every interval, the distinct
// pages logged (written) since the last one, then their D bits are cleared and the
// VM's translations invalidated. Blind to pages that are only read. The interval
// clock, series and results file are shared (../common.ts).

import { definePlugin, DirtyLog } from 'virtlab';
import { registerEstimator } from '../common';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerEstimator(api, () => {
    const log = api.sim.services.get(DirtyLog);
    if (log.kind === 'write-protect') throw new Error(`wss.pml counts a hardware log: select dirty-log.pml (or dirty-log.prl), not dirty-log.${log.kind}`);
    const clients = new Map<number, number>();
    const hv = api.counter('wss.pml.hypervisor-ns', 'ns', 'Hypervisor time spent draining logs and clearing D bits for wss.pml.');
    return {
      begin(vm) {
        clients.set(vm, log.open(vm, api.id));
      },
      sample(vm) {
        const c = clients.get(vm)!;
        const pages = log.dirtyPages(c);
        hv.add(log.rearm(c));
        return pages;
      },
    };
  });
});
