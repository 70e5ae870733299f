// dbt.block-translator: the QEMU-TCG-like baseline translator. Each guest basic block
// is lifted to IR and lowered to one WebAssembly function with the guest registers
// left in the CPU state in memory; blocks leave through their chain slots (direct
// branches, patched once the target is translated) or the dispatcher (indirect
// jumps and returns). Every translated block fires hooks.cpu.blockTranslated.
//
// Blocks are compiled in batches: on a miss, the missing block and the untranslated
// blocks statically reachable from it (breadth first) go into one WebAssembly module,
// because creating a module costs V8 far more than compiling a block's function
// (about 200 µs against 8 µs here). `batch: 1` compiles strictly one block at a time.

import { BlockLifter, definePlugin, RegMapToken, directTargets, ExecutionEngine, translatedEngine, Unit, type SystemTranslator, type Translator } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const o = api.options;
  /** The missing block and the untranslated blocks statically reachable from it, breadth first. */
  const batch = (lifter: BlockLifter, pc: number, runtime: { has(pc: number): boolean }): Unit[] => {
    const units: Unit[] = [];
    const queued = new Set<number>([pc]);
    const queue = [pc];
    while (queue.length && units.length < o.batch) {
      const at = queue.shift()!;
      const unit = new Unit(at);
      const block = lifter.lift(unit, at);
      if (units.length && block.count === 0) continue;
      units.push(unit);
      if (block.count === 0) break;
      for (const next of directTargets(block.term, true, true)) {
        if (!queued.has(next) && !runtime.has(next) && lifter.fetchable(next)) {
          queued.add(next);
          queue.push(next);
        }
      }
    }
    return units;
  };
  const engine = translatedEngine({
    id: api.id,
    translator: ({ mem, timing }): Translator => {
      const lifter = new BlockLifter(mem, { maxInstructions: o.maxBlockInstructions });
      return {
        kind: 'block',
        emitOptions: { promote: false, mapCalls: false, chain: o.chain, timing },
        translate: (pc, runtime) => batch(lifter, pc, runtime),
      };
    },
    // Full-system code: the same blocks, lifted from one page of guest code at a time
    // (the system lifter ends them before what the hart must execute).
    systemTranslator: (): SystemTranslator => ({
      kind: 'block',
      hotThreshold: o.systemHotThreshold,
      emitOptions: { promote: false, mapCalls: false, chain: o.chain },
      translate: (pc, lifter, runtime) => batch(lifter, pc, runtime),
    }),
    hooks: api.hooks,
    regmap: () => api.sim.services.tryGet(RegMapToken),
  });
  api.provide(ExecutionEngine, { useValue: engine });
});
