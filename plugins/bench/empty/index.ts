// bench.empty: empty systems in every phase and empty tick taps. A simulation with
// only this plugin measures what the engine itself costs per tick, so that plugin
// authors can tell their own cost from the framework's.

import { definePlugin, PHASES } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const ticks = api.counter('bench.empty.ticks', 'ticks', 'Ticks seen by the empty systems.');
  for (const phase of PHASES) {
    for (let i = 0; i < api.options.systemsPerPhase; i++) {
      api.addSystem({ name: `${api.id}/${phase}-${i}`, phase, run: () => {} });
    }
  }
  api.addSystem({ name: `${api.id}/count`, phase: 'metrics', run: () => ticks.add() });
  if (api.options.tapTicks) {
    api.hooks.lifecycle.beforeTick.tap(api.id, () => {});
    api.hooks.lifecycle.afterTick.tap(api.id, () => {});
  }
});
