// Dead-code elimination over each block: pure instructions whose values nothing
// uses, and register writes that a later write in the same block overwrites before
// anything reads the register and before any instruction that can leave the block
// (a memory access, an FP operation's slow path, an interpreted instruction: if one
// of those exits, the state it leaves behind must hold the earlier value).

import { IrKind, isPure, operands, termOperands, type Block, type Inst, type Unit } from 'virtlab';

// Imported bindings compile to getter calls under CommonJS; the hot paths read these local copies.
const K = IrKind;

export interface DceStats {
  removed: number;
  deadWrites: number;
}

function canExit(i: Inst): boolean {
  return i.k === K.LOAD || i.k === K.STORE || i.k === K.CHECK || i.k === K.FP || i.k === K.INTERP;
}

function dceBlock(b: Block, stats: DceStats): void {
  const used = new Set<number>(termOperands(b.term));
  // Registers written later in the block with no read or possible exit in between.
  const laterX = new Set<number>();
  const laterF = new Set<number>();
  const keep: Inst[] = [];
  for (let at = b.insts.length - 1; at >= 0; at--) {
    const i = b.insts[at];
    if (i.dst >= 0 && isPure(i) && !used.has(i.dst)) {
      stats.removed++;
      continue;
    }
    if (i.k === K.SETX || i.k === K.SETF) {
      const later = i.k === K.SETX ? laterX : laterF;
      if (later.has(i.a)) {
        stats.deadWrites++;
        continue;
      }
      later.add(i.a);
    } else if (i.k === K.GETX) laterX.delete(i.a);
    else if (i.k === K.GETF) laterF.delete(i.a);
    else if (canExit(i)) {
      laterX.clear();
      laterF.clear();
    }
    for (const v of operands(i)) used.add(v);
    keep.push(i);
  }
  keep.reverse();
  b.insts.length = 0;
  b.insts.push(...keep);
}

export function dce(unit: Unit, stats: DceStats): Unit {
  for (const b of unit.blocks) dceBlock(b, stats);
  return unit;
}
