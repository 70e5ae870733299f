// migration.compress: turns on multithreaded compression in the migration engine. The
// compression ratio is the page-class mix weighted by each class's ratio (random pages
// do not compress); a migration sends at most threads × throughput × ratio bytes per
// second, and its threads are charged to the source host's cores while it runs.

import { definePlugin, MigrationService } from 'virtlab';
import type { Options } from './options';

/** The compressed size over the original size of a mix of page classes. */
export function mixRatio(classes: Options['pageClasses'], ratios: Options['classRatios']): number {
  const shares = { code: classes.code ?? 0, data: classes.data ?? 0, random: classes.random ?? 0 };
  const total = shares.code + shares.data + shares.random;
  if (!total) return ratios.data ?? 1;
  return (shares.code * (ratios.code ?? 1) + shares.data * (ratios.data ?? 1) + shares.random * (ratios.random ?? 1)) / total;
}

export default definePlugin<Options>((api) => {
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const o = api.options;
    sim.services.get(MigrationService).tuning.compression = {
      enabled: true,
      threads: o.threads,
      ratio: mixRatio(o.pageClasses, o.classRatios),
      threadBytesPerSecond: o.threadThroughput,
    };
  });
});
