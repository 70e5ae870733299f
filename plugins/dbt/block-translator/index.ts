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

import { BlockLifter, definePlugin, ExecutionEngine, translatedEngine, Unit, type Term, type Translator } from 'virtlab';

/** Where control may go after a block, as far as its code says. */
function successors(t: Term): number[] {
  switch (t.k) {
    case 'jump':
      return [t.target];
    case 'branch':
      return [t.fall, t.taken];
    case 'call':
      return [t.target, t.ret];
    case 'icall':
      return [t.ret];
    default:
      return [];
  }
}
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const o = api.options;
  const engine = translatedEngine({
    id: api.id,
    translator: (proc): Translator => {
      const lifter = new BlockLifter(proc.mem, { maxInstructions: o.maxBlockInstructions });
      return {
        kind: 'block',
        emitOptions: { promote: false, mapCalls: false, chain: o.chain },
        translate(pc, runtime) {
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
            for (const next of successors(block.term)) {
              if (!queued.has(next) && !runtime.has(next) && lifter.fetchable(next)) {
                queued.add(next);
                queue.push(next);
              }
            }
          }
          return units;
        },
      };
    },
    onTranslated: (u) =>
      api.hooks.cpu.blockTranslated.call({
        vcpu: 0,
        guestStart: u.guestStart,
        guestBytes: u.guestBytes,
        guestInstructions: u.guestInstructions,
        hostBytes: u.hostBytes,
        translateNs: u.translateMs * 1e6,
        kind: u.kind,
      }),
  });
  api.provide(ExecutionEngine, { useValue: engine });
});
