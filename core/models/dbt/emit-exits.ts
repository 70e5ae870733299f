// The exits of a lowered unit (see emit.ts): to another unit through its chain slot
// (or straight to a unit of the same module), to the in-WebAssembly dispatcher for
// indirect jumps, back to the JavaScript dispatcher with an exit code, and through the
// exit table for faults and budget checks; in promote mode through one shared exit
// path that writes the registers back first.

import { W as WasmOp } from '../wasm/encoder';
import { EXIT_INTERP, EXIT_LOOKUP, EXIT_TABLE } from './abi';
import type { Block } from './ir';
import { LEAVE_CHAIN, LEAVE_LOOKUP, LEAVE_RETURN, UnitState, type Ctx } from './emit-unit';

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

  /**
   * Leaves through the shared exit path (writes back in promote mode). A run of the
   * unit takes at most one such exit, and WebAssembly locals start at zero: the exit
   * sets only what differs from zero, and the shared path tests only for the ways
   * out that the unit uses.
   */
  protected leave(kind: number, code: number, pc: () => void, slot = 0): void {
    const f = this.f;
    this.leaveKinds |= 1 << kind;
    if (kind !== LEAVE_RETURN) f.i32Const(kind).set(this.ekind);
    if (kind === LEAVE_RETURN && code !== 0) f.i32Const(code).set(this.ecode);
    pc();
    f.set(this.epc);
    if (kind === LEAVE_CHAIN && slot !== 0) f.i32Const(slot).set(this.eslot);
    f.br(this.depthOf('exit'));
  }

  protected sharedExit(): void {
    const f = this.f;
    if (this.o.promote) this.writeBack();
    this.storePc(() => f.get(this.epc));
    const kinds = this.leaveKinds;
    const only = (kind: number) => kinds === 1 << kind;
    if (kinds & (1 << LEAVE_CHAIN)) {
      if (!only(LEAVE_CHAIN)) f.get(this.ekind).i32Const(LEAVE_CHAIN).op(W.i32_eq).if();
      f.get(this.eslot);
      this.im.tail(f, 'enter');
      if (!only(LEAVE_CHAIN)) f.end();
    }
    if (kinds & (1 << LEAVE_LOOKUP)) {
      if (!only(LEAVE_LOOKUP)) f.get(this.ekind).i32Const(LEAVE_LOOKUP).op(W.i32_eq).if();
      this.im.tail(f, 'lookup');
      if (!only(LEAVE_LOOKUP)) f.end();
    }
    if (kinds & (1 << LEAVE_RETURN)) f.get(this.ecode);
    else if (kinds) f.op(W.unreachable);
    else f.i32Const(0);
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
    this.leave(LEAVE_CHAIN, 0, () => this.f.i64Const(pc | 0, Math.floor(pc / 4294967296)), this.links.slotFor(pc));
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
    this.leave(LEAVE_LOOKUP, 0, () => this.val(v));
  }

  protected leaveCode(code: number, pc: () => void): void {
    if (!this.o.promote) {
      this.storePc(pc);
      this.f.i32Const(code).op(W.return);
      return;
    }
    this.leave(LEAVE_RETURN, code, pc);
  }
}
