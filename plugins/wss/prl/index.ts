// wss.prl: Working-set estimation from the PRL reference log: every interval, the
// distinct pages logged (read or written) since the last one, then their A and D bits
// are cleared and the VM's translations invalidated. The interval clock, series and
// results file are shared (../common.ts).

import { definePlugin, DirtyLog } from 'virtlab';
import { registerEstimator } from '../common';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerEstimator(api, () => {
    const log = api.sim.services.get(DirtyLog);
    const clients = new Map<number, number>();
    const hv = api.counter('wss.prl.hypervisor-ns', 'ns', 'Hypervisor time spent draining logs and clearing A/D bits for wss.prl.');
    return {
      begin(vm) {
        // open() refuses a provider that does not log reads, naming dirty-log.prl.
        clients.set(vm, log.open(vm, api.id, true));
      },
      sample(vm) {
        const c = clients.get(vm)!;
        const pages = log.accessedPages(c);
        hv.add(log.rearm(c));
        return pages;
      },
    };
  });
});
