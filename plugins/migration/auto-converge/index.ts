// migration.auto-converge: turns on guest throttling in the migration engine: when a
// round ends with more bytes dirtied than half of what it sent, the guest's speed
// drops by the throttle (20%, then 10% more per trigger), which lowers its dirty rate.

import { definePlugin, MigrationService } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const o = api.options;
    sim.services.get(MigrationService).tuning.autoConverge = { enabled: true, initial: o.initial, increment: o.increment, trigger: o.trigger };
  });
});
