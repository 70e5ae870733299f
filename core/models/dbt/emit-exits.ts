// The exits of a lowered unit (see emit.ts): to another unit through its chain slot
// (or straight to a unit of the same module), to the in-WebAssembly dispatcher for
// indirect jumps, back to the JavaScript dispatcher with an exit code, and through the
// exit table for faults and budget checks; in promote mode through one shared exit
// path that writes the registers back first.

import * as memoryModule from '../riscv/memory';
import { W as WasmOp } from '../wasm/encoder';
import { EXIT_INTERP, EXIT_LOOKUP, EXIT_TABLE } from './abi';
import type { Block } from './ir';
import { LEAVE_CHAIN, LEAVE_LOOKUP, LEAVE_RETURN, UnitState, type Ctx } from './emit-unit';

// Imported bindings compile to getter calls under CommonJS; the emitter reads these local copies.
// (TypeScript's const enums are objects at run time here; they are read once.)
const { STATE_BUDGET } = memoryModule;
const W = WasmOp;

/** A unit's emitter, as far as its ways out. */
export abstract class ExitEmitter extends UnitState {
  // ---- exits ----

  protected depthOf(k: Ctx['k'], block = -1): number {
    for (let i = this.ctx.length - 1; i >= 0; i--) {
      const c = this.ctx[i];
      if (c.k === k && (block < 0 || c.block === block)) return this.f.depth - c.level;
    }
    throw new Error(`no enclosing ${k} for block ${block}`);
  }

  /** Leaves through the shared exit path (writes back in promote mode). */
  protected leave(kind: number, code: number, pc: () => void, adj: number, slot = 0): void {
    const f = this.f;
    f.i32Const(kind).set(this.ekind);
    f.i32Const(code).set(this.ecode);
    pc();
    f.set(this.epc);
    f.i32Const(adj).set(this.eadj);
    if (kind === LEAVE_CHAIN) f.i32Const(slot).set(this.eslot);
    f.br(this.depthOf('exit'));
  }

  protected sharedExit(): void {
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
  protected tableExit(code: number, pc: number, refund: number): void {
    this.f.i32Const(EXIT_TABLE + this.links.exit(code, pc, refund));
    if (this.o.promote) this.f.br(this.depthOf('texit'));
    else this.f.op(W.return);
  }

  /** Exit before instruction gi of block b: it did not run; refund it and the rest. */
  protected faultExit(b: Block, gi: number): void {
    this.tableExit(EXIT_INTERP, this.u.pcs[gi], b.count - (gi - b.firstGi));
  }

  /** Jump to guest pc, leaving the unit (chained). */
  protected leaveTo(pc: number): void {
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
  protected leaveIndirect(v: number): void {
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

  protected leaveCode(code: number, pc: () => void): void {
    if (!this.o.promote) {
      this.storePc(pc);
      this.f.i32Const(code).op(W.return);
      return;
    }
    this.leave(LEAVE_RETURN, code, pc, 0);
  }
}
