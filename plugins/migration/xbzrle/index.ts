// migration.xbzrle: turns on XBZRLE delta encoding in the migration engine. Pages
// re-dirtied after the first round are sent as deltas when they hit the cache; the hit
// rate is the cache size over the dirty set, so a large dirty set sees little gain.

import { definePlugin, MigrationService } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    sim.services.get(MigrationService).tuning.xbzrle = { enabled: true, cacheBytes: api.options.cacheSize, deltaRatio: api.options.deltaRatio };
  });
});
