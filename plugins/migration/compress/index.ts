// migration.compress: turns on multithreaded compression in the migration engine:
// pages shrink by the ratio, and a migration sends at most threads × throughput ×
// ratio bytes per second, whatever the network would allow.

import { definePlugin, MigrationService } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const o = api.options;
    sim.services.get(MigrationService).tuning.compression = { enabled: true, threads: o.threads, ratio: o.ratio, threadBytesPerSecond: o.threadThroughput };
  });
});
