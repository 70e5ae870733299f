// The runtime of full-system translated code: the translators' pipeline (lift.ts →
// IR → passes → emit.ts → WebAssembly) running the privileged hart of the virt
// machine, as QEMU's softmmu does. What it adds to the user-mode runtime (runtime.ts):
//
// - One WebAssembly memory holds guest RAM at byte 0 (the hart's RAM is a view of
//   it, so the hart's interpreter and translated code share it), then the state area
//   with the hart's registers (the hart's own register arrays are views of it), a
//   software TLB that mirrors the hart's TLBs entry for entry, and a code flag per RAM
//   page. Loads and stores translate their virtual address through the software TLB
//   inline (emit-softtlb.ts).
// - Code is fetched through the MMU: a unit is lifted from one virtual page, keyed by
//   its virtual pc and the physical page the fetch TLB maps it to, and may chain only
//   to units of the same page; a jump to another page, and an indirect one, looks its
//   target up (in WebAssembly, else in the dispatcher), which checks the mapping (the
//   fetch TLB of the current mode) before entering.
// - What translated code cannot do it leaves to the hart for one instruction: CSRs,
//   xRET, WFI, sfence.vma, fence.i, ecall, atomics, floating point (whose mstatus.FS
//   rules are the hart's), and every access the inline path does not serve (misses,
//   devices, page crossings, faults), from the exact pc and instruction count.
// - Interrupts are taken between units, where the hart would take them: everything
//   that can make one pending (device accesses, CSR writes, traps) runs in the hart,
//   after which the dispatcher polls it. Budgets are exact, as in user mode, so that
//   machine time (derived from instructions retired) and every run cut at a timer
//   deadline are the interpreter's.
// - Stores into code pages (the hart's decoded pages or translated ones) call the
//   hart's code-write path, which drops the page's translations; satp writes,
//   sfence.vma and permission changes flush the hart's TLB and so the mirror. Since
//   every write keeps code exact, fence.i needs nothing more.
//
// What a unit is and which passes run stay with the translator plugins, as in user
// mode (SystemTranslator).

import * as decoderModule from '../riscv/decoder';
import { decode16, decode32, newDecoded, type Decoded, type Op as OpEnum } from '../riscv/decoder';
import { LOOKUP_ENTRIES, STATE_BUDGET, STATE_F, STATE_PC, STATE_X, UNIT_COUNTERS, type GuestMemory } from '../riscv/memory';
import { CODE_TRANSLATED, PrivilegedHart, Stop, TLB_SET, TLB_SIZE, type HartStorage, type TlbMirror } from '../riscv/system/hart';
import type { HartEngine, HartExecutor } from '../riscv/system/machine';
import { EXIT_BUDGET, EXIT_INTERP, EXIT_LOOKUP, EXIT_RET, EXIT_TABLE } from './abi';
import { emitModule, type EmitOptions } from './emit';
import { STATE_SYS_CHANGED, STATE_SYS_DSET, type SoftTlbLayout } from './emit-softtlb';
import { I32, I64, ModuleBuilder, W } from '../wasm/encoder';
import type { Unit } from './ir';
import { BlockLifter } from './lift';
import { buildRuntimeModule, HELPERS } from './runtime-module';

const Op = (decoderModule as unknown as { Op: { readonly [P in keyof typeof OpEnum]: number } }).Op;

const TWO32 = 4294967296;
const CLAMP = 1 << 20;
const TABLE_CHUNK = 4096;
/** TLB entries of the hart: three regimes, three kinds. */
const TLB_ENTRIES = TLB_SET * 3;
/** State word: the byte offset of the fetch regime's TLB set (for the in-WebAssembly lookup). */
const STATE_SYS_FSET = STATE_SYS_DSET + 8;
const FETCH_KIND = 2;

/**
 * The in-WebAssembly lookup of full-system code, which indirect jumps and jumps off a
 * unit's page go through: the target's page must be in the fetch TLB of the current
 * mode (the regime cannot change inside translated code: whatever changes it runs in
 * the hart), and the lookup entry for the target pc must name the physical page that
 * maps; then it enters the unit, else it returns EXIT_LOOKUP to the dispatcher.
 * Entries are 16 bytes, [pc: i64][physical page: i32][chain slot: i32], indexed by
 * (pc >> 1) mod LOOKUP_ENTRIES.
 */
function buildLookupModule(mem: SystemMemory, tableSize: number): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  const tUnit = m.type([], [I32]);
  m.importMemory('env', 'mem', mem.wasmPages);
  m.importTable('env', 'table', tableSize);
  const { index, body: f } = m.func(tUnit);
  const pc = f.local(I64);
  const e = f.local(I32);
  const page = f.local(I32);
  const fetch = mem.tlbBase + FETCH_KIND * TLB_SIZE * 16;
  f.i32Const(0).mem(W.i64_load, 3, mem.stateBase + STATE_PC).set(pc);
  f.get(pc).i64Const(12).op(W.i64_shr_u).op(W.i32_wrap_i64).i32Const(TLB_SIZE - 1).op(W.i32_and).i32Const(4).op(W.i32_shl);
  f.i32Const(0).mem(W.i32_load, 2, mem.stateBase + STATE_SYS_FSET).op(W.i32_add).tee(e);
  f.mem(W.i64_load, 3, fetch).get(pc).i64Const(-4096).op(W.i64_and).op(W.i64_ne);
  f.if();
  f.i32Const(EXIT_LOOKUP).op(W.return);
  f.end();
  f.get(e).mem(W.i32_load, 2, fetch + 8).i32Const(12).op(W.i32_shr_u).set(page);
  f.get(pc).op(W.i32_wrap_i64).i32Const(1).op(W.i32_shr_u).i32Const(LOOKUP_ENTRIES - 1).op(W.i32_and).i32Const(4).op(W.i32_shl).tee(e);
  f.mem(W.i64_load, 3, mem.lookupBase).get(pc).op(W.i64_eq);
  f.get(e).mem(W.i32_load, 2, mem.lookupBase + 8).get(page).op(W.i32_eq).op(W.i32_and);
  f.if();
  f.get(e).mem(W.i32_load, 2, mem.lookupBase + 12).returnCallIndirect(tUnit);
  f.end();
  f.i32Const(EXIT_LOOKUP);
  m.export('lookup', index);
  return m.finish();
}

/** What the translator may ask the runtime while forming units (the user-mode runtime answers the same). */
export interface TranslationProfile {
  /** Is a unit installed at pc (on the page being translated)? */
  has(pc: number): boolean;
  /** Targets the indirect jump at pc took while interpreted. */
  indirectTargets(pc: number): readonly number[];
  /** Has the hart interpreted the basic block at pc while it was cold? */
  ranInterpreted(pc: number): boolean;
}

/** A translator of full-system code: what a unit is and which passes run (a dbt plugin's choice). */
export interface SystemTranslator {
  readonly kind: string;
  /** Lowering options; the runtime adds the software TLB and turns call mapping and timing off. */
  readonly emitOptions: EmitOptions;
  /** Times a pc must be reached before it is translated (0: at once). */
  readonly hotThreshold?: number;
  /** The units for pc, lifted with `lifter` (which fetches from pc's page only); the first is pc's own. */
  translate(pc: number, lifter: BlockLifter, profile: TranslationProfile): Unit[];
  counters?(): Record<string, number>;
  optimize?(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer>;
}

/** The WebAssembly memory of a translated machine and where things are in it. */
export class SystemMemory {
  readonly wasm: WebAssembly.Memory;
  readonly stateBase: number;
  readonly tlbBase: number;
  readonly codeFlags: number;
  readonly lookupBase: number;
  readonly countersBase: number;
  readonly wasmPages: number;
  /** RAM pages (the emitter's permission-table bound; unused with a software TLB). */
  readonly pages: number;

  constructor(readonly ramBytes: number) {
    if (ramBytes % 65536 !== 0 || ramBytes > 2 ** 31) throw new Error(`translated engines need RAM in whole 64 KiB units up to 2 GiB, got ${ramBytes}`);
    this.pages = ramBytes / 4096;
    this.stateBase = ramBytes;
    this.tlbBase = ramBytes + 8192;
    // One zero byte before the flags: a store's check of the page before page 0 reads it.
    this.codeFlags = this.tlbBase + TLB_ENTRIES * 16 + 16;
    this.lookupBase = Math.ceil((this.codeFlags + this.pages + 1) / 4096) * 4096;
    this.countersBase = this.lookupBase + LOOKUP_ENTRIES * 16;
    this.wasmPages = Math.ceil((this.countersBase + UNIT_COUNTERS * 8) / 65536);
    this.wasm = new WebAssembly.Memory({ initial: this.wasmPages, maximum: this.wasmPages });
  }

  storage(): HartStorage {
    const b = this.wasm.buffer;
    return {
      ram: new Uint8Array(b, 0, this.ramBytes),
      xOffset: this.stateBase + STATE_X,
      fOffset: this.stateBase + STATE_F,
      codeFlag: new Uint8Array(b, this.codeFlags, this.pages),
    };
  }

  layout(): SoftTlbLayout {
    return { tlbBase: this.tlbBase, entries: TLB_SIZE, codeFlags: this.codeFlags };
  }
}

/**
 * The lifter of one virtual page of guest code, whose bytes are at a RAM offset: it
 * does not fetch past the page (a straddling instruction is the hart's), and it ends
 * blocks before every instruction the hart must execute.
 */
class PageLifter extends BlockLifter {
  private vb = 0;
  private po = 0;
  private readonly own = newDecoded();

  constructor(
    private readonly ram: Uint8Array,
    maxInstructions: number,
  ) {
    super({} as GuestMemory, { maxInstructions });
  }

  setPage(vb: number, po: number): void {
    this.vb = vb;
    this.po = po;
  }

  override fetchable(pc: number): boolean {
    const o = pc - this.vb;
    if (o < 0 || o + 2 > 4096 || o % 2 !== 0) return false;
    return (this.ram[this.po + o] & 3) !== 3 || o + 4 <= 4096;
  }

  override decodeAt(pc: number, fresh = false): Decoded {
    const ram = this.ram;
    const o = this.po + (pc - this.vb);
    const d = fresh ? newDecoded() : this.own;
    const lo16 = ram[o] | (ram[o + 1] << 8);
    if ((lo16 & 3) !== 3) decode16(lo16, d);
    else decode32((lo16 | (ram[o + 2] << 16) | (ram[o + 3] << 24)) >>> 0, d);
    if (hartOnly(d.op)) d.op = Op.ILLEGAL;
    return d;
  }

  override lift(unit: Unit, pc: number, stopAt?: (pc: number) => boolean) {
    const b = super.lift(unit, pc, stopAt);
    // Falling through into the next page: a jump there, which the dispatcher checks.
    if (b.term.k === 'interp' && b.term.pc === this.vb + 4096) b.term = { k: 'jump', target: b.term.pc };
    return b;
  }
}

/**
 * Instructions left to the hart: system instructions, CSRs (the FP ones too: they
 * obey mstatus.FS), atomics (reservations are the hart's), and floating point (which
 * is illegal with FS off and marks FS dirty). The lifter ends a block before them.
 */
function hartOnly(op: number): boolean {
  if (op >= Op.CSRRW && op <= Op.CSRRCI) return true;
  if (op >= Op.LR_W && op <= Op.FMV_D_X) return true;
  return op === Op.FENCE_I || op === Op.ECALL || op === Op.EBREAK;
}

interface Installed {
  readonly entry: number;
  readonly slot: number;
  /** null: nothing translatable at entry (the hart executes its instruction). */
  readonly fn: (() => number) | null;
  readonly id: number;
}

export interface SystemRuntimeOptions {
  /** A host clock (ms), for the translation-time counter. */
  readonly hostNow?: () => number;
}

export class SystemDbtRuntime implements HartExecutor, TlbMirror, TranslationProfile {
  private readonly i32: Int32Array;
  private readonly s: number;
  private readonly table: WebAssembly.Table;
  private readonly stub: () => number;
  private readonly imports: WebAssembly.Imports;
  private readonly lifter: PageLifter;
  private readonly codeFlag: Uint8Array;
  /** The in-WebAssembly lookup table (see buildLookupModule), as int32 words. */
  private readonly lookup: Int32Array;
  /** Installed units by physical page, then virtual entry pc. */
  private readonly units = new Map<number, Map<number, Installed>>();
  /** Chain slots by physical page, then virtual pc (slot 0: jumps off the page, never patched). */
  private readonly slots = new Map<number, Map<number, number>>();
  private slotCount = 1;
  private nextUnit = 0;
  private readonly heat = new Map<number, number>();
  private readonly ran = new Set<number>();
  private readonly indirect = new Map<number, Set<number>>();
  /** The page being translated (for has()). */
  private curPage = -1;
  private epoch = 0;
  /** The exit table (see EXIT_TABLE): code, guest pc and budget refund per entry. */
  private readonly exitCode: number[] = [];
  private readonly exitPc: number[] = [];
  private readonly exitRefund: number[] = [];
  private readonly emitOptions: EmitOptions;
  readonly stats = {
    units: 0, blocks: 0, modules: 0, hostBytes: 0, guestInstructionsTranslated: 0, translateMs: 0,
    dispatcherEntries: 0, translatedRetired: 0, interpreted: 0, lookupMisses: 0, invalidatedUnits: 0, untranslatable: 0,
  };

  constructor(
    private readonly hart: PrivilegedHart,
    private readonly mem: SystemMemory,
    private readonly translator: SystemTranslator,
    private readonly options: SystemRuntimeOptions = {},
  ) {
    const buf = mem.wasm.buffer;
    this.i32 = new Int32Array(buf);
    this.s = mem.stateBase;
    this.codeFlag = new Uint8Array(buf, mem.codeFlags, mem.pages);
    const asGuest = mem as unknown as GuestMemory;
    this.table = new WebAssembly.Table({ element: 'anyfunc', initial: TABLE_CHUNK });
    const rtModule = new WebAssembly.Module(buildRuntimeModule(asGuest, TABLE_CHUNK));
    const js = {
      interp: () => {
        throw new Error('full-system units have no in-unit interpreter calls');
      },
      access: (host: number, size: number) => this.codeStore(host, size),
    };
    const rt = new WebAssembly.Instance(rtModule, { env: { mem: mem.wasm, table: this.table }, js }).exports as Record<string, unknown>;
    this.stub = rt.stub as () => number;
    for (let i = 0; i < TABLE_CHUNK; i++) this.table.set(i, this.stub);
    const sysLookup = new WebAssembly.Instance(new WebAssembly.Module(buildLookupModule(mem, TABLE_CHUNK)), { env: { mem: mem.wasm, table: this.table } }).exports.lookup as () => number;
    const helpers = new WebAssembly.Table({ element: 'anyfunc', initial: HELPERS.length });
    HELPERS.forEach((name, i) => helpers.set(i, name === 'lookup' ? sysLookup : (rt[name] as () => number)));
    this.imports = { env: { mem: mem.wasm, helpers } };
    // Slot 0, where jumps off a unit's page go, looks the target up.
    this.table.set(0, sysLookup);
    this.lookup = new Int32Array(buf, mem.lookupBase, LOOKUP_ENTRIES * 4);
    for (let i = 0; i < LOOKUP_ENTRIES; i++) this.lookup[i * 4] = 1;
    this.flush();
    this.lifter = new PageLifter(hart.ram, 256);
    this.emitOptions = { ...translator.emitOptions, mapCalls: false, timing: false, softTlb: mem.layout() };
    hart.tlbMirror = this;
    hart.onTranslatedWrite = (page) => this.dropPage(page);
  }

  // ---- the software TLB: a mirror of the hart's ----

  fill(i: number, vpn: number, pageOff: number): void {
    const k = (this.mem.tlbBase + i * 16) >>> 2;
    // The page's address as an i64: vpn·4096 in two words (vpn is signed, exact).
    const hi = Math.floor(vpn / 1048576);
    this.i32[k] = (vpn - hi * 1048576) * 4096;
    this.i32[k + 1] = hi;
    this.i32[k + 2] = pageOff;
  }

  private clear(i: number): void {
    const k = (this.mem.tlbBase + i * 16) >>> 2;
    // An odd tag: no page address matches it.
    this.i32[k] = 1;
    this.i32[k + 1] = 0;
  }

  sync(tags: Float64Array): void {
    for (let i = 0; i < TLB_ENTRIES; i++) if (tags[i] !== tags[i]) this.clear(i);
  }

  flush(): void {
    for (let i = 0; i < TLB_ENTRIES; i++) this.clear(i);
  }

  // ---- code writes ----

  /** Called by translated code after a store of `size` bytes at RAM offset `host` on a flagged page. */
  private codeStore(host: number, size: number): void {
    const epoch = this.epoch;
    this.hart.codeWritten(host, size);
    this.i32[(this.s + STATE_SYS_CHANGED) >>> 2] = this.epoch !== epoch ? 1 : 0;
  }

  private setLookup(pc: number, page: number, slot: number): void {
    const k = ((pc >>> 1) & (LOOKUP_ENTRIES - 1)) * 4;
    const l = this.lookup;
    l[k] = pc | 0;
    l[k + 1] = Math.floor(pc / TWO32) | 0;
    l[k + 2] = page;
    l[k + 3] = slot;
  }

  private clearLookup(pc: number, page: number): void {
    const k = ((pc >>> 1) & (LOOKUP_ENTRIES - 1)) * 4;
    const l = this.lookup;
    if (l[k] === (pc | 0) && l[k + 1] === (Math.floor(pc / TWO32) | 0) && l[k + 2] === page) {
      l[k] = 1;
      l[k + 1] = 0;
    }
  }

  /** Drops every translation made from a physical page (its bytes were written). */
  private dropPage(page: number): void {
    this.codeFlag[page] &= ~CODE_TRANSLATED;
    const m = this.units.get(page);
    if (!m) return;
    for (const rec of m.values()) {
      if (rec.fn) {
        this.table.set(rec.slot, this.stub);
        this.clearLookup(rec.entry, page);
        this.stats.invalidatedUnits++;
      }
    }
    this.units.delete(page);
    this.epoch++;
  }

  // ---- the profile translators may ask for ----

  has(pc: number): boolean {
    return this.units.get(this.curPage)?.has(pc) ?? false;
  }

  indirectTargets(pc: number): readonly number[] {
    const set = this.indirect.get(pc);
    return set ? [...set] : [];
  }

  ranInterpreted(pc: number): boolean {
    return this.ran.has(pc);
  }

  // ---- translation ----

  private slotFor(page: number, vb: number, pc: number): number {
    if (pc - (pc & 4095) !== vb) return 0;
    let m = this.slots.get(page);
    if (!m) this.slots.set(page, (m = new Map()));
    let s = m.get(pc);
    if (s === undefined) {
      s = this.slotCount++;
      if (s >= this.table.length) this.table.grow(TABLE_CHUNK, this.stub);
      m.set(pc, s);
    }
    return s;
  }

  private newExit(code: number, pc: number, refund: number): number {
    this.exitCode.push(code);
    this.exitPc.push(pc);
    this.exitRefund.push(refund);
    return this.exitCode.length - 1;
  }

  private translate(pc: number, page: number, pageOff: number): Installed {
    const now = this.options.hostNow;
    const t0 = now ? now() : 0;
    const vb = pc - (pc & 4095);
    this.lifter.setPage(vb, pageOff);
    this.curPage = page;
    let m = this.units.get(page);
    if (!m) this.units.set(page, (m = new Map()));
    const have = m;
    const units = this.translator.translate(pc, this.lifter, this).filter((u, i) => i === 0 || (u.guestInstructions > 0 && !have.has(u.entry)));
    // Writes to the page now reach dropPage, translated or not (a marker is dropped too).
    this.codeFlag[page] |= CODE_TRANSLATED;
    if (!units.length || units[0].guestInstructions === 0) {
      this.stats.untranslatable++;
      const rec: Installed = { entry: pc, slot: 0, fn: null, id: -1 };
      m.set(pc, rec);
      return rec;
    }
    const emitted = emitModule(units, { mem: this.mem as unknown as GuestMemory, slotFor: (p) => this.slotFor(page, vb, p), exit: (c, p, r) => this.newExit(c, p, r), unitId: () => this.nextUnit++ }, this.emitOptions);
    let bytes = emitted.bytes;
    if (this.translator.optimize) bytes = this.translator.optimize(bytes);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), this.imports);
    const st = this.stats;
    st.modules++;
    st.hostBytes += bytes.length;
    let first: Installed | undefined;
    units.forEach((u, i) => {
      const fn = instance.exports[emitted.exports[i]] as () => number;
      const slot = this.slotFor(page, vb, u.entry);
      const rec: Installed = { entry: u.entry, slot, fn, id: i };
      this.table.set(slot, fn);
      this.setLookup(u.entry, page, slot);
      have.set(u.entry, rec);
      if (i === 0) first = rec;
      st.units++;
      st.blocks += u.blocks.length;
      st.guestInstructionsTranslated += u.guestInstructions;
    });
    st.translateMs += now ? now() - t0 : 0;
    return first!;
  }

  // ---- running ----

  private statePc(): number {
    const i = (this.s + STATE_PC) >>> 2;
    return this.i32[i + 1] * TWO32 + (this.i32[i] >>> 0);
  }

  /** The hart for at most n instructions; returns its stop and what it used of the budget. */
  private interpret(n: number): { stop: Stop; used: number } {
    const h = this.hart;
    const before = h.instret;
    const stop = h.run(n);
    const ran = h.instret - before;
    this.stats.interpreted += ran;
    // A trap retires nothing but uses budget, as in the hart's own loop.
    return { stop, used: ran > 0 ? ran : Math.min(1, n) };
  }

  run(budget: number): Stop {
    const h = this.hart;
    const i32 = this.i32;
    const bi = (this.s + STATE_BUDGET) >>> 2;
    const di = (this.s + STATE_SYS_DSET) >>> 2;
    const fi = (this.s + STATE_SYS_FSET) >>> 2;
    const pi = (this.s + STATE_PC) >>> 2;
    const threshold = this.translator.hotThreshold ?? 0;
    let remaining = budget;
    while (remaining > 0) {
      if (h.poll()) return Stop.HALT;
      const pc = h.pc;
      // With a reservation held (between LR and SC) the hart runs: its stores clear it.
      const off = h.reservation === -1 ? h.fetchOffset(pc) : -1;
      let rec: Installed | undefined;
      if (off >= 0) {
        const page = off / 4096;
        rec = this.units.get(page)?.get(pc);
        // Another unit may have taken its lookup entry since: back in.
        if (rec !== undefined && rec.fn !== null) this.setLookup(pc, page, rec.slot);
        if (rec === undefined && threshold > 0) {
          const heat = (this.heat.get(pc) ?? 0) + 1;
          if (heat < threshold) {
            // Cold: the hart runs this basic block (and the profile records it).
            this.heat.set(pc, heat);
            this.ran.add(pc);
            this.lifter.setPage(pc - (pc & 4095), off);
            const info = this.lifter.blockInfo(pc, 256);
            const r = this.interpret(Math.min(info.n, remaining));
            remaining -= r.used;
            if (r.stop !== Stop.BUDGET) return r.stop;
            if (info.jumpPc >= 0) this.sawIndirect(info.jumpPc, h.pc);
            continue;
          }
          this.heat.delete(pc);
        }
        if (rec === undefined) {
          this.stats.lookupMisses++;
          rec = this.translate(pc, page, off);
        }
      }
      if (rec === undefined || rec.fn === null) {
        const r = this.interpret(1);
        remaining -= r.used;
        if (r.stop !== Stop.BUDGET) return r.stop;
        continue;
      }
      const give = remaining < CLAMP ? remaining : CLAMP;
      i32[bi] = give;
      i32[pi] = pc | 0;
      i32[pi + 1] = Math.floor(pc / TWO32) | 0;
      i32[di] = h.dataTlbSet() * 16;
      i32[fi] = (h.mode === 3 ? 2 : h.mode) * TLB_SET * 16;
      this.stats.dispatcherEntries++;
      let code = rec.fn();
      let next: number;
      if (code >= EXIT_TABLE) {
        const e = code - EXIT_TABLE;
        code = this.exitCode[e];
        i32[bi] += this.exitRefund[e];
        next = this.exitPc[e];
      } else next = this.statePc();
      const used = give - i32[bi];
      remaining -= used;
      h.instret += used;
      this.stats.translatedRetired += used;
      h.pc = next;
      if (code === EXIT_LOOKUP || code === EXIT_RET) continue;
      if (code === EXIT_INTERP) {
        if (remaining === 0) break;
        const r = this.interpret(1);
        remaining -= r.used;
        if (r.stop !== Stop.BUDGET) return r.stop;
      } else if (code === EXIT_BUDGET) {
        if (give === remaining + used && remaining > 0) {
          // Fewer instructions left than the next block has: the hart retires them.
          const r = this.interpret(remaining);
          remaining -= r.used;
          if (r.stop !== Stop.BUDGET) return r.stop;
        }
      } else throw new Error(`translated code returned an unknown exit code ${code}`);
    }
    return Stop.BUDGET;
  }

  private sawIndirect(at: number, target: number): void {
    let set = this.indirect.get(at);
    if (!set) this.indirect.set(at, (set = new Set()));
    if (set.size < 64) set.add(target);
  }

  counters(): Record<string, number> {
    let entered = 0;
    const c = new DataView(this.mem.wasm.buffer, this.mem.countersBase, UNIT_COUNTERS * 8);
    for (let i = 0; i < UNIT_COUNTERS; i++) entered += c.getUint32(8 * i, true) + c.getUint32(8 * i + 4, true) * TWO32;
    const st = this.stats;
    return {
      units: st.units,
      blocks: st.blocks,
      modules: st.modules,
      hostBytes: st.hostBytes,
      guestInstructionsTranslated: st.guestInstructionsTranslated,
      translateMs: Math.round(st.translateMs * 1000) / 1000,
      unitsEntered: entered,
      dispatcherEntries: st.dispatcherEntries,
      lookupMisses: st.lookupMisses,
      untranslatablePcs: st.untranslatable,
      instructionsTranslatedCode: st.translatedRetired,
      instructionsInterpreted: st.interpreted,
      invalidatedUnits: st.invalidatedUnits,
      ...(this.translator.counters?.() ?? {}),
    };
  }
}

/** A hart engine that runs the machine's code through `translator` (made fresh for each machine). */
export function systemEngine(id: string, translator: () => SystemTranslator, options: SystemRuntimeOptions = {}): HartEngine {
  let mem: SystemMemory | undefined;
  return {
    id,
    storage(ramBytes) {
      mem = new SystemMemory(ramBytes);
      return mem.storage();
    },
    attach(hart) {
      if (!mem) throw new Error(`engine ${id}: storage() must come before attach()`);
      return new SystemDbtRuntime(hart, mem, translator(), options);
    },
  };
}
