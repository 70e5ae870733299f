// Per-value tables the passes share while they walk a unit block by block: a value's
// definition and, for a small constant, its number. Values are numbered densely in a
// unit, so arrays indexed by value replace the Maps (and the closures over them) that
// each block used to build; an entry is valid where its stamp is the current block's,
// so moving to the next block clears nothing.

import { IrKind, WasmOp, type Block, type Inst } from 'virtlab';

// Imported bindings compile to getter calls under CommonJS; the hot paths read these local copies.
const K = IrKind;
const W = WasmOp;

export class ValueTables {
  defs: (Inst | undefined)[] = [];
  defStamp = new Int32Array(256);
  constStamp = new Int32Array(256);
  constVal = new Int32Array(256);
  /** A stamped set of values for a pass's own use (dce: the values used later in the block). */
  mark = new Int32Array(256);
  private stamp = 0;

  /**
   * Indexes a block's definitions, and its constants that fit 32 bits, under a new
   * stamp for values below n (a later definition of a value wins); returns the stamp.
   */
  index(b: Block, n: number): number {
    if (n > this.defStamp.length || this.stamp >= 0x3fffffff) {
      const size = Math.max(n, this.defStamp.length);
      this.defStamp = new Int32Array(size);
      this.constStamp = new Int32Array(size);
      this.constVal = new Int32Array(size);
      this.mark = new Int32Array(size);
      this.defs = [];
      this.stamp = 0;
    }
    const s = ++this.stamp;
    for (const i of b.insts) {
      const d = i.dst;
      if (d < 0) continue;
      this.defs[d] = i;
      this.defStamp[d] = s;
      if (i.k === K.CONST && i.hi === i.lo >> 31) {
        this.constStamp[d] = s;
        this.constVal[d] = i.lo;
      }
    }
    return s;
  }

  /**
   * The operand of an address's `x + constant` (the constant on the right, or with
   * `either` on either side) that is its base, or -1 when the address is no such sum.
   */
  private sumBase(addr: number, s: number, either: boolean): number {
    if (this.defStamp[addr] !== s) return -1;
    const d = this.defs[addr]!;
    if (d.k !== K.BIN || d.op !== W.i64_add) return -1;
    if (this.constStamp[d.b] === s) return d.a;
    if (either && this.constStamp[d.a] === s) return d.b;
    return -1;
  }

  /** The constant of a sum sumBase found the base `base` of. */
  private sumOffset(addr: number, base: number): number {
    const d = this.defs[addr]!;
    return this.constVal[d.a === base ? d.b : d.a];
  }

  /** The offset of the address `split` last took apart (0 when it was no sum). */
  offset = 0;

  /**
   * An address taken apart into a base value, returned, and a constant offset, left in
   * `offset`: the operands of its `x + constant` (see sumBase), else the address itself
   * at offset 0.
   */
  split(addr: number, s: number, either: boolean): number {
    const base = this.sumBase(addr, s, either);
    if (base < 0) {
      this.offset = 0;
      return addr;
    }
    this.offset = this.sumOffset(addr, base);
    return base;
  }
}

/** One set of tables for all passes: they run one after another, block by block. */
export const valueTables = new ValueTables();
