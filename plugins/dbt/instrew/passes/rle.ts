// Redundant load and store elimination over each block. Addresses are taken apart
// into a base value and a constant offset (what fold leaves of `rs1 + imm`); for each
// (base, offset, size) the pass remembers the last value loaded or stored there.
// - A load of what an earlier load of the same width read is that value: no access.
// - A load of what an earlier store wrote is the stored value, narrowed or extended
//   as the load would; only the access check stays (a page may be writable and not
//   readable), unless an earlier load of the address already passed it.
// - An access to an address already accessed with the permission it needs skips its
//   check.
// A store forgets everything it may overlap — every other base, since two bases may
// point to the same byte — and interpreted atomics forget everything.
//
// Then the access checks that remain are coalesced: accesses of a block through one
// base whose bytes span at most a page share one range check (of the two pages the
// span can touch), placed before the first of them. If it fails, the unit leaves
// before that first access and the interpreter goes on instruction by instruction,
// so a fault is still raised by the access that makes it, from its exact state.
//
// Rewrite rules, by the names the pass reports them under (PassRules): load-load,
// store-load, check-reuse, check-coalesce.
//
// Injected bug (the `inject` option, a testing aid for `virtlab localize`; off by
// default): 'rle:width-alias' — a store forgets only what it overlaps at its own
// width, so a load is forwarded across an aliasing store of a different width.

import { ALL_RULES, CHECKED, Inst, IrKind, RiscvOp, WasmOp, mapOperands, mapTermOperands, type Block, type PassRules, type Unit } from 'virtlab';
import { valueTables } from './values';

// Imported bindings compile to getter calls under CommonJS; the hot paths read these local copies.
const K = IrKind;
const W = WasmOp;
const Op = RiscvOp;

export interface RleStats {
  loadsRemoved: number;
  loadsForwarded: number;
  checksRemoved: number;
  /** Access checks replaced by range checks (each range check counts too). */
  checksCoalesced: number;
}

/** Bugs rle can be made to have (see the header). */
export interface RleInject {
  readonly widthAlias?: boolean;
}

interface Known {
  base: number;
  off: number;
  size: number;
  /** The value in memory there (i64; its low `size` bytes). */
  value: number;
  /** For a load: its opcode (the value is already narrowed or extended as it says). */
  loadOp: number;
  readChecked: boolean;
  writeChecked: boolean;
}

// The current block's state, at module level: closures made per block (each named
// by the build, at a property definition per closure) cost more than the pass.
let stamp = 0;
let curUnit: Unit;
let out: Inst[] = [];
let rep = new Map<number, number>();

function r(v: number): number {
  return rep.get(v) ?? v;
}

function emit(k: number, op: number, a: number, b2: number, gi: number, lo = 0, hi = 0): number {
  const dst = curUnit.newValue();
  out.push(new Inst(k, op, dst, a, b2, -1, lo, hi, gi));
  return dst;
}

function constant(lo: number, hi: number, gi: number): number {
  return emit(K.CONST, 0, -1, -1, gi, lo, hi);
}

/** The stored value as a load with opcode op would see it. */
function narrow(v: number, op: number, gi: number): number {
  switch (op) {
    case W.i64_load: return v;
    case W.i64_load32_s: return emit(K.BIN32, W.i32_add, v, constant(0, 0, gi), gi);
    case W.i64_load32_u: return emit(K.BIN, W.i64_and, v, constant(-1, 0, gi), gi);
    case W.i64_load16_u: return emit(K.BIN, W.i64_and, v, constant(0xffff, 0, gi), gi);
    case W.i64_load8_u: return emit(K.BIN, W.i64_and, v, constant(0xff, 0, gi), gi);
    case W.i64_load16_s:
    case W.i64_load8_s: {
      const sh = constant(op === W.i64_load16_s ? 48 : 56, 0, gi);
      return emit(K.BIN, W.i64_shr_s, emit(K.BIN, W.i64_shl, v, sh, gi), sh, gi);
    }
  }
  throw new Error(`not a load opcode: ${op}`);
}

/** What is known of (base, off, size), if anything. */
function find(known: Known[], base: number, off: number, size: number): Known | undefined {
  for (const k of known) if (k.base === base && k.off === off && k.size === size) return k;
  return undefined;
}

function rleBlock(unit: Unit, b: Block, stats: RleStats, rules: PassRules, inject: RleInject): void {
  stamp = valueTables.index(b, unit.valueCount);
  curUnit = unit;
  out = [];
  rep = new Map();
  let known: Known[] = [];
  for (const i of b.insts) {
    // Keep operands current (values replaced by forwarded ones; none until a load is forwarded).
    if (rep.size) mapOperands(i, r);
    if (i.k === K.LOAD) {
      const base = valueTables.split(i.a, stamp, true);
      const off = valueTables.offset;
      const e = find(known, base, off, i.lo);
      if (e && e.loadOp === i.op && rules.fire('load-load')) {
        rep.set(i.dst, e.value);
        stats.loadsRemoved++;
        continue;
      }
      if (e && e.loadOp === 0 && rules.fire('store-load')) {
        if (!e.readChecked) out.push(new Inst(K.CHECK, 0, -1, i.a, -1, -1, i.lo, 0, i.gi));
        else stats.checksRemoved++;
        rep.set(i.dst, narrow(e.value, i.op, i.gi));
        e.readChecked = true;
        stats.loadsForwarded++;
        continue;
      }
      if (e && e.readChecked && rules.fire('check-reuse')) {
        i.c = CHECKED;
        stats.checksRemoved++;
      }
      if (e) known.splice(known.indexOf(e), 1);
      known.push({ base, off, size: i.lo, value: i.dst, loadOp: i.op, readChecked: true, writeChecked: e?.writeChecked ?? false });
      out.push(i);
      continue;
    }
    if (i.k === K.STORE) {
      const base = valueTables.split(i.a, stamp, true);
      const off = valueTables.offset;
      const same = find(known, base, off, i.lo);
      if (same?.writeChecked && rules.fire('check-reuse')) {
        i.c = CHECKED;
        stats.checksRemoved++;
      }
      known = known.filter((k) => k.base === base && (k.off + k.size <= off || off + i.lo <= k.off || (inject.widthAlias === true && k.size !== i.lo)));
      known.push({ base, off, size: i.lo, value: i.b, loadOp: 0, readChecked: same?.readChecked ?? false, writeChecked: true });
      out.push(i);
      continue;
    }
    if (i.k === K.INTERP && i.op >= Op.LR_W && i.op <= Op.AMOMAXU_D) known = [];
    out.push(i);
  }
  b.insts.length = 0;
  b.insts.push(...out);
  b.term = mapTermOperands(b.term, r);
  coalesceChecks(unit, b, stats, rules);
}

/** One range check for the accesses through each base (see the header). */
function coalesceChecks(unit: Unit, b: Block, stats: RleStats, rules: PassRules): void {
  const groups = new Map<number, Array<{ at: number; off: number; size: number; store: boolean }>>();
  b.insts.forEach((i, at) => {
    if ((i.k !== K.LOAD && i.k !== K.STORE) || i.c === CHECKED) return;
    const base = valueTables.split(i.a, stamp, true);
    const off = valueTables.offset;
    let g = groups.get(base);
    if (!g) groups.set(base, (g = []));
    g.push({ at, off, size: i.lo, store: i.k === K.STORE });
  });
  const inserts: Array<{ at: number; insts: Inst[] }> = [];
  for (const [base, accesses] of groups) {
    // Greedily in block order: a group grows while its span stays within a page.
    let start = 0;
    while (start < accesses.length) {
      let lo = accesses[start].off;
      let hi = accesses[start].off + accesses[start].size;
      let end = start + 1;
      while (end < accesses.length) {
        const a = accesses[end];
        const nlo = Math.min(lo, a.off);
        const nhi = Math.max(hi, a.off + a.size);
        if (nhi - nlo > 4096) break;
        lo = nlo;
        hi = nhi;
        end++;
      }
      if (end - start >= 2 && rules.fire('check-coalesce')) {
        const first = b.insts[accesses[start].at];
        const store = accesses.slice(start, end).some((a) => a.store);
        const k = unit.newValue();
        const addr = unit.newValue();
        const c = new Inst(K.CONST, 0, k, -1, -1, -1, lo | 0, lo < 0 ? -1 : 0, first.gi);
        const add = new Inst(K.BIN, W.i64_add, addr, base, k, -1, 0, 0, first.gi);
        const check = new Inst(K.CHECKRANGE, store ? 3 : 1, -1, addr, -1, -1, hi - lo, 0, first.gi);
        inserts.push({ at: accesses[start].at, insts: [c, add, check] });
        for (let j = start; j < end; j++) b.insts[accesses[j].at].c = CHECKED;
        stats.checksCoalesced += end - start;
      }
      start = end;
    }
  }
  inserts.sort((x, y) => y.at - x.at);
  for (const ins of inserts) b.insts.splice(ins.at, 0, ...ins.insts);
}

export function rle(unit: Unit, stats: RleStats, rules: PassRules = ALL_RULES, inject: RleInject = {}): Unit {
  for (const b of unit.blocks) rleBlock(unit, b, stats, rules, inject);
  return unit;
}
