// bench.migrate-back: when a migration succeeds, migrates the VM back to where it came
// from, until the VM has made `migrations` migrations. The next migration starts at the
// instant the previous one ended (inside the network's step), so a run of many
// migrations advances from event to event; the speed benchmarks of tools/simgrid use
// it to measure migrations per wall second in steady state.

import { definePlugin, MigrationService } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const made = new Map<number, number>();
  api.hooks.migration.end.tap(api.id, (e) => {
    if (!e.success) return;
    const n = (made.get(e.vm) ?? 0) + 1;
    made.set(e.vm, n);
    if (n < api.options.migrations) api.sim.services.get(MigrationService).request(e.vm, e.src);
  });
  api.persist('made', {
    save: () => [...made.entries()].sort((a, b) => a[0] - b[0]),
    load: (d) => {
      made.clear();
      for (const [vm, n] of d as Array<[number, number]>) made.set(vm, n);
    },
  });
});
