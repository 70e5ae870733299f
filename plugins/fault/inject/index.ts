// fault.inject: fails the destination host of a live migration, or the network link
// between its hosts, at a simulated time the scenario gives. The migration engine
// decides what the failure costs (MigrationEngine.fail): a VM still on its source
// (pre-copy rounds or the stop-and-copy) survives and the migration is aborted; a VM
// in post-copy, whose memory is split between the hosts, is lost. This is the risk
// against which post-copy's speed, and AdaMig's switch to it, are judged.
//
// The failure is processed in the control phase of the step that contains its time,
// before that step's transfer, and stamped with its own time. The system is
// event-driven: its next event is the start of the tick that holds the next failure,
// so a step ends there and the failure is processed at the start of that tick, as
// when stepping tick by tick.

import { definePlugin, MigrationService } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const failures = api.options.failures;
  /** Failures already injected, by index (saved in snapshots). */
  const done = new Uint8Array(failures.length);
  const injected = api.counter('fault.injected', 'failures', 'Failures injected that hit a migration in progress.');
  api.addSystem({
    name: `${api.id}/inject`,
    phase: 'control',
    run(sim) {
      const end = sim.timeNs + sim.stepNs;
      for (let i = 0; i < failures.length; i++) {
        const f = failures[i];
        if (done[i] || f.at >= end) continue;
        done[i] = 1;
        const engine = sim.services.get(MigrationService);
        const all = engine.all();
        if (f.migration >= all.length) throw new Error(`fault.inject: failures[${i}] names migration ${f.migration}, but only ${all.length} migrations had started by ${f.at / 1e9} s`);
        const targets = f.migration >= 0 ? [f.migration] : all.map((m) => m.id);
        for (const id of targets) if (engine.fail(id, f.target, Math.max(f.at, sim.timeNs))) injected.add();
      }
    },
    nextEventNs(sim) {
      let next = Infinity;
      for (let i = 0; i < failures.length; i++) if (!done[i] && failures[i].at < next) next = failures[i].at;
      return Number.isFinite(next) ? Math.floor(next / sim.dtNs) * sim.dtNs : Infinity;
    },
  });
  api.persist('done', { save: () => [...done], load: (d) => done.set(d as number[]) });
});
