// The runtime of translated code: the translation cache, the shared function table
// with one chain slot per guest pc, the lookup table of the in-WebAssembly
// dispatcher, the JavaScript dispatcher loop, invalidation of translations when
// their code is written or fence.i runs, and the counters.
//
// A translator (the block translator or the optimizing one) only decides what to
// translate for a pc: it lifts IR units and picks the lowering options. The runtime
// compiles them into one WebAssembly module per translation, installs each unit in
// its chain slot (patching every jump that already targets it) and in the lookup
// table, and runs them. Whatever translated code leaves to the interpreter — system
// calls, CSRs, fence.i, faults — the interpreter executes on the same state (the
// registers live in the guest's memory), so the guest sees one machine whichever
// engine runs it.
//
// The dispatcher loop gives translated code an exact instruction budget: a block
// that does not fit in what is left is not entered, and the interpreter retires the
// remaining instructions one by one, so every engine stops at the same instruction.

import type { BackgroundCompiler } from '../cpu/engine';
import type { GuestProcess } from '../riscv/process';
import type { StopReason } from '../riscv/interpreter';
import { LOOKUP_ENTRIES, PERM_DECODED, PERM_X, STATE_BUDGET, STATE_DEPTH, STATE_FLAGS, STATE_FRM, STATE_HOST_CALLS, STATE_LOOKUP_HITS, STATE_PC, STATE_RETURN_HITS, UNIT_COUNTERS, entryCounterSlot, runCounterSlot } from '../riscv/memory';
import { EXIT_BUDGET, EXIT_INTERP, EXIT_LOOKUP, EXIT_RET, EXIT_TABLE, HELPER_CODE_CHANGED, HELPER_FAULT, HELPER_OK } from './abi';
import { emitModule, linkModule, type EmitOptions, type ModulePart } from './emit';
import type { CodeLayout } from '../wasm/encoder';
import type { Unit } from './ir';
import { buildRuntimeModule, HELPERS, lookupSlots } from './runtime-module';
import { BlockLifter } from './lift';
import { cachedModuleBytes, decodeCodeCache, encodeCodeCache, layoutFingerprint, mismatchedBytes, unitInfo, type CacheTables, type CachedModule, type CachedUnit } from './code-cache';
import { pageUpdate, type BackgroundTranslator, type RemoteReply } from './remote';
import type { TranslationProfile } from './system-runtime';

/** What a translator does: lift the units to translate for a pc. */
export interface Translator {
  /** 'block', 'function', 'superblock': what a unit is, for reports. */
  readonly kind: string;
  readonly emitOptions: EmitOptions;
  /**
   * The units to translate when execution reaches an untranslated pc: the first is
   * pc's own; it has no instructions when the instruction at pc must be interpreted.
   */
  translate(pc: number, runtime: TranslationProfile): Unit[];
  /**
   * Times a pc must be reached before it is translated; until then the interpreter
   * runs its basic block (0: translate on first execution).
   */
  readonly hotThreshold?: number;
  /** Optional: the translator's own counters (its passes'), merged into the report. */
  counters?(): Record<string, number>;
  /** Optional: rewrites the module's bytes (e.g. a WebAssembly optimizer). */
  optimize?(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer>;
}

/** A unit as it was translated, for the translation hook. */
export interface TranslatedUnit {
  readonly guestStart: number;
  readonly guestBytes: number;
  readonly guestInstructions: number;
  readonly blocks: number;
  /** Bytes of WebAssembly of the whole module, shared among its units. */
  readonly hostBytes: number;
  /** Host milliseconds spent lifting, optimizing, encoding and compiling (0 without a host clock). */
  readonly translateMs: number;
  readonly kind: string;
}

export interface RuntimeOptions {
  /** A host clock (ms), for translation time; none in simulations, which must be deterministic. */
  readonly hostNow?: () => number;
  /**
   * Compiles modules on another thread: a translation is then lifted and encoded here,
   * compiled there, and installed when it is ready, while the interpreter runs the
   * code it covers. Translated and interpreted code agree exactly on every
   * instruction, so when a module arrives changes only the host's time, never the
   * guest's state, its instruction count or its output.
   */
  readonly compiler?: BackgroundCompiler;
  /**
   * Translates on another thread (remote.ts): lifting, the passes, encoding and
   * compiling all happen there, and the interpreter runs the code meanwhile; as with
   * `compiler`, nothing the guest sees depends on when a translation arrives. Takes
   * precedence over `compiler`.
   */
  readonly translator?: BackgroundTranslator;
  /** Called after each unit is installed. */
  readonly onTranslated?: (u: TranslatedUnit) => void;
  /**
   * A persistent translation cache (code-cache.ts): what earlier runs stored (null:
   * nothing yet), the tag naming the build, engine and options, and the most bytes a
   * saved cache may take. Never in simulations: which units exist must not depend on
   * files outside the scenario.
   */
  readonly codeCache?: { readonly bytes: Uint8Array | null; readonly tag: string; readonly maxBytes: number };
}

/** The cache's state in a run: the modules offered and those made. */
interface CacheState {
  readonly tag: string;
  readonly layout: string;
  readonly maxBytes: number;
  /** Why the stored cache was not used, if it was not. */
  note: string | null;
  /** A stored module was refused (the file must be written again without it). */
  dropped: boolean;
  /** Modules from the file not refused, in file order; those installed this run are marked. */
  readonly carried: CachedModule[];
  readonly used: Set<CachedModule>;
  /** Units of the file not yet installed or refused, by entry. */
  readonly offers: Map<number, { readonly m: CachedModule; readonly u: CachedUnit }>;
  /** Stored modules compiled this run. */
  readonly instances: Map<CachedModule, WebAssembly.Instance>;
  /** The units of each stored module by group, made when the module is first entered. */
  readonly groups: Map<CachedModule, Map<number, CachedUnit[]>>;
  /**
   * This run's translations: their modules as compiled, where each unit's code lies in
   * them (null when the translator's optimizer rewrote the module), and what the cache
   * keeps of each unit.
   */
  readonly made: Array<{ readonly firstId: number; readonly info: ReadonlyArray<Omit<CachedUnit, 'exportName' | 'id' | 'group'>>; readonly bytes: Uint8Array<ArrayBuffer>; readonly exports: readonly string[]; readonly layout: CodeLayout | null; readonly enterAt?: readonly number[] }>;
}

/** What installing a unit needs of it: a unit lifted here, or one translated remotely (RemoteUnit). */
interface UnitSummary {
  readonly entry: number;
  readonly guestInstructions: number;
  readonly guestBytes: number;
  /** Its basic blocks, counted. */
  readonly blocks: number;
  readonly pages: Iterable<number>;
  readonly pcs: readonly number[];
}

function summary(u: Unit): UnitSummary {
  return { entry: u.entry, guestInstructions: u.guestInstructions, guestBytes: u.guestBytes, blocks: u.blocks.length, pages: u.pages, pcs: u.pcs };
}

/** A translation whose module is being compiled in the background. */
interface Pending {
  readonly units: UnitSummary[];
  readonly exports: readonly string[];
  readonly hostBytes: number;
  /** Host milliseconds spent here (lifting, passes, encoding). */
  readonly ms: number;
  readonly pages: ReadonlySet<number>;
  /** The counter id of its first unit (the others follow in order). */
  readonly firstId: number;
  /** Its code was written, or every translation was dropped, since it was submitted. */
  stale: boolean;
}

interface Installed {
  /** The units compiled in the same module (they may call each other directly). */
  readonly module: Installed[];
  readonly entry: number;
  readonly slot: number;
  readonly fn: () => number;
  readonly pages: readonly number[];
  readonly pcs: readonly number[];
  /** The unit's entry-counter number (see UNIT_COUNTERS). */
  readonly id: number;
}

// Translated code gets at most this many instructions per entry: V8 replaces a
// function's baseline code by optimized code only for later calls (there is no
// on-stack replacement in WebAssembly), so a long-running loop must come back.
const CLAMP = 1 << 20;
const TWO32 = 4294967296;
const TABLE_CHUNK = 4096;
/** The two lookup entries a lookup of pc 0 reads: the only ones a new memory's zeros do not leave empty (see entryFree). */
const PC0_ENTRIES = lookupSlots(0);
/**
 * Reaches before a pc is translated on the guest's thread while a translation server
 * boots: interpreting a block costs about a thousandth of translating it, so a few
 * hundred reaches pay for a translation.
 */
const BOOT_THRESHOLD = 256;
/** Most targets of one indirect jump that a region branches to directly. */
const MAX_CASES = 64;

/** The guest pc of each chain slot, by slot number: the numbering a cache file carries. */
function slotPcsOf(slots: ReadonlyMap<number, number>, count: number): Float64Array {
  const pcs = new Float64Array(count);
  for (const [pc, s] of slots) pcs[s] = pc;
  return pcs;
}

/** Engine counters every translator reports. */
export interface DbtCounters {
  units: number;
  blocks: number;
  guestInstructionsTranslated: number;
  guestBytesTranslated: number;
  hostBytes: number;
  modules: number;
  /** Entries from JavaScript into translated code (the dispatcher loop). */
  dispatcherEntries: number;
  /** Dispatcher misses that needed a translation. */
  lookupMisses: number;
  /** Instructions the interpreter executed for the translator (system calls, faults, budget tails). */
  interpreted: number;
  /** Helper calls from translated code into the interpreter. */
  helperCalls: number;
  /** Translations dropped because their code changed. */
  invalidatedUnits: number;
  /** Translation time, host milliseconds (0 without a host clock). */
  translateMs: number;
  /** Time the background compiler spent compiling modules, host milliseconds (off the guest's thread). */
  backgroundCompileMs: number;
  /** Modules compiled in the background, and those discarded on arrival because their code had changed. */
  backgroundModules: number;
  backgroundDiscarded: number;
  /** Time the translation server spent lifting, optimizing and encoding, host milliseconds (off the guest's thread). */
  backgroundTranslateMs: number;
  /** Units and modules installed from the persistent cache, and the host time it took (reading, checking, compiling). */
  cacheUnits: number;
  cacheModules: number;
  cacheLoadMs: number;
  /** Cached units refused because their guest code differs, and the differing guest bytes. */
  cacheRejectedUnits: number;
  cacheRejectedBytes: number;
}

export class DbtRuntime {
  readonly table: WebAssembly.Table;
  private readonly rt: Record<string, unknown>;
  private readonly stub: () => number;
  private readonly slots = new Map<number, number>();
  private slotCount = 0;
  private readonly units = new Map<number, Installed>();
  private readonly pageUnits = new Map<number, Set<Installed>>();
  private readonly i32: Int32Array;
  private readonly lookup: DataView;
  private readonly s: number;
  private readonly hart;
  /** Bumped whenever translations are dropped (helpers report code changes by it). */
  private epoch = 0;
  readonly counters: DbtCounters = {
    units: 0, blocks: 0, guestInstructionsTranslated: 0, guestBytesTranslated: 0, hostBytes: 0, modules: 0,
    dispatcherEntries: 0, lookupMisses: 0, interpreted: 0, helperCalls: 0, invalidatedUnits: 0, translateMs: 0,
    backgroundCompileMs: 0, backgroundModules: 0, backgroundDiscarded: 0, backgroundTranslateMs: 0,
    cacheUnits: 0, cacheModules: 0, cacheLoadMs: 0, cacheRejectedUnits: 0, cacheRejectedBytes: 0,
  };
  private readonly cache: CacheState | null = null;
  /** Translations being compiled in the background, by ticket. */
  private readonly pending = new Map<number, Pending>();
  /** Guest pcs covered by pending translations (how many cover each): the interpreter runs them meanwhile. */
  private readonly pendingPcs = new Map<number, number>();
  private readonly imports: WebAssembly.Imports;
  /** How often each untranslated pc has been reached (with a hot threshold). */
  private readonly heat = new Map<number, number>();
  /** Basic blocks the interpreter ran while they were not yet translated: the profile a translator may form its units from. */
  private readonly ran = new Set<number>();
  /** Basic blocks of untranslated code (length, final indirect jump), for interpreting a block at a time. */
  private readonly lengths = new Map<number, { n: number; jumpPc: number }>();
  /** Targets each indirect jump was seen to take while interpreted (at most MAX_CASES). */
  private readonly indirect = new Map<number, Set<number>>();
  private readonly scanner: BlockLifter;
  /** Reaches before a pc is translated (the translator's hot threshold; higher while a translation server boots). */
  private threshold: number;
  // The exit table (see EXIT_TABLE): code, guest pc and budget refund per entry.
  private exitCode = new Uint8Array(4096);
  private exitPc = new Float64Array(4096);
  private exitRefund = new Int32Array(4096);
  private exits = 0;
  private nextUnit = 0;
  /** Remote translation (RuntimeOptions.translator): the server, or null once it is not used. */
  private remote: BackgroundTranslator | null = null;
  private remoteStarted = false;
  /** The server was asked to boot and has not said it is ready. */
  private booting = false;
  private readyAsks = 0;
  private remoteTicket = 0;
  /** The last ticket whose reply was taken. */
  private remoteTaken = -1;
  /** Requests sent and not yet answered, by ticket: the pc asked for. */
  private readonly remotePending = new Map<number, number>();
  /** What the server has not been told yet: blocks run interpreted, indirect targets, dropped entries, pages whose code or permission changed. */
  private ranLog: number[] = [];
  private indirectLog: number[] = [];
  private droppedLog: number[] = [];
  private readonly dirtyPages = new Set<number>();
  /** Pages the server has as executable (1) or not (0). */
  private sentPages: Uint8Array | null = null;
  /** Pcs the server found nothing to translate at (the interpreter runs them), until their code changes. */
  private readonly untranslatable = new Set<number>();
  /** The translator's counters as the server last reported them. */
  private remoteCounters: Record<string, number> = {};

  constructor(
    readonly proc: GuestProcess,
    readonly translator: Translator,
    private readonly options: RuntimeOptions = {},
  ) {
    const mem = proc.mem;
    this.hart = proc.hart;
    this.s = mem.stateBase;
    this.i32 = new Int32Array(mem.wasm.buffer);
    this.lookup = new DataView(mem.wasm.buffer, mem.lookupBase, LOOKUP_ENTRIES * 16);
    // Every entry empty. The process's memory is new (one per launch), so every entry
    // reads pc 0, and only a lookup of pc 0 compares its two entries with 0: those two
    // get the empty marker (pc 1, never an instruction's address), and the others are
    // left as they are, empty too (see entryFree). Writing the marker into all of them
    // touched 64 fresh 4 KiB pages of memory, at about 15 µs each on a virtual machine.
    for (const e of PC0_ENTRIES) this.lookup.setInt32(e, 1, true);
    this.table = new WebAssembly.Table({ element: 'anyfunc', initial: TABLE_CHUNK });
    const rtModule = new WebAssembly.Module(buildRuntimeModule(mem, TABLE_CHUNK));
    const js = {
      interp: (pc: number) => this.helper(pc),
      access: proc.options.onMemoryAccess ? (a: number, w: number) => proc.options.onMemoryAccess!(a, w !== 0) : () => {},
    };
    this.rt = new WebAssembly.Instance(rtModule, { env: { mem: mem.wasm, table: this.table }, js }).exports as Record<string, unknown>;
    this.stub = this.rt.stub as () => number;
    for (let i = 0; i < TABLE_CHUNK; i++) this.table.set(i, this.stub);
    const helpers = new WebAssembly.Table({ element: 'anyfunc', initial: HELPERS.length });
    HELPERS.forEach((name, i) => helpers.set(i, this.rt[name] as () => number));
    // The chain table too, for linked modules (linkModule), whose units call through it directly.
    this.imports = { env: { mem: mem.wasm, helpers, table: this.table } };
    this.scanner = new BlockLifter(mem, { maxInstructions: 256 });
    this.threshold = translator.hotThreshold ?? 0;
    const interp = proc.cpu;
    mem.onCodeWrite = (page) => {
      interp.dropPage(page);
      this.dropPage(page);
    };
    interp.onFlush = () => this.flush();
    if (options.codeCache) this.cache = this.openCache(options.codeCache);
    this.remote = options.translator ?? null;
    // It boots while the guest starts. Until it is ready this thread translates, but
    // only code that has proved hot, so that translating everything at once (a
    // threshold of 0) does not land on the guest's thread after all.
    if (this.remote) {
      this.remote.boot();
      this.booting = true;
      this.threshold = Math.max(this.threshold, BOOT_THRESHOLD);
    }
  }

  // ---- the persistent cache ----

  /** Reads the stored cache and takes its numberings, so that its modules' bytes are valid here. */
  private openCache(o: NonNullable<RuntimeOptions['codeCache']>): CacheState {
    const now = this.options.hostNow;
    const t0 = now ? now() : 0;
    const layout = layoutFingerprint(this.proc.mem, this.translator.kind, this.translator.emitOptions);
    const state: CacheState = { tag: o.tag, layout, maxBytes: o.maxBytes, note: null, dropped: false, carried: [], used: new Set(), offers: new Map(), instances: new Map(), groups: new Map(), made: [] };
    if (o.bytes) {
      const c = decodeCodeCache(o.bytes, o.tag, layout);
      if (typeof c === 'string') state.note = c;
      else {
        const t = c.tables;
        for (let s = 0; s < t.slotPcs.length; s++) this.slots.set(t.slotPcs[s], s);
        this.slotCount = t.slotPcs.length;
        while (this.table.length < this.slotCount) this.table.grow(TABLE_CHUNK, this.stub);
        for (let i = 0; i < t.exits; i++) this.newExit(t.exitCode[i], t.exitPc[i], t.exitRefund[i]);
        this.nextUnit = t.nextUnit;
        state.carried.push(...c.modules);
        for (const m of c.modules) for (const u of m.units) state.offers.set(u.entry, { m, u });
      }
    }
    if (now) this.counters.cacheLoadMs += now() - t0;
    return state;
  }

  /**
   * Installs the cached unit entered at pc (with the rest of its module unless the
   * group: the units that call each other directly) if its guest code is still the
   * code it was translated from; returns it.
   */
  private fromCache(pc: number): Installed | null {
    const cache = this.cache!;
    const offer = cache.offers.get(pc)!;
    const m = offer.m;
    // By group, indexed once: a module of one-unit groups is entered unit by unit, and a
    // scan of all its units per entry cost SQLite's warm run 20–35 ms.
    let groups = cache.groups.get(m);
    if (!groups) {
      cache.groups.set(m, (groups = new Map()));
      for (const u of m.units) {
        const g = groups.get(u.group);
        if (g) g.push(u);
        else groups.set(u.group, [u]);
      }
    }
    const units = groups.get(offer.u.group)!;
    for (const u of units) if (cache.offers.get(u.entry)?.m === m) cache.offers.delete(u.entry);
    const now = this.options.hostNow;
    const t0 = now ? now() : 0;
    const c = this.counters;
    const bad = mismatchedBytes(units, this.proc.mem);
    let instance = bad === 0 ? cache.instances.get(m) : undefined;
    if (bad === 0 && !instance) {
      try {
        instance = new WebAssembly.Instance(new WebAssembly.Module(m.bytes), this.imports);
        cache.instances.set(m, instance);
        c.cacheModules++;
      } catch {
        instance = undefined;
      }
    }
    if (!instance) {
      c.cacheRejectedUnits += units.length;
      if (this.remote) for (const u of units) this.droppedLog.push(u.entry);
      c.cacheRejectedBytes += bad;
      // A module of one group whose code differs is left out of the cache saved at the end.
      if (units.length === m.units.length) {
        cache.carried.splice(cache.carried.indexOf(m), 1);
        cache.dropped = true;
      }
      if (now) c.cacheLoadMs += now() - t0;
      return null;
    }
    cache.used.add(m);
    // Units that call each other directly are dropped together: each is dropped when
    // any page of its group's code is written.
    const pages = units.length === 1 ? units[0].pages : [...new Set(units.flatMap((u) => u.pages))];
    const module: Installed[] = [];
    let first: Installed | null = null;
    for (const u of units) {
      // Translated meanwhile: that translation stays (this module's units still call their own copy).
      if (this.units.has(u.entry)) continue;
      const rec = this.install({ entry: u.entry, pages, pcs: [] }, instance.exports[u.exportName] as () => number, module, u.id);
      if (u.entry === pc) first = rec;
      c.cacheUnits++;
    }
    if (now) c.cacheLoadMs += now() - t0;
    return first;
  }

  /**
   * This run's translations for the cache, as one module: each translation's units that
   * were entered, with their code as it was compiled (linkModule: nothing is lowered
   * again); each translation is a group whose units call each other directly as they
   * did, so that the next run compiles one module and checks, installs and drops each
   * group alone. Their code embeds this run's numberings, which the file carries
   * (tables(), taken after: a unit left out may get a chain slot here).
   */
  private linkMade(): CachedModule[] {
    // Only units that were entered: a translator also translates code it expects
    // (the block translator, a block's successors), and much of it never runs. (A
    // counter slot is shared beyond UNIT_COUNTERS units, so a few others stay.)
    const mem = this.proc.mem;
    const counters = new Int32Array(mem.wasm.buffer, mem.countersBase, UNIT_COUNTERS * 2);
    const countRuns = !!this.translator.emitOptions.countRuns;
    const parts: ModulePart[] = [];
    // The units taken: translation, unit.
    const taken: number[] = [];
    const made = this.cache!.made;
    for (let g = 0; g < made.length; g++) {
      const x = made[g];
      const take: number[] = [];
      for (let i = 0; i < x.info.length; i++) {
        const slot = entryCounterSlot(x.firstId + i, countRuns);
        if (counters[2 * slot] !== 0 || counters[2 * slot + 1] !== 0) take.push(i);
      }
      if (!take.length) continue;
      parts.push({ bytes: x.bytes, layout: x.layout!, entries: x.info.map((u) => u.entry), take, enterAt: x.enterAt });
      for (const i of take) taken.push(g, i);
    }
    if (!taken.length) return [];
    const linked = linkModule(parts, { mem, slotFor: (pc) => this.slotFor(pc) });
    const units: CachedUnit[] = [];
    for (let k = 0; k < taken.length; k += 2) {
      const x = made[taken[k]];
      const i = taken[k + 1];
      units.push({ ...x.info[i], exportName: linked.exports[k >> 1], id: x.firstId + i, group: taken[k] });
    }
    return [{ bytes: linked.bytes, units }];
  }

  /** This run's translations for the cache, each its own module as it was compiled (one group). */
  private madeAsIs(): CachedModule[] {
    return this.cache!.made.map((x) => ({ bytes: x.bytes, units: x.info.map((u, i) => ({ ...u, exportName: x.exports[i], id: x.firstId + i, group: 0 })) }));
  }

  /** The numberings as they are now (they extend the ones read from the cache). */
  private tables(): CacheTables {
    return { slotPcs: slotPcsOf(this.slots, this.slotCount), exits: this.exits, exitCode: this.exitCode, exitPc: this.exitPc, exitRefund: this.exitRefund, nextUnit: this.nextUnit };
  }

  /**
   * The cache to store for later runs: the stored modules not refused and this run's
   * translations; beyond the size cap the stored modules this run did not use go
   * first. Bytes null when even that does not fit.
   */
  saveCodeCache(): { bytes: Uint8Array | null; note: string | null } {
    const cache = this.cache;
    if (!cache) return { bytes: null, note: null };
    // Nothing translated and nothing refused: the stored file is already this cache.
    if (!cache.made.length && !cache.dropped && cache.carried.length) return { bytes: null, note: null };
    // Modules rewritten by the translator's optimizer are kept as they were made.
    let modules = [...cache.carried, ...(this.translator.optimize ? this.madeAsIs() : this.linkMade())];
    const tables = this.tables();
    const fixed = 64 + cache.tag.length + cache.layout.length + 4 * tables.slotPcs.length + 12 * tables.exits;
    const size = (ms: CachedModule[]) => ms.reduce((n, m) => n + cachedModuleBytes(m), fixed);
    let note: string | null = null;
    if (size(modules) > cache.maxBytes) {
      modules = modules.filter((m) => cache.used.has(m) || !cache.carried.includes(m));
      note = `over the size cap (${cache.maxBytes} bytes): stored modules this run did not use were left out`;
      if (size(modules) > cache.maxBytes) return { bytes: null, note: `over the size cap (${cache.maxBytes} bytes): not saved` };
    }
    return { bytes: encodeCodeCache(cache.tag, cache.layout, { tables, modules }), note };
  }

  /** Why the stored cache was not used (corrupt, another build…), or null. */
  get codeCacheNote(): string | null {
    return this.cache?.note ?? null;
  }

  // ---- the exit table ----

  private newExit(code: number, pc: number, refund: number): number {
    if (this.exits === this.exitCode.length) {
      const grow = <T extends Uint8Array | Float64Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.exitCode = grow(this.exitCode);
      this.exitPc = grow(this.exitPc);
      this.exitRefund = grow(this.exitRefund);
    }
    const i = this.exits++;
    this.exitCode[i] = code;
    this.exitPc[i] = pc;
    this.exitRefund[i] = refund;
    return i;
  }

  // ---- slots and the lookup table ----

  /** The chain slot of a guest pc: the table entry every jump to pc goes through. */
  slotFor(pc: number): number {
    let s = this.slots.get(pc);
    if (s === undefined) {
      s = this.slotCount++;
      if (s >= this.table.length) this.table.grow(TABLE_CHUNK, this.stub);
      this.slots.set(pc, s);
    }
    return s;
  }

  private lookupHolds(e: number, pc: number): boolean {
    return this.lookup.getInt32(e, true) === (pc | 0) && this.lookup.getInt32(e + 4, true) === (Math.floor(pc / TWO32) | 0);
  }

  /**
   * Enters pc in the lookup table: where it already is, else in a free one of its two
   * entries, else in its first (the pc there then falls back to the dispatcher loop).
   */
  private setLookup(pc: number, slot: number): void {
    const [e1, e2] = lookupSlots(pc);
    let e = e1;
    if (!this.lookupHolds(e1, pc)) {
      if (this.lookupHolds(e2, pc) || (!this.entryFree(e1) && this.entryFree(e2))) e = e2;
    }
    this.lookup.setInt32(e, pc | 0, true);
    this.lookup.setInt32(e + 4, Math.floor(pc / TWO32) | 0, true);
    this.lookup.setInt32(e + 8, slot, true);
  }

  /**
   * Is entry e empty: the marker, or pc 0 in an entry that no lookup of pc 0 reads (a
   * unit at pc 0 entered in one of its own two entries holds it; anywhere else pc 0 is
   * the memory as it was made).
   */
  private entryFree(e: number): boolean {
    return this.lookupHolds(e, 1) || (this.lookupHolds(e, 0) && !PC0_ENTRIES.includes(e));
  }

  private clearLookup(pc: number): void {
    for (const e of lookupSlots(pc)) {
      if (this.lookupHolds(e, pc)) {
        this.lookup.setInt32(e, 1, true);
        this.lookup.setInt32(e + 4, 0, true);
      }
    }
  }

  private sawIndirect(at: number, target: number): void {
    let set = this.indirect.get(at);
    if (!set) this.indirect.set(at, (set = new Set()));
    if (set.size < MAX_CASES && !set.has(target)) {
      set.add(target);
      if (this.remote) this.indirectLog.push(at, target);
    }
  }

  /** The interpreter ran the block at pc while it was untranslated (the profile regions are formed from). */
  private sawRan(pc: number): void {
    if (this.remote && !this.ran.has(pc)) this.ranLog.push(pc);
    this.ran.add(pc);
  }

  /** Targets the indirect jump at pc took while its code was interpreted, in order seen. */
  indirectTargets(pc: number): readonly number[] {
    const set = this.indirect.get(pc);
    return set ? [...set] : [];
  }

  /**
   * Has the interpreter run the basic block at pc before it was translated? Only a hot
   * threshold gives the interpreter blocks to run (with none, nothing has run), and a
   * block whose start the interpreter ran through inside a longer one is not seen.
   */
  ranInterpreted(pc: number): boolean {
    return this.ran.has(pc);
  }

  /** Is a translation installed for pc? */
  has(pc: number): boolean {
    // A unit the cache offers counts too: a region ending there lets the cached unit run.
    return this.units.has(pc) || (this.cache !== null && this.cache.offers.has(pc));
  }

  // ---- translation ----

  private translate(pc: number): Installed | null {
    if (this.remote && (this.remoteStarted || this.remote.ready())) {
      this.request(pc);
      return null;
    }
    const now = this.options.hostNow;
    const t0 = now ? now() : 0;
    const units = this.translator.translate(pc, this).filter((u, i) => i === 0 || (u.guestInstructions > 0 && !this.units.has(u.entry) && !this.pendingPcs.has(u.entry)));
    if (!units.length || units[0].guestInstructions === 0) return null;
    const firstId = this.nextUnit;
    // With the cache, the module records where each unit's code lies: the cache's module is assembled from it at exit.
    const relocatable = this.cache !== null && !this.translator.optimize;
    const emitted = emitModule(units, { mem: this.proc.mem, slotFor: (p) => this.slotFor(p), exit: (c, p, r) => this.newExit(c, p, r), unitId: () => this.nextUnit++ }, this.translator.emitOptions, relocatable);
    let bytes = emitted.bytes;
    if (this.translator.optimize) bytes = this.translator.optimize(bytes);
    if (this.cache) {
      // The guest bytes are taken now: what this translation was made from.
      const mem = this.proc.mem;
      const info = units.map((u) => unitInfo(u, mem));
      this.cache.made.push({ firstId, info, bytes, exports: emitted.exports, layout: emitted.layout ?? null, enterAt: emitted.enterAt });
    }
    const compiler = this.options.compiler;
    if (compiler) {
      const ticket = compiler.submit(bytes);
      const pages = new Set<number>();
      const perm = this.proc.mem.perm;
      for (const u of units) {
        for (const p of u.pages) {
          pages.add(p);
          // A store to the page now reaches dropPage, which marks the translation stale.
          perm[p] |= PERM_DECODED;
        }
        for (const at of u.pcs) this.pendingPcs.set(at, (this.pendingPcs.get(at) ?? 0) + 1);
      }
      const ms = now ? now() - t0 : 0;
      this.counters.translateMs += ms;
      this.pending.set(ticket, { units: units.map(summary), exports: emitted.exports, hostBytes: bytes.length, ms, pages, stale: false, firstId });
      return null;
    }
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), this.imports);
    const ms = now ? now() - t0 : 0;
    this.counters.translateMs += ms;
    return this.installModule(units.map(summary), emitted.exports, instance, bytes.length, ms, firstId);
  }

  // ---- remote translation (remote.ts) ----

  /**
   * While the translation server boots: is it ready now, for a pc hot enough for the
   * translator (`heat` reaches)? Asked every 32nd time only (a look at the worker's
   * port is not free); once it is, the translator's own threshold applies again.
   */
  private serverReady(heat: number): boolean {
    if (heat < (this.translator.hotThreshold ?? 0) || (++this.readyAsks & 31) !== 0 || !this.remote!.ready()) return false;
    this.booting = false;
    this.threshold = this.translator.hotThreshold ?? 0;
    return true;
  }

  /** Asks the translation server for pc's translation; the interpreter runs pc's blocks until it arrives. */
  private request(pc: number): void {
    const remote = this.remote!;
    const mem = this.proc.mem;
    if (!this.remoteStarted) {
      this.remoteStarted = true;
      this.booting = false;
      this.threshold = this.translator.hotThreshold ?? 0;
      this.sentPages = new Uint8Array(mem.pages);
      const pages = pageUpdate(mem);
      for (const p of pages.pages) this.sentPages[p] = 1;
      // Not marked as holding code: stores to an executable page would then all leave
      // translated code (a writable one, too). A store to a page whose code was
      // decoded or translated reaches dropPage, which sends it again; one to any other
      // page leaves the server's copy stale until a translation from it is refused.
      this.dirtyPages.clear();
      const installed = [...this.units.keys()];
      if (this.cache) installed.push(...this.cache.offers.keys());
      remote.start({
        memoryBytes: mem.size,
        layout: layoutFingerprint(mem, this.translator.kind, this.translator.emitOptions),
        relocatable: this.cache !== null && !this.translator.optimize,
        pages,
        slotPcs: slotPcsOf(this.slots, this.slotCount),
        exitCode: this.exitCode.slice(0, this.exits),
        exitPc: this.exitPc.slice(0, this.exits),
        exitRefund: this.exitRefund.slice(0, this.exits),
        nextUnit: this.nextUnit,
        installed,
      });
    }
    // pc's page, if the server does not have it as it is now (made executable since).
    const page = Math.floor(pc / 4096);
    const sent = this.sentPages!;
    if (page < sent.length && sent[page] !== ((mem.perm[page] & PERM_X) !== 0 ? 1 : 0)) this.dirtyPages.add(page);
    let pages = null;
    if (this.dirtyPages.size) {
      pages = pageUpdate(mem, this.dirtyPages);
      pages.pages.forEach((p, i) => (sent[p] = pages!.exec[i]));
      this.dirtyPages.clear();
    }
    const ticket = this.remoteTicket++;
    remote.submit({ ticket, pc, pages, ran: this.ranLog, indirect: this.indirectLog, dropped: this.droppedLog, taken: this.remoteTaken });
    this.ranLog = [];
    this.indirectLog = [];
    this.droppedLog = [];
    this.remotePending.set(ticket, pc);
    this.pendingPcs.set(pc, (this.pendingPcs.get(pc) ?? 0) + 1);
  }

  /** Takes the server's finished translations: applies their numbering, checks their guest code and installs them. */
  private receiveRemote(): void {
    for (const r of this.remote!.poll()) this.takeReply(r);
  }

  private takeReply(r: RemoteReply): void {
    const c = this.counters;
    const now = this.options.hostNow;
    const t0 = now ? now() : 0;
    // The numbering first, whatever becomes of the translation: the server's goes on from it.
    if (r.firstId !== this.nextUnit || r.firstExit !== this.exits) throw new Error(`translation server out of step: unit ${r.firstId} and exit ${r.firstExit}, expected ${this.nextUnit} and ${this.exits}`);
    for (let i = 0; i < r.slots.length; i += 2) {
      const pc = r.slots[i];
      const slot = r.slots[i + 1];
      if (slot !== this.slotCount || this.slots.has(pc)) throw new Error(`translation server out of step: slot ${slot} for pc 0x${pc.toString(16)}, expected ${this.slotCount}`);
      this.slots.set(pc, slot);
      this.slotCount++;
      if (slot >= this.table.length) this.table.grow(TABLE_CHUNK, this.stub);
    }
    for (let i = 0; i < r.exitCode.length; i++) this.newExit(r.exitCode[i], r.exitPc[i], r.exitRefund[i]);
    this.nextUnit = r.nextUnit;
    this.remotePending.delete(r.ticket);
    this.remoteTaken = r.ticket;
    const n = (this.pendingPcs.get(r.pc) ?? 1) - 1;
    if (n > 0) this.pendingPcs.set(r.pc, n);
    else this.pendingPcs.delete(r.pc);
    this.remoteCounters = r.counters;
    c.backgroundTranslateMs += r.translateMs;
    c.backgroundCompileMs += r.compileMs;
    if (!r.units.length) {
      if (r.covered) return;
      // Nothing to translate at pc, by the server's copy of its code: believed only if that copy is the guest's code.
      const code = r.code!;
      const u8 = this.proc.mem.u8;
      let same = true;
      for (let i = 0; i < code.length; i++) if (u8[r.pc + i] !== code[i]) same = false;
      if (same) this.untranslatable.add(r.pc);
      else {
        c.backgroundDiscarded++;
        this.dirtyPages.add(Math.floor(r.pc / 4096));
        this.dirtyPages.add(Math.floor((r.pc + code.length - 1) / 4096));
      }
      return;
    }
    c.backgroundModules++;
    // Installed only where the guest's code is still what the server translated.
    if (mismatchedBytes(r.units, this.proc.mem) > 0) {
      c.backgroundDiscarded++;
      for (const u of r.units) {
        this.droppedLog.push(u.entry);
        for (const p of u.pages) this.dirtyPages.add(p);
      }
      return;
    }
    const instance = new WebAssembly.Instance(r.module!, this.imports);
    if (this.cache) this.cache.made.push({ firstId: r.firstId, info: r.units, bytes: r.bytes as Uint8Array<ArrayBuffer>, exports: r.exports, layout: r.layout, enterAt: r.enterAt ?? undefined });
    const ms = now ? now() - t0 : 0;
    c.translateMs += ms;
    this.installModule(r.units, r.exports, instance, r.bytes?.length ?? 0, r.translateMs + r.compileMs + ms, r.firstId, true);
  }

  /** Installs the units of a compiled module; returns the first. */
  private installModule(units: readonly UnitSummary[], exports: readonly string[], instance: WebAssembly.Instance, hostBytes: number, ms: number, firstId: number, late = false): Installed | null {
    const c = this.counters;
    c.modules++;
    c.hostBytes += hostBytes;
    let first: Installed | null = null;
    const module: Installed[] = [];
    units.forEach((u, i) => {
      // A module that arrives late keeps what was translated meanwhile (its units still
      // call their own copies).
      if (late && this.units.has(u.entry)) return;
      const fn = instance.exports[exports[i]] as () => number;
      const rec = this.install(u, fn, module, firstId + i);
      if (i === 0) first = rec;
      c.units++;
      c.blocks += u.blocks;
      c.guestInstructionsTranslated += u.guestInstructions;
      c.guestBytesTranslated += u.guestBytes;
      this.options.onTranslated?.({
        guestStart: u.entry,
        guestBytes: u.guestBytes,
        guestInstructions: u.guestInstructions,
        blocks: u.blocks,
        hostBytes,
        translateMs: ms,
        kind: this.translator.kind,
      });
    });
    return first;
  }

  /** Installs the translations whose modules the background compiler has finished. */
  private receive(): void {
    for (const { ticket, module, compileMs } of this.options.compiler!.poll()) {
      const p = this.pending.get(ticket);
      if (!p) continue;
      this.pending.delete(ticket);
      if (!p.stale) this.unpend(p);
      this.counters.backgroundCompileMs += compileMs;
      this.counters.backgroundModules++;
      if (p.stale) {
        this.counters.backgroundDiscarded++;
        continue;
      }
      // Instantiation links the module compiled there to this thread's memory and tables.
      const now = this.options.hostNow;
      const t0 = now ? now() : 0;
      const instance = new WebAssembly.Instance(module, this.imports);
      const ms = now ? now() - t0 : 0;
      this.counters.translateMs += ms;
      this.installModule(p.units, p.exports, instance, p.hostBytes, p.ms + ms, p.firstId, true);
    }
  }

  /** The pcs of a pending translation are no longer covered by it. */
  private unpend(p: Pending): void {
    for (const u of p.units) {
      for (const at of u.pcs) {
        const n = (this.pendingPcs.get(at) ?? 1) - 1;
        if (n > 0) this.pendingPcs.set(at, n);
        else this.pendingPcs.delete(at);
      }
    }
  }

  /** Pending translations made from a page (or all) will not be installed: their code changed. */
  private stalePending(page?: number): void {
    for (const p of this.pending.values()) {
      if (p.stale || (page !== undefined && !p.pages.has(page))) continue;
      p.stale = true;
      // Their pcs are translated afresh when they are reached again.
      this.unpend(p);
    }
  }

  private install(u: { readonly entry: number; readonly pages: Iterable<number>; readonly pcs: readonly number[] }, fn: () => number, module: Installed[], id: number): Installed {
    const old = this.units.get(u.entry);
    if (old) this.drop(old);
    const slot = this.slotFor(u.entry);
    const rec: Installed = { module, entry: u.entry, slot, fn, pages: [...u.pages], pcs: u.pcs, id };
    module.push(rec);
    this.units.set(u.entry, rec);
    this.table.set(slot, fn);
    this.setLookup(u.entry, slot);
    const perm = this.proc.mem.perm;
    for (const p of rec.pages) {
      let set = this.pageUnits.get(p);
      if (!set) this.pageUnits.set(p, (set = new Set()));
      set.add(rec);
      // Stores to the page now leave translated code, which lets the interpreter drop it.
      perm[p] |= PERM_DECODED;
    }
    return rec;
  }

  /** Drops a unit and the others of its module (which may call it directly). */
  private drop(rec: Installed): void {
    this.lengths.clear();
    for (const r of rec.module) {
      if (this.units.get(r.entry) !== r) continue;
      this.units.delete(r.entry);
      if (this.remote) this.droppedLog.push(r.entry);
      this.table.set(r.slot, this.stub);
      this.clearLookup(r.entry);
      for (const p of r.pages) this.pageUnits.get(p)?.delete(r);
      this.counters.invalidatedUnits++;
    }
    this.epoch++;
  }

  /** Drops every translation made from a page (its code was written or unmapped). */
  dropPage(page: number): void {
    if (this.pending.size) this.stalePending(page);
    if (this.remoteStarted) {
      // Sent again with the next request, and what the interpreter found untranslatable may now be code.
      this.dirtyPages.add(page);
      this.untranslatable.clear();
    }
    const set = this.pageUnits.get(page);
    if (!set || !set.size) return;
    for (const rec of [...set]) this.drop(rec);
  }

  /** Drops every translation (fence.i, a snapshot loaded). */
  flush(): void {
    if (this.pending.size) this.stalePending();
    this.untranslatable.clear();
    for (const rec of [...this.units.values()]) this.drop(rec);
  }

  /**
   * An i64 word of the state area (pc, counters), as a JavaScript number. Indices into
   * the state area use `>>> 2`: with 2 GiB of guest memory it starts at byte 2^31,
   * where a signed shift gives a negative index (undefined reads, pc NaN).
   */
  private stateWord(off: number): number {
    const i = (this.s + off) >>> 2;
    return this.i32[i + 1] * TWO32 + (this.i32[i] >>> 0);
  }

  /**
   * Every counter, by name: translation (units, their sizes, host bytes, time) and
   * execution (how control moved between units: chained, through the lookup table,
   * through the dispatcher loop, by host calls and returns).
   */
  report(): Record<string, number> {
    const c = this.counters;
    let entered = 0;
    const counters = new DataView(this.proc.mem.wasm.buffer, this.proc.mem.countersBase, UNIT_COUNTERS * 8);
    // With runs counted, the upper half of the slots counts runs, not entries.
    const entrySlots = this.translator.emitOptions.countRuns ? UNIT_COUNTERS >> 1 : UNIT_COUNTERS;
    for (let i = 0; i < entrySlots; i++) entered += counters.getUint32(8 * i, true) + counters.getUint32(8 * i + 4, true) * TWO32;
    const lookupHits = this.stateWord(STATE_LOOKUP_HITS);
    const hostCalls = this.stateWord(STATE_HOST_CALLS);
    return {
      units: c.units,
      blocks: c.blocks,
      guestInstructionsTranslated: c.guestInstructionsTranslated,
      guestBytesTranslated: c.guestBytesTranslated,
      hostBytes: c.hostBytes,
      modules: c.modules,
      translateMs: Math.round(c.translateMs * 1000) / 1000,
      unitsEntered: entered,
      dispatcherEntries: c.dispatcherEntries,
      lookupMisses: c.lookupMisses,
      lookupHits,
      chainHits: Math.max(0, entered - c.dispatcherEntries - lookupHits - hostCalls),
      hostCalls,
      returnHits: this.stateWord(STATE_RETURN_HITS),
      interpreted: c.interpreted,
      helperCalls: c.helperCalls,
      invalidatedUnits: c.invalidatedUnits,
      ...(this.cache
        ? { cacheUnits: c.cacheUnits, cacheModules: c.cacheModules, cacheUnitsOffered: this.cache.carried.reduce((n, m) => n + m.units.length, 0), cacheRejectedUnits: c.cacheRejectedUnits, cacheRejectedBytes: c.cacheRejectedBytes, cacheLoadMs: Math.round(c.cacheLoadMs * 1000) / 1000 }
        : {}),
      ...(this.options.compiler || this.remote ? { backgroundCompileMs: Math.round(c.backgroundCompileMs * 1000) / 1000, backgroundModules: c.backgroundModules, backgroundDiscarded: c.backgroundDiscarded } : {}),
      ...(this.remote ? { backgroundTranslateMs: Math.round(c.backgroundTranslateMs * 1000) / 1000 } : {}),
      ...this.translatorCounters(),
    };
  }

  /** The translator's counters: with a translation server, its own (translations made here while it booted) and the server's, added. */
  private translatorCounters(): Record<string, number> {
    const here = this.translator.counters?.() ?? {};
    if (!this.remote) return here;
    const out = { ...here };
    for (const [k, v] of Object.entries(this.remoteCounters)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /**
   * How often each installed unit was entered, by entry pc: the translator's profile
   * (its entry counters; a counter slot is shared once more than UNIT_COUNTERS units
   * were made, so the count is then an upper bound).
   */
  unitEntries(): Map<number, number> {
    const countRuns = !!this.translator.emitOptions.countRuns;
    return this.readCounters((id) => entryCounterSlot(id, countRuns));
  }

  /**
   * How often the first block of each installed unit ran, by entry pc: its entries
   * plus its back edges to itself (a one-block unit's exact execution count). Only
   * with EmitOptions.countRuns; throws otherwise.
   */
  unitRuns(): Map<number, number> {
    if (!this.translator.emitOptions.countRuns) throw new Error(`translator ${this.translator.kind}: runs are counted only with the emit option countRuns`);
    return this.readCounters(runCounterSlot);
  }

  private readCounters(slotOf: (id: number) => number): Map<number, number> {
    const counters = new DataView(this.proc.mem.wasm.buffer, this.proc.mem.countersBase, UNIT_COUNTERS * 8);
    const out = new Map<number, number>();
    for (const [pc, rec] of this.units) {
      const o = 8 * slotOf(rec.id);
      out.set(pc, counters.getUint32(o, true) + counters.getUint32(o + 4, true) * TWO32);
    }
    return out;
  }

  // ---- running ----

  private get statePc(): number {
    return this.stateWord(STATE_PC);
  }

  private set statePc(pc: number) {
    const i = (this.s + STATE_PC) >>> 2;
    this.i32[i] = pc | 0;
    this.i32[i + 1] = Math.floor(pc / TWO32) | 0;
  }

  /** The interpreter, for n instructions, on the shared state. */
  private step(n: number): StopReason {
    const h = this.hart;
    const i32 = this.i32;
    h.flags = i32[(this.s + STATE_FLAGS) >>> 2];
    h.frm = i32[(this.s + STATE_FRM) >>> 2];
    const before = h.instret;
    const stop = this.proc.cpu.run(n);
    this.counters.interpreted += h.instret - before;
    i32[(this.s + STATE_FLAGS) >>> 2] = h.flags;
    i32[(this.s + STATE_FRM) >>> 2] = h.frm;
    return stop;
  }

  /** Called by translated code: one instruction at pc in the interpreter (see abi.ts). */
  private helper(pc: number): number {
    const h = this.hart;
    this.counters.helperCalls++;
    h.pc = pc;
    const before = h.instret;
    const epoch = this.epoch;
    const stop = this.step(1);
    // Translated code counts its own instructions.
    this.counters.interpreted -= h.instret - before;
    h.instret = before;
    if (stop.kind === 'fault') return HELPER_FAULT;
    return this.epoch !== epoch ? HELPER_CODE_CHANGED : HELPER_OK;
  }

  /** The interpreter, for the basic block at pc (at most `budget` instructions). */
  private interpretBlock(pc: number, budget: number): { ran: number; stop: StopReason } {
    const h = this.hart;
    let info = this.lengths.get(pc);
    if (info === undefined) this.lengths.set(pc, (info = this.scanner.blockInfo(pc, 256)));
    this.sawRan(pc);
    const before = h.instret;
    const stop = this.step(Math.min(info.n, budget));
    const ran = h.instret - before;
    if (stop.kind === 'budget' && info.jumpPc >= 0 && ran === info.n) this.sawIndirect(info.jumpPc, h.pc);
    return { ran, stop };
  }

  /** Executes at most `budget` instructions (the interpreter's contract). */
  run(budget: number): StopReason {
    const h = this.hart;
    const i32 = this.i32;
    const bi = (this.s + STATE_BUDGET) >>> 2;
    i32[(this.s + STATE_FLAGS) >>> 2] = h.flags;
    i32[(this.s + STATE_FRM) >>> 2] = h.frm;
    i32[(this.s + STATE_DEPTH) >>> 2] = 0;
    let remaining = budget;
    try {
      while (remaining > 0) {
        if (this.pending.size) this.receive();
        if (this.remotePending.size) this.receiveRemote();
        const pc = h.pc;
        let rec = this.units.get(pc);
        if (!rec && this.cache && this.cache.offers.has(pc)) rec = this.fromCache(pc) ?? undefined;
        if (!rec && (this.pendingPcs.has(pc) || this.untranslatable.has(pc))) {
          // Its translation is being compiled: the interpreter runs this basic block.
          const stop = this.interpretBlock(pc, remaining);
          remaining -= stop.ran;
          if (stop.stop.kind !== 'budget') return stop.stop;
          continue;
        }
        if (!rec && this.threshold > 0) {
          const heat = (this.heat.get(pc) ?? 0) + 1;
          if (heat < this.threshold && !(this.booting && this.serverReady(heat))) {
            // Not hot yet: the interpreter runs this basic block.
            this.heat.set(pc, heat);
            this.sawRan(pc);
            let info = this.lengths.get(pc);
            if (info === undefined) this.lengths.set(pc, (info = this.scanner.blockInfo(pc, 256)));
            const before = h.instret;
            const stop = this.step(Math.min(info.n, remaining));
            const ran = h.instret - before;
            remaining -= ran;
            if (stop.kind !== 'budget') return stop;
            if (info.jumpPc >= 0 && ran === info.n) this.sawIndirect(info.jumpPc, h.pc);
            continue;
          }
          this.heat.delete(pc);
        }
        if (!rec) {
          this.counters.lookupMisses++;
          rec = this.translate(pc) ?? undefined;
          // Handed to the background compiler: its blocks are interpreted meanwhile.
          if (!rec && this.pendingPcs.has(pc)) continue;
          if (!rec) {
            // Nothing to translate here (a system call, a CSR, a fault to raise).
            const before = h.instret;
            const stop = this.step(1);
            remaining -= h.instret - before;
            if (stop.kind !== 'budget') return stop;
            continue;
          }
        }
        const give = remaining < CLAMP ? remaining : CLAMP;
        i32[bi] = give;
        this.statePc = pc;
        this.counters.dispatcherEntries++;
        let code = rec.fn();
        if (code >= EXIT_TABLE) {
          const e = code - EXIT_TABLE;
          code = this.exitCode[e];
          i32[bi] += this.exitRefund[e];
          this.statePc = this.exitPc[e];
        }
        const used = give - i32[bi];
        remaining -= used;
        h.instret += used;
        h.pc = this.statePc;
        if (code === EXIT_LOOKUP || code === EXIT_RET) continue;
        if (code === EXIT_INTERP) {
          // The unit may have used the whole budget: the instruction left to the interpreter waits for the next run.
          if (remaining === 0) break;
          const before = h.instret;
          const stop = this.step(1);
          remaining -= h.instret - before;
          if (stop.kind !== 'budget') return stop;
        } else if (code === EXIT_BUDGET) {
          if (give === remaining + used && remaining > 0) {
            // Fewer instructions left than the next block has: the interpreter retires them.
            const before = h.instret;
            const stop = this.step(remaining);
            remaining -= h.instret - before;
            if (stop.kind !== 'budget') return stop;
          }
        } else throw new Error(`translated code returned an unknown exit code ${code}`);
      }
    } finally {
      h.flags = i32[(this.s + STATE_FLAGS) >>> 2];
      h.frm = i32[(this.s + STATE_FRM) >>> 2];
    }
    return { kind: 'budget' };
  }
}

