// Guest memory accesses of full-system translation (see system-runtime.ts): a guest
// virtual address is looked up in a software TLB that lives in WebAssembly memory and
// mirrors the privileged hart's own TLB entry for entry (the hart fills it when it
// translates, and flushes it on satp writes, sfence.vma and permission changes). An
// entry is [page tag: i64][RAM offset of the page: i32], indexed like the hart's:
// data regime's set + kind·TLB_SIZE + (va >> 12) mod TLB_SIZE. The tag is the whole
// 64-bit page address, so the compare is exact for every address.
//
// Whatever the inline path does not serve — a miss, a device, an access that crosses
// into the next page — leaves the unit before the instruction, with its budget
// refunded, and the hart executes it: it walks the page tables, fills the entry, or
// takes the precise fault. A store to a page that holds code (decoded by the hart or
// translated) calls the runtime, which keeps the code exact, and the unit leaves after
// the store if translations were dropped.

import * as memoryModule from '../riscv/memory';
import { W as WasmOp } from '../wasm/encoder';
import * as encoderModule from '../wasm/encoder';
import { EXIT_LOOKUP } from './abi';
import { FpEmitter } from './emit-fp';
import type { Block, Inst } from './ir';

const { I32 } = encoderModule;
const { STATE_PERM } = memoryModule;
const W = WasmOp;

/** The software TLB and code flags, as the emitter addresses them. */
export interface SoftTlbLayout {
  /** Address of TLB entry 0 (16 bytes per entry). */
  readonly tlbBase: number;
  /** Entries per access kind in one regime's set (the hart's TLB_SIZE). */
  readonly entries: number;
  /** Address of the code flag of RAM page 0 (one byte per page; the byte before it is always zero). */
  readonly codeFlags: number;
}

/**
 * Offsets in the state area (from its base) of the words the system runtime keeps for
 * translated code, where the user-mode permission table would be (unused then): the
 * byte offset of the data regime's TLB set, and the flag the code-write helper sets
 * when it dropped translations.
 */
export const STATE_SYS_DSET = STATE_PERM;
export const STATE_SYS_CHANGED = STATE_PERM + 4;

/** A unit's emitter, as far as the accesses through the software TLB. */
export abstract class SoftTlbEmitter extends FpEmitter {
  private hostL = -1;

  /**
   * Leaves on the stack the i32 WebAssembly address of the access of i.lo bytes at
   * value i.a, of kind 0 (load) or 1 (store); exits before the instruction when the
   * software TLB does not map it.
   */
  protected tlbAddress(b: Block, i: Inst, kind: number): void {
    const f = this.f;
    const t = this.o.softTlb!;
    if (this.hostL < 0) this.hostL = f.local(I32);
    const base = t.tlbBase + kind * t.entries * 16;
    this.val(i.a);
    f.i64Const(12).op(W.i64_shr_u).op(W.i32_wrap_i64).i32Const(t.entries - 1).op(W.i32_and).i32Const(4).op(W.i32_shl);
    f.get(this.sbL).mem(W.i32_load, 2, STATE_SYS_DSET).op(W.i32_add).tee(this.hostL);
    f.mem(W.i64_load, 3, base);
    // The page of the access's last byte against the tag of its first byte's entry (as
    // QEMU's softmmu compares): an access that crosses into the next page misses.
    this.val(i.a);
    if (i.lo > 1) f.i64Const(i.lo - 1).op(W.i64_add);
    f.i64Const(-4096).op(W.i64_and).op(W.i64_ne);
    f.if();
    this.faultExit(b, i.gi);
    f.end();
    f.get(this.hostL).mem(W.i32_load, 2, base + 8);
    this.val(i.a);
    f.op(W.i32_wrap_i64).i32Const(4095).op(W.i32_and).op(W.i32_add);
  }

  protected tlbLoad(b: Block, i: Inst): void {
    this.tlbAddress(b, i, 0);
    this.f.mem(i.op, 0, 0);
    this.def(i.dst);
  }

  protected tlbStore(b: Block, i: Inst): void {
    const f = this.f;
    const t = this.o.softTlb!;
    this.tlbAddress(b, i, 1);
    f.tee(this.hostL);
    this.val(i.b);
    f.mem(i.op, 0, 0);
    // A store on a code page (or one that may overwrite the end of an instruction
    // starting on the page before): the runtime drops what the bytes invalidate.
    f.get(this.hostL).i32Const(12).op(W.i32_shr_u).mem(W.i32_load8_u, 0, t.codeFlags);
    f.get(this.hostL).i32Const(2).op(W.i32_sub).i32Const(12).op(W.i32_shr_s).mem(W.i32_load8_u, 0, t.codeFlags).op(W.i32_or);
    f.if();
    f.get(this.hostL).i32Const(i.lo);
    this.im.call(f, 'access');
    f.get(this.sbL).mem(W.i32_load, 2, STATE_SYS_CHANGED);
    f.if();
    // The store dropped translations (perhaps this unit's): continue after it in the dispatcher.
    const next = i.gi + 1 < b.firstGi + b.count ? this.u.pcs[i.gi + 1] : b.end;
    this.tableExit(EXIT_LOOKUP, next, b.count - (i.gi + 1 - b.firstGi));
    f.end();
    f.end();
  }
}
