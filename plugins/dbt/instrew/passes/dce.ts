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

import { ALL_RULES, CHECKED, Inst, IrKind, WasmOp, isPure, operandsInto, termOperands, type Block, type PassRules, type Unit } from 'virtlab';
import { valueTables } from './values';

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

const tables = valueTables;

function fromSp(v: number, s: number): boolean {
  const t = tables;
  for (let n = 0; n < 8; n++) {
    if (t.defStamp[v] !== s) return false;
    const d = t.defs[v]!;
    if (d.k === K.GETX) return d.a === SP;
    if (d.k !== K.BIN || d.op !== W.i64_add || t.constStamp[d.b] !== s) return false;
    v = d.a;
  }
  return false;
}

/** Registers written later in a block: [file·64 + reg] === the current generation. */
const later = new Int32Array(128);
let generation = 0;

/** The operands of the instruction at hand. */
const ops = new Int32Array(64);

function dceBlock(b: Block, n: number, stats: DceStats, rules: PassRules, loaded: Set<string>, inject: DceInject): void {
  const s = tables.index(b, n);
  const used = tables.mark;
  for (const v of termOperands(b.term)) used[v] = s;
  // Registers written later in the block with no read or possible exit in between
  // (x registers at 0.., f registers at 64..): those whose entry is the current generation.
  if (generation >= 0x3fffffff) {
    later.fill(0);
    generation = 0;
  }
  let gen = ++generation;
  // Bytes (base, offset, size) a later checked store writes with no read or possible exit in between.
  const laterStores = new Set<string>();
  const keep: Inst[] = [];
  for (let at = b.insts.length - 1; at >= 0; at--) {
    const i = b.insts[at];
    if (i.dst >= 0 && used[i.dst] !== s && isPure(i) && rules.fire('dead-value')) {
      stats.removed++;
      continue;
    }
    if (i.k === K.SETX || i.k === K.SETF) {
      const r = i.k === K.SETX ? i.a : 64 + i.a;
      if (later[r] === gen && rules.fire('dead-write')) {
        stats.deadWrites++;
        continue;
      }
      later[r] = gen;
    } else if (i.k === K.GETX) later[i.a] = 0;
    else if (i.k === K.GETF) later[64 + i.a] = 0;
    else if (i.k === K.STORE) {
      const base = tables.split(i.a, s, false);
      const off = tables.offset;
      const key = `${base}:${off}:${i.lo}`;
      const overwritten = laterStores.has(key);
      const unitLocal = inject.crossUnitStore === true && fromSp(base, s) && !loaded.has(`${off}:${i.lo}`);
      if ((overwritten || unitLocal) && rules.fire('dead-store')) {
        stats.removed++;
        if (i.c === CHECKED) continue;
        // Its access check stays: the later store skips its own on the strength of this one.
        const check = new Inst(K.CHECK, 1, -1, i.a, -1, -1, i.lo, 0, i.gi);
        laterStores.clear();
        gen = ++generation;
        used[i.a] = s;
        keep.push(check);
        continue;
      }
      // A store whose check may fail can leave the block before writing: earlier stores must stay.
      if (i.c !== CHECKED) laterStores.clear();
      else laterStores.add(key);
      gen = ++generation;
    } else if (canExit(i)) {
      gen = ++generation;
      laterStores.clear();
    }
    for (let k = operandsInto(i, ops) - 1; k >= 0; k--) used[ops[k]] = s;
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
      const s = tables.index(b, unit.valueCount);
      for (const i of b.insts) {
        if (i.k !== K.LOAD) continue;
        const base = tables.split(i.a, s, false);
        if (fromSp(base, s)) loaded.add(`${tables.offset}:${i.lo}`);
      }
    }
  }
  for (const b of unit.blocks) dceBlock(b, unit.valueCount, stats, rules, loaded, inject);
  return unit;
}
