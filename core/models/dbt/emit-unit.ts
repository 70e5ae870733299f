// The per-unit state of the WebAssembly lowering (emit.ts): the options and links of a
// translation, the helper imports, the locals of the unit's values and of the guest
// registers it keeps in locals (promote mode), and the reads and writes of the CPU
// state in memory. The lowering is one class per concern, each extending the last:
// this state, the exits (emit-exits.ts), control-flow structuring (emit-control.ts),
// FP lowering (emit-fp.ts), and the instructions and terminators (emit.ts).

import * as irModule from './ir';
import * as memoryModule from '../riscv/memory';
import type { GuestMemory } from '../riscv/memory';
import * as encoderModule from '../wasm/encoder';
import { FuncBody, ModuleBuilder, W as WasmOp, type CodeLayout } from '../wasm/encoder';
import { operandsInto, termOperands, type K as KEnum, type Unit } from './ir';
import { HELPER_TYPES, HELPERS, type HelperName } from './runtime-module';
import type { SoftTlbLayout } from './emit-softtlb';

// Imported bindings compile to getter calls under CommonJS; the emitter reads these local copies.
// (TypeScript's const enums are objects at run time here; they are read once.)
const { STATE_BUDGET, STATE_F, STATE_FLAGS, STATE_FRM, STATE_PC, STATE_PERM, STATE_X } = memoryModule;
const { F64, I32, I64 } = encoderModule;
const W = WasmOp;
const K = (irModule as unknown as { K: { readonly [P in keyof typeof KEnum]: number } }).K;

export interface EmitOptions {
  /** Keep guest registers, FP flags and the budget in locals across the unit. */
  readonly promote: boolean;
  /** Guest calls become host calls, guest returns host returns. */
  readonly mapCalls: boolean;
  /** Jumps go straight to their target's unit (chain slots, in-WebAssembly lookup); off: every exit returns to the dispatcher loop. */
  readonly chain: boolean;
  /**
   * Count the runs of each unit's first block (its entries and its back edges to
   * itself) in a second counter slot, besides the unit's entries: the host code
   * model's weights (runCounterSlot).
   */
  readonly countRuns?: boolean;
  /**
   * Timing mode: every guest load and store calls the runtime's access hook with its
   * address (what a memory model sees); passes must then keep every access.
   */
  readonly timing?: boolean;
  /**
   * Full-system code: guest addresses are virtual, and loads and stores go through the
   * software TLB at this layout (emit-softtlb.ts) instead of the permission table.
   */
  readonly softTlb?: SoftTlbLayout;
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
  /** Where each unit's code lies (a relocatable module's: see linkModule). */
  readonly layout?: CodeLayout;
  /** A relocatable module's: the byte offset of each call of the `enter` helper (see Helpers.enterSites). */
  readonly enterAt?: readonly number[];
}

/** The operands of the instruction at hand (findAliases). */
const ops = new Int32Array(64);

/** Per-value arrays shared by the units of a module (allocating them per unit made garbage). */
export class Scratch {
  readonly vloc: Int32Array;
  readonly isConst: Uint8Array;
  readonly cLo: Int32Array;
  readonly cHi: Int32Array;
  readonly alias: Int32Array;
  readonly aliasF: Uint8Array;
  /** A value's last use in its block (findAliases), valid where lastStamp is the block's stamp. */
  readonly last: Int32Array;
  readonly lastStamp: Int32Array;
  stamp = 0;

  constructor(n: number) {
    this.vloc = new Int32Array(n);
    this.isConst = new Uint8Array(n);
    this.cLo = new Int32Array(n);
    this.cHi = new Int32Array(n);
    this.alias = new Int32Array(n);
    this.aliasF = new Uint8Array(n);
    this.last = new Int32Array(n);
    this.lastStamp = new Int32Array(n);
  }

  reset(n: number): void {
    this.vloc.fill(-1, 0, n);
    this.isConst.fill(0, 0, n);
    this.alias.fill(-1, 0, n);
    this.aliasF.fill(0, 0, n);
  }
}

/** The module's view of the helper table: a function type per helper. */
export class Helpers {
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

  /** Declares every helper's type now, in the order of HELPERS (the same type indices in every module that does). */
  declareAll(): void {
    for (const name of HELPERS) this.type(name);
  }

  /**
   * When set (a relocatable module), each call of `enter` is recorded here as its
   * offset in the body being emitted: [body, offset], so that linkModule can turn it
   * into a call through the chain table itself (enterSite, emit.ts).
   */
  enterSites: Array<[FuncBody, number]> | null = null;

  /** The type index of a helper's signature in this module. */
  typeOf(name: HelperName): number {
    return this.type(name);
  }

  /** Calls the helper (its arguments already on the stack). */
  call(f: FuncBody, name: HelperName): void {
    if (name === 'enter' && this.enterSites) this.enterSites.push([f, f.len]);
    f.i32Const(HELPERS.indexOf(name)).callIndirect(this.type(name));
  }

  /** Tail-calls the helper. */
  tail(f: FuncBody, name: HelperName): void {
    if (name === 'enter' && this.enterSites) this.enterSites.push([f, f.len]);
    f.i32Const(HELPERS.indexOf(name)).returnCallIndirect(this.type(name));
  }
}

/**
 * A label a branch can target (Ramsey's ContainingSyntax): the loop headed by a
 * block, the block that a merge point follows, or the shared exit; `level` is the
 * nesting depth of its construct, from which a `br` computes its index.
 */
export interface Ctx {
  readonly k: 'loop' | 'follow' | 'exit' | 'texit';
  readonly block: number;
  readonly level: number;
}

/** Ways of leaving a unit through the shared exit path. */
export const LEAVE_RETURN = 0;
export const LEAVE_CHAIN = 1;
export const LEAVE_LOOKUP = 2;

/** A unit's emitter, as far as its state: locals, values, and the CPU state in memory. */
export abstract class UnitState {
  protected readonly sb: number;
  protected readonly permBase: number;
  /** A local holding the state area's offset: short load and store encodings. */
  protected sbL = -1;
  /** Local of each value (-1: none yet); constants are inlined instead. */
  protected readonly vloc: Int32Array;
  protected readonly isConst: Uint8Array;
  protected readonly cLo: Int32Array;
  protected readonly cHi: Int32Array;
  /** Values that alias a register's local (promote mode): value → register local. */
  protected readonly alias: Int32Array;
  /** Whether that register local is an FP register's f64. */
  protected readonly aliasF: Uint8Array;
  // Registers in locals (promote mode): -1 when the unit does not touch the register.
  protected readonly xl = new Int32Array(32).fill(-1);
  protected readonly fl = new Int32Array(32).fill(-1);
  protected readonly xWritten = new Uint8Array(32);
  protected readonly fWritten = new Uint8Array(32);
  protected flagsL = -1;
  protected budgetL = -1;
  protected frmL = -1;
  // The shared exit: kind, code, pc, chain slot; and the kinds (bits) the unit's exits use.
  protected ekind = -1;
  protected ecode = -1;
  protected epc = -1;
  protected eslot = -1;
  protected leaveKinds = 0;
  protected depthL = -1;
  protected tI32 = -1;
  protected tI64 = -1;
  protected fa = -1;
  protected fb = -1;
  protected fc = -1;
  protected fr = -1;
  protected readonly ctx: Ctx[] = [];
  protected readonly freeLocals: number[] = [];
  protected readonly blockLocals: number[] = [];
  private readonly scratch: Scratch;

  constructor(
    protected readonly u: Unit,
    protected readonly f: FuncBody,
    protected readonly im: Helpers,
    protected readonly links: EmitLinks,
    protected readonly o: EmitOptions,
    protected readonly tUnit: number,
    /** Entry pc → function index, for the units of this module. */
    protected readonly local: ReadonlyMap<number, number>,
    scratch: Scratch,
  ) {
    this.sb = links.mem.stateBase;
    this.permBase = links.mem.stateBase + STATE_PERM;
    scratch.reset(u.valueCount);
    this.scratch = scratch;
    this.vloc = scratch.vloc;
    this.isConst = scratch.isConst;
    this.cLo = scratch.cLo;
    this.cHi = scratch.cHi;
    this.alias = scratch.alias;
    this.aliasF = scratch.aliasF;
  }

  // ---- locals ----

  protected declareLocals(): void {
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
    // Only FP operations, the CSR accesses and interpreted instructions read or set
    // the FP flags: a unit without them leaves the flags in memory untouched, which
    // saves a load at every entry and a store at every exit.
    let usesFlags = false;
    for (const b of u.blocks) {
      for (const i of b.insts) {
        if (i.k === K.GETX || i.k === K.SETX) this.regLocal(0, i.a, i.k === K.SETX);
        else if (i.k === K.GETF || i.k === K.SETF) this.regLocal(1, i.a, i.k === K.SETF);
        else if (i.k === K.INTERP) {
          usesFlags = true;
          for (const r of i.reads!) this.regLocal(r.file, r.reg, false);
          for (const r of i.writes!) this.regLocal(r.file, r.reg, true);
        } else if (i.k === K.FP || i.k === K.GETCSR || i.k === K.SETCSR) {
          usesFlags = true;
          if ((i.k === K.FP && i.ins!.rm === 7) || i.k !== K.FP) usesFrm = true;
        }
      }
    }
    if (usesFlags) this.flagsL = f.local(I32);
    this.budgetL = f.local(I32);
    if (usesFrm) this.frmL = f.local(I32);
    this.findAliases();
  }

  /**
   * FP registers live in f64 locals (their bits are preserved by locals, loads and
   * stores), so that V8 keeps them in FP registers: the reinterpretations between a
   * register's f64 and the IR's raw i64 bits around each FP operation cancel out.
   */
  protected regLocal(file: number, r: number, write: boolean): void {
    const arr = file === 0 ? this.xl : this.fl;
    if (file === 0 && r === 0) return;
    if (arr[r] < 0) arr[r] = this.f.local(file === 0 ? I64 : F64);
    if (write) (file === 0 ? this.xWritten : this.fWritten)[r] = 1;
  }

  /**
   * A getx/getf whose register is not written again before the value's last use in
   * its block can read the register's local directly instead of a copy.
   */
  protected findAliases(): void {
    const sc = this.scratch;
    const last = sc.last;
    const lastStamp = sc.lastStamp;
    for (const b of this.u.blocks) {
      // A Map per block cost more than the walks: the values' last uses are stamped per block.
      const s = ++sc.stamp;
      const insts = b.insts;
      const n = insts.length;
      for (let at = 0; at < n; at++) {
        const i = insts[at];
        for (let k = operandsInto(i, ops) - 1; k >= 0; k--) {
          last[ops[k]] = at;
          lastStamp[ops[k]] = s;
        }
      }
      for (const v of termOperands(b.term)) (last[v] = n), (lastStamp[v] = s);
      for (let at = 0; at < n; at++) {
        const i = insts[at];
        if (i.k !== K.GETX && i.k !== K.GETF) continue;
        if (lastStamp[i.dst] !== s) continue;
        const end = last[i.dst];
        const file = i.k === K.GETX ? 0 : 1;
        const setK = file === 0 ? K.SETX : K.SETF;
        let written = false;
        for (let j = at + 1; j < end && j < n; j++) {
          const w = insts[j];
          if ((w.k === setK && w.a === i.a) || (w.k === K.INTERP && w.writes!.some((r) => r.file === file && r.reg === i.a))) {
            written = true;
            break;
          }
        }
        if (written) continue;
        this.alias[i.dst] = (file === 0 ? this.xl : this.fl)[i.a];
        if (file === 1) this.aliasF[i.dst] = 1;
      }
    }
  }

  protected val(v: number): void {
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
  protected def(v: number): void {
    if (this.vloc[v] < 0) {
      this.vloc[v] = this.freeLocals.pop() ?? this.f.local(I64);
      this.blockLocals.push(this.vloc[v]);
    }
    this.f.set(this.vloc[v]);
  }

  /** The current block's values are dead (control is leaving it): free their locals. */
  protected releaseLocals(): void {
    for (const l of this.blockLocals) this.freeLocals.push(l);
    this.blockLocals.length = 0;
  }

  // ---- state access ----

  /** Adds one to the i64 counter at a state offset. */
  protected count(off: number): void {
    this.f.get(this.sbL).get(this.sbL).mem(W.i64_load, 3, off).i64Const(1).op(W.i64_add).mem(W.i64_store, 3, off);
  }

  protected loadX(r: number): void {
    if (r === 0) this.f.i64Const(0);
    else this.f.get(this.sbL).mem(W.i64_load, 3, STATE_X + 8 * r);
  }

  /** Stores the i64 that `push` leaves on the stack into x[r] in memory. */
  protected storeX(r: number, push: () => void): void {
    this.f.get(this.sbL);
    push();
    this.f.mem(W.i64_store, 3, STATE_X + 8 * r);
  }

  protected loadF(r: number): void {
    this.f.get(this.sbL).mem(W.i64_load, 3, STATE_F + 8 * r);
  }

  protected storeF(r: number, push: () => void): void {
    this.f.get(this.sbL);
    push();
    this.f.mem(W.i64_store, 3, STATE_F + 8 * r);
  }

  protected storePc(push: () => void): void {
    this.f.get(this.sbL);
    push();
    this.f.mem(W.i64_store, 3, STATE_PC);
  }

  protected loadI32(off: number): void {
    this.f.get(this.sbL).mem(W.i32_load, 2, off);
  }

  protected storeI32(off: number, push: () => void): void {
    this.f.get(this.sbL);
    push();
    this.f.mem(W.i32_store, 2, off);
  }

  /** Promote mode: every touched register, the flags, frm and budget into locals. */
  protected loadAll(): void {
    const f = this.f;
    for (let r = 1; r < 32; r++) if (this.xl[r] >= 0) (this.loadX(r), f.set(this.xl[r]));
    for (let r = 0; r < 32; r++) if (this.fl[r] >= 0) f.get(this.sbL).mem(W.f64_load, 3, STATE_F + 8 * r).set(this.fl[r]);
    if (this.flagsL >= 0) (this.loadI32(STATE_FLAGS), f.set(this.flagsL));
    this.loadI32(STATE_BUDGET);
    f.set(this.budgetL);
    if (this.frmL >= 0) (this.loadI32(STATE_FRM), f.set(this.frmL));
  }

  /** Promote mode: written registers, the flags and the budget back to memory. */
  protected writeBack(): void {
    for (let r = 1; r < 32; r++) if (this.xWritten[r]) this.storeX(r, () => this.f.get(this.xl[r]));
    for (let r = 0; r < 32; r++) if (this.fWritten[r]) this.f.get(this.sbL).get(this.fl[r]).mem(W.f64_store, 3, STATE_F + 8 * r);
    if (this.flagsL >= 0) this.storeI32(STATE_FLAGS, () => this.f.get(this.flagsL));
    this.storeI32(STATE_BUDGET, () => this.f.get(this.budgetL));
  }

  protected getFlags(): void {
    if (this.o.promote) this.f.get(this.flagsL);
    else this.loadI32(STATE_FLAGS);
  }

  protected orFlags(push: () => void): void {
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
}
