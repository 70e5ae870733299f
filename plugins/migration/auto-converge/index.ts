// migration.auto-converge: QEMU's auto-converge as a migration add-on. When a pre-copy
// round ends having seen the guest dirty more than `trigger` of what the round sent
// (QEMU compares dirtied and transferred bytes the same way), the guest's vCPUs are
// throttled: first by `initial` (QEMU cpu-throttle-initial, 20%), then by `increment`
// more at each further trigger (cpu-throttle-increment, 10%), up to 99%. A throttled
// guest runs slower and so dirties fewer pages per second, which lets the rounds
// shrink. The throttle stays until the migration ends (also through post-copy, if a
// controller switches); every change is logged with its reason.

import { definePlugin, registerMigrationAddon, type MigrationAddon } from 'virtlab';
import type { Options } from './options';

/** Per-migration state: the policy (retunable) and the current throttle. */
export interface AutoConvergeState {
  initial: number;
  increment: number;
  trigger: number;
  /** Share of the guest's time taken away; 0 until the first trigger. */
  throttle: number;
}

export function autoConvergeAddon(id: string, initial: AutoConvergeState): MigrationAddon<AutoConvergeState> {
  return {
    id,
    initial,
    roundEnd(s, e) {
      if (e.stats.dirtiedPages * e.params.pageSize <= s.trigger * e.stats.bytes) return;
      s.throttle = s.throttle === 0 ? s.initial : Math.min(0.99, s.throttle + s.increment);
      const what = s.trigger === 0.5 ? 'half' : `${Math.round(s.trigger * 100)}%`;
      e.log(`throttle to ${Math.round(s.throttle * 100)}%`, `dirtied more than ${what} of what the round sent`);
    },
    speed: (s) => 1 - s.throttle,
  };
}

export default definePlugin<Options>((api) => {
  const o = api.options;
  registerMigrationAddon(api, autoConvergeAddon(api.id, { initial: o.initial, increment: o.increment, trigger: o.trigger, throttle: 0 }));
});
