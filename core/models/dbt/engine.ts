// An ExecutionEngine backed by a translator: what the dbt.* translator plugins
// provide. Each started guest is a GuestProcess whose executor is a DbtRuntime, so
// the process's system calls, limits, faults and snapshots are the interpreter's,
// and only the execution of ordinary instructions differs.

import type { ExecutionEngine, GuestInstance, GuestLaunch } from '../cpu/engine';
import type { HostCodeReport } from './hostcode/model';
import type { Hooks } from '../../engine/hooks';
import { GuestProcess } from '../riscv/process';
import { DbtRuntime, type TranslatedUnit, type Translator } from './runtime';
import { HostCodeModel, hostCodeCounters } from './hostcode/model';
import type { RegMap } from './hostcode/regmap';
import type { HostCodeProfile } from './hostcode/profile';
import { systemEngine, type SystemTranslator, type TranslationProfile } from './system-runtime';
import type { GuestMemory } from '../riscv/memory';
import type { HartEngine } from '../riscv/system/machine';

/** What a translator translates from: the guest's memory, and whether a memory model watches every access (timing mode). */
export interface TranslationTarget {
  readonly mem: GuestMemory;
  readonly timing: boolean;
}

export interface TranslatedEngineOptions {
  readonly id: string;
  /**
   * A fresh translator for each guest (it may keep per-guest state), or for a
   * translation server's mirror of a guest's memory (remote.ts).
   */
  readonly translator: (target: TranslationTarget) => Translator;
  /**
   * The simulation's hooks: every translated unit fires hooks.cpu.blockTranslated, and
   * the guest's system calls and traps fire hooks.cpu.syscall and hooks.cpu.trap.
   */
  readonly hooks?: Hooks;
  /**
   * The register-mapping strategy of the host code model (a `dbt.regmap` plugin), if
   * the simulation has one: the engine then keeps the IR of the units it installs and
   * adds the modelled host code of the run to its counters (hostcode/model.ts).
   */
  readonly regmap?: () => RegMap | undefined;
  /** The translator of full-system code (system-runtime.ts), if the plugin has one: a fresh one per machine. */
  readonly systemTranslator?: () => SystemTranslator;
}

/** A guest run by a translator with a host code model (a `dbt.regmap` plugin loaded). */
export interface ModelledGuestInstance extends GuestInstance {
  /** The modelled host code of the run so far under any register map and host profile. */
  hostCode(regmap: RegMap, host?: HostCodeProfile): HostCodeReport;
}

/** The host code model of a guest's run, if its engine has one. */
export function hostCodeOf(instance: GuestInstance): ModelledGuestInstance['hostCode'] | undefined {
  return (instance as Partial<ModelledGuestInstance>).hostCode;
}

/** An engine whose translator can also run in a translation server (remote.ts), over a mirror of the guest's memory. */
export interface RemoteCapableEngine extends ExecutionEngine {
  readonly remoteTranslator: (mem: GuestMemory) => Translator;
}

/** The translator a translation server runs for this engine, if it has one. */
export function remoteTranslatorOf(engine: ExecutionEngine): RemoteCapableEngine['remoteTranslator'] | undefined {
  return (engine as Partial<RemoteCapableEngine>).remoteTranslator;
}

/**
 * A translating engine that also runs the privileged hart of a full-system machine
 * (virtlab boot). The contract lives here, not in cpu/engine.ts, because the hart's
 * engine interface belongs to the RISC-V models, which themselves depend on cpu/.
 */
export interface SystemCapableEngine extends ExecutionEngine {
  readonly system: (options: { readonly hostNow?: () => number }) => HartEngine;
}

/** The full-system form of an engine, if it has one; absent, the hart's own interpreter runs the machine. */
export function systemEngineOf(engine: ExecutionEngine): SystemCapableEngine['system'] | undefined {
  return (engine as Partial<SystemCapableEngine>).system;
}

export function translatedEngine(o: TranslatedEngineOptions): ExecutionEngine {
  const sys = o.systemTranslator;
  const engine: RemoteCapableEngine = {
    id: o.id,
    // Never in timing mode: a translation server serves exec, which has no memory model.
    remoteTranslator: (mem: GuestMemory) => o.translator({ mem, timing: false }),
    ...(sys ? { system: (options: { readonly hostNow?: () => number }) => systemEngine(o.id, sys, options) } : {}),
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
      const regmap = o.regmap?.();
      const model = regmap ? new HostCodeModel() : undefined;
      let translator = o.translator({ mem: proc.mem, timing: !!proc.options.onMemoryAccess });
      if (model) {
        // Observe the units after the translator's passes; what is compiled is unchanged.
        const inner = translator;
        translator = Object.assign(Object.create(inner) as Translator, {
          // The model weighs each one-block unit by how often its block ran (its back edges to itself included).
          emitOptions: { ...inner.emitOptions, countRuns: true },
          translate: (pc: number, rt: TranslationProfile) => {
            const units = inner.translate(pc, rt);
            for (const u of units) model.observe(u);
            return units;
          },
        });
      }
      // Not with the host code model, which observes units as they are translated.
      const codeCache = model ? undefined : launch.codeCache;
      // Not with the host code model either: it must observe every unit here.
      const remote = model ? undefined : launch.backgroundTranslator;
      const runtime = new DbtRuntime(proc, translator, { hostNow: launch.hostNow, onTranslated, compiler: launch.backgroundCompiler, translator: remote, codeCache });
      proc.executor = runtime;
      return {
        run: (budget) => proc.run(budget),
        get instructions() {
          return proc.instructions;
        },
        get chargedNs() {
          return proc.chargedNs;
        },
        counters: () => (model && regmap ? { ...runtime.report(), ...hostCodeCounters(model.evaluate(regmap, runtime.unitRuns())) } : runtime.report()),
        syscalls: () => proc.syscallCounts,
        unimplemented: () => proc.unimplemented,
        ...(codeCache ? { codeCache: { get note() { return runtime.codeCacheNote; }, save: () => runtime.saveCodeCache() } } : {}),
        ...(model ? { hostCode: (r: RegMap, host?: HostCodeProfile) => model.evaluate(r, runtime.unitRuns(), host) } : {}),
        save: () => proc.saveState(),
        load: (s) => proc.loadState(s),
      };
    },
  };
  return engine;
}
