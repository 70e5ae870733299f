// An ExecutionEngine backed by a translator: what the dbt.* translator plugins
// provide. Each started guest is a GuestProcess whose executor is a DbtRuntime, so
// the process's system calls, limits, faults and snapshots are the interpreter's,
// and only the execution of ordinary instructions differs.

import type { ExecutionEngine, GuestInstance, GuestLaunch } from '../cpu/engine';
import type { Hooks } from '../../engine/hooks';
import { GuestProcess } from '../riscv/process';
import { DbtRuntime, type TranslatedUnit, type Translator } from './runtime';

export interface TranslatedEngineOptions {
  readonly id: string;
  /** A fresh translator for each guest (it may keep per-guest state). */
  readonly translator: (proc: GuestProcess) => Translator;
  /**
   * The simulation's hooks: every translated unit fires hooks.cpu.blockTranslated, and
   * the guest's system calls and traps fire hooks.cpu.syscall and hooks.cpu.trap.
   */
  readonly hooks?: Hooks;
}

export function translatedEngine(o: TranslatedEngineOptions): ExecutionEngine {
  return {
    id: o.id,
    start(launch: GuestLaunch): GuestInstance {
      const proc = new GuestProcess({ ...launch, hooks: o.hooks?.cpu });
      proc.load(launch.elf);
      const hooks = o.hooks;
      const onTranslated = hooks
        ? (u: TranslatedUnit) =>
            hooks.cpu.blockTranslated.call({
              vcpu: 0,
              guestStart: u.guestStart,
              guestBytes: u.guestBytes,
              guestInstructions: u.guestInstructions,
              hostBytes: u.hostBytes,
              translateNs: u.translateMs * 1e6,
              kind: u.kind,
            })
        : undefined;
      const runtime = new DbtRuntime(proc, o.translator(proc), { hostNow: launch.hostNow, onTranslated, compiler: launch.backgroundCompiler });
      proc.executor = runtime;
      return {
        run: (budget) => proc.run(budget),
        get instructions() {
          return proc.instructions;
        },
        get chargedNs() {
          return proc.chargedNs;
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
