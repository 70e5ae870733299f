// Lowering of IR units (ir.ts) to WebAssembly: one function of type () → i32 per
// unit, in one module per translation. Two choices shape the code:
//
// - Where guest registers live. With `promote` off they stay in the CPU state in
//   memory and every getx/setx is a load or store (the QEMU-style baseline). With it
//   on, every register the unit touches is a WebAssembly local, loaded at entry and
//   written back at every exit (Instrew's fixed-register convention, within a unit);
//   so are the FP flags and the budget counter.
// - How control leaves. Direct jumps to other units are tail calls through the
//   unit's chain slot for the target (a table entry the runtime patches once the
//   target is translated: chaining); indirect jumps tail-call the in-WebAssembly
//   dispatcher; with `mapCalls`, a guest call is a host call into the callee's unit,
//   whose guest return is a host return that the caller checks against the return
//   address it expects.
//
// Multi-block units (regions) become structured WebAssembly by Ramsey's algorithm
// ("Beyond Relooper", ICFP 2022): blocks in reverse postorder, loops at loop headers,
// `block`s ending just before merge points, and branches as `br` to them. Edges that
// would make the control-flow graph irreducible leave the unit instead.
//
// Every guest instruction that can fault checks its access inline; when the check
// fails the unit exits with the instruction not executed and the budget of the rest
// of its block refunded, and the interpreter executes it — and raises the precise
// fault, from exactly the state it would have had.

import * as decoderModule from '../riscv/decoder';
import * as irModule from './ir';
import { fpReadsInt, type Op as OpEnum, writesIntRd } from '../riscv/decoder';
import * as memoryModule from '../riscv/memory';
import type { GuestMemory } from '../riscv/memory';
import * as encoderModule from '../wasm/encoder';
import { FuncBody, ModuleBuilder, W as WasmOp } from '../wasm/encoder';
import { EXIT_BUDGET, EXIT_INTERP, EXIT_LOOKUP, EXIT_RET, EXIT_TABLE, HELPER_CODE_CHANGED, HELPER_OK, MAX_CALL_DEPTH } from './abi';
import { Block, CHECKED, DIV_S, DIV_U, type K as KEnum, MULH_SS, MULH_SU, operands, REM_S, termOperands, type Inst, type Term, Unit } from './ir';
import { HELPER_TYPES, HELPERS, type HelperName } from './runtime-module';

// Imported bindings compile to getter calls under CommonJS; the hot paths read these local copies.
// (TypeScript's const enums are objects at run time here; they are read once.)
const { PAGE_SHIFT, PERM_DECODED, PERM_R, PERM_W, STATE_BUDGET, STATE_DEPTH, STATE_F, STATE_FLAGS, STATE_FRM, STATE_HOST_CALLS, STATE_PC, STATE_PERM, STATE_RETURN_HITS, STATE_X, UNIT_COUNTERS } = memoryModule;
const Op = (decoderModule as unknown as { Op: { readonly [P in keyof typeof OpEnum]: number } }).Op;
const { F64, I32, I64 } = encoderModule;
const W = WasmOp;
const K = (irModule as unknown as { K: { readonly [P in keyof typeof KEnum]: number } }).K;


const NX = 1;
const MIN_NORMAL = 2.2250738585072014e-308;

export interface EmitOptions {
  /** Keep guest registers, FP flags and the budget in locals across the unit. */
  readonly promote: boolean;
  /** Guest calls become host calls, guest returns host returns. */
  readonly mapCalls: boolean;
  /** Jumps go straight to their target's unit (chain slots, in-WebAssembly lookup); off: every exit returns to the dispatcher loop. */
  readonly chain: boolean;
  /**
   * Timing mode: every guest load and store calls the runtime's access hook with its
   * address (what a memory model sees); passes must then keep every access.
   */
  readonly timing?: boolean;
}

/** What the emitter needs from the runtime. */
export interface EmitLinks {
  readonly mem: GuestMemory;
  /** The chain slot (table index) of a guest pc, allocated on first use. */
  slotFor(pc: number): number;
  /** A new unit's number (for its entry counter). */
  unitId(): number;
  /** A new entry of the exit table (see EXIT_TABLE): its index. */
  exit(code: number, pc: number, refund: number): number;
}

/** The module of one translation: its bytes and the export name of each unit. */
export interface EmittedModule {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly exports: string[];
}

/** Lowers units into one module that imports the runtime (see runtime-module.ts). */
export function emitModule(units: readonly Unit[], links: EmitLinks, options: EmitOptions): EmittedModule {
  const m = new ModuleBuilder();
  const tUnit = m.type([], [I32]);
  m.importMemory('env', 'mem', links.mem.wasmPages);
  const imports = new Helpers(m);
  const exports: string[] = [];
  // Units of one module call each other directly (function i is unit i): no table
  // between them. The runtime drops a module's units together, so no direct call can
  // reach a dropped unit.
  const local = new Map<number, number>();
  units.forEach((u, i) => {
    if (!local.has(u.entry)) local.set(u.entry, i);
  });
  const scratch = new Scratch(Math.max(...units.map((u) => u.valueCount)));
  units.forEach((u, i) => {
    const { index, body } = m.func(tUnit);
    const e = new UnitEmitter(u, body, imports, links, options, tUnit, local, scratch);
    e.emit();
    const name = `u${i}`;
    m.export(name, index);
    exports.push(name);
  });
  return { bytes: m.finish(), exports };
}

/** Per-value arrays shared by the units of a module (allocating them per unit made garbage). */
class Scratch {
  readonly vloc: Int32Array;
  readonly isConst: Uint8Array;
  readonly cLo: Int32Array;
  readonly cHi: Int32Array;
  readonly alias: Int32Array;
  readonly aliasF: Uint8Array;

  constructor(n: number) {
    this.vloc = new Int32Array(n);
    this.isConst = new Uint8Array(n);
    this.cLo = new Int32Array(n);
    this.cHi = new Int32Array(n);
    this.alias = new Int32Array(n);
    this.aliasF = new Uint8Array(n);
  }

  reset(n: number): void {
    this.vloc.fill(-1, 0, n);
    this.isConst.fill(0, 0, n);
    this.alias.fill(-1, 0, n);
    this.aliasF.fill(0, 0, n);
  }
}

/** The module's view of the helper table: a function type per helper. */
class Helpers {
  private readonly types = new Map<HelperName, number>();

  constructor(private readonly m: ModuleBuilder) {
    m.importTable('env', 'helpers', HELPERS.length);
  }

  private type(name: HelperName): number {
    let t = this.types.get(name);
    if (t === undefined) {
      const [params, results] = HELPER_TYPES[name];
      this.types.set(name, (t = this.m.type(params, results)));
    }
    return t;
  }

  /** Calls the helper (its arguments already on the stack). */
  call(f: FuncBody, name: HelperName): void {
    f.i32Const(HELPERS.indexOf(name)).callIndirect(this.type(name));
  }

  /** Tail-calls the helper. */
  tail(f: FuncBody, name: HelperName): void {
    f.i32Const(HELPERS.indexOf(name)).returnCallIndirect(this.type(name));
  }
}

/**
 * A label a branch can target (Ramsey's ContainingSyntax): the loop headed by a
 * block, the block that a merge point follows, or the shared exit; `level` is the
 * nesting depth of its construct, from which a `br` computes its index.
 */
interface Ctx {
  readonly k: 'loop' | 'follow' | 'exit' | 'texit';
  readonly block: number;
  readonly level: number;
}

/** Ways of leaving a unit through the shared exit path. */
const LEAVE_RETURN = 0;
const LEAVE_CHAIN = 1;
const LEAVE_LOOKUP = 2;

class UnitEmitter {
  private readonly sb: number;
  private readonly permBase: number;
  /** A local holding the state area's offset: short load and store encodings. */
  private sbL = -1;
  /** Local of each value (-1: none yet); constants are inlined instead. */
  private readonly vloc: Int32Array;
  private readonly isConst: Uint8Array;
  private readonly cLo: Int32Array;
  private readonly cHi: Int32Array;
  /** Values that alias a register's local (promote mode): value → register local. */
  private readonly alias: Int32Array;
  /** Whether that register local is an FP register's f64. */
  private readonly aliasF: Uint8Array;
  // Registers in locals (promote mode): -1 when the unit does not touch the register.
  private readonly xl = new Int32Array(32).fill(-1);
  private readonly fl = new Int32Array(32).fill(-1);
  private readonly xWritten = new Uint8Array(32);
  private readonly fWritten = new Uint8Array(32);
  private flagsL = -1;
  private budgetL = -1;
  private frmL = -1;
  // The shared exit: kind, code, pc, budget refund, chain slot.
  private ekind = -1;
  private ecode = -1;
  private epc = -1;
  private eadj = -1;
  private eslot = -1;
  private depthL = -1;
  private tI32 = -1;
  private tI64 = -1;
  private fa = -1;
  private fb = -1;
  private fc = -1;
  private fr = -1;
  private readonly ctx: Ctx[] = [];
  private readonly freeLocals: number[] = [];
  private readonly blockLocals: number[] = [];
  // Control-flow facts of the unit.
  private readonly index = new Map<number, number>();
  private rpo: number[] = [];
  private order!: Int32Array;
  private idom!: Int32Array;
  private children: number[][] = [];
  private loopHeader!: Uint8Array;
  private merge!: Uint8Array;
  /** Blocks that check the budget against `bound`; the others only spend it. */
  private checkpoint!: Uint8Array;
  private bound = 0;
  /** Edges (from·n + to) cut to keep the graph reducible. */
  private readonly cut = new Set<number>();

  constructor(
    private readonly u: Unit,
    private readonly f: FuncBody,
    private readonly im: Helpers,
    private readonly links: EmitLinks,
    private readonly o: EmitOptions,
    private readonly tUnit: number,
    /** Entry pc → function index, for the units of this module. */
    private readonly local: ReadonlyMap<number, number>,
    scratch: Scratch,
  ) {
    this.sb = links.mem.stateBase;
    this.permBase = links.mem.stateBase + STATE_PERM;
    scratch.reset(u.valueCount);
    this.vloc = scratch.vloc;
    this.isConst = scratch.isConst;
    this.cLo = scratch.cLo;
    this.cHi = scratch.cHi;
    this.alias = scratch.alias;
    this.aliasF = scratch.aliasF;
  }

  emit(): void {
    const f = this.f;
    this.sbL = f.local(I32);
    f.i32Const(this.sb).set(this.sbL);
    this.analyseCfg();
    this.declareLocals();
    this.ekind = f.local(I32);
    this.ecode = f.local(I32);
    this.epc = f.local(I64);
    this.eadj = f.local(I32);
    this.eslot = f.local(I32);
    this.tI32 = f.local(I32);
    this.tI64 = f.local(I64);
    this.fa = f.local(F64);
    this.fb = f.local(F64);
    this.fc = f.local(F64);
    this.fr = f.local(F64);
    // This unit's entry counter (see UNIT_COUNTERS), addressed from 0.
    const counter = this.links.mem.countersBase + 8 * (this.links.unitId() % UNIT_COUNTERS);
    f.i32Const(0).i32Const(0).mem(W.i64_load, 3, counter).i64Const(1).op(W.i64_add).mem(W.i64_store, 3, counter);
    if (this.o.promote) {
      // Two shared exits: $exit for leaving to another unit or the dispatcher, and
      // $texit (carrying an exit-table code) for faults and budget checks; both write
      // the registers back first.
      this.loadAll();
      f.block();
      this.ctx.push({ k: 'exit', block: -1, level: f.depth });
      f.block(I32);
      this.ctx.push({ k: 'texit', block: -1, level: f.depth });
      this.doTree(0);
      f.op(W.unreachable);
      this.ctx.pop();
      f.end();
      f.set(this.tI32);
      this.writeBack();
      f.get(this.tI32).op(W.return);
      this.ctx.pop();
      f.end();
      this.sharedExit();
    } else {
      this.doTree(0);
      f.op(W.unreachable);
    }
  }

  // ---- control-flow analysis ----

  private succ(b: number): number[] {
    const block = this.u.blocks[b];
    const out: number[] = [];
    const t = block.term;
    const add = (pc: number) => {
      const j = this.index.get(pc);
      if (j !== undefined && !this.cut.has(b * this.u.blocks.length + j)) out.push(j);
    };
    if (t.k === 'jump') add(t.target);
    else if (t.k === 'branch') {
      add(t.taken);
      if (t.fall !== t.taken) add(t.fall);
    } else if (t.k === 'indirect' && t.cases) for (const c of t.cases) add(c);
    else if (t.k === 'call') add(this.o.mapCalls ? t.ret : t.target);
    else if (t.k === 'icall' && this.o.mapCalls) add(t.ret);
    return out;
  }

  private analyseCfg(): void {
    const blocks = this.u.blocks;
    const n = blocks.length;
    blocks.forEach((b, i) => {
      if (!this.index.has(b.start)) this.index.set(b.start, i);
    });
    if (n === 1 && this.succ(0).length === 0) {
      // One block that does not branch to itself: nothing to analyse (the block translator's case).
      this.rpo = [0];
      this.order = Int32Array.of(0);
      this.idom = Int32Array.of(0);
      this.loopHeader = new Uint8Array(1);
      this.merge = new Uint8Array(1);
      this.children = [[]];
      this.checkpoint = Uint8Array.of(1);
      this.bound = blocks[0].count;
      return;
    }
    for (let pass = 0; pass < 4; pass++) {
      // Reverse postorder by an iterative depth-first search from the entry.
      const seen = new Uint8Array(n);
      const post: number[] = [];
      const stack: Array<[number, number]> = [[0, 0]];
      seen[0] = 1;
      const onStack = new Uint8Array(n);
      onStack[0] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1];
        const s = this.succ(top[0]);
        if (top[1] < s.length) {
          const v = s[top[1]++];
          if (!seen[v]) {
            seen[v] = 1;
            onStack[v] = 1;
            stack.push([v, 0]);
          }
        } else {
          onStack[top[0]] = 0;
          post.push(top[0]);
          stack.pop();
        }
      }
      this.rpo = post.reverse();
      this.order = new Int32Array(n).fill(-1);
      this.rpo.forEach((b, i) => (this.order[b] = i));
      // Dominators (Cooper, Harvey and Kennedy's iteration over reverse postorder).
      const idom = new Int32Array(n).fill(-1);
      idom[0] = 0;
      const preds: number[][] = Array.from({ length: n }, () => []);
      for (const b of this.rpo) for (const s of this.succ(b)) preds[s].push(b);
      const intersect = (a: number, b: number) => {
        while (a !== b) {
          while (this.order[a] > this.order[b]) a = idom[a];
          while (this.order[b] > this.order[a]) b = idom[b];
        }
        return a;
      };
      for (let changed = true; changed; ) {
        changed = false;
        for (const b of this.rpo) {
          if (b === 0) continue;
          let d = -1;
          for (const p of preds[b]) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
          if (d !== idom[b]) {
            idom[b] = d;
            changed = true;
          }
        }
      }
      this.idom = idom;
      // A backward edge whose target does not dominate its source makes the graph
      // irreducible: cut it (it leaves the unit) and analyse again.
      const dominates = (a: number, b: number) => {
        while (b !== a && b !== 0) b = idom[b];
        return b === a;
      };
      let cutNow = 0;
      for (const b of this.rpo) {
        for (const s of this.succ(b)) {
          if (this.order[s] <= this.order[b] && !dominates(s, b)) {
            this.cut.add(b * n + s);
            cutNow++;
          }
        }
      }
      if (!cutNow) break;
    }
    this.loopHeader = new Uint8Array(n);
    const forwardIn = new Uint8Array(n);
    for (const b of this.rpo) {
      for (const s of this.succ(b)) {
        if (this.order[s] <= this.order[b]) this.loopHeader[s] = 1;
        else forwardIn[s]++;
      }
    }
    this.merge = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.merge[i] = forwardIn[i] >= 2 ? 1 : 0;
    // Budget checkpoints: the entry, loop headers and the continuations of host calls
    // (whose callee spent budget). Between two checkpoints control runs through each
    // block at most once, so the region's instruction count bounds what it can spend.
    this.checkpoint = new Uint8Array(n);
    this.checkpoint[0] = 1;
    this.bound = 0;
    for (const b of this.rpo) {
      this.bound += blocks[b].count;
      if (this.loopHeader[b]) this.checkpoint[b] = 1;
      const t = blocks[b].term;
      if ((t.k === 'call' || t.k === 'icall') && this.o.mapCalls) {
        const j = this.isInternal(b, t.ret);
        if (j >= 0) this.checkpoint[j] = 1;
      }
    }
    this.children = Array.from({ length: n }, () => []);
    for (const b of this.rpo) if (b !== 0) this.children[this.idom[b]].push(b);
  }

  private isInternal(from: number, pc: number): number {
    const j = this.index.get(pc);
    if (j === undefined || this.order[j] < 0 || this.cut.has(from * this.u.blocks.length + j)) return -1;
    return j;
  }

  // ---- locals ----

  private declareLocals(): void {
    const f = this.f;
    const u = this.u;
    // Values that are constants are inlined at their uses.
    for (const b of u.blocks) {
      for (const i of b.insts) {
        if (i.k === K.CONST) {
          this.isConst[i.dst] = 1;
          this.cLo[i.dst] = i.lo;
          this.cHi[i.dst] = i.hi;
        }
      }
    }
    if (!this.o.promote) return;
    let usesFrm = false;
    for (const b of u.blocks) {
      for (const i of b.insts) {
        if (i.k === K.GETX || i.k === K.SETX) this.regLocal(0, i.a, i.k === K.SETX);
        else if (i.k === K.GETF || i.k === K.SETF) this.regLocal(1, i.a, i.k === K.SETF);
        else if (i.k === K.INTERP) {
          for (const r of i.reads!) this.regLocal(r.file, r.reg, false);
          for (const r of i.writes!) this.regLocal(r.file, r.reg, true);
        } else if ((i.k === K.FP && i.ins!.rm === 7) || i.k === K.GETCSR || i.k === K.SETCSR) usesFrm = true;
      }
    }
    this.flagsL = f.local(I32);
    this.budgetL = f.local(I32);
    if (usesFrm) this.frmL = f.local(I32);
    this.findAliases();
  }

  /**
   * FP registers live in f64 locals (their bits are preserved by locals, loads and
   * stores), so that V8 keeps them in FP registers: the reinterpretations between a
   * register's f64 and the IR's raw i64 bits around each FP operation cancel out.
   */
  private regLocal(file: number, r: number, write: boolean): void {
    const arr = file === 0 ? this.xl : this.fl;
    if (file === 0 && r === 0) return;
    if (arr[r] < 0) arr[r] = this.f.local(file === 0 ? I64 : F64);
    if (write) (file === 0 ? this.xWritten : this.fWritten)[r] = 1;
  }

  /**
   * A getx/getf whose register is not written again before the value's last use in
   * its block can read the register's local directly instead of a copy.
   */
  private findAliases(): void {
    for (const b of this.u.blocks) {
      const last = new Map<number, number>();
      b.insts.forEach((i, at) => {
        for (const v of operands(i)) last.set(v, at);
      });
      for (const v of termOperands(b.term)) last.set(v, b.insts.length);
      b.insts.forEach((i, at) => {
        if (i.k !== K.GETX && i.k !== K.GETF) return;
        const end = last.get(i.dst);
        if (end === undefined) return;
        const file = i.k === K.GETX ? 0 : 1;
        for (let j = at + 1; j < end && j < b.insts.length; j++) {
          const w = b.insts[j];
          if (w.k === (file === 0 ? K.SETX : K.SETF) && w.a === i.a) return;
          if (w.k === K.INTERP && w.writes!.some((r) => r.file === file && r.reg === i.a)) return;
        }
        this.alias[i.dst] = (file === 0 ? this.xl : this.fl)[i.a];
        if (file === 1) this.aliasF[i.dst] = 1;
      });
    }
  }

  private val(v: number): void {
    if (this.isConst[v]) this.f.i64Const(this.cLo[v], this.cHi[v]);
    else if (this.alias[v] >= 0) {
      this.f.get(this.alias[v]);
      if (this.aliasF[v]) this.f.op(W.i64_reinterpret_f64);
    } else this.f.get(this.vloc[v]);
  }

  /**
   * Values live only within their block, so a block's locals are reused by the next:
   * fewer locals keep V8's compilers fast (their cost grows with the locals).
   */
  private def(v: number): void {
    if (this.vloc[v] < 0) {
      this.vloc[v] = this.freeLocals.pop() ?? this.f.local(I64);
      this.blockLocals.push(this.vloc[v]);
    }
    this.f.set(this.vloc[v]);
  }

  /** The current block's values are dead (control is leaving it): free their locals. */
  private releaseLocals(): void {
    for (const l of this.blockLocals) this.freeLocals.push(l);
    this.blockLocals.length = 0;
  }

  // ---- state access ----

  /** Adds one to the i64 counter at a state offset. */
  private count(off: number): void {
    this.f.get(this.sbL).get(this.sbL).mem(W.i64_load, 3, off).i64Const(1).op(W.i64_add).mem(W.i64_store, 3, off);
  }

  private loadX(r: number): void {
    if (r === 0) this.f.i64Const(0);
    else this.f.get(this.sbL).mem(W.i64_load, 3, STATE_X + 8 * r);
  }

  /** Stores the i64 that `push` leaves on the stack into x[r] in memory. */
  private storeX(r: number, push: () => void): void {
    this.f.get(this.sbL);
    push();
    this.f.mem(W.i64_store, 3, STATE_X + 8 * r);
  }

  private loadF(r: number): void {
    this.f.get(this.sbL).mem(W.i64_load, 3, STATE_F + 8 * r);
  }

  private storeF(r: number, push: () => void): void {
    this.f.get(this.sbL);
    push();
    this.f.mem(W.i64_store, 3, STATE_F + 8 * r);
  }

  private storePc(push: () => void): void {
    this.f.get(this.sbL);
    push();
    this.f.mem(W.i64_store, 3, STATE_PC);
  }

  private loadI32(off: number): void {
    this.f.get(this.sbL).mem(W.i32_load, 2, off);
  }

  private storeI32(off: number, push: () => void): void {
    this.f.get(this.sbL);
    push();
    this.f.mem(W.i32_store, 2, off);
  }

  /** Promote mode: every touched register, the flags, frm and budget into locals. */
  private loadAll(): void {
    const f = this.f;
    for (let r = 1; r < 32; r++) if (this.xl[r] >= 0) (this.loadX(r), f.set(this.xl[r]));
    for (let r = 0; r < 32; r++) if (this.fl[r] >= 0) f.get(this.sbL).mem(W.f64_load, 3, STATE_F + 8 * r).set(this.fl[r]);
    this.loadI32(STATE_FLAGS);
    f.set(this.flagsL);
    this.loadI32(STATE_BUDGET);
    f.set(this.budgetL);
    if (this.frmL >= 0) (this.loadI32(STATE_FRM), f.set(this.frmL));
  }

  /** Promote mode: written registers, the flags and the budget back to memory. */
  private writeBack(): void {
    for (let r = 1; r < 32; r++) if (this.xWritten[r]) this.storeX(r, () => this.f.get(this.xl[r]));
    for (let r = 0; r < 32; r++) if (this.fWritten[r]) this.f.get(this.sbL).get(this.fl[r]).mem(W.f64_store, 3, STATE_F + 8 * r);
    this.storeI32(STATE_FLAGS, () => this.f.get(this.flagsL));
    this.storeI32(STATE_BUDGET, () => this.f.get(this.budgetL));
  }

  private getFlags(): void {
    if (this.o.promote) this.f.get(this.flagsL);
    else this.loadI32(STATE_FLAGS);
  }

  private orFlags(push: () => void): void {
    const f = this.f;
    if (this.o.promote) {
      f.get(this.flagsL);
      push();
      f.op(W.i32_or).set(this.flagsL);
    } else {
      this.storeI32(STATE_FLAGS, () => {
        this.loadI32(STATE_FLAGS);
        push();
        f.op(W.i32_or);
      });
    }
  }

  // ---- exits ----

  private depthOf(k: Ctx['k'], block = -1): number {
    for (let i = this.ctx.length - 1; i >= 0; i--) {
      const c = this.ctx[i];
      if (c.k === k && (block < 0 || c.block === block)) return this.f.depth - c.level;
    }
    throw new Error(`no enclosing ${k} for block ${block}`);
  }

  /** Leaves through the shared exit path (writes back in promote mode). */
  private leave(kind: number, code: number, pc: () => void, adj: number, slot = 0): void {
    const f = this.f;
    f.i32Const(kind).set(this.ekind);
    f.i32Const(code).set(this.ecode);
    pc();
    f.set(this.epc);
    f.i32Const(adj).set(this.eadj);
    if (kind === LEAVE_CHAIN) f.i32Const(slot).set(this.eslot);
    f.br(this.depthOf('exit'));
  }

  private sharedExit(): void {
    const f = this.f;
    if (this.o.promote) {
      f.get(this.budgetL).get(this.eadj).op(W.i32_add).set(this.budgetL);
      this.writeBack();
    } else {
      this.storeI32(STATE_BUDGET, () => {
        this.loadI32(STATE_BUDGET);
        f.get(this.eadj).op(W.i32_add);
      });
    }
    this.storePc(() => f.get(this.epc));
    f.get(this.ekind).i32Const(LEAVE_CHAIN).op(W.i32_eq);
    f.if();
    f.get(this.eslot);
    this.im.tail(f, 'enter');
    f.end();
    f.get(this.ekind).i32Const(LEAVE_LOOKUP).op(W.i32_eq);
    f.if();
    this.im.tail(f, 'lookup');
    f.end();
    f.get(this.ecode);
  }

  /** Leaves with an exit-table code: `code` at guest pc, with `refund` budgeted instructions not run. */
  private tableExit(code: number, pc: number, refund: number): void {
    this.f.i32Const(EXIT_TABLE + this.links.exit(code, pc, refund));
    if (this.o.promote) this.f.br(this.depthOf('texit'));
    else this.f.op(W.return);
  }

  /** Exit before instruction gi of block b: it did not run; refund it and the rest. */
  private faultExit(b: Block, gi: number): void {
    this.tableExit(EXIT_INTERP, this.u.pcs[gi], b.count - (gi - b.firstGi));
  }

  /** Jump to guest pc, leaving the unit (chained). */
  private leaveTo(pc: number): void {
    if (!this.o.chain) {
      this.leaveCode(EXIT_LOOKUP, () => this.f.i64Const(pc | 0, Math.floor(pc / 4294967296)));
      return;
    }
    if (!this.o.promote) {
      const direct = this.local.get(pc);
      if (direct !== undefined) {
        this.f.returnCall(direct);
        return;
      }
      this.storePc(() => this.f.i64Const(pc | 0, Math.floor(pc / 4294967296)));
      this.f.i32Const(this.links.slotFor(pc));
      this.im.tail(this.f, 'enter');
      return;
    }
    this.leave(LEAVE_CHAIN, 0, () => this.f.i64Const(pc | 0, Math.floor(pc / 4294967296)), 0, this.links.slotFor(pc));
  }

  /** Jump to the guest pc held by value v through the dispatcher. */
  private leaveIndirect(v: number): void {
    if (!this.o.chain) {
      this.leaveCode(EXIT_LOOKUP, () => this.val(v));
      return;
    }
    if (!this.o.promote) {
      this.storePc(() => this.val(v));
      this.im.tail(this.f, 'lookup');
      return;
    }
    this.leave(LEAVE_LOOKUP, 0, () => this.val(v), 0);
  }

  private leaveCode(code: number, pc: () => void): void {
    if (!this.o.promote) {
      this.storePc(pc);
      this.f.i32Const(code).op(W.return);
      return;
    }
    this.leave(LEAVE_RETURN, code, pc, 0);
  }

  // ---- structured control (Ramsey) ----

  private doTree(x: number): void {
    const ys = this.children[x].filter((c) => this.merge[c]).sort((a, b) => this.order[b] - this.order[a]);
    if (this.loopHeader[x]) {
      this.f.loop();
      this.ctx.push({ k: 'loop', block: x, level: this.f.depth });
      this.nodeWithin(x, ys, 0);
      this.ctx.pop();
      this.f.end();
    } else this.nodeWithin(x, ys, 0);
  }

  private nodeWithin(x: number, ys: number[], from: number): void {
    if (from < ys.length) {
      const y = ys[from];
      this.f.block();
      this.ctx.push({ k: 'follow', block: y, level: this.f.depth });
      this.nodeWithin(x, ys, from + 1);
      this.ctx.pop();
      this.f.end();
      this.doTree(y);
      return;
    }
    this.blockBody(x);
  }

  /** Goes to guest pc from block `from`: within the unit when it is a block of it. */
  private doBranch(from: number, pc: number): void {
    this.releaseLocals();
    const to = this.isInternal(from, pc);
    if (to < 0) {
      this.leaveTo(pc);
      return;
    }
    if (this.order[to] <= this.order[from]) this.f.br(this.depthOf('loop', to));
    else if (this.merge[to]) this.f.br(this.depthOf('follow', to));
    else this.doTree(to);
  }

  private blockBody(bi: number): void {
    const b = this.u.blocks[bi];
    const f = this.f;
    // The budget: at a checkpoint, exit before the block unless the budget covers the
    // longest run to the next checkpoint (the dispatcher then retires the rest exactly,
    // one instruction at a time); every block spends its instructions.
    if (this.checkpoint[bi] && this.bound > 0) {
      if (this.o.promote) f.get(this.budgetL);
      else this.loadI32(STATE_BUDGET);
      f.i32Const(this.bound).op(W.i32_lt_s);
      f.if();
      this.tableExit(EXIT_BUDGET, b.start, 0);
      f.end();
    }
    if (b.count > 0) {
      if (this.o.promote) f.get(this.budgetL).i32Const(b.count).op(W.i32_sub).set(this.budgetL);
      else
        this.storeI32(STATE_BUDGET, () => {
          this.loadI32(STATE_BUDGET);
          f.i32Const(b.count).op(W.i32_sub);
        });
    }
    for (const i of b.insts) this.inst(b, i);
    this.terminator(bi, b.term);
    this.releaseLocals();
  }

  private terminator(bi: number, t: Term): void {
    const f = this.f;
    switch (t.k) {
      case 'jump':
        this.doBranch(bi, t.target);
        return;
      case 'branch':
        this.val(t.cond);
        f.op(W.i32_wrap_i64);
        f.if();
        this.doBranch(bi, t.taken);
        f.else();
        this.doBranch(bi, t.fall);
        f.end();
        return;
      case 'indirect':
        // Targets seen before translation that are blocks of this unit: compare and branch.
        for (const c of t.cases ?? []) {
          if (this.isInternal(bi, c) < 0) continue;
          this.val(t.target);
          f.i64Const(c | 0, Math.floor(c / 4294967296)).op(W.i64_eq);
          f.if();
          this.doBranch(bi, c);
          f.end();
        }
        this.leaveIndirect(t.target);
        return;
      case 'ret':
        if (this.o.mapCalls) this.leaveCode(EXIT_RET, () => this.val(t.target));
        else this.leaveIndirect(t.target);
        return;
      case 'call':
      case 'icall':
        if (this.o.mapCalls) this.hostCall(bi, t);
        else if (t.k === 'call') this.doBranch(bi, t.target);
        else this.leaveIndirect(t.target);
        return;
      case 'interp':
        this.leaveCode(EXIT_INTERP, () => f.i64Const(t.pc, 0));
        return;
    }
  }

  /**
   * A guest call as a host call: state written back, the callee's unit called through
   * its chain slot (direct calls) or the lookup table (indirect ones), and on its
   * guest return to the expected address the unit continues with fresh registers.
   */
  private hostCall(bi: number, t: Extract<Term, { k: 'call' } | { k: 'icall' }>): void {
    const f = this.f;
    const promote = this.o.promote;
    if (promote) this.writeBack();
    const depth = this.depthL >= 0 ? this.depthL : (this.depthL = f.local(I32));
    this.loadI32(STATE_DEPTH);
    f.tee(depth).i32Const(MAX_CALL_DEPTH).op(W.i32_ge_u);
    f.if();
    // Too deep: an ordinary jump (the callee's return then goes through the dispatcher).
    if (t.k === 'call') this.leaveTo(t.target);
    else this.leaveIndirect(t.target);
    f.end();
    const direct = t.k === 'call' ? this.local.get(t.target) : undefined;
    if (t.k === 'call') {
      this.storePc(() => f.i64Const(t.target, 0));
      if (direct === undefined) f.i32Const(this.links.slotFor(t.target)).set(this.tI32);
    } else {
      this.storePc(() => this.val(t.target));
      this.val(t.target);
      this.im.call(f, 'lookupIndex');
      f.tee(this.tI32).i32Const(0).op(W.i32_lt_s);
      f.if();
      f.i32Const(EXIT_LOOKUP).op(W.return);
      f.end();
    }
    this.storeI32(STATE_DEPTH, () => f.get(depth).i32Const(1).op(W.i32_add));
    this.count(STATE_HOST_CALLS);
    if (direct !== undefined) f.call(direct);
    else {
      f.get(this.tI32);
      this.im.call(f, 'enter');
    }
    f.set(this.tI32);
    this.storeI32(STATE_DEPTH, () => f.get(depth));
    // Anything but a return propagates (the state in memory is current).
    f.get(this.tI32).i32Const(EXIT_RET).op(W.i32_ne);
    f.if();
    f.get(this.tI32).op(W.return);
    f.end();
    f.get(this.sbL).mem(W.i64_load, 3, STATE_PC).i64Const(t.ret, 0).op(W.i64_ne);
    f.if();
    f.i32Const(EXIT_LOOKUP).op(W.return);
    f.end();
    this.count(STATE_RETURN_HITS);
    if (promote) this.loadAll();
    this.doBranch(bi, t.ret);
  }

  // ---- instructions ----

  private inst(b: Block, i: Inst): void {
    const f = this.f;
    switch (i.k) {
      case K.CONST:
        return;
      case K.GETX:
        if (this.alias[i.dst] >= 0) return;
        if (this.o.promote) f.get(this.xl[i.a]);
        else this.loadX(i.a);
        this.def(i.dst);
        return;
      case K.GETF:
        if (this.alias[i.dst] >= 0) return;
        if (this.o.promote) f.get(this.fl[i.a]).op(W.i64_reinterpret_f64);
        else this.loadF(i.a);
        this.def(i.dst);
        return;
      case K.SETX:
        if (this.o.promote) {
          this.val(i.b);
          f.set(this.xl[i.a]);
        } else this.storeX(i.a, () => this.val(i.b));
        return;
      case K.SETF:
        if (this.o.promote) {
          this.val(i.b);
          f.op(W.f64_reinterpret_i64).set(this.fl[i.a]);
        } else this.storeF(i.a, () => this.val(i.b));
        return;
      case K.BIN:
        this.val(i.a);
        this.val(i.b);
        f.op(i.op);
        this.def(i.dst);
        return;
      case K.BIN32:
        this.val(i.a);
        f.op(W.i32_wrap_i64);
        this.val(i.b);
        f.op(W.i32_wrap_i64);
        f.op(i.op).op(W.i64_extend_i32_s);
        this.def(i.dst);
        return;
      case K.CMP:
        this.val(i.a);
        this.val(i.b);
        f.op(i.op).op(W.i64_extend_i32_u);
        this.def(i.dst);
        return;
      case K.DIV:
        this.div(i);
        return;
      case K.MULH:
        this.val(i.a);
        this.val(i.b);
        this.im.call(f, i.op === MULH_SS ? 'mulh' : i.op === MULH_SU ? 'mulhsu' : 'mulhu');
        this.def(i.dst);
        return;
      case K.LOAD:
        if (i.c !== CHECKED) this.access(b, i, PERM_R, PERM_R);
        this.observe(i, 0);
        this.val(i.a);
        f.op(W.i32_wrap_i64).mem(i.op, 0, 0);
        this.def(i.dst);
        return;
      case K.CHECK:
        if (i.op === 0) this.access(b, i, PERM_R, PERM_R);
        else this.access(b, i, PERM_W | PERM_DECODED, PERM_W);
        return;
      case K.CHECKRANGE:
        this.rangeCheck(b, i);
        return;
      case K.STORE:
        if (i.c !== CHECKED) this.access(b, i, PERM_W | PERM_DECODED, PERM_W);
        this.observe(i, 1);
        this.val(i.a);
        f.op(W.i32_wrap_i64);
        this.val(i.b);
        f.mem(i.op, 0, 0);
        return;
      case K.FP:
        this.fp(b, i);
        return;
      case K.GETCSR:
        // fflags, frm, or fcsr = frm << 5 | fflags.
        if (i.a & 1) this.getFlags();
        if (i.a & 2) {
          this.getFrm();
          if (i.a === 3) f.i32Const(5).op(W.i32_shl).op(W.i32_or);
        }
        f.op(W.i64_extend_i32_u);
        this.def(i.dst);
        return;
      case K.SETCSR:
        if (i.a & 1) {
          const set = () => {
            this.val(i.b);
            f.op(W.i32_wrap_i64).i32Const(31).op(W.i32_and);
          };
          if (this.o.promote) (set(), f.set(this.flagsL));
          else this.storeI32(STATE_FLAGS, set);
        }
        if (i.a & 2) {
          // frm lives in memory (helpers read it there) and, in promote mode, in a local too.
          this.storeI32(STATE_FRM, () => {
            this.val(i.b);
            f.op(W.i32_wrap_i64);
            if (i.a === 3) f.i32Const(5).op(W.i32_shr_u);
            f.i32Const(7).op(W.i32_and);
          });
          if (this.frmL >= 0) (this.loadI32(STATE_FRM), f.set(this.frmL));
        }
        return;
      case K.INTERP:
        this.interp(b, i, i.reads!, i.writes!);
        return;
    }
  }

  /** Timing mode: the access hook sees the checked address (below 2^31, so an i32). */
  private observe(i: Inst, write: number): void {
    if (!this.o.timing) return;
    this.val(i.a);
    this.f.op(W.i32_wrap_i64).i32Const(write);
    this.im.call(this.f, 'access');
  }

  /**
   * The access check of a load or store of i.lo bytes at value i.a: inside guest
   * memory, (perm & mask) === want on its page, and not crossing into the next page
   * (a crossing access is left to the interpreter). The page index is clamped so that
   * the table read stays in bounds; the entry past the last page is always zero.
   */
  private access(b: Block, i: Inst, mask: number, want: number): void {
    const f = this.f;
    this.pageFails(i.a, 0, mask, want);
    if (i.lo > 1) {
      this.val(i.a);
      f.op(W.i32_wrap_i64).i32Const(4095).op(W.i32_and).i32Const(4096 - i.lo).op(W.i32_gt_u).op(W.i32_or);
    }
    f.if();
    this.faultExit(b, i.gi);
    f.end();
  }

  /**
   * Leaves an i32: does the page of address value a + extra lack (perm & mask) ===
   * want? The page index is clamped to the always-zero entry past the last page.
   */
  private pageFails(a: number, extra: number, mask: number, want: number): void {
    const f = this.f;
    const pages = this.links.mem.pages;
    this.val(a);
    if (extra) f.i64Const(extra).op(W.i64_add);
    f.i64Const(PAGE_SHIFT).op(W.i64_shr_u).tee(this.tI64).op(W.i32_wrap_i64);
    f.i32Const(pages);
    f.get(this.tI64).i64Const(pages).op(W.i64_lt_u);
    f.op(W.select);
    f.mem(W.i32_load8_u, 0, this.permBase).i32Const(mask).op(W.i32_and).i32Const(want).op(W.i32_ne);
  }

  /** CHECKRANGE: the pages of the first and the last byte of [a, a + lo). */
  private rangeCheck(b: Block, i: Inst): void {
    const f = this.f;
    const mask = PERM_R | (i.op & 2 ? PERM_W | PERM_DECODED : 0);
    const want = PERM_R | (i.op & 2 ? PERM_W : 0);
    this.pageFails(i.a, 0, mask, want);
    this.pageFails(i.a, i.lo - 1, mask, want);
    f.op(W.i32_or);
    f.if();
    this.faultExit(b, i.gi);
    f.end();
  }

  private div(i: Inst): void {
    const f = this.f;
    const wide = i.lo === 64;
    const a = () => {
      this.val(i.a);
      if (!wide) f.op(W.i32_wrap_i64);
    };
    const bv = () => {
      this.val(i.b);
      if (!wide) f.op(W.i32_wrap_i64);
    };
    const T = wide ? I64 : I32;
    const eqz = wide ? W.i64_eqz : W.i32_eqz;
    const constN = (v: number) => (wide ? f.i64Const(v) : f.i32Const(v));
    const minV = () => (wide ? f.i64Const(0, 0x80000000 | 0) : f.i32Const(0x80000000 | 0));
    const eq = wide ? W.i64_eq : W.i32_eq;
    // Division by zero and the one overflow have defined results in RISC-V.
    bv();
    f.op(eqz);
    f.if(T);
    if (i.op === DIV_S || i.op === DIV_U) constN(-1);
    else a();
    f.else();
    if (i.op === DIV_S || i.op === REM_S) {
      a();
      minV();
      f.op(eq);
      bv();
      constN(-1);
      f.op(eq).op(W.i32_and);
      f.if(T);
      if (i.op === DIV_S) minV();
      else constN(0);
      f.else();
      a();
      bv();
      f.op(wide ? (i.op === DIV_S ? W.i64_div_s : W.i64_rem_s) : i.op === DIV_S ? W.i32_div_s : W.i32_rem_s);
      f.end();
    } else {
      a();
      bv();
      f.op(wide ? (i.op === DIV_U ? W.i64_div_u : W.i64_rem_u) : i.op === DIV_U ? W.i32_div_u : W.i32_rem_u);
    }
    f.end();
    if (!wide) f.op(W.i64_extend_i32_s);
    this.def(i.dst);
  }

  /**
   * Runs one instruction in the interpreter: its register operands are stored into
   * the CPU state, the flags synchronised, and its results loaded back.
   */
  private interp(b: Block, i: Inst, reads: NonNullable<Inst['reads']>, writes: NonNullable<Inst['writes']>): void {
    const f = this.f;
    const promote = this.o.promote;
    if (promote) {
      for (const r of reads) {
        if (r.file === 0) {
          if (r.reg !== 0) this.storeX(r.reg, () => this.val(r.value));
        } else this.storeF(r.reg, () => this.val(r.value));
      }
      this.storeI32(STATE_FLAGS, () => f.get(this.flagsL));
    }
    f.i32Const(this.u.pcs[i.gi]);
    this.im.call(f, 'interp');
    f.tee(this.tI32).i32Const(HELPER_OK).op(W.i32_ne);
    f.if();
    f.get(this.tI32).i32Const(HELPER_CODE_CHANGED).op(W.i32_eq);
    f.if();
    {
      // The instruction ran and changed code: continue after it in the dispatcher.
      const next = this.u.pcs[i.gi] + i.ins!.len;
      if (promote) this.reloadWrites(writes);
      this.tableExit(EXIT_LOOKUP, next, b.count - (i.gi + 1 - b.firstGi));
    }
    f.else();
    this.faultExit(b, i.gi);
    f.end();
    f.end();
    if (promote) {
      this.loadI32(STATE_FLAGS);
      f.set(this.flagsL);
    }
    for (const w of writes) {
      if (w.file === 0) this.loadX(w.reg);
      else this.loadF(w.reg);
      this.def(w.value);
    }
  }

  private reloadWrites(writes: NonNullable<Inst['writes']>): void {
    const f = this.f;
    for (const w of writes) {
      if (w.file === 0) {
        this.loadX(w.reg);
        f.set(this.xl[w.reg]);
      } else f.get(this.sbL).mem(W.f64_load, 3, STATE_F + 8 * w.reg).set(this.fl[w.reg]);
    }
    this.loadI32(STATE_FLAGS);
    f.set(this.flagsL);
  }

  /** The slow path of an FP instruction: the interpreter, on the architectural state. */
  private fpSlow(b: Block, i: Inst): void {
    const d = i.ins!;
    const reads: Array<{ file: 0 | 1; reg: number; value: number }> = [];
    reads.push({ file: fpReadsInt(d.op) ? 0 : 1, reg: d.rs1, value: i.a });
    if (i.b >= 0) reads.push({ file: 1, reg: d.rs2, value: i.b });
    if (i.c >= 0) reads.push({ file: 1, reg: d.rs3, value: i.c });
    this.interp(b, i, reads, [{ file: writesIntRd(d.op) ? 0 : 1, reg: d.rd, value: i.dst }]);
  }

  private getFrm(): void {
    if (this.frmL >= 0) this.f.get(this.frmL);
    else this.loadI32(STATE_FRM);
  }

  /** Leaves an i32: is the rounding mode round-to-nearest-even? */
  private rne(rm: number): void {
    const f = this.f;
    if (rm === 0) f.i32Const(1);
    else if (rm !== 7) f.i32Const(0);
    else {
      this.getFrm();
      f.op(W.i32_eqz);
    }
  }

  /** Leaves an i32: is the rounding mode valid (static, or dynamic with frm ≤ 4)? */
  private rmValid(rm: number): void {
    const f = this.f;
    if (rm !== 7) f.i32Const(1);
    else {
      this.getFrm();
      f.i32Const(4).op(W.i32_le_u);
    }
  }

  private f64Of(v: number, local: number): void {
    this.val(v);
    this.f.op(W.f64_reinterpret_i64).set(local);
  }

  /** Leaves an i32: is the f64 in `local` finite, with |x| ≥ the least normal? */
  private normal(local: number): void {
    const f = this.f;
    f.get(local).op(W.f64_abs).f64Const(MIN_NORMAL).op(W.f64_ge);
    f.get(local).op(W.f64_abs).f64Const(Infinity).op(W.f64_lt).op(W.i32_and);
  }

  /**
   * An FP instruction: `fast` leaves an i32 (may the fast result stand?) after
   * computing the result into locals; `result` pushes the fast result (i64). When
   * the fast path does not apply, the interpreter computes the instruction.
   */
  private fpWith(b: Block, i: Inst, fast: () => void, result: () => void): void {
    const f = this.f;
    fast();
    f.if(I64);
    result();
    f.else();
    this.fpSlow(b, i);
    this.val(i.dst);
    f.end();
    this.def(i.dst);
  }

  /** NX for an inexact fast result: `nx` leaves 0/1/2 (2: undecided, take the slow path). */
  private withNx(nx: () => void): void {
    const f = this.f;
    // fast && ((flags & NX) || (t = nx()) != 2 && (flags |= t, true))
    f.if(I32);
    this.getFlags();
    f.i32Const(NX).op(W.i32_and);
    f.if(I32);
    f.i32Const(1);
    f.else();
    nx();
    f.tee(this.tI32).i32Const(2).op(W.i32_ne);
    f.if(I32);
    this.orFlags(() => f.get(this.tI32));
    f.i32Const(1);
    f.else();
    f.i32Const(0);
    f.end();
    f.end();
    f.else();
    f.i32Const(0);
    f.end();
  }

  private fp(b: Block, i: Inst): void {
    const f = this.f;
    const op = i.op;
    const rm = i.lo;
    const { fa, fb, fc, fr } = this;
    const bits = (local: number) => () => f.get(local).op(W.i64_reinterpret_f64);
    switch (op) {
      case Op.FADD_D:
      case Op.FSUB_D:
      case Op.FMUL_D:
      case Op.FDIV_D: {
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        f.get(fa).get(fb).op(op === Op.FADD_D ? W.f64_add : op === Op.FSUB_D ? W.f64_sub : op === Op.FMUL_D ? W.f64_mul : W.f64_div).set(fr);
        this.fpWith(b, i, () => {
          this.rne(rm);
          this.normal(fr);
          // An exact zero: any sum that rounds to zero, a product or quotient with a zero operand.
          f.get(fr).f64Const(0).op(W.f64_eq);
          if (op === Op.FMUL_D) f.get(fa).f64Const(0).op(W.f64_eq).get(fb).f64Const(0).op(W.f64_eq).op(W.i32_or).op(W.i32_and);
          else if (op === Op.FDIV_D) f.get(fa).f64Const(0).op(W.f64_eq).op(W.i32_and);
          f.op(W.i32_or).op(W.i32_and);
          this.withNx(() => {
            f.get(fr).f64Const(0).op(W.f64_eq);
            f.if(I32).i32Const(0).else();
            if (op === Op.FSUB_D) f.get(fa).get(fb).op(W.f64_neg).get(fr);
            else f.get(fa).get(fb).get(fr);
            this.im.call(f, op === Op.FADD_D || op === Op.FSUB_D ? 'nxAdd' : op === Op.FMUL_D ? 'nxMul' : 'nxDiv');
            f.end();
          });
        }, bits(fr));
        return;
      }
      case Op.FSQRT_D:
        this.f64Of(i.a, fa);
        f.get(fa).op(W.f64_sqrt).set(fr);
        this.fpWith(b, i, () => {
          this.rne(rm);
          f.get(fa).f64Const(0).op(W.f64_gt);
          this.normal(fa);
          f.op(W.i32_and);
          f.get(fa).f64Const(0).op(W.f64_eq).op(W.i32_or).op(W.i32_and);
          this.withNx(() => {
            f.get(fa).f64Const(0).op(W.f64_eq);
            f.if(I32).i32Const(0).else();
            f.get(fa).get(fr);
            this.im.call(f, 'nxSqrt');
            f.end();
          });
        }, bits(fr));
        return;
      case Op.FMADD_D:
      case Op.FMSUB_D:
      case Op.FNMSUB_D:
      case Op.FNMADD_D: {
        const k = op - Op.FMADD_D;
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        this.f64Of(i.c, fc);
        if (k >= 2) f.get(fa).op(W.f64_neg).set(fa);
        if (k === 1 || k === 3) f.get(fc).op(W.f64_neg).set(fc);
        this.fpWith(b, i, () => {
          this.rne(rm);
          f.if(I32);
          f.get(fa).get(fb).get(fc);
          this.im.call(f, 'fma');
          f.set(this.tI32).set(fr);
          f.get(this.tI32).i32Const(2).op(W.i32_ne);
          f.if(I32);
          this.orFlags(() => f.get(this.tI32));
          f.i32Const(1);
          f.else().i32Const(0).end();
          f.else().i32Const(0).end();
        }, bits(fr));
        return;
      }
      case Op.FEQ_D:
      case Op.FLT_D:
      case Op.FLE_D:
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        this.fpWith(b, i, () => {
          f.get(fa).get(fa).op(W.f64_eq).get(fb).get(fb).op(W.f64_eq).op(W.i32_and);
        }, () => {
          f.get(fa).get(fb).op(op === Op.FEQ_D ? W.f64_eq : op === Op.FLT_D ? W.f64_lt : W.f64_le).op(W.i64_extend_i32_u);
        });
        return;
      case Op.FMIN_D:
      case Op.FMAX_D:
        this.f64Of(i.a, fa);
        this.f64Of(i.b, fb);
        this.fpWith(b, i, () => {
          f.get(fa).get(fa).op(W.f64_eq).get(fb).get(fb).op(W.f64_eq).op(W.i32_and);
        }, () => {
          f.get(fa).get(fb).op(op === Op.FMIN_D ? W.f64_min : W.f64_max).op(W.i64_reinterpret_f64);
        });
        return;
      case Op.FCVT_W_D:
      case Op.FCVT_L_D: {
        // The C cast (round toward zero) of a value in range, inline.
        const w = op === Op.FCVT_W_D;
        this.f64Of(i.a, fa);
        this.fpWith(b, i, () => {
          f.i32Const(rm === 1 ? 1 : 0);
          if (w) f.get(fa).f64Const(-2147483648.5).op(W.f64_gt).get(fa).f64Const(2147483648).op(W.f64_lt);
          else f.get(fa).f64Const(-9223372036854775808).op(W.f64_ge).get(fa).f64Const(9223372036854775808).op(W.f64_lt);
          f.op(W.i32_and).op(W.i32_and);
          f.if(I32);
          f.get(fa).op(W.f64_trunc).get(fa).op(W.f64_ne);
          f.if();
          this.orFlags(() => f.i32Const(NX));
          f.end();
          f.i32Const(1);
          f.else().i32Const(0).end();
        }, () => {
          f.get(fa);
          if (w) f.op(W.i32_trunc_f64_s).op(W.i64_extend_i32_s);
          else f.op(W.i64_trunc_f64_s);
        });
        return;
      }
      case Op.FCVT_D_W:
      case Op.FCVT_D_WU:
        this.fpWith(b, i, () => this.rmValid(rm), () => {
          this.val(i.a);
          f.op(W.i32_wrap_i64).op(op === Op.FCVT_D_W ? W.f64_convert_i32_s : W.f64_convert_i32_u).op(W.i64_reinterpret_f64);
        });
        return;
      case Op.FCVT_D_L:
      case Op.FCVT_D_LU:
        // Exact when the integer fits in 53 bits.
        this.fpWith(b, i, () => {
          this.rmValid(rm);
          this.val(i.a);
          if (op === Op.FCVT_D_L) f.i64Const(0, 0x200000).op(W.i64_add).i64Const(0, 0x400000).op(W.i64_lt_u);
          else f.i64Const(0, 0x200000).op(W.i64_le_u);
          f.op(W.i32_and);
        }, () => {
          this.val(i.a);
          f.op(op === Op.FCVT_D_L ? W.f64_convert_i64_s : W.f64_convert_i64_u).op(W.i64_reinterpret_f64);
        });
        return;
    }
    // Everything else: the interpreter.
    this.fpSlow(b, i);
  }
}
