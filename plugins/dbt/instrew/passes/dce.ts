// Dead-code elimination over each block: pure instructions whose values nothing
// uses, register writes that a later write in the same block overwrites before
// anything reads the register and before any instruction that can leave the block
// (a memory access, an FP operation's slow path, an interpreted instruction: if one
// of those exits, the state it leaves behind must hold the earlier value), and
// stores that a later store of the same bytes overwrites under the same conditions
// (the later store's access check already passed, so it cannot leave the block
// either; nothing between them reads memory). A dead store whose own check has not
// been made earlier leaves that check behind: the later store relies on it.
//
// Rewrite rules, by the names the pass reports them under (PassRules): dead-value,
// dead-write, dead-store.
//
// Injected bug (the `inject` option, a testing aid for `virtlab localize`; off by
// default): 'dce:cross-unit-store' — dead-store also drops a store through the stack
// pointer that nothing in the unit loads back, as if the stack slot were the unit's
// own: a reader in another unit (a caller reading what its callee left there) sees
// the old bytes.

import { ALL_RULES, CHECKED, Inst, IrKind, WasmOp, isPure, operands, termOperands, type Block, type PassRules, type Unit } from 'virtlab';

// Imported bindings compile to getter calls under CommonJS; the hot paths read these local copies.
const K = IrKind;
const W = WasmOp;
const SP = 2;

/** Bugs dce can be made to have (see the header). */
export interface DceInject {
  readonly crossUnitStore?: boolean;
}

export interface DceStats {
  removed: number;
  deadWrites: number;
}

function canExit(i: Inst): boolean {
  return i.k === K.LOAD || i.k === K.STORE || i.k === K.CHECK || i.k === K.CHECKRANGE || i.k === K.FP || i.k === K.INTERP;
}

/** Addresses of a block taken apart into a base value and a constant offset. */
function addressing(b: Block): { split: (addr: number) => [number, number]; fromSp: (v: number) => boolean } {
  const defs = new Map<number, Inst>();
  const consts = new Map<number, number>();
  for (const i of b.insts) {
    if (i.dst >= 0) defs.set(i.dst, i);
    if (i.k === K.CONST && i.hi === i.lo >> 31) consts.set(i.dst, i.lo);
  }
  const split = (addr: number): [number, number] => {
    const d = defs.get(addr);
    if (d && d.k === K.BIN && d.op === W.i64_add) {
      const c = consts.get(d.b);
      if (c !== undefined) return [d.a, c];
    }
    return [addr, 0];
  };
  const fromSp = (v: number): boolean => {
    for (let n = 0; n < 8; n++) {
      const d = defs.get(v);
      if (!d) return false;
      if (d.k === K.GETX) return d.a === SP;
      if (d.k !== K.BIN || d.op !== W.i64_add || !consts.has(d.b)) return false;
      v = d.a;
    }
    return false;
  };
  return { split, fromSp };
}

function dceBlock(b: Block, stats: DceStats, rules: PassRules, loaded: Set<string>, inject: DceInject): void {
  const { split, fromSp } = addressing(b);
  const used = new Set<number>(termOperands(b.term));
  // Registers written later in the block with no read or possible exit in between.
  const laterX = new Set<number>();
  const laterF = new Set<number>();
  // Bytes (base, offset, size) a later checked store writes with no read or possible exit in between.
  const laterStores = new Set<string>();
  const keep: Inst[] = [];
  for (let at = b.insts.length - 1; at >= 0; at--) {
    const i = b.insts[at];
    if (i.dst >= 0 && isPure(i) && !used.has(i.dst) && rules.fire('dead-value')) {
      stats.removed++;
      continue;
    }
    if (i.k === K.SETX || i.k === K.SETF) {
      const later = i.k === K.SETX ? laterX : laterF;
      if (later.has(i.a) && rules.fire('dead-write')) {
        stats.deadWrites++;
        continue;
      }
      later.add(i.a);
    } else if (i.k === K.GETX) laterX.delete(i.a);
    else if (i.k === K.GETF) laterF.delete(i.a);
    else if (i.k === K.STORE) {
      const [base, off] = split(i.a);
      const key = `${base}:${off}:${i.lo}`;
      const overwritten = laterStores.has(key);
      const unitLocal = inject.crossUnitStore === true && fromSp(base) && !loaded.has(`${off}:${i.lo}`);
      if ((overwritten || unitLocal) && rules.fire('dead-store')) {
        stats.removed++;
        if (i.c === CHECKED) continue;
        // Its access check stays: the later store skips its own on the strength of this one.
        const check = new Inst(K.CHECK, 1, -1, i.a, -1, -1, i.lo, 0, i.gi);
        laterStores.clear();
        laterX.clear();
        laterF.clear();
        used.add(i.a);
        keep.push(check);
        continue;
      }
      // A store whose check may fail can leave the block before writing: earlier stores must stay.
      if (i.c !== CHECKED) laterStores.clear();
      else laterStores.add(key);
      laterX.clear();
      laterF.clear();
    } else if (canExit(i)) {
      laterX.clear();
      laterF.clear();
      laterStores.clear();
    }
    for (const v of operands(i)) used.add(v);
    keep.push(i);
  }
  keep.reverse();
  b.insts.length = 0;
  b.insts.push(...keep);
}

export function dce(unit: Unit, stats: DceStats, rules: PassRules = ALL_RULES, inject: DceInject = {}): Unit {
  // What the unit loads through the stack pointer, by offset and size (for the injected bug).
  const loaded = new Set<string>();
  if (inject.crossUnitStore) {
    for (const b of unit.blocks) {
      const { split, fromSp } = addressing(b);
      for (const i of b.insts) {
        if (i.k !== K.LOAD) continue;
        const [base, off] = split(i.a);
        if (fromSp(base)) loaded.add(`${off}:${i.lo}`);
      }
    }
  }
  for (const b of unit.blocks) dceBlock(b, stats, rules, loaded, inject);
  return unit;
}
