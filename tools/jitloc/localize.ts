// Automated bug localization in the optimizing translator, after Lim and Debray
// ("Automated bug localization in JIT compilers"): from one guest program whose run
// under the optimizing translator differs from the interpreter's, find the guilty
// optimization pass and rewrite rule.
//
// 1. Divergence. The program runs under the interpreter (the oracle) and under the
//    translator; if their ends differ (registers, FP state, pc, memory, output, how
//    the program ended), a bisection over the instruction budget finds the budget at
//    which the states part. Translated code enters a basic block only when the whole
//    block fits in the budget (core/models/dbt/runtime.ts), so the states part at the
//    end of a block that computed wrongly. The failing units are those whose
//    optimization alone makes the program fail (found by splitting the set of units,
//    the one where the states parted first); each is localized on its own, the others
//    left unoptimized, so that two bugs do not blur each other.
// 2. Pass records. Every pass on hooks.cpu.optimizeUnit — the translator's own and any
//    a plugin taps, known by their tap names — is wrapped (a tapable interceptor): for
//    every unit, a digest of the IR before and after the pass, and the rewrite rules
//    it fired, reported through the PassRules contract (core/models/dbt/pass-rules.ts).
//    A pass that reports no rules is still seen, by its digests, as one component.
// 3. Delta debugging over the proof of concept: the passes whose removal makes the
//    failure disappear, then, within each, its rules.
// 4. Minimization: instructions of the failing unit are replaced by no-ops, in
//    chunks (ddmin), as long as the program still fails.
// 5. Variants. Valid mutations of the unit's guest code, in the proof of concept and
//    in its minimized form (mutate.ts; the differential fuzzer's generator seeds some
//    of them), make related programs; each runs under both engines and is labelled failing or
//    passing, with its pass records.
// 6. Spectrum ranking: Ochiai, ef / √((ef + nf)(ef + ep)), of each rule over the
//    variants (a rule covers a run when it fired in the failing unit); a pass scores
//    its best rule.
//
// Every count of runs is a real execution of the guest under one engine.

import { createHash } from 'node:crypto';
import { ExecutionEngine, Rng, ScenarioError, Simulation, type GuestInstance, type GuestStatus, type PassRules, type Unit, type UnitPassContext } from 'virtlab';
import { scenarioFromText } from '../node/testing';
import { UsageError } from '../cli/args';
import { randomProgram, TEXT } from '../node/dbt-fuzz';
import { aluPool, disassemble, fileOffset, fromPool, independent, mutable, mutateOne, NOP, readWord, unitRegisters, writeWord, type MutationKind } from './mutate';

/** Bad input to localize (exit status 2). */
export class LocalizeUsageError extends UsageError {}

export interface LocalizeOptions {
  readonly elf: Uint8Array;
  readonly programPath: string;
  /** The guest's arguments after the program. */
  readonly args?: readonly string[];
  /** The optimizing engine (default instrew). */
  readonly engine?: string;
  readonly engineOptions?: Record<string, unknown>;
  /** Other plugins to load beside it (e.g. third-party passes), by id. */
  readonly plugins?: readonly string[];
  /** Folders to find plugins in beside the repository's. */
  readonly pluginPaths?: readonly string[];
  /** Variants to generate (default 40). */
  readonly variants?: number;
  readonly seed?: number;
  /** Instructions a run may take (default 20 million). */
  readonly maxInstructions?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** What one pass did to one unit. */
export interface PassRecord {
  readonly pass: string;
  readonly before: string;
  readonly after: string;
  readonly fired: Record<string, number>;
}

/** One unit translated in a run, with what every pass did to it. */
export interface UnitRecord {
  readonly entry: number;
  readonly pcs: readonly number[];
  readonly passes: PassRecord[];
}

export interface Ranked {
  readonly name: string;
  readonly score: number;
  readonly rank: number;
  /** Failing and passing runs that covered it. */
  readonly ef: number;
  readonly ep: number;
}

export interface VariantRecord {
  readonly index: number;
  readonly mutation: string;
  readonly failing: boolean;
  /** What each pass did to the failing unit's code in this variant's run. */
  readonly passes: PassRecord[];
}

/** A pass (and its rules) found guilty by delta debugging. */
export interface Guilty {
  readonly pass: string;
  /** Its rules whose removal makes the failure disappear (empty: the pass outside its named rules). */
  readonly rules: readonly string[];
  /** Its rank in the Ochiai ranking of passes. */
  readonly rank: number;
}

/** One failing unit: a unit whose optimization alone makes the program fail, and what was learnt from it. */
export interface FailingUnit {
  readonly entry: number;
  readonly first: number;
  readonly last: number;
  readonly instructions: number;
  readonly variants: { readonly generated: number; readonly failing: number; readonly passing: number };
  readonly ranking: { readonly passes: readonly Ranked[]; readonly rules: readonly Ranked[] };
  readonly guilty: readonly Guilty[];
  readonly minimized: { readonly kept: ReadonlyArray<{ pc: number; word: number; text: string }>; readonly removed: number; readonly fired: Record<string, number> };
  readonly records: readonly VariantRecord[];
}

export interface LocalizeReport {
  readonly program: string;
  readonly engine: string;
  readonly diverged: boolean;
  readonly divergence?: {
    readonly instructions: number;
    readonly pc: number;
    readonly differences: readonly string[];
  };
  /**
   * Every failing unit (the one where the states parted first, then the others),
   * each localized on its own: its variants are labelled by runs in which only it is
   * optimized, so that a second bug elsewhere does not blur the first.
   */
  readonly units: readonly FailingUnit[];
  /** The guilty passes and rules over all failing units (delta debugging). */
  readonly guilty: readonly Guilty[];
  /** Set when switching off every pass does not remove the failure: the bug is in the lowering or runtime. */
  readonly outsidePasses: boolean;
  /**
   * Passes by their best rank in any failing unit (a pass scores its best rule
   * there), then by score: each failing unit is a localization problem of its own.
   */
  readonly ranking: { readonly passes: readonly Ranked[] };
  readonly variants: { readonly generated: number; readonly failing: number; readonly passing: number };
  readonly runs: { readonly total: number; readonly divergence: number; readonly variants: number; readonly deltaDebugging: number; readonly minimization: number };
}

/** Everything architectural at the end of a run, for comparison. */
interface Observation {
  readonly end: string;
  readonly instructions: number;
  readonly pc: number;
  readonly x: readonly number[];
  readonly f: readonly number[];
  readonly fcsr: string;
  readonly memory: string;
  readonly pages: Uint32Array;
  readonly bytes: Uint8Array;
  readonly output: string;
}

interface SavedProcess {
  hart: { x: Int32Array; f: Uint32Array; pc: number; flags: number; frm: number };
  mem: { pages: Uint32Array; bytes: Uint8Array };
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
const REG = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

/** A digest of a unit's IR: every instruction's fields and every terminator. */
export function digestUnit(u: Unit): string {
  let h = 0x811c9dc5;
  const mix = (n: number) => {
    h = Math.imul(h ^ (n | 0), 0x01000193);
  };
  for (const b of u.blocks) {
    mix(b.start);
    for (const i of b.insts) {
      mix(i.k); mix(i.op); mix(i.dst); mix(i.a); mix(i.b); mix(i.c); mix(i.lo); mix(i.hi);
      for (const r of i.reads ?? []) mix(r.value);
      for (const r of i.writes ?? []) mix(r.value);
    }
    const t = b.term as unknown as Record<string, unknown>;
    for (const key of Object.keys(t).sort()) {
      const v = t[key];
      if (typeof v === 'number') mix(v);
      else if (typeof v === 'string') for (let c = 0; c < v.length; c++) mix(v.charCodeAt(c));
      else if (Array.isArray(v)) for (const x of v) mix(x as number);
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The switches the localizer turns, read by the pass wrappers at every call. */
interface PassControl {
  disabledPasses: Set<string>;
  /** `pass rule` pairs switched off. */
  disabledRules: Set<string>;
  /** When set, the only units (by entry pc) the passes may touch. */
  onlyUnits: Set<number> | null;
  /** Units translated in the current run, when recording. */
  records: UnitRecord[] | null;
  /** Every pass seen, in pipeline order. */
  readonly seen: string[];
}

async function boot(engine: string, options: Record<string, unknown>, plugins: readonly string[], pluginPaths: readonly string[]): Promise<Simulation> {
  const id = engine.includes('.') ? engine : `dbt.${engine}`;
  const extra = plugins.map((p) => `  ${p}: {}\n`).join('');
  let resolved;
  try {
    resolved = scenarioFromText(`name: localize\npreset: minimal\nduration: 1ns\ntick: 1ns\nplugins:\n  ${id}: ${JSON.stringify(options)}\n${extra}`, {}, 'localize', [...pluginPaths]);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    const optionPath = e.path.startsWith(`plugins.${id}.`) ? e.path.slice(`plugins.${id}.`.length) : '';
    if (optionPath) throw new LocalizeUsageError(`--option ${optionPath}: ${e.problem}`, e.hint ?? `see virtlab plugins (options of ${id})`);
    const plugin = e.path.startsWith('plugins.') ? e.path.slice('plugins.'.length) : '';
    if (plugin === id) throw new LocalizeUsageError(`--engine ${engine}: ${e.problem}`, e.hint ?? 'see virtlab plugins');
    if (plugin) throw new LocalizeUsageError(`--plugin ${plugin}: ${e.problem}`, e.hint ?? 'see virtlab plugins, or give its folder with --plugin-path');
    throw new LocalizeUsageError(e.problem, e.hint);
  }
  if (!resolved.catalog.get(id)?.manifest.provides.includes('cpu.engine')) {
    const engines = resolved.catalog.providersOf('cpu.engine').map((e) => e.replace(/^dbt\./, ''));
    throw new LocalizeUsageError(`unknown execution engine '${engine}'`, `engines: ${engines.join(', ')}`);
  }
  return Simulation.create({ scenario: resolved.scenario, catalog: resolved.catalog });
}

/** Wraps every pass on hooks.cpu.optimizeUnit, now and later, to record and switch it. */
function instrument(sim: Simulation, control: PassControl): void {
  const current = new WeakMap<object, UnitRecord>();
  type PassFn = (u: Unit, ctx: UnitPassContext) => Unit;
  sim.hooks.cpu.optimizeUnit.intercept({
    register: (tap) => {
      const pass = tap.name;
      const fn = tap.fn as PassFn;
      if (!control.seen.includes(pass)) control.seen.push(pass);
      const wrapped: PassFn = (u, ctx) => {
        if (control.disabledPasses.has(pass) || (control.onlyUnits && !control.onlyUnits.has(ctx.entry))) return u;
        const fired: Record<string, number> = {};
        const rules: PassRules = {
          fire(rule) {
            if (control.disabledRules.has(`${pass} ${rule}`)) return false;
            fired[rule] = (fired[rule] ?? 0) + 1;
            return true;
          },
        };
        if (!control.records) return fn(u, { ...ctx, rules });
        let record = current.get(ctx);
        if (!record) {
          record = { entry: u.entry, pcs: [...u.pcs], passes: [] };
          current.set(ctx, record);
          control.records.push(record);
        }
        const before = digestUnit(u);
        const out = fn(u, { ...ctx, rules });
        record.passes.push({ pass, before, after: digestUnit(out), fired });
        return out;
      };
      return { ...tap, fn: wrapped };
    },
  });
}

function fnv(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex').slice(0, 16);
}

/** Runs the program under an engine for at most `budget` instructions. */
function observe(engine: ExecutionEngine, elf: Uint8Array, argv: readonly string[], budget: number): Observation {
  const rng = new Rng(1, 'localize');
  const out: Uint8Array[] = [];
  let instance: GuestInstance | undefined = undefined;
  instance = engine.start({
    elf,
    programPath: argv[0],
    argv: [...argv],
    envp: [],
    files: new Map(),
    memoryBytes: 64 * 2 ** 20,
    stackBytes: 2 ** 20,
    maxInstructions: 0,
    readStdin: () => null,
    writeStdout: (b) => void out.push(Uint8Array.from(b)),
    writeStderr: (b) => void out.push(Uint8Array.from([0xff]), Uint8Array.from(b)),
    now: () => instance!.instructions,
    randomBytes: (o) => rng.fillBytes(o),
  });
  let status: GuestStatus = { state: 'running' };
  let left = budget;
  while (left > 0 && status.state === 'running') {
    const n = Math.min(left, 50_000_000);
    const before = instance.instructions;
    status = instance.run(n);
    const done = instance.instructions - before;
    left -= Math.max(1, done);
    if (done === 0) break;
  }
  const s = instance.save() as SavedProcess;
  const end = status.state === 'exited' ? `exit ${status.exitCode}` : status.state === 'signaled' ? `signal ${status.signal}${status.fault ? ` (${status.fault.reason} at ${hex(status.fault.pc)})` : ''}` : 'running';
  const output = Buffer.concat(out).toString('latin1');
  return {
    end,
    instructions: instance.instructions,
    pc: s.hart.pc,
    x: [...s.hart.x.subarray(0, 64)],
    f: [...s.hart.f],
    fcsr: `${s.hart.flags}/${s.hart.frm}`,
    memory: fnv(s.mem.bytes) + fnv(new Uint8Array(s.mem.pages.buffer)),
    pages: s.mem.pages,
    bytes: s.mem.bytes,
    output,
  };
}

function same(a: Observation, b: Observation): boolean {
  return a.end === b.end && a.instructions === b.instructions && a.pc === b.pc && a.fcsr === b.fcsr && a.memory === b.memory && a.output === b.output && a.x.every((v, i) => v === b.x[i]) && a.f.every((v, i) => v === b.f[i]);
}

/** How the translated run (b) differs from the oracle's (a), in words. */
function differences(a: Observation, b: Observation): string[] {
  const out: string[] = [];
  if (a.end !== b.end) out.push(`end: ${a.end} (interpreter) vs ${b.end}`);
  if (a.pc !== b.pc) out.push(`pc: ${hex(a.pc)} vs ${hex(b.pc)}`);
  for (let r = 1; r < 32; r++) {
    const va = (BigInt(a.x[2 * r + 1]) << 32n) | BigInt(a.x[2 * r] >>> 0);
    const vb = (BigInt(b.x[2 * r + 1]) << 32n) | BigInt(b.x[2 * r] >>> 0);
    if (va !== vb) out.push(`x${r} (${REG[r]}): ${BigInt.asUintN(64, va).toString(16)} vs ${BigInt.asUintN(64, vb).toString(16)}`);
  }
  for (let r = 0; r < 32; r++) if (a.f[2 * r] !== b.f[2 * r] || a.f[2 * r + 1] !== b.f[2 * r + 1]) out.push(`f${r} differs`);
  if (a.fcsr !== b.fcsr) out.push(`fflags/frm: ${a.fcsr} vs ${b.fcsr}`);
  if (a.memory !== b.memory) {
    let shown = 0;
    for (let i = 0; i < a.pages.length && shown < 4; i++) {
      const j = b.pages.indexOf(a.pages[i]);
      if (j < 0) continue;
      for (let o = 0; o < 4096 && shown < 4; o += 8) {
        const pa = a.bytes.subarray(i * 4096 + o, i * 4096 + o + 8);
        const pb = b.bytes.subarray(j * 4096 + o, j * 4096 + o + 8);
        if (pa.some((v, k) => v !== pb[k])) {
          out.push(`memory at ${hex(a.pages[i] * 4096 + o)}: ${Buffer.from(pa).toString('hex')} vs ${Buffer.from(pb).toString('hex')}`);
          shown++;
        }
      }
    }
    if (!shown) out.push('memory: mapped pages differ');
  }
  if (a.output !== b.output) out.push(`output: ${JSON.stringify(a.output.slice(0, 60))} vs ${JSON.stringify(b.output.slice(0, 60))}`);
  if (a.instructions !== b.instructions) out.push(`instructions: ${a.instructions} vs ${b.instructions}`);
  return out;
}

/** Ochiai over the runs: components covered by each, and which runs failed. */
export function ochiai(runs: ReadonlyArray<{ failing: boolean; covered: ReadonlySet<string> }>, components: readonly string[]): Ranked[] {
  const failing = runs.filter((r) => r.failing).length;
  const scored = components.map((name) => {
    let ef = 0;
    let ep = 0;
    for (const r of runs) if (r.covered.has(name)) r.failing ? ef++ : ep++;
    const score = ef === 0 ? 0 : ef / Math.sqrt(failing * (ef + ep));
    return { name, score, ef, ep };
  });
  return rankByScore(scored);
}

/** Sorted by score; a rank is 1 + the number of strictly better ones (ties share). */
function rankByScore<T extends { name: string; score: number }>(xs: T[]): Array<T & { rank: number }> {
  const sorted = [...xs].sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  return sorted.map((x) => ({ ...x, rank: 1 + sorted.filter((y) => y.score > x.score + 1e-12).length }));
}

/** The component a pass's record covers: each rule it fired, or the pass itself when it changed the unit without naming a rule. */
function components(p: PassRecord): string[] {
  const rules = Object.keys(p.fired);
  if (rules.length) return rules.map((r) => `${p.pass} ${r}`);
  return p.before !== p.after ? [`${p.pass} (unnamed)`] : [];
}

export async function localize(o: LocalizeOptions): Promise<LocalizeReport> {
  const log = o.log ?? (() => {});
  const engineName = o.engine ?? 'instrew';
  const argv = [o.programPath, ...(o.args ?? [])];
  const cap = o.maxInstructions ?? 20_000_000;
  // Translate on first execution, as the differential fuzzer does, so that code run
  // once is translated code too; an explicit --option hotThreshold wins.
  const engineOptions = { hotThreshold: 0, ...(o.engineOptions ?? {}) };
  if (engineName === 'interpreter' || engineName === 'dbt.interpreter') throw new LocalizeUsageError('--engine interpreter is the oracle: localize compares an optimizing engine with it', 'for example --engine instrew');
  const control: PassControl = { disabledPasses: new Set(), disabledRules: new Set(), onlyUnits: null, records: null, seen: [] };
  const optSim = await boot(engineName, engineOptions, o.plugins ?? [], o.pluginPaths ?? []);
  instrument(optSim, control);
  const optimized = optSim.services.get(ExecutionEngine);
  const oracle = (await boot('interpreter', {}, [], [])).services.get(ExecutionEngine);

  const runs = { total: 0, divergence: 0, variants: 0, deltaDebugging: 0, minimization: 0 };
  let phase: 'divergence' | 'variants' | 'deltaDebugging' | 'minimization' = 'divergence';
  const oracleCache = new Map<string, Observation>();
  const runOracle = (elf: Uint8Array, budget: number): Observation => {
    const key = `${fnv(elf)}:${budget}`;
    let hit = oracleCache.get(key);
    if (!hit) {
      runs.total++;
      runs[phase]++;
      hit = observe(oracle, elf, argv, budget);
      oracleCache.set(key, hit);
    }
    return hit;
  };
  const runOptimized = (elf: Uint8Array, budget: number, record = false): { obs: Observation; records: UnitRecord[] } => {
    runs.total++;
    runs[phase]++;
    control.records = record ? [] : null;
    try {
      const obs = observe(optimized, elf, argv, budget);
      return { obs, records: control.records ?? [] };
    } finally {
      control.records = null;
    }
  };
  interface Switches {
    readonly passes?: Iterable<string>;
    readonly rules?: Iterable<string>;
    /** Only these units optimized (undefined: all). */
    readonly only?: Iterable<number>;
  }
  /** A run of `elf` to its end with passes, rules or units switched off: does it fail, and what fired in `unit`? */
  const trial = (elf: Uint8Array, sw: Switches, unit?: ReadonlySet<number>): { fails: boolean; fired: Map<string, number>; records: UnitRecord[] } => {
    control.disabledPasses = new Set(sw.passes ?? []);
    control.disabledRules = new Set(sw.rules ?? []);
    control.onlyUnits = sw.only ? new Set(sw.only) : null;
    try {
      const r = runOptimized(elf, cap, !!unit);
      const fired = new Map<string, number>();
      if (unit) for (const u of r.records) if (u.pcs.some((p) => unit.has(p))) for (const p of u.passes) for (const [rule, n] of Object.entries(p.fired)) fired.set(`${p.pass} ${rule}`, (fired.get(`${p.pass} ${rule}`) ?? 0) + n);
      return { fails: !same(runOracle(elf, cap), r.obs), fired, records: r.records };
    } finally {
      control.disabledPasses = new Set();
      control.disabledRules = new Set();
      control.onlyUnits = null;
    }
  };

  // 1. Divergence.
  const expected = runOracle(o.elf, cap);
  const poc = runOptimized(o.elf, cap, true);
  const base = { program: o.programPath, engine: optimized.id };
  if (same(expected, poc.obs)) {
    log("no divergence: the optimized run ends exactly as the interpreter's");
    return { ...base, diverged: false, units: [], guilty: [], outsidePasses: false, ranking: { passes: [] }, variants: { generated: 0, failing: 0, passing: 0 }, runs };
  }
  let lo = 0;
  let hi = Math.min(cap, Math.max(expected.instructions, poc.obs.instructions));
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (same(runOracle(o.elf, mid), runOptimized(o.elf, mid).obs)) lo = mid;
    else hi = mid;
  }
  const at = runOptimized(o.elf, hi, true);
  const pc = runOracle(o.elf, lo).pc;
  const divergence = { instructions: hi, pc, differences: differences(runOracle(o.elf, hi), at.obs) };
  log(`divergence after ${hi} instructions, at pc ${hex(pc)}: ${divergence.differences.slice(0, 3).join('; ')}`);

  // Failing units: those whose optimization alone makes the program fail, found by
  // splitting the set of translated units (the one where the states parted first).
  const byEntry = new Map<number, UnitRecord>();
  for (const r of poc.records) if (r.pcs.length && !byEntry.has(r.entry)) byEntry.set(r.entry, r);
  const holding = at.records.filter((r) => r.pcs.includes(pc)).at(-1) ?? poc.records.filter((r) => r.pcs.includes(pc)).at(-1);
  const order = [...byEntry.keys()].sort((x, y) => (x === holding?.entry ? -1 : y === holding?.entry ? 1 : 0));
  const found: number[] = [];
  const search = (set: number[]): void => {
    if (!set.length || found.length >= 4 || !trial(o.elf, { only: set }).fails) return;
    if (set.length === 1) found.push(set[0]);
    else {
      search(set.slice(0, set.length >> 1));
      search(set.slice(set.length >> 1));
    }
  };
  search(order);
  // A failure that needs several units optimized together: the unit where the states parted stands for them.
  const isolated = found.length > 0;
  const failing = (isolated ? found : holding ? [holding.entry] : []).map((e) => byEntry.get(e) ?? holding!).filter((r) => r);
  log(`failing units: ${failing.map((u) => hex(u.entry)).join(', ') || 'none found'}${isolated ? '' : ' (no unit fails alone)'}`);

  const outsidePasses = trial(o.elf, { passes: control.seen }).fails;
  const units: FailingUnit[] = [];
  const perUnit = Math.max(1, Math.ceil((o.variants ?? 40) / Math.max(1, failing.length)));
  const rng = new Rng(o.seed ?? 1, 'localize-variants');
  for (const unit of failing) {
    const only = isolated ? [unit.entry] : undefined;
    const unitPcs = new Set(unit.pcs);
    const sites = [...unitPcs].sort((x, y) => x - y).map((p) => ({ pc: p, at: fileOffset(o.elf, p) })).filter((s) => s.at >= 0 && (readWord(o.elf, s.at) & 3) === 3);
    const inUnit = (records: readonly UnitRecord[]) => records.filter((r) => r.pcs.some((p) => unitPcs.has(p)));

    const own = trial(o.elf, { only }, unitPcs);
    const mutableSites = sites.filter((s) => mutable(readWord(o.elf, s.at)));

    // 3. Delta debugging on the proof of concept with only this unit optimized: the
    // passes whose removal alone makes the failure disappear, then their rules.
    // Where several do, one that only enables another (switching it off makes the
    // other fire less in the unit, as fold's forwarding feeds rle's address matching)
    // gives way to it; where none does alone, the set of all is reduced one at a time.
    phase = 'deltaDebugging';
    const firedIn = (fired: Map<string, number>, pass: string) => [...fired].filter(([k]) => k.startsWith(`${pass} `)).reduce((n, [, c]) => n + c, 0);
    const reduce = <T>(all: readonly T[], test: (off: readonly T[]) => { fails: boolean; fired: Map<string, number> }, firing: (fired: Map<string, number>, x: T) => number): T[] => {
      if (!all.length || test(all).fails) return [];
      const baseline = test([]);
      const single = all.map((x) => ({ x, ...test([x]) })).filter((r) => !r.fails);
      if (single.length) {
        const enablers = single.filter((r) => single.some((q) => q !== r && firing(r.fired, q.x) < firing(baseline.fired, q.x)));
        const chosen = single.filter((r) => !enablers.includes(r));
        return (chosen.length ? chosen : single).map((r) => r.x);
      }
      let off = [...all];
      for (const x of [...off]) {
        const without = off.filter((y) => y !== x);
        if (!test(without).fails) off = without;
      }
      return off;
    };
    const found: Array<{ pass: string; rules: string[] }> = [];
    if (!outsidePasses) {
      const pipeline = control.seen.filter((p) => own.records.some((r) => r.passes.some((q) => q.pass === p)));
      const guiltyPasses = reduce(pipeline, (off) => trial(o.elf, { passes: off, only }, unitPcs), (fired, p) => firedIn(fired, p));
      for (const pass of guiltyPasses) {
        const others = guiltyPasses.filter((q) => q !== pass);
        const named = [...new Set(own.records.flatMap((r) => r.passes.filter((p) => p.pass === pass).flatMap((p) => Object.keys(p.fired))))].sort();
        const key = (r: string) => `${pass} ${r}`;
        found.push({ pass, rules: reduce(named, (off) => trial(o.elf, { passes: others, rules: off.map(key), only }, unitPcs), (fired, r) => fired.get(key(r)) ?? 0) });
      }
    }
    log(`unit ${hex(unit.entry)}: guilty ${found.map((g) => `${g.pass}${g.rules.length ? ` (rule ${g.rules.join(', ')})` : ''}`).join('; ') || 'none found'}`);

    // 4. Minimize: no-ops in place of the unit's instructions while it still fails (ddmin).
    phase = 'minimization';
    const current = Uint8Array.from(o.elf);
    let candidates = mutableSites.map((s) => s.at);
    let chunks = 2;
    const budget = runs.minimization + 120;
    while (candidates.length && runs.minimization < budget) {
      const size = Math.ceil(candidates.length / chunks);
      let reduced = false;
      for (let start = 0; start < candidates.length; start += size) {
        const chunk = candidates.slice(start, start + size);
        const next = Uint8Array.from(current);
        for (const p of chunk) writeWord(next, p, NOP);
        if (trial(next, { only }).fails) {
          current.set(next);
          candidates = candidates.filter((c) => !chunk.includes(c));
          chunks = Math.max(chunks - 1, 2);
          reduced = true;
          break;
        }
      }
      if (!reduced) {
        if (size <= 1) break;
        chunks = Math.min(candidates.length, chunks * 2);
      }
    }

    // 5. Variants of the minimized unit (the proof of concept cut down to what
    // still fails, as the paper's proofs of concept are small), labelled, with their
    // pass records: in a unit whose every other instruction still triggers the bug, no
    // single mutation could make a passing run.
    phase = 'variants';
    const start = trial(current, { only }, unitPcs);
    const live = mutableSites.filter((s) => readWord(current, s.at) !== NOP);
    // Both the proof of concept and its minimized form seed variants, in turn.
    const seeds = [{ elf: o.elf, sites: mutableSites, regs: unitRegisters(mutableSites.map((s) => readWord(o.elf, s.at))) }, { elf: current, sites: live, regs: unitRegisters(live.map((s) => readWord(current, s.at))) }].filter((x) => x.sites.length);
    const tried = new Set<string>();
    const spectrum: Array<{ failing: boolean; covered: Set<string> }> = [];
    const records: VariantRecord[] = [];
    const note = (index: number, mutation: string, fails: boolean, recs: readonly UnitRecord[]) => {
      const passes = inUnit(recs).flatMap((r) => r.passes);
      spectrum.push({ failing: fails, covered: new Set(passes.flatMap(components)) });
      records.push({ index, mutation, failing: fails, passes });
    };
    note(0, 'the proof of concept', own.fails, own.records);
    const kinds: MutationKind[] = ['constant', 'register', 'operation', 'order', 'fuzz'];
    // The differential fuzzer's generator seeds 'fuzz' mutations: ALU instructions of its random programs.
    const pool = aluPool(randomProgram(o.seed ?? 1).elf, TEXT);
    for (let attempt = 0; records.length <= perUnit && attempt < perUnit * 20 && seeds.length; attempt++) {
      const seed = seeds[attempt % seeds.length];
      const kind = kinds[rng.int(kinds.length)];
      const site = seed.sites[rng.int(seed.sites.length)];
      const base = seed.elf;
      const regs = seed.regs;
      const w = readWord(base, site.at);
      const elf = Uint8Array.from(base);
      let mutation: string;
      if (kind === 'order') {
        const next = sites.find((s) => s.pc === site.pc + 4);
        if (!next) continue;
        const w2 = readWord(base, next.at);
        if (!independent(w, w2)) continue;
        writeWord(elf, site.at, w2);
        writeWord(elf, next.at, w);
        mutation = `order: swapped ${hex(site.pc)} (${disassemble(w)}) and ${hex(next.pc)} (${disassemble(w2)})${base === current ? ' (in the minimized program)' : ''}`;
      } else {
        const m = kind === 'fuzz' ? fromPool(rng, w, pool) : mutateOne(rng, kind, w, regs);
        if (m === undefined) continue;
        writeWord(elf, site.at, m);
        mutation = `${kind}: ${hex(site.pc)} ${disassemble(w)} → ${disassemble(m)}${base === current ? ' (in the minimized program)' : ''}`;
      }
      if (tried.has(mutation)) continue;
      tried.add(mutation);
      const r = trial(elf, { only }, unitPcs);
      note(records.length, mutation, r.fails, r.records);
    }
    const failingCount = records.filter((r) => r.failing).length;
    log(`unit ${hex(unit.entry)}: ${records.length - 1} variants, ${failingCount - (own.fails ? 1 : 0)} failing, ${records.length - failingCount} passing`);

    // 6. Ochiai over the unit's variants.
    const rules = ochiai(spectrum, [...new Set(spectrum.flatMap((x) => [...x.covered]))]);
    const passNames = [...new Set([...control.seen, ...rules.map((c) => c.name.slice(0, c.name.indexOf(' ')))])];
    const passes = rankByScore(
      passNames.map((name) => {
        const best = rules.filter((r) => r.name.startsWith(`${name} `)).sort((x, y) => y.score - x.score)[0];
        return { name, score: best?.score ?? 0, ef: best?.ef ?? 0, ep: best?.ep ?? 0 };
      }),
    );
    const guilty: Guilty[] = found.map((g) => ({ ...g, rank: passes.find((p) => p.name === g.pass)?.rank ?? passes.length }));

    const removed = sites.filter((s) => readWord(current, s.at) === NOP && readWord(o.elf, s.at) !== NOP);
    units.push({
      entry: unit.entry,
      first: Math.min(...unit.pcs),
      last: Math.max(...unit.pcs),
      instructions: unit.pcs.length,
      variants: { generated: records.length - 1, failing: failingCount - (own.fails ? 1 : 0), passing: records.length - failingCount },
      ranking: { passes, rules },
      guilty,
      minimized: {
        kept: sites.filter((s) => !removed.includes(s)).map((s) => ({ pc: s.pc, word: readWord(current, s.at), text: disassemble(readWord(current, s.at)) })),
        removed: removed.length,
        fired: Object.fromEntries(start.fired),
      },
      records,
    });
  }

  // Passes over all failing units: best rank in any, then best score.
  const best = new Map<string, Ranked>();
  for (const u of units) for (const p of u.ranking.passes) {
    const b = best.get(p.name);
    if (!b || p.rank < b.rank || (p.rank === b.rank && p.score > b.score)) best.set(p.name, p);
  }
  const sorted = [...best.values()].sort((x, y) => x.rank - y.rank || y.score - x.score || x.name.localeCompare(y.name));
  const overall = sorted.map((p) => ({ ...p, rank: 1 + sorted.filter((q) => q.rank < p.rank || (q.rank === p.rank && q.score > p.score + 1e-12)).length }));
  const guilty: Guilty[] = [];
  for (const u of units) for (const g of u.guilty) {
    const rank = overall.find((p) => p.name === g.pass)?.rank ?? overall.length;
    const seen = guilty.find((x) => x.pass === g.pass);
    if (seen) guilty.splice(guilty.indexOf(seen), 1, { pass: g.pass, rules: [...new Set([...seen.rules, ...g.rules])], rank });
    else guilty.push({ ...g, rank });
  }
  log(outsidePasses ? 'the failure stays with every pass switched off: it is not in the passes' : `guilty: ${guilty.map((g) => `${g.pass}${g.rules.length ? ` (rule ${g.rules.join(', ')})` : ''}`).join('; ') || 'none found'}`);
  const sum = (f: (u: FailingUnit) => number) => units.reduce((n, u) => n + f(u), 0);
  return {
    ...base,
    diverged: true,
    divergence,
    units,
    guilty,
    outsidePasses,
    ranking: { passes: overall },
    variants: { generated: sum((u) => u.variants.generated), failing: sum((u) => u.variants.failing), passing: sum((u) => u.variants.passing) },
    runs,
  };
}

/** The report as text: what `virtlab localize` prints and writes. */
export function formatReport(r: LocalizeReport): string {
  const lines: string[] = [];
  lines.push(`virtlab localize: ${r.program} under ${r.engine}, oracle dbt.interpreter`);
  if (!r.diverged) {
    lines.push('no divergence: registers, memory, output and exit agree with the interpreter');
    lines.push(`runs: ${r.runs.total}`);
    return lines.join('\n') + '\n';
  }
  const d = r.divergence!;
  lines.push(`divergence: after ${d.instructions} instructions, at pc ${hex(d.pc)} (interpreter vs ${r.engine})`);
  for (const x of d.differences.slice(0, 8)) lines.push(`  ${x}`);
  lines.push('');
  if (r.outsidePasses) lines.push('guilty: not a pass — the failure stays with every pass switched off (lowering or runtime)');
  for (const g of r.guilty) lines.push(`guilty pass: ${g.pass} (rank ${g.rank}); rule: ${g.rules.length ? g.rules.join(', ') : '(none of its named rules alone: the pass itself)'}`);
  lines.push(`variants: ${r.variants.generated} generated, ${r.variants.failing} failing, ${r.variants.passing} passing`);
  lines.push(`runs: ${r.runs.total} (divergence and failing units ${r.runs.divergence}, variants ${r.runs.variants}, delta debugging ${r.runs.deltaDebugging}, minimization ${r.runs.minimization})`);
  lines.push('');
  lines.push('ranking of passes (best rank in any failing unit; Ochiai of the pass\'s best rule):');
  for (const p of r.ranking.passes) lines.push(`  ${String(p.rank).padStart(3)}  ${p.score.toFixed(3)}  ${p.name}`);
  for (const u of r.units) {
    lines.push('');
    lines.push(`failing unit at ${hex(u.entry)} (${u.instructions} instructions, ${hex(u.first)}–${hex(u.last)}): ${u.variants.generated} variants, ${u.variants.failing} failing, ${u.variants.passing} passing`);
    for (const g of u.guilty) lines.push(`  guilty: ${g.pass}${g.rules.length ? ` rule ${g.rules.join(', ')}` : ''}`);
    lines.push('  rules by Ochiai (ef failing / ep passing runs that fired it in this unit):');
    for (const x of u.ranking.rules.slice(0, 10)) lines.push(`    ${String(x.rank).padStart(3)}  ${x.score.toFixed(3)}  ef ${String(x.ef).padStart(2)} ep ${String(x.ep).padStart(2)}  ${x.name}`);
    lines.push(`  minimized (${u.minimized.removed} instructions replaced by no-ops; it still fails):`);
    for (const k of u.minimized.kept) lines.push(`    ${hex(k.pc)}  ${k.word.toString(16).padStart(8, '0')}  ${k.text}`);
    const fired = Object.entries(u.minimized.fired);
    if (fired.length) lines.push(`    rules fired in it: ${fired.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}
