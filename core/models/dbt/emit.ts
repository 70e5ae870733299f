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
// (emit-control.ts); the exits live in emit-exits.ts, the FP lowering in emit-fp.ts,
// and the per-unit state in emit-unit.ts. This file lowers the instructions and the
// terminators, and builds the module.
//
// Every guest instruction that can fault checks its access inline; when the check
// fails the unit exits with the instruction not executed and the budget of the rest
// of its block refunded, and the interpreter executes it — and raises the precise
// fault, from exactly the state it would have had.

import * as irModule from './ir';
import * as memoryModule from '../riscv/memory';
import * as encoderModule from '../wasm/encoder';
import { directCalls, ModuleBuilder, W as WasmOp, type CodeLayout, type FuncBody } from '../wasm/encoder';
import type { GuestMemory } from '../riscv/memory';
import { EXIT_BUDGET, EXIT_INTERP, EXIT_LOOKUP, EXIT_RET, HELPER_CODE_CHANGED, HELPER_OK, MAX_CALL_DEPTH } from './abi';
import { Block, CHECKED, DIV_S, DIV_U, type K as KEnum, MULH_SS, MULH_SU, REM_S, type Inst, type Term, Unit } from './ir';
import { SoftTlbEmitter } from './emit-softtlb';
import { Helpers, Scratch, type EmitLinks, type EmitOptions, type EmittedModule } from './emit-unit';

export type { EmitLinks, EmitOptions, EmittedModule } from './emit-unit';

// Imported bindings compile to getter calls under CommonJS; the emitter reads these local copies.
// (TypeScript's const enums are objects at run time here; they are read once.)
const { PAGE_SHIFT, PERM_DECODED, PERM_R, PERM_W, STATE_BUDGET, STATE_DEPTH, STATE_F, STATE_FLAGS, STATE_FRM, STATE_HOST_CALLS, STATE_PC, STATE_RETURN_HITS, entryCounterSlot, runCounterSlot } = memoryModule;
const { F64, I32, I64 } = encoderModule;
const W = WasmOp;
const K = (irModule as unknown as { K: { readonly [P in keyof typeof KEnum]: number } }).K;

/**
 * A module's frame: the unit type (type 0) and the imports of the runtime's memory
 * and helper table. `linkable`: every helper's type declared up front, in one order,
 * so that units copied between such modules keep their type indices.
 */
function unitModule(mem: GuestMemory, relocatable: boolean, linkable: boolean): { m: ModuleBuilder; tUnit: number; imports: Helpers } {
  const m = new ModuleBuilder(relocatable);
  const tUnit = m.type([], [I32]);
  m.importMemory('env', 'mem', mem.wasmPages);
  const imports = new Helpers(m);
  if (linkable) imports.declareAll();
  return { m, tUnit, imports };
}

let sharedScratch: Scratch | null = null;

/**
 * Lowers units into one module that imports the runtime (see runtime-module.ts).
 * `relocatable`: the module also records where each unit's code lies (`layout`), so
 * that linkModule can take the units into another module without lowering them again.
 */
export function emitModule(units: readonly Unit[], links: EmitLinks, options: EmitOptions, relocatable = false): EmittedModule {
  const { m, tUnit, imports } = unitModule(links.mem, relocatable, relocatable);
  const exports: string[] = [];
  // The units of a module call each other directly (function i is unit i): no table
  // between them. The runtime drops a module's units together, so no direct call can
  // reach a dropped unit.
  const local = new Map<number, number>();
  units.forEach((u, i) => {
    if (!local.has(u.entry)) local.set(u.entry, i);
  });
  let n = 0;
  for (const u of units) n = Math.max(n, u.valueCount);
  // One scratch for every module, grown when a unit needs more: fresh typed arrays per
  // module were a tenth of the emitter's own time (their memory is new each time).
  if (!sharedScratch || sharedScratch.vloc.length < n) sharedScratch = new Scratch(Math.max(n, 2 * (sharedScratch?.vloc.length ?? 0)));
  const scratch = sharedScratch;
  if (relocatable) imports.enterSites = [];
  const bodies: FuncBody[] = [];
  units.forEach((u, i) => {
    const { index, body } = m.func(tUnit);
    const e = new UnitEmitter(u, body, imports, links, options, tUnit, local, scratch);
    e.emit();
    bodies.push(body);
    const name = `u${i}`;
    m.export(name, index);
    exports.push(name);
  });
  const bytes = m.finish();
  if (!relocatable) return { bytes, exports };
  const layout = m.layout();
  // A body lies just before its function's closing `end`.
  const bodyAt = new Map(bodies.map((b, i) => [b, layout.code[2 * i + 1] - 1 - b.len]));
  const enterAt = imports.enterSites!.map(([b, at]) => bodyAt.get(b)! + at);
  return { bytes, exports, layout, enterAt };
}

/**
 * A call of the `enter` helper as the emitter writes it in a linkable module (every
 * helper type declared up front): i32.const 0 (enter's helper index), then call_indirect
 * or return_call_indirect of enter's type through table 0 (the helpers). linkModule
 * rewrites it in place to nop, nop, and the same call of the unit type through table 1,
 * the chain table itself, taking the slot on the stack as the index: one indirect call
 * instead of two, and none into another instance (the helper module's).
 */
function enterSite(b: Uint8Array, at: number, enterType: number): boolean {
  return b[at] === W.i32_const && b[at + 1] === 0 && (b[at + 2] === W.call_indirect || b[at + 2] === W.return_call_indirect) && b[at + 3] === enterType && b[at + 4] === 0;
}

/** Units of a relocatable module that linkModule takes: by their index in it. */
export interface ModulePart {
  readonly bytes: Uint8Array;
  readonly layout: CodeLayout;
  /** The guest entry of each unit of the module. */
  readonly entries: readonly number[];
  /** The units taken, in increasing order. */
  readonly take: readonly number[];
  /** Offsets of the module's calls of `enter` (EmittedModule.enterAt). */
  readonly enterAt?: readonly number[];
}

/**
 * One module of units of modules emitModule made (relocatable): their code as it
 * was compiled, copied in runs, only the function indices of their direct calls
 * (within their part, as before) patched, and their calls of the `enter` helper made
 * calls through the chain table, which this module imports (enterSite). Nothing is
 * lowered again, and the numberings their code embeds (chain slots, exit-table
 * entries, counter ids) are the ones they were made with. A direct call to a unit not taken goes to a stub
 * that does what the emitter does for a target outside the module: store the pc,
 * enter its chain slot. Exports in order of the parts and their units.
 */
export function linkModule(parts: readonly ModulePart[], links: Pick<EmitLinks, 'mem' | 'slotFor'>): EmittedModule {
  const taken = parts.reduce((n, p) => n + p.take.length, 0);
  const { m, tUnit, imports } = unitModule(links.mem, false, true);
  // Table 1: the chain table, which the units' calls of `enter` go through directly (enterSite).
  m.importTable('env', 'table', 0);
  const enterType = imports.typeOf('enter');
  if (tUnit > 127 || enterType > 127) throw new Error('linkModule: type indices beyond one byte');
  parts = parts.map((p) => {
    if (!p.enterAt?.length) return p;
    const bytes = p.bytes.slice();
    for (const at of p.enterAt) {
      if (!enterSite(bytes, at, enterType)) throw new Error(`linkModule: no call of enter at byte ${at}`);
      bytes[at] = W.nop;
      bytes[at + 1] = W.nop;
      bytes[at + 3] = tUnit;
      bytes[at + 4] = 1;
    }
    return { ...p, bytes };
  });
  // Where each unit lands: taken units first, in order, then one stub per guest pc called but not taken.
  const stubs = new Map<number, number>();
  let next = 0;
  const at = parts.map((p) => {
    const to = new Array<number>(p.entries.length).fill(-1);
    for (const i of p.take) to[i] = next++;
    for (const i of p.take) {
      for (const j of directCalls(p.bytes, p.layout, i)) {
        if (to[j] !== -1) continue;
        let stub = stubs.get(p.entries[j]);
        if (stub === undefined) stubs.set(p.entries[j], (stub = taken + stubs.size));
        to[j] = -2 - stub;
      }
    }
    return to;
  });
  const exports: string[] = [];
  parts.forEach((p, k) => {
    const to = at[k];
    const func = (f: number) => {
      const t = to[f - p.layout.importedFuncs];
      return t >= 0 ? t : -2 - t;
    };
    const take = p.take;
    // Runs of consecutive units, each copied at once.
    for (let r = 0; r < take.length; ) {
      let e = r + 1;
      while (e < take.length && take[e] === take[e - 1] + 1) e++;
      const index = m.copyFuncs(p.bytes, p.layout, take[r], take[e - 1] + 1, func);
      if (index !== to[take[r]]) throw new Error('linkModule: function indices out of step');
      for (; r < e; r++) {
        const name = `u${exports.length}`;
        m.export(name, to[take[r]]);
        exports.push(name);
      }
    }
  });
  for (const pc of stubs.keys()) {
    const { body: f } = m.func(tUnit);
    f.i32Const(links.mem.stateBase).i64Const(pc | 0, Math.floor(pc / 4294967296)).mem(W.i64_store, 3, STATE_PC);
    f.i32Const(links.slotFor(pc));
    imports.tail(f, 'enter');
  }
  return { bytes: m.finish(), exports };
}

class UnitEmitter extends SoftTlbEmitter {
  /** Address of the run counter of the unit's first block (EmitOptions.countRuns), or -1. */
  private runCounter = -1;

  emit(): void {
    const f = this.f;
    this.sbL = f.local(I32);
    f.i32Const(this.sb).set(this.sbL);
    this.analyseCfg();
    this.declareLocals();
    this.ekind = f.local(I32);
    this.ecode = f.local(I32);
    this.epc = f.local(I64);
    this.eslot = f.local(I32);
    this.tI32 = f.local(I32);
    this.tI64 = f.local(I64);
    this.fa = f.local(F64);
    this.fb = f.local(F64);
    this.fc = f.local(F64);
    this.fr = f.local(F64);
    // This unit's entry counter (see UNIT_COUNTERS), addressed from 0.
    const unitNo = this.links.unitId();
    const counter = this.links.mem.countersBase + 8 * entryCounterSlot(unitNo, !!this.o.countRuns);
    f.i32Const(0).i32Const(0).mem(W.i64_load, 3, counter).i64Const(1).op(W.i64_add).mem(W.i64_store, 3, counter);
    if (this.o.countRuns) this.runCounter = this.links.mem.countersBase + 8 * runCounterSlot(unitNo);
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

  protected override blockBody(bi: number): void {
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
    if (bi === 0 && this.runCounter >= 0) f.i32Const(0).i32Const(0).mem(W.i64_load, 3, this.runCounter).i64Const(1).op(W.i64_add).mem(W.i64_store, 3, this.runCounter);
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
        this.leaveCode(EXIT_INTERP, () => f.i64Const(t.pc | 0, Math.floor(t.pc / 4294967296)));
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
      this.storePc(() => f.i64Const(t.target | 0, Math.floor(t.target / 4294967296)));
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
    f.get(this.sbL).mem(W.i64_load, 3, STATE_PC).i64Const(t.ret | 0, Math.floor(t.ret / 4294967296)).op(W.i64_ne);
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
        // Full-system code: every access translates its address (a check proved redundant still does).
        if (this.o.softTlb) return this.tlbLoad(b, i);
        if (i.c !== CHECKED) this.access(b, i, PERM_R, PERM_R);
        this.observe(i, 0);
        this.val(i.a);
        f.op(W.i32_wrap_i64).mem(i.op, 0, 0);
        this.def(i.dst);
        return;
      case K.CHECK:
        if (this.o.softTlb) {
          this.tlbAddress(b, i, i.op);
          f.op(W.drop);
          return;
        }
        if (i.op === 0) this.access(b, i, PERM_R, PERM_R);
        else this.access(b, i, PERM_W | PERM_DECODED, PERM_W);
        return;
      case K.CHECKRANGE:
        // Full-system code checks each access where it translates it.
        if (this.o.softTlb) return;
        this.rangeCheck(b, i);
        return;
      case K.STORE:
        if (this.o.softTlb) return this.tlbStore(b, i);
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
   * (a crossing access is left to the interpreter).
   *
   * Two i64 terms that are zero exactly when the access may go ahead, or'ed into one
   * branch: the permission bits of the page (see pageBits) and
   * ((a & 0xffffffff00000fff) + size − 1) >> 12, which is the carry of the page offset
   * plus size − 1 into bit 12 together with the address bits above 31 (no carry can
   * reach them: bits 12…31 are cleared). Those bits being zero is what keeps the
   * table index, bits 12…31, in the table and what makes the 32-bit address the
   * access uses the guest's address. The earlier form clamped a 64-bit page index
   * to the guest's pages with a compare and a select, which V8 compiled to a compare,
   * a conditional move and three moves: in TurboFan's code a byte store's check is
   * now 9 x86 instructions instead of 11, a range check 16 instead of 20. The terms
   * are integers, not comparisons, because V8 materialises a comparison as a flag (a
   * set-on-condition and a zero extension) before an or; and one branch, because a
   * branch per condition gave V8 more blocks to compile than it saved.
   */
  private access(b: Block, i: Inst, mask: number, want: number): void {
    const f = this.f;
    this.val(i.a);
    this.pageBits(mask, want);
    this.val(i.a);
    if (i.lo > 1) f.i64Const(0xfff, -1).op(W.i64_and).i64Const(i.lo - 1).op(W.i64_add).i64Const(PAGE_SHIFT);
    else f.i64Const(32);
    f.op(W.i64_shr_u).op(W.i64_or).i64Const(0).op(W.i64_ne);
    f.if();
    this.faultExit(b, i.gi);
    f.end();
  }

  /**
   * Takes the i64 address on the stack and leaves an i64 that is zero exactly when its
   * table entry has (perm & mask) === want. The entry is the one of bits 12…31 of the
   * address, taken as they are: the table has an entry for each of them (PERM_ENTRIES),
   * zero past the guest's pages, so an address in [size, 2^32) fails here. The bits
   * above 31 are the caller's to check.
   */
  private pageBits(mask: number, want: number): void {
    const f = this.f;
    f.op(W.i32_wrap_i64).i32Const(PAGE_SHIFT).op(W.i32_shr_u);
    f.mem(W.i64_load8_u, 0, this.permBase).i64Const(mask).op(W.i64_and).i64Const(want).op(W.i64_xor);
  }

  /**
   * CHECKRANGE: the pages of the first and the last byte of [a, a + lo), and the bits
   * above 31 of both addresses (the last one's catch [a, a + lo) running past 2^32;
   * the first one's, a sum that wrapped around 2^64).
   */
  private rangeCheck(b: Block, i: Inst): void {
    const f = this.f;
    const mask = PERM_R | (i.op & 2 ? PERM_W | PERM_DECODED : 0);
    const want = PERM_R | (i.op & 2 ? PERM_W : 0);
    // The last byte's address, once: its page and its high bits.
    this.val(i.a);
    f.i64Const(i.lo - 1).op(W.i64_add).set(this.tI64);
    this.val(i.a);
    this.pageBits(mask, want);
    f.get(this.tI64);
    this.pageBits(mask, want);
    f.op(W.i64_or);
    this.val(i.a);
    f.get(this.tI64).op(W.i64_or).i64Const(32).op(W.i64_shr_u).op(W.i64_or);
    f.i64Const(0).op(W.i64_ne);
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
  protected override interp(b: Block, i: Inst, reads: NonNullable<Inst['reads']>, writes: NonNullable<Inst['writes']>): void {
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
}
