// An ExecutionEngine backed by a translator: what the dbt.* translator plugins
// provide. Each started guest is a GuestProcess whose executor is a DbtRuntime, so
// the process's system calls, limits, faults and snapshots are the interpreter's,
// and only the execution of ordinary instructions differs.

import type { ExecutionEngine, GuestInstance, GuestLaunch } from '../cpu/engine';
import { GuestProcess } from '../riscv/process';
import { DbtRuntime, type TranslatedUnit, type Translator } from './runtime';

export interface TranslatedEngineOptions {
  readonly id: string;
  /** A fresh translator for each guest (it may keep per-guest state). */
  readonly translator: (proc: GuestProcess) => Translator;
  /** Called for every translated unit (the plugin fires its hooks from here). */
  readonly onTranslated?: (u: TranslatedUnit) => void;
}

export function translatedEngine(o: TranslatedEngineOptions): ExecutionEngine {
  return {
    id: o.id,
    start(launch: GuestLaunch): GuestInstance {
      const proc = new GuestProcess({ ...launch });
      proc.load(launch.elf);
      const runtime = new DbtRuntime(proc, o.translator(proc), { hostNow: launch.hostNow, onTranslated: o.onTranslated });
      proc.executor = runtime;
      return {
        run: (budget) => proc.run(budget),
        get instructions() {
          return proc.instructions;
        },
        counters: () => runtime.report(),
        syscalls: () => proc.syscallCounts,
        unimplemented: () => proc.unimplemented,
        save: () => proc.saveState(),
        load: (s) => proc.loadState(s),
      };
    },
  };
}
