// dbt.interpreter: provides the ExecutionEngine service backed by the RISC-V
// interpreter of core/models/riscv. Each started guest is a GuestProcess, wired to the
// simulation's syscall and trap hooks; this module only adapts it to the engine
// contract (core/models/cpu/engine.ts).

import { definePlugin, ExecutionEngine, GuestProcess, type GuestInstance } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const engine: ExecutionEngine = {
    id: api.id,
    start(launch) {
      const proc = new GuestProcess({ ...launch, hooks: api.hooks.cpu });
      proc.load(launch.elf);
      const instance: GuestInstance = {
        run: (budget) => proc.run(budget),
        get instructions() {
          return proc.instructions;
        },
        get chargedNs() {
          return proc.chargedNs;
        },
        counters: () => ({ decodedPages: proc.cpu.decodedPages, codeInvalidations: proc.cpu.invalidations, fusedPairs: proc.cpu.fusedPairs }),
        syscalls: () => proc.syscallCounts,
        unimplemented: () => proc.unimplemented,
        save: () => proc.saveState(),
        load: (s) => proc.loadState(s),
      };
      return instance;
    },
  };
  api.provide(ExecutionEngine, { useValue: engine });
});
