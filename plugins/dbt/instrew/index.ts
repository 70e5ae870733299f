// dbt.instrew: the optimizing translator, after Instrew (Engelke et al.). The unit
// of translation is a region — a guest function, or whatever is statically
// reachable from an entry — formed by region.ts. Each region is lifted to IR and run
// through the pass pipeline, which is the `hooks.cpu.optimizeUnit` waterfall: this
// plugin taps its own passes there (fold at STAGE_EARLY, rle at STAGE_DEFAULT, dce
// at STAGE_LATE) and other plugins may tap theirs between them. The lowering keeps
// guest registers in WebAssembly locals across the region and maps guest calls and
// returns to host calls and returns (core/models/dbt/emit.ts). Regions and the
// callees of their direct calls are compiled together in one module; optionally
// binaryen optimizes the module first, as Instrew hands its IR to LLVM.
//
// Each pass reports its rewrite rules by name through the context's PassRules
// (core/models/dbt/pass-rules.ts), and `inject` gives them known bugs, as a testing
// aid for the bug localizer (`virtlab localize`, tools/jitloc/).

import { definePlugin, ExecutionEngine, RegMapToken, BlockLifter, IrKind as K, STAGE_DEFAULT, STAGE_EARLY, STAGE_LATE, translatedEngine, Unit, type SystemTranslator, type Translator, type TranslationProfile, type UnitPassContext } from 'virtlab';
import type { Options } from './options';
import { dce, type DceStats } from './passes/dce';
import { fold, type FoldStats } from './passes/fold';
import { rle, type RleStats } from './passes/rle';
import { formRegion } from './region';

interface Binaryen {
  readBinary(bytes: Uint8Array): { setFeatures(f: number): void; optimize(): void; emitBinary(): Uint8Array; dispose(): void };
  setOptimizeLevel(n: number): void;
  setShrinkLevel(n: number): void;
  readonly Features: Readonly<Record<string, number>>;
}

export default definePlugin<Options>((api) => {
  const o = api.options;
  const foldStats: FoldStats = { folded: 0, forwarded: 0, reused: 0, branchesResolved: 0 };
  const rleStats: RleStats = { loadsRemoved: 0, loadsForwarded: 0, checksRemoved: 0, checksCoalesced: 0 };
  const dceStats: DceStats = { removed: 0, deadWrites: 0 };
  const passes = { fold: o.fold, rle: o.rle, dce: o.dce };
  const stage = (name: string, s: number) => ({ name: `${api.id}/${name}`, stage: s });
  const inject = new Set(o.inject);
  const foldInject = { immSign: inject.has('fold:imm-sign'), shiftMask: inject.has('fold:shift-mask') };
  const rleInject = { widthAlias: inject.has('rle:width-alias') };
  const dceInject = { crossUnitStore: inject.has('dce:cross-unit-store') };
  if (o.fold) api.hooks.cpu.optimizeUnit.tap(stage('fold', STAGE_EARLY), (u, ctx) => (ctx.translator === api.id ? fold(u, foldStats, ctx.rules, foldInject) : u));
  if (o.rle) api.hooks.cpu.optimizeUnit.tap(stage('rle', STAGE_DEFAULT), (u, ctx) => (ctx.translator === api.id && ctx.enabled.rle ? rle(u, rleStats, ctx.rules, rleInject) : u));
  if (o.dce) api.hooks.cpu.optimizeUnit.tap(stage('dce', STAGE_LATE), (u, ctx) => (ctx.translator === api.id ? dce(u, dceStats, ctx.rules, dceInject) : u));

  let binaryen: Binaryen | undefined;
  if (o.binaryen) {
    api.hooks.lifecycle.bootAsync.tapPromise(api.id, async () => {
      try {
        const name = 'binaryen';
        const m = (await import(name)) as { default: Binaryen };
        binaryen = m.default;
        binaryen.setOptimizeLevel(2);
        binaryen.setShrinkLevel(0);
      } catch (e) {
        throw new Error(`dbt.instrew { binaryen: true } needs the binaryen package (npm install binaryen): ${(e as Error).message}`);
      }
    });
  }

  const binaryenOptimize = o.binaryen
    ? (bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> => {
        const m = binaryen!.readBinary(bytes);
        try {
          // What our modules use (tail calls, several results), and what V8 has, no more.
          const F = binaryen!.Features;
          m.setFeatures(F.MVP | F.MutableGlobals | F.NontrappingFPToInt | F.SignExt | F.TailCall | F.Multivalue | F.BulkMemory);
          m.optimize();
          return new Uint8Array(m.emitBinary());
        } finally {
          m.dispose();
        }
      }
    : undefined;

  let promoted = 0;
  // Without a hot threshold nothing runs before translation: there is no profile.
  const profiled = o.profileRegions && o.hotThreshold > 0 && o.region === 'function';
  /**
   * The regions for pc: its own and the callees of its direct calls, breadth first,
   * through the pass pipeline. `mapCalls`: regions follow the return addresses of their
   * calls (guest calls mapped to host calls).
   */
  const regions = (lifter: BlockLifter, pc: number, runtime: TranslationProfile, mapCalls: boolean, timing: boolean): Unit[] => {
    // Timing mode: a memory model must see every access, so no pass may remove one.
    const enabled = timing ? { ...passes, rle: false } : passes;
    const optimize = (u: Unit): Unit => {
      const ctx: UnitPassContext = { translator: api.id, kind: o.region, entry: u.entry, enabled, timing };
      const out = api.hooks.cpu.optimizeUnit.call(u, ctx);
      if (o.promoteRegisters) for (const b of out.blocks) for (const i of b.insts) if (i.k === K.GETX || i.k === K.SETX || i.k === K.GETF || i.k === K.SETF) promoted++;
      return out;
    };
    const limits = {
      maxInstructions: o.maxRegionInstructions,
      maxBlocks: o.region === 'block' ? 1 : o.maxRegionBlocks,
      followReturns: mapCalls,
      indirectTargets: (at: number) => runtime.indirectTargets(at),
      ...(profiled ? { ran: (at: number) => runtime.ranInterpreted(at), installed: (at: number) => runtime.has(at), maxRetranslated: o.maxRetranslated, closeLoops: o.closeLoops } : {}),
    };
    const units: Unit[] = [];
    const queue = [pc];
    const queued = new Set(queue);
    while (queue.length && units.length < o.batch) {
      const at = queue.shift()!;
      const { unit, callees } = formRegion(lifter, at, limits);
      if (units.length && unit.guestInstructions === 0) continue;
      units.push(unit);
      if (unit.guestInstructions === 0) break;
      for (const c of callees) {
        if (!queued.has(c) && !runtime.has(c) && lifter.fetchable(c)) {
          queued.add(c);
          queue.push(c);
        }
      }
    }
    return units.map((u) => (u.guestInstructions ? optimize(u) : u));
  };
  const counters = () => ({
    ...(o.fold ? { foldFolded: foldStats.folded, foldForwarded: foldStats.forwarded, foldReused: foldStats.reused, foldBranchesResolved: foldStats.branchesResolved } : {}),
    ...(o.rle ? { rleLoadsRemoved: rleStats.loadsRemoved, rleLoadsForwarded: rleStats.loadsForwarded, rleChecksRemoved: rleStats.checksRemoved, rleChecksCoalesced: rleStats.checksCoalesced } : {}),
    ...(o.dce ? { dceRemoved: dceStats.removed, dceDeadWrites: dceStats.deadWrites } : {}),
    registerAccessesPromoted: promoted,
  });
  const engine = translatedEngine({
    id: api.id,
    translator: ({ mem, timing }): Translator => {
      const lifter = new BlockLifter(mem, { maxInstructions: o.maxRegionInstructions });
      return {
        kind: o.region,
        hotThreshold: o.hotThreshold,
        emitOptions: { promote: o.promoteRegisters, mapCalls: o.mapCalls, chain: o.chain, timing },
        translate: (pc, runtime) => regions(lifter, pc, runtime, o.mapCalls, timing),
        optimize: binaryenOptimize,
        counters,
      };
    },
    // Full-system code: the same regions and passes, each region within one page of
    // guest code; guest calls stay jumps (a trap may leave a callee anywhere).
    systemTranslator: (): SystemTranslator => ({
      kind: o.region,
      hotThreshold: o.hotThreshold,
      emitOptions: { promote: o.promoteRegisters, mapCalls: false, chain: o.chain },
      translate: (pc, lifter, runtime) => regions(lifter, pc, runtime, false, false),
      optimize: binaryenOptimize,
      counters,
    }),
    hooks: api.hooks,
    regmap: () => api.sim.services.tryGet(RegMapToken),
  });
  api.provide(ExecutionEngine, { useValue: engine });
});
