// Translation away from the guest's thread: the protocol between the runtime
// (runtime.ts), which runs the guest, and a translation server, which lifts, runs
// the passes, encodes and compiles on another thread (tools/node/background-translator.ts
// starts it on a worker). The server is plain logic here, with no thread or clock of
// its own, so tests can run it in the same thread with any delay.
//
// What the server translates from is a mirror: a memory of the same layout holding
// the guest's executable pages as the runtime last sent them, and the profile the
// translator forms its regions from (blocks run interpreted, targets of indirect
// jumps, entries already translated), kept current by the deltas each request
// carries. The mirror may lag behind the guest: every unit comes back with the guest
// bytes it was made from, and the runtime installs it only where memory still holds
// them (the persistent cache's check, code-cache.ts), so a stale mirror costs a
// translation, never a wrong one.
//
// The numberings that translated code embeds (chain slots, exit-table entries, unit
// counter ids) are the server's while it runs: it extends the runtime's numbering
// from where the runtime left it, and each reply carries what it added, which the
// runtime applies in order, whether it installs the translation or not.

import { GuestMemory, PERM_X } from '../riscv/memory';
import { emitModule } from './emit';
import type { CodeLayout } from '../wasm/encoder';
import type { Translator } from './runtime';
import type { TranslationProfile } from './system-runtime';
import { layoutFingerprint, unitInfo, type CachedUnit } from './code-cache';

/** What a unit translated there is, for installing and checking it here. */
export interface RemoteUnit extends Omit<CachedUnit, 'exportName' | 'id' | 'group'> {
  /** Guest pcs of the unit's instructions (the runtime interprets them while a translation is pending). */
  readonly pcs: readonly number[];
}

/** Executable pages as the runtime sends them: page numbers, each one's X bit, and 4 KiB of bytes per executable page. */
export interface PageUpdate {
  readonly pages: readonly number[];
  /** 1: executable (its bytes follow, in order); 0: no longer executable. */
  readonly exec: Uint8Array;
  readonly bytes: Uint8Array;
}

/** What the server starts from. */
export interface RemoteInit {
  readonly memoryBytes: number;
  /** The runtime's layoutFingerprint (memory layout, unit kind, lowering options): the server's must be the same. */
  readonly layout: string;
  /** Units record where their code lies (linkModule), for the persistent cache. */
  readonly relocatable: boolean;
  readonly pages: PageUpdate;
  /** The numbering so far: the pc of each chain slot, the exit table, the next unit id. */
  readonly slotPcs: Float64Array;
  readonly exitCode: Uint8Array;
  readonly exitPc: Float64Array;
  readonly exitRefund: Int32Array;
  readonly nextUnit: number;
  /** Entries with a translation already (the persistent cache's offers). */
  readonly installed: readonly number[];
}

/** A translation asked for, with what changed since the last request. */
export interface RemoteRequest {
  readonly ticket: number;
  readonly pc: number;
  readonly pages: PageUpdate | null;
  /** Blocks run interpreted, new since the last request. */
  readonly ran: readonly number[];
  /** Indirect jumps' targets, new: pairs of (jump pc, target). */
  readonly indirect: readonly number[];
  /** Entries whose translation was dropped or refused. */
  readonly dropped: readonly number[];
  /** The last ticket whose reply the runtime has taken (-1: none). */
  readonly taken: number;
}

/** A translation made. No units: nothing to translate at pc (`covered`: because a translation there is on its way). */
export interface RemoteReply {
  readonly ticket: number;
  readonly pc: number;
  readonly units: readonly RemoteUnit[];
  readonly covered: boolean;
  /** No units and not covered: the guest bytes at pc the verdict was made from (up to 4). */
  readonly code: Uint8Array | null;
  readonly module: WebAssembly.Module | null;
  /** The module's bytes, for the persistent cache (as compiled). */
  readonly bytes: Uint8Array | null;
  readonly exports: readonly string[];
  readonly layout: CodeLayout | null;
  readonly enterAt: readonly number[] | null;
  /** Numbering added: pairs of (pc, slot); exit entries; the first unit's id and the next free one. */
  readonly slots: readonly number[];
  readonly exitCode: readonly number[];
  readonly exitPc: readonly number[];
  readonly exitRefund: readonly number[];
  /** The exit-table index of the first exit added. */
  readonly firstExit: number;
  readonly firstId: number;
  readonly nextUnit: number;
  /** The translator's counters (its passes') after this translation. */
  readonly counters: Record<string, number>;
  /** Host milliseconds there: lifting, passes and encoding; compiling. */
  readonly translateMs: number;
  readonly compileMs: number;
}

/**
 * Where the runtime sends its requests (a worker thread, or a test's stand-in). The
 * server boots while the guest starts; until it is ready the runtime translates on
 * its own thread, and from the first request on, the server does all of it.
 */
export interface BackgroundTranslator {
  /** Starts booting the server (called when the guest is launched). */
  boot(): void;
  /** Has the server booted? Does not wait. A failure there is thrown here. */
  ready(): boolean;
  /** Called once, when the server is ready, before the first request. */
  start(init: RemoteInit): void;
  submit(request: RemoteRequest): void;
  /** Replies ready now, in request order, without waiting. A failure there is thrown here. */
  poll(): RemoteReply[];
}

// The launch's field for it joins GuestLaunch by declaration merging: cpu/ knows
// nothing of translators (core's folders import each other one way only).
declare module '../cpu/engine' {
  interface GuestLaunch {
    /**
     * Translates away from the guest's thread (lifting, passes, encoding and
     * compiling), for engines that translate and can; it takes precedence over
     * backgroundCompiler. Runners outside simulations may pass one (virtlab exec
     * does), for the same reason.
     */
    readonly backgroundTranslator?: BackgroundTranslator;
  }
}

/** The server: a mirror of the guest's code and profile, and a translator over it. */
export class TranslationServer implements TranslationProfile {
  readonly mem: GuestMemory;
  private readonly translator: Translator;
  private readonly relocatable: boolean;
  private readonly slots = new Map<number, number>();
  private slotCount: number;
  private exits: number;
  private nextUnit: number;
  private readonly ran = new Set<number>();
  private readonly indirect = new Map<number, number[]>();
  private readonly installed = new Set<number>();
  /**
   * The ticket of the latest reply covering each pc translated. A pc the runtime asks
   * for while a reply covering it is on its way was reached by the interpreter running
   * that translation's code meanwhile: it gets none of its own (the region arriving
   * holds it). Asked for again after that reply was taken, it gets one, as a pc
   * entered in the middle of a region does when translation is not remote.
   */
  private readonly coveredBy = new Map<number, number>();

  /** `translatorFor` makes the engine's translator over a memory (engine.ts: remoteTranslatorOf); `now`, a host clock, times the work. */
  constructor(
    translatorFor: (mem: GuestMemory) => Translator,
    init: RemoteInit,
    private readonly now: () => number = () => 0,
  ) {
    this.mem = new GuestMemory(init.memoryBytes);
    this.translator = translatorFor(this.mem);
    const layout = layoutFingerprint(this.mem, this.translator.kind, this.translator.emitOptions);
    if (layout !== init.layout) throw new Error(`the translation server's translator differs from the guest's: ${layout} against ${init.layout}`);
    this.relocatable = init.relocatable;
    for (let s = 0; s < init.slotPcs.length; s++) this.slots.set(init.slotPcs[s], s);
    this.slotCount = init.slotPcs.length;
    this.exits = init.exitCode.length;
    this.nextUnit = init.nextUnit;
    for (const e of init.installed) this.installed.add(e);
    this.applyPages(init.pages);
  }

  private applyPages(u: PageUpdate): void {
    let at = 0;
    u.pages.forEach((p, i) => {
      if (u.exec[i]) {
        this.mem.u8.set(u.bytes.subarray(at, at + 4096), p * 4096);
        this.mem.perm[p] = PERM_X;
        at += 4096;
      } else this.mem.perm[p] = 0;
    });
  }

  has(pc: number): boolean {
    return this.installed.has(pc);
  }

  indirectTargets(pc: number): readonly number[] {
    return this.indirect.get(pc) ?? [];
  }

  ranInterpreted(pc: number): boolean {
    return this.ran.has(pc);
  }

  handle(r: RemoteRequest): RemoteReply {
    if (r.pages) this.applyPages(r.pages);
    for (const pc of r.ran) this.ran.add(pc);
    for (let i = 0; i < r.indirect.length; i += 2) {
      const at = r.indirect[i];
      const list = this.indirect.get(at);
      if (list) list.push(r.indirect[i + 1]);
      else this.indirect.set(at, [r.indirect[i + 1]]);
    }
    for (const e of r.dropped) this.installed.delete(e);
    const firstId = this.nextUnit;
    const firstExit = this.exits;
    const empty = (covered: boolean): RemoteReply => ({
      ticket: r.ticket, pc: r.pc, units: [], covered, code: covered ? null : this.mem.u8.slice(r.pc, Math.min(r.pc + 4, this.mem.size)), module: null, bytes: null, exports: [], layout: null, enterAt: null,
      slots: [], exitCode: [], exitPc: [], exitRefund: [], firstExit, firstId, nextUnit: firstId, counters: this.translator.counters?.() ?? {}, translateMs: 0, compileMs: 0,
    });
    // An earlier translation covers pc: installed there, or on its way.
    const by = this.coveredBy.get(r.pc);
    if (this.installed.has(r.pc) || (by !== undefined && by > r.taken)) return empty(true);
    const t0 = this.now();
    const units = this.translator.translate(r.pc, this).filter((u, i) => i === 0 || (u.guestInstructions > 0 && !this.installed.has(u.entry)));
    if (!units.length || units[0].guestInstructions === 0) return empty(false);
    const slots: number[] = [];
    const exitCode: number[] = [];
    const exitPc: number[] = [];
    const exitRefund: number[] = [];
    const slotFor = (pc: number): number => {
      let s = this.slots.get(pc);
      if (s === undefined) {
        s = this.slotCount++;
        this.slots.set(pc, s);
        slots.push(pc, s);
      }
      return s;
    };
    // Every unit's own slot too: the runtime installs it there.
    for (const u of units) slotFor(u.entry);
    const links = {
      mem: this.mem,
      slotFor,
      unitId: () => this.nextUnit++,
      exit: (code: number, pc: number, refund: number) => {
        exitCode.push(code);
        exitPc.push(pc);
        exitRefund.push(refund);
        return this.exits++;
      },
    };
    const emitted = emitModule(units, links, this.translator.emitOptions, this.relocatable);
    let bytes = emitted.bytes;
    if (this.translator.optimize) bytes = this.translator.optimize(bytes);
    const info: RemoteUnit[] = units.map((u) => ({ ...unitInfo(u, this.mem), pcs: u.pcs }));
    for (const u of units) {
      this.installed.add(u.entry);
      for (const pc of u.pcs) this.coveredBy.set(pc, r.ticket);
    }
    const t1 = this.now();
    const module = new WebAssembly.Module(bytes);
    const t2 = this.now();
    return {
      ticket: r.ticket, pc: r.pc, units: info, covered: false, code: null, module, bytes, exports: emitted.exports, layout: emitted.layout ?? null, enterAt: emitted.enterAt ?? null,
      slots, exitCode, exitPc, exitRefund, firstExit, firstId, nextUnit: this.nextUnit, counters: this.translator.counters?.() ?? {}, translateMs: t1 - t0, compileMs: t2 - t1,
    };
  }
}

/** The executable pages of a memory among `pages` (all when absent), as an update. */
export function pageUpdate(mem: GuestMemory, pages?: Iterable<number>): PageUpdate {
  const list: number[] = [];
  const exec: number[] = [];
  const chunks: number[] = [];
  const add = (p: number) => {
    list.push(p);
    const x = (mem.perm[p] & PERM_X) !== 0 ? 1 : 0;
    exec.push(x);
    if (x) chunks.push(p);
  };
  if (pages) for (const p of pages) add(p);
  else for (let p = 0; p < mem.pages; p++) if (mem.perm[p] & PERM_X) add(p);
  const bytes = new Uint8Array(chunks.length * 4096);
  chunks.forEach((p, i) => bytes.set(mem.u8.subarray(p * 4096, (p + 1) * 4096), i * 4096));
  return { pages: list, exec: Uint8Array.from(exec), bytes };
}
