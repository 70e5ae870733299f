// The lowering of the host code model: one translated unit's IR (after the optimizer's
// passes) becomes a modelled host instruction stream for a host profile and a
// placement of the guest registers (regmap.ts), block by block, as a QEMU-like
// backend would emit it. Guest register reads and writes become loads and stores of
// the CPU state, nothing (or a move) for registers pinned in host registers, or lane
// extracts and inserts for registers in SIMD lanes; guest memory accesses carry
// the software TLB's inline check unless a pass proved it redundant; FP operations
// are softfloat helper calls, as QEMU emits them, or host FP instructions where the
// placement asks for them and RISC-V's semantics allow (lowerFp); terminators become
// the branches of chaining, or QEMU's lookup helper call for indirect jumps. Then a
// linear-scan allocator (Poletto and Sarkar) assigns the values' live ranges to the
// integer registers the profile and the placement leave free; a range that does not
// fit is spilled (a store, and a reload at each later use) or, when its value can be
// fetched again from its guest register, rematerialized (a reload from the CPU state
// or a lane extract at each later use).
//
// QEMU's rules for guest registers in the CPU state (TCG globals, tcg/tcg.c) hold for
// every placement: a guest register is loaded at its first use in the block and kept
// in a host register; its writes are stored before anything that may fault or call
// (the IR keeps those stores: dce drops a write only when no access or helper call
// comes before the next one); a guest memory access frees the call-clobbered integer
// registers (TCG_OPF_CALL_CLOBBER on qemu_ld/qemu_st), so a value live across one
// needs a preserved register or is fetched again; a helper call also saves and
// restores every SIMD register holding guest registers and every pinned register the
// calling convention does not preserve. Lanes and pinned registers are those guest
// registers' architectural home, so a faulting access needs no sync of them on its
// fast path: its slow path (a helper call, run only on a miss and not modelled)
// would save them.
//
// With packing on, independent isomorphic operations on lane-homed registers (the
// same 64-bit operation, no dependence between them in the block, operands read from
// and result written to guest registers) are grouped into one vector operation when
// the modelled cycles say it is cheaper, counting the shuffles, blends and lane
// moves that the placement's lane layout makes necessary.
//
// Nothing here changes the WebAssembly that runs: this is a model of code generation.

import { W } from '../../wasm/encoder';
import { fpReadsInt, usesRm, writesIntRd, type Op as OpEnum } from '../../riscv/decoder';
import * as decoderModule from '../../riscv/decoder';
import * as irModule from '../ir';
import type { K as KEnum, Unit, Block, Inst } from '../ir';
import { HOST_CLASSES, lanesOf, type HostClass, type HostCodeProfile } from './profile';
import type { Home, Placement } from './regmap';

const K = (irModule as unknown as { K: { readonly [P in keyof typeof KEnum]: number } }).K;
const CHECKED = irModule.CHECKED;
const Op = (decoderModule as unknown as { Op: { readonly [P in keyof typeof OpEnum]: number } }).Op;

/**
 * How a guest FP operation runs on the host: as host scalar FP instructions ('host'),
 * or as a call of QEMU's softfloat helper that takes its hardfloat fast path (the
 * host's FPU, when the rounding mode is nearest-even: fpu/softfloat.c can_use_fpu)
 * or its soft path.
 */
type FpMode = 'host' | 'hardfloat' | 'soft';

/** The shape of the host code of an FP operation run on the host's FPU. */
type FpShape = 'arith' | 'fma' | 'compare' | 'minmax' | 'toInt' | 'fromInt' | 'fromU64';

function fpShape(op: number): FpShape | null {
  if (op >= Op.FMADD_S && op <= Op.FNMADD_D) return 'fma';
  switch (op) {
    case Op.FADD_S: case Op.FSUB_S: case Op.FMUL_S: case Op.FDIV_S: case Op.FSQRT_S:
    case Op.FADD_D: case Op.FSUB_D: case Op.FMUL_D: case Op.FDIV_D: case Op.FSQRT_D:
      return 'arith';
    case Op.FEQ_S: case Op.FLT_S: case Op.FLE_S: case Op.FEQ_D: case Op.FLT_D: case Op.FLE_D:
      return 'compare';
    case Op.FMIN_S: case Op.FMAX_S: case Op.FMIN_D: case Op.FMAX_D:
      return 'minmax';
    case Op.FCVT_W_S: case Op.FCVT_L_S: case Op.FCVT_W_D: case Op.FCVT_L_D:
      return 'toInt';
    case Op.FCVT_S_W: case Op.FCVT_S_WU: case Op.FCVT_S_L: case Op.FCVT_D_W: case Op.FCVT_D_WU: case Op.FCVT_D_L:
      return 'fromInt';
    case Op.FCVT_S_LU: case Op.FCVT_D_LU:
      return 'fromU64';
    default:
      return null;
  }
}

/** Is op one of the FP operations (the F and D extensions' arithmetic, compares and conversions)? */
function isFpOp(op: number): boolean {
  return op >= Op.FMADD_S && op <= Op.FMV_D_X;
}

/** Rounding modes: 0 nearest-even, 1 towards zero, 7 dynamic (frm, nearest-even unless the guest writes it). */
const RM_RNE = 0;
const RM_RTZ = 1;
const RM_DYN = 7;

/** Index of each class in a counts array. */
export const CLASS_INDEX: Readonly<Record<HostClass, number>> = Object.fromEntries(HOST_CLASSES.map((c, i) => [c, i])) as Record<HostClass, number>;
const C = CLASS_INDEX;

/** 64-bit operations that have a lane-wise vector form on every profile (paddq, psubq, pand, por, pxor). */
const PACKABLE = new Set<number>([W.i64_add, W.i64_sub, W.i64_and, W.i64_or, W.i64_xor]);

/** The modelled host code of one basic block. */
export interface BlockHostCode {
  /** Host instructions by class (indexed as HOST_CLASSES). */
  readonly counts: Float64Array;
  /** Guest instructions of the block. */
  readonly guestInstructions: number;
  /** Vector operations that replaced groups of scalar ones. */
  readonly packedGroups: number;
  /** Scalar operations packed into them. */
  readonly packedOps: number;
  /** Live ranges the allocator spilled or rematerialized. */
  readonly spilledRanges: number;
}

/** Modelled cycles of a counts array under a profile. */
export function cyclesOf(counts: Float64Array, host: HostCodeProfile): number {
  let c = 0;
  for (let i = 0; i < HOST_CLASSES.length; i++) c += counts[i] * host.costs[HOST_CLASSES[i]];
  return c;
}

/** Lowers every block of a unit. */
export function lowerUnit(unit: Unit, host: HostCodeProfile, placement: Placement): BlockHostCode[] {
  return unit.blocks.map((b) => new BlockLowering(unit, b, host, placement).run());
}

// Value states besides a virtual register number (≥ 0).
/** An immediate operand (a constant that fits in 32 bits sign-extended, or x0): no register. */
const IMM = -2;
/** The value is a guest register pinned in a host register: no allocatable register. */
const PINNED = -3;
/** A floating-point or vector value: lives in a SIMD register, not allocated against the integer ones. */
const VEC = -4;
/** The result goes straight into a pinned guest register: no allocatable register. */
const INTO_PIN = -5;

/** How a spilled value is fetched again: from the CPU state, from its lane (the lowest lane by movq), rebuilt, or from the frame. */
type Remat = 'load' | 'lane' | 'lane0' | 'const' | null;

interface HostOp {
  cls: number;
  def: number;
  uses: number[];
  /**
   * The op frees the call-clobbered integer registers: a guest memory access (TCG's
   * qemu_ld/qemu_st carry TCG_OPF_CALL_CLOBBER, their slow path being a helper call)
   * or a helper call. Values live across it keep their register only if it is one
   * the calling convention preserves.
   */
  clobber: boolean;
}

/** A store of a value to its guest register's home (the CPU state or a lane), from which it can be fetched again. */
interface HomeStore {
  op: number;
  vreg: number;
  reg: number;
  lane: boolean;
  /** The lowest lane (fetched again by movq). */
  low: boolean;
}

class BlockLowering {
  private readonly ops: HostOp[] = [];
  private readonly remat: Remat[] = [];
  /** Register of each value (or a state above), by IR value. */
  private readonly vOf: Int32Array;
  /** For PINNED values: the guest register they alias. */
  private readonly aliasOf = new Map<number, number>();
  /** Index of the last IR instruction (insts.length = the terminator) reading each value. */
  private readonly lastUse = new Map<number, number>();
  private readonly useCount = new Map<number, number>();
  private readonly defAt = new Map<number, number>();
  private readonly insts: Inst[];
  /** IR instructions folded into a packed group (their work is done by the group). */
  private readonly skip = new Set<number>();
  /** IR index of a group's last member → the group's own host ops. */
  private readonly groupOps = new Map<number, Array<[number, number]>>();
  private packedGroups = 0;
  private packedOps = 0;
  private readonly counts = new Float64Array(HOST_CLASSES.length);
  /** The block's conditional branch compares and jumps (its CMP feeds nothing else). */
  private fusedBranch = false;
  /** Stores of values to their guest registers' homes, in op order. */
  private readonly homeStores: HomeStore[] = [];
  /** The rounding mode QEMU's translation installed last in this block (gen_set_rm), or -1. */
  private installedRm = -1;
  /** The block checked that frm is nearest-even (for host FP instructions with a dynamic rounding mode). */
  private frmChecked = false;
  /** Values of guest loads that go straight into SIMD registers (findFpLoads). */
  private readonly fpLoads = new Set<number>();

  constructor(
    private readonly unit: Unit,
    private readonly block: Block,
    private readonly host: HostCodeProfile,
    private readonly placement: Placement,
  ) {
    this.vOf = new Int32Array(unit.valueCount).fill(-1);
    this.insts = block.insts;
  }

  private home(reg: number): Home {
    return this.placement.homes[reg];
  }

  private newVreg(remat: Remat): number {
    this.remat.push(remat);
    return this.remat.length - 1;
  }

  private op(cls: number, def: number, ...uses: number[]): void {
    this.ops.push({ cls, def, uses: uses.filter((u) => u >= 0), clobber: false });
  }

  /** Marks the op just emitted as freeing the call-clobbered registers. */
  private clobbers(): void {
    this.ops[this.ops.length - 1].clobber = true;
  }

  /**
   * A helper call. Guest registers held in registers the calling convention does not
   * preserve are saved before it and restored after it: every SIMD register holding
   * lane-homed guest registers (all xmm registers are call-clobbered under the x86-64
   * SysV ABI; AArch64 keeps only the low 64 bits of v8–v15, not a 2-lane register), and
   * pinned guest registers beyond the preserved integer registers.
   */
  private helperCall(cls: number = C.call, def = -1, uses: number[] = []): void {
    const homes = this.placement.homes;
    const laneRegs = new Set(homes.flatMap((h) => (h.kind === 'lane' ? [h.reg] : []))).size;
    const pinned = homes.filter((h) => h.kind === 'gpr').length;
    const save = laneRegs + Math.max(0, pinned - this.host.calleeSavedGprs);
    for (let k = 0; k < save; k++) this.op(C.store, -1);
    this.op(cls, def, ...uses);
    this.clobbers();
    for (let k = 0; k < save; k++) this.op(C.load, -1);
  }

  /** The register of a value for a use, or -1 if the use needs none. */
  private reg(v: number): number {
    if (v < 0) return -1;
    const r = this.vOf[v];
    return r >= 0 ? r : -1;
  }

  /** A register holding the value, materializing an immediate into a temporary when a register is required. */
  private regRequired(v: number): number {
    const r = this.reg(v);
    if (r >= 0 || this.vOf[v] !== IMM) return r;
    const t = this.newVreg('const');
    this.op(C.alu, t);
    return t;
  }

  run(): BlockHostCode {
    this.analyse();
    if (this.placement.pack) this.pack();
    const b = this.block;
    // Budget check at block entry (QEMU's icount/exit-request check): load, compare, branch.
    this.op(C.load, -1);
    this.op(C.alu, -1);
    this.op(C.branch, -1);
    this.insts.forEach((inst, i) => {
      if (!this.skip.has(i)) this.lowerInst(inst, i);
      const g = this.groupOps.get(i);
      if (g) for (const [cls, n] of g) for (let k = 0; k < n; k++) this.op(cls, -1);
    });
    this.lowerTerm(b);
    const spilled = this.allocate();
    for (const o of this.ops) this.counts[o.cls]++;
    return { counts: this.counts, guestInstructions: b.count, packedGroups: this.packedGroups, packedOps: this.packedOps, spilledRanges: spilled };
  }

  private analyse(): void {
    const note = (v: number, at: number) => {
      if (v < 0) return;
      this.lastUse.set(v, at);
      this.useCount.set(v, (this.useCount.get(v) ?? 0) + 1);
    };
    this.insts.forEach((i, at) => {
      for (const v of irModule.operands(i)) note(v, at);
      if (i.dst >= 0) this.defAt.set(i.dst, at);
      if (i.writes) for (const w of i.writes) this.defAt.set(w.value, at);
    });
    for (const v of irModule.termOperands(this.block.term)) note(v, this.insts.length);
    if (this.placement.hostFp) this.findFpLoads();
  }

  /**
   * Guest loads whose value only FP instructions take (fld: into an FP register, an FP
   * operation's operand, or stored again by fsd): with host FP they load straight into a
   * SIMD register (movsd, ldr d), taking no integer register.
   */
  private findFpLoads(): void {
    const fpUse = new Map<number, boolean>();
    const mark = (v: number, ok: boolean) => {
      if (v >= 0) fpUse.set(v, (fpUse.get(v) ?? true) && ok);
    };
    for (const i of this.insts) {
      if (i.k === K.SETF) mark(i.b, true);
      else if (i.k === K.STORE) {
        mark(i.a, false);
        mark(i.b, i.lo === 8);
      } else if (i.k === K.FP) {
        const intSrc = i.ins !== null && fpReadsInt(i.op);
        mark(i.a, !intSrc);
        mark(i.b, true);
        mark(i.c, true);
      } else for (const v of irModule.operands(i)) mark(v, false);
    }
    for (const v of irModule.termOperands(this.block.term)) mark(v, false);
    this.insts.forEach((i) => {
      if (i.k === K.LOAD && i.lo === 8 && fpUse.get(i.dst) === true) this.fpLoads.add(i.dst);
    });
  }

  /**
   * The IR index of the GETX of a lane-homed register defining v, or -1. A packed
   * operation reads the lane itself; the GETX (a lane extract) goes only if v has no
   * other use.
   */
  private laneRead(v: number): number {
    const at = this.defAt.get(v);
    if (at === undefined) return -1;
    const i = this.insts[at];
    if (i.k !== K.GETX || i.a === 0 || this.home(i.a).kind !== 'lane') return -1;
    return at;
  }

  /** The IR index of the CONST defining v, or -1. */
  private constAt(v: number): number {
    const at = this.defAt.get(v);
    return at !== undefined && this.insts[at].k === K.CONST ? at : -1;
  }

  // ---- packing ----

  private pack(): void {
    interface Cand { at: number; op: number; ga: number; gb: number; set: number; ra: number; rb: number; rd: number }
    const cands: Cand[] = [];
    this.insts.forEach((i, at) => {
      if (i.k !== K.BIN || !PACKABLE.has(i.op) || this.useCount.get(i.dst) !== 1) return;
      const ga = this.laneRead(i.a);
      // The second operand: a lane-homed register, or a constant (a vector from the constant pool).
      const gb = this.laneRead(i.b);
      const kb = this.constAt(i.b);
      if (ga < 0 || (gb < 0 && kb < 0)) return;
      const set = this.insts.findIndex((s, j) => j > at && s.k === K.SETX && s.b === i.dst);
      if (set < 0 || this.home(this.insts[set].a).kind !== 'lane') return;
      cands.push({ at, op: i.op, ga, gb: gb >= 0 ? gb : kb, set, ra: this.insts[ga].a, rb: gb >= 0 ? this.insts[gb].a : -1, rd: this.insts[set].a });
    });
    if (cands.length < 2) return;
    const lanes = lanesOf(this.host);
    const used = new Set<number>();
    const touches = (j: number, regs: Set<number>, own: Set<number>): boolean => {
      if (own.has(j)) return false;
      const s = this.insts[j];
      if ((s.k === K.GETX || s.k === K.SETX) && regs.has(s.a)) return true;
      if (s.k === K.INTERP) return true;
      return false;
    };
    for (let x = 0; x < cands.length; x++) {
      if (used.has(x)) continue;
      const group = [cands[x]];
      for (let y = x + 1; y < cands.length && group.length < lanes; y++) {
        if (used.has(y) || cands[y].op !== cands[x].op) continue;
        const trial = [...group, cands[y]];
        // Independence: no member reads or writes what another writes, and nothing
        // else in the span touches their registers (the dependence graph allows reordering).
        const writes = trial.map((c) => c.rd);
        if (new Set(writes).size !== writes.length) continue;
        let ok = true;
        for (const m of trial) for (const n of trial) if (m !== n && (m.ra === n.rd || m.rb === n.rd)) ok = false;
        if (!ok) continue;
        if (trial.some((c) => (c.rb < 0) !== (trial[0].rb < 0))) continue;
        const regs = new Set(trial.flatMap((c) => [c.ra, c.rb, c.rd]).filter((r) => r > 0));
        const own = new Set(trial.flatMap((c) => [c.at, c.ga, c.gb, c.set]));
        const lo = Math.min(...own);
        const hi = Math.max(...own);
        for (let j = lo; j <= hi && ok; j++) if (touches(j, regs, own)) ok = false;
        if (ok) group.push(cands[y]);
      }
      if (group.length < 2) continue;
      const plan = this.groupCost(group.map((c) => [c.ra, c.rb, c.rd]));
      const costs = this.host.costs;
      const extract = (r: number) => ((this.home(r) as Extract<Home, { kind: 'lane' }>).lane === 0 ? costs.lowLaneExtract : costs.laneExtract);
      const scalar = group.reduce((sum, c) => sum + extract(c.ra) + (c.rb > 0 ? extract(c.rb) : 0) + costs.alu + costs.laneInsert, 0);
      if (plan.cycles >= scalar) continue;
      for (const c of group) {
        used.add(cands.indexOf(c));
        for (const j of [c.at, c.set]) this.skip.add(j);
        // A register read used by nothing else is the group's; a constant operand or a
        // shared read also feeds other instructions, and stays.
        if (this.useCount.get(this.insts[c.ga].dst) === 1) this.skip.add(c.ga);
        if (c.rb > 0 && this.useCount.get(this.insts[c.gb].dst) === 1) this.skip.add(c.gb);
      }
      const last = Math.max(...group.map((c) => c.set));
      this.groupOps.set(last, plan.ops);
      this.packedGroups++;
      this.packedOps += group.length;
    }
  }

  /**
   * Host instructions of one vector operation over members (a, b, d guest registers):
   * an operand already laid out in one SIMD register in member order costs nothing, in
   * one register in another order a shuffle, scattered an extract and an insert per
   * member; the result likewise, and a blend when the operation would clobber lanes
   * of the destination that are not in the group.
   */
  private groupCost(members: Array<[number, number, number]>): { ops: Array<[number, number]>; cycles: number } {
    const lanes = lanesOf(this.host);
    const ops: Array<[number, number]> = [[C.vectorAlu, 1]];
    const homes = (p: number) => members.map((m) => this.home(m[p]) as Extract<Home, { kind: 'lane' }>);
    const order = (hs: Array<Extract<Home, { kind: 'lane' }>>): 'same' | 'permuted' | 'scattered' => {
      if (hs.some((h) => h.reg !== hs[0].reg)) return 'scattered';
      return hs.every((h, i) => i === 0 || h.lane > hs[i - 1].lane) ? 'same' : 'permuted';
    };
    for (const p of [0, 1]) {
      if (members[0][p] < 0) {
        // Constants: one vector load from the constant pool.
        ops.push([C.load, 1]);
        continue;
      }
      const o = order(homes(p));
      if (o === 'permuted') ops.push([C.vectorAlu, 1]);
      if (o === 'scattered') {
        // Each member's value out of its lane (the lowest by movq) and into the operand vector.
        const low = homes(p).filter((h) => h.lane === 0).length;
        ops.push([C.lowLaneExtract, low], [C.laneExtract, members.length - low], [C.laneInsert, members.length]);
      }
    }
    const d = homes(2);
    const od = order(d);
    const a = homes(0);
    if (od === 'same' && (order(a) !== 'same' || a[0].reg !== d[0].reg || a.some((h, i) => h.lane !== d[i].lane))) {
      // The result must land in the destination's lanes: a shuffle into place and a blend.
      ops.push([C.vectorAlu, 2]);
    } else if (od === 'same') {
      // In place: other lanes of the destination must survive (a copy for a destructive form, and a blend).
      if (members.length < lanes) ops.push([C.vectorAlu, this.host.threeOperand ? 1 : 2]);
    } else ops.push([C.lowLaneExtract, 1], [C.laneExtract, members.length - 1], [C.laneInsert, members.length]);
    const cycles = ops.reduce((s, [cls, n]) => s + n * this.host.costs[HOST_CLASSES[cls]], 0);
    return { ops, cycles };
  }

  // ---- instructions ----

  /** A guest register is about to change: values that alias its pinned host register and are read later get a copy first. */
  private beforePinnedWrite(reg: number, at: number): void {
    for (const [v, r] of this.aliasOf) {
      if (r !== reg || (this.lastUse.get(v) ?? -1) <= at || this.vOf[v] !== PINNED) continue;
      const t = this.newVreg(null);
      this.op(C.alu, t);
      this.vOf[v] = t;
      this.aliasOf.delete(v);
    }
  }

  /** Can value v be computed straight into the pinned register of `reg` (its one use is that write, and no read of the old value is live across)? */
  private intoPin(v: number, at: number): boolean {
    if (this.useCount.get(v) !== 1) return false;
    const set = this.insts.findIndex((s, j) => j > at && s.k === K.SETX && s.b === v);
    if (set < 0) return false;
    const reg = this.insts[set].a;
    if (reg === 0 || this.home(reg).kind !== 'gpr') return false;
    for (const [w, r] of this.aliasOf) if (r === reg && (this.lastUse.get(w) ?? -1) > at) return false;
    for (let j = at + 1; j < set; j++) {
      const g = this.insts[j];
      if (g.k === K.GETX && g.a === reg && (this.lastUse.get(g.dst) ?? -1) > at) return false;
    }
    return true;
  }

  private define(i: Inst, at: number, remat: Remat): number {
    if (this.intoPin(i.dst, at)) {
      this.vOf[i.dst] = INTO_PIN;
      return -1;
    }
    const r = this.newVreg(remat);
    this.vOf[i.dst] = r;
    return r;
  }

  private lowerInst(i: Inst, at: number): void {
    switch (i.k) {
      case K.CONST: {
        if (i.hi === i.lo >> 31) {
          this.vOf[i.dst] = IMM;
          return;
        }
        this.op(C.alu, this.define(i, at, 'const'));
        return;
      }
      case K.GETX: {
        const h = this.home(i.a);
        if (i.a === 0) this.vOf[i.dst] = IMM;
        else if (h.kind === 'gpr') {
          this.vOf[i.dst] = PINNED;
          this.aliasOf.set(i.dst, i.a);
        } else if (h.kind === 'lane') this.op(h.lane === 0 ? C.lowLaneExtract : C.laneExtract, this.define(i, at, h.lane === 0 ? 'lane0' : 'lane'));
        else this.op(C.load, this.define(i, at, 'load'));
        return;
      }
      case K.SETX: {
        if (i.a === 0) return;
        const h = this.home(i.a);
        if (h.kind === 'gpr') {
          this.beforePinnedWrite(i.a, at);
          if (this.vOf[i.b] !== INTO_PIN) this.op(C.alu, -1, this.reg(i.b));
        } else {
          const r = h.kind === 'lane' ? this.regRequired(i.b) : this.reg(i.b);
          if (r >= 0) this.homeStores.push({ op: this.ops.length, vreg: r, reg: i.a, lane: h.kind === 'lane', low: h.kind === 'lane' && h.lane === 0 });
          this.op(h.kind === 'lane' ? C.laneInsert : C.store, -1, r);
        }
        return;
      }
      case K.GETF: {
        // An FP register's value in a SIMD register: a lane other than the first is
        // moved to a temporary's first lane (unpckhpd, ins: a register-to-register
        // shuffle), the first is read in place.
        const h = this.home(32 + i.a);
        this.vOf[i.dst] = VEC;
        if (h.kind === 'lane') {
          if (h.lane !== 0) this.op(C.vectorAlu, -1);
        } else this.op(C.load, -1);
        return;
      }
      case K.SETF: {
        const h = this.home(32 + i.a);
        if (h.kind !== 'lane') {
          this.op(C.store, -1, this.reg(i.b));
          return;
        }
        // Into its lane: from a SIMD register a shuffle or blend (movsd, unpcklpd, ins);
        // straight from guest memory a load into the lane (movlpd, movhpd, ld1); from an
        // integer register a lane insert (pinsrq, ins v.d[n], x).
        const from = this.defAt.get(i.b);
        const src = from === undefined ? null : this.insts[from];
        if (this.vOf[i.b] === VEC) this.op(C.vectorAlu, -1);
        else if (src && src.k === K.LOAD && src.lo === 8 && this.useCount.get(i.b) === 1) this.op(C.vectorAlu, -1);
        else this.op(C.laneInsert, -1, this.reg(i.b));
        return;
      }
      case K.BIN:
        this.op(C.alu, this.define(i, at, null), this.reg(i.a), this.reg(i.b));
        return;
      case K.CMP:
        if (this.block.term.k === 'branch' && this.block.term.cond === i.dst && this.useCount.get(i.dst) === 1) {
          // A compare that only decides the block's branch: compare and jump on the flags
          // (TCG's brcond), no value materialized.
          this.op(C.alu, -1, this.reg(i.a), this.reg(i.b));
          this.fusedBranch = true;
          return;
        }
        this.lowerTwoOp(i, at);
        return;
      case K.BIN32:
        this.lowerTwoOp(i, at);
        return;
      case K.MULH:
        this.op(C.alu, this.define(i, at, null), this.reg(i.a), this.reg(i.b));
        return;
      case K.DIV: {
        // RISC-V division by zero and overflow are defined: test, branch, divide.
        this.op(C.alu, -1, this.reg(i.b));
        this.op(C.branch, -1);
        this.op(C.alu, this.define(i, at, null), this.reg(i.a), this.reg(i.b));
        return;
      }
      case K.LOAD: {
        if (!(i.c & CHECKED)) this.check(i.a, false);
        if (this.fpLoads.has(i.dst)) {
          this.vOf[i.dst] = VEC;
          this.op(C.load, -1, this.reg(i.a));
        } else this.op(C.load, this.define(i, at, null), this.reg(i.a));
        this.clobbers();
        return;
      }
      case K.STORE: {
        if (!(i.c & CHECKED)) this.check(i.a, false);
        this.op(C.store, -1, this.reg(i.a), this.reg(i.b));
        this.clobbers();
        return;
      }
      case K.CHECK:
        this.check(i.a);
        return;
      case K.CHECKRANGE:
        this.check(i.a);
        this.check(i.a);
        return;
      case K.FP:
        this.lowerFp(i, at);
        return;
      case K.GETCSR:
        this.op(C.load, this.define(i, at, null));
        return;
      case K.SETCSR:
        this.op(C.store, -1, this.reg(i.b));
        return;
      case K.INTERP: {
        // A helper call on the architectural state. Operands homed in memory are there
        // already (a register write before it was stored: TCG syncs globals before a
        // call that reads them); the others are stored first. Results are loaded back,
        // and into their lanes when lane-homed.
        for (const r of i.reads!) if (this.home(r.file * 32 + r.reg).kind !== 'memory') this.op(C.store, -1, this.reg(r.value));
        // An FP operation the translator leaves to the interpreter is, in QEMU, a softfloat helper.
        this.helperCall(isFpOp(i.op) ? this.helperClass(i.op, i.ins!.rm) : C.call);
        for (const w of i.writes!) {
          const lane = this.home(w.file * 32 + w.reg).kind === 'lane';
          if (w.file === 1) {
            this.vOf[w.value] = VEC;
            this.op(C.load, -1);
          } else {
            const r = this.newVreg('load');
            this.vOf[w.value] = r;
            this.op(C.load, r);
          }
          if (lane) this.op(C.laneInsert, -1, this.reg(w.value));
        }
        return;
      }
    }
  }

  /** The softfloat helper class of an FP operation: its hardfloat fast path or its soft path. */
  private helperClass(op: number, rm: number): number {
    const shape = fpShape(op);
    const rne = !usesRm(op) || rm === RM_RNE || rm === RM_DYN;
    // QEMU's hardfloat covers add, sub, mul, div, sqrt, fused multiply-add (with the host's fma) and compares.
    const hard = rne && (shape === 'arith' || shape === 'compare' || (shape === 'fma' && this.host.fma));
    return hard ? C.fpHelper : C.softfloat;
  }

  /**
   * How an FP operation runs. Under a placement with host FP, the operations whose
   * RISC-V semantics the host's scalar FP instructions give (with the checks below) run
   * inline: arithmetic and fused multiply-add (when the host has it) in nearest-even,
   * compares, min/max, conversions to integers towards zero (cvttsd2si, fcvtzs) or in
   * nearest-even, and from integers. What still needs softfloat: a static rounding
   * mode other than nearest-even (and towards zero for conversions to integers), since
   * the host's rounding mode register is not switched per instruction; fused
   * multiply-add on a host without it. The accrued flags (fflags) need no helper: the
   * host's sticky flags (MXCSR, FPSR) are folded into them when the guest reads them.
   */
  private fpMode(op: number, rm: number): FpMode {
    const shape = fpShape(op);
    if (this.placement.hostFp && shape) {
      const rne = rm === RM_RNE || rm === RM_DYN;
      if (shape === 'arith' && rne) return 'host';
      if (shape === 'fma' && rne && this.host.fma) return 'host';
      if (shape === 'compare' || shape === 'minmax') return 'host';
      if (shape === 'toInt' && (rne || rm === RM_RTZ)) return 'host';
      if (shape === 'fromInt' && (rne || op === Op.FCVT_D_W || op === Op.FCVT_D_WU)) return 'host';
      if (shape === 'fromU64' && rne) return 'host';
    }
    return this.helperClass(op, rm) === C.fpHelper ? 'hardfloat' : 'soft';
  }

  /**
   * An FP operation. On the host's FPU: the instruction, and the checks that keep
   * RISC-V's semantics, each branching to a slow path (the interpreter, not modelled:
   * it runs only on exceptional operands) — a NaN result must become RISC-V's
   * canonical NaN (x86's default NaN has the sign set; ucomisd and jp), min/max of a
   * NaN or of equal operands (±0) differ, and an out-of-range conversion to an integer
   * gives x86's integer indefinite, not RISC-V's saturated value. As a helper, QEMU's
   * code (trans_rvd.c.inc): gen_set_rm installs the instruction's rounding mode with a
   * helper call when it differs from the last one installed in the block, then the
   * CPU-state pointer goes into the first argument, the operands (already loaded) into
   * the others, the call, and the result comes back in an integer register.
   */
  private lowerFp(i: Inst, at: number): void {
    const op = i.op;
    const rm = i.ins!.rm;
    const int = writesIntRd(op);
    const mode = this.fpMode(op, rm);
    const uses = [this.reg(i.a), this.reg(i.b), this.reg(i.c)];
    if (mode === 'host') {
      const shape = fpShape(op)!;
      if (usesRm(op) && rm === RM_DYN && !this.frmChecked) {
        // The block's guard that frm is nearest-even (the host runs in nearest-even): load, compare, branch.
        this.op(C.load, -1);
        this.op(C.alu, -1);
        this.op(C.branch, -1);
        this.frmChecked = true;
      }
      const d = int ? this.define(i, at, null) : -1;
      if (!int) this.vOf[i.dst] = VEC;
      switch (shape) {
        case 'arith':
        case 'fma':
          // A destructive two-operand form first copies its first operand, which stays live in its home.
          if (!this.host.threeOperand) this.op(C.vectorAlu, -1);
          this.op(C.fp, d, ...uses);
          this.op(C.alu, -1);
          this.op(C.branch, -1);
          return;
        case 'compare':
          // ucomisd or comisd, then the flag to an integer (setcc, and the unordered case masked).
          this.op(C.fp, -1, ...uses);
          this.op(C.alu, d);
          this.op(C.alu, d, d);
          return;
        case 'minmax':
          this.op(C.fp, -1, ...uses);
          this.op(C.alu, -1);
          this.op(C.branch, -1);
          return;
        case 'toInt':
          this.op(C.fp, d, ...uses);
          this.op(C.alu, -1, d);
          this.op(C.branch, -1);
          return;
        case 'fromInt':
          if (op === Op.FCVT_D_WU || op === Op.FCVT_S_WU) this.op(C.alu, -1, ...uses);
          this.op(C.fp, -1, ...uses);
          return;
        case 'fromU64':
          // No unsigned 64-bit conversion in SSE: the sign tested, and a halving path for large values.
          this.op(C.alu, -1, ...uses);
          this.op(C.branch, -1);
          this.op(C.fp, -1, ...uses);
          return;
      }
    }
    if (usesRm(op) && this.installedRm !== rm) {
      this.op(C.alu, -1);
      this.helperCall(C.fpHelper);
      this.installedRm = rm;
    }
    // FP operands held in SIMD registers (lanes) move to the integer argument registers.
    for (const v of [i.a, i.b, i.c]) {
      const lane = v >= 0 && this.vOf[v] === VEC ? this.laneOf(v) : -1;
      if (lane >= 0) this.op(lane === 0 ? C.lowLaneExtract : C.laneExtract, -1);
    }
    this.op(C.alu, -1);
    // The result comes back in the return register (rax, x0), which TCG takes as its register.
    const d = this.newVreg(null);
    this.vOf[i.dst] = d;
    // The host instruction inside the helper's hardfloat path, then the call.
    if (mode === 'hardfloat') this.op(C.fp, -1);
    this.helperCall(mode === 'hardfloat' ? C.fpHelper : C.softfloat, d, uses);
  }

  /** The lane of the FP register value v was read from, or -1 when it does not live in a lane. */
  private laneOf(v: number): number {
    const at = this.defAt.get(v);
    if (at === undefined) return -1;
    const g = this.insts[at];
    const h = g.k === K.GETF ? this.home(32 + g.a) : null;
    return h && h.kind === 'lane' ? h.lane : -1;
  }

  /** A 32-bit operation and its sign extension, or a compare and its set. */
  private lowerTwoOp(i: Inst, at: number): void {
    const d = this.define(i, at, null);
    this.op(C.alu, d, this.reg(i.a), this.reg(i.b));
    this.op(C.alu, d, d >= 0 ? d : -1);
  }

  /**
   * The inline access check of a guest memory access: the software TLB's fast path on
   * the host (profile.ts, tlbFastPath) — the TLB entry from the page number, its comparator
   * against the page-aligned address, the branch to the slow path, and the entry's
   * addend. The slow path (a helper call that walks the guest page table on a TLB
   * miss) is not counted: the guest runs here have no TLB whose misses the engine
   * counts. A check of its own clobbers; one inline in an access is part of that
   * access, which clobbers (TCG's qemu_ld).
   */
  private check(addr: number, own = true): void {
    const path = this.host.tlbFastPath;
    const t = this.newVreg(null);
    this.op(C.alu, t, this.reg(addr));
    for (let k = 1; k < path.alu; k++) this.op(C.alu, t, t);
    for (let k = 0; k < path.load; k++) this.op(C.load, t, t);
    for (let k = 0; k < path.branch; k++) this.op(C.branch, -1);
    if (own) this.clobbers();
  }

  private lowerTerm(b: Block): void {
    const t = b.term;
    switch (t.k) {
      case 'jump':
      case 'call':
        this.op(C.branch, -1);
        return;
      case 'branch':
        // Test the condition (unless the compare was fused), the conditional jump, and
        // the jump of the path not taken (TCG's brcond and two goto_tb, one executed).
        if (!this.fusedBranch) this.op(C.alu, -1, this.reg(t.cond));
        this.op(C.branch, -1);
        this.op(C.branch, -1);
        return;
      case 'indirect':
      case 'icall':
      case 'ret': {
        // QEMU's lookup_and_goto_ptr: the pc to the state, a call of the helper that
        // looks the next block up (helper_lookup_tb_ptr), and an indirect jump to it.
        this.op(C.store, -1, this.reg(t.target));
        this.helperCall();
        this.op(C.branch, -1);
        return;
      }
      case 'interp':
        this.op(C.store, -1);
        this.op(C.branch, -1);
        return;
    }
  }

  // ---- register allocation ----

  /**
   * Linear scan over the block's live ranges with the integer registers left free;
   * returns how many ranges were spilled. Spill code is added to the op list's counts.
   *
   * As in TCG (tcg_reg_alloc_op frees the call-clobbered registers at an op with
   * TCG_OPF_CALL_CLOBBER; liveness's la_cross_call steers values live across one to
   * preserved registers), a range live across a clobbering op gets one of the
   * preserved registers that pinned guest registers leave; when none is left it is
   * fetched again at its first use after each such op: from the CPU state or its lane
   * when it is a guest register's value there, else saved to the frame once and
   * reloaded (temp_save).
   */
  private allocate(): number {
    const n = this.remat.length;
    const start = new Int32Array(n).fill(-1);
    const end = new Int32Array(n).fill(-1);
    const useAt: number[][] = Array.from({ length: n }, () => []);
    const clobberAt: number[] = [];
    this.ops.forEach((o, at) => {
      if (o.def >= 0 && start[o.def] < 0) start[o.def] = at;
      for (const u of o.uses) {
        if (start[u] < 0) start[u] = 0;
        end[u] = at;
        useAt[u].push(at);
      }
      if (o.clobber) clobberAt.push(at);
    });
    for (let v = 0; v < n; v++) if (end[v] < start[v]) end[v] = start[v];
    const pinned = this.placement.homes.filter((h) => h.kind === 'gpr').length;
    const free = this.host.gprs - this.host.reservedGprs - pinned;
    if (free < 1) throw new Error(`host profile ${this.host.id}: placement pins ${pinned} guest registers, leaving no integer register for temporaries`);
    // Pinned guest registers take the preserved registers first (they live across everything).
    const freePreserved = Math.max(0, this.host.calleeSavedGprs - pinned);
    const crosses = (v: number) => clobberAt.some((p) => start[v] < p && p < end[v]);
    const order = [...Array(n).keys()].filter((v) => start[v] >= 0).sort((a, b) => start[a] - start[b] || a - b);
    let active: number[] = [];
    const preserved = new Set<number>();
    const refetched: number[] = [];
    const spilledSet = new Set<number>();
    let spilled = 0;
    const spill = (v: number, from: number, atStart: boolean) => {
      spilled++;
      spilledSet.add(v);
      const later = useAt[v].filter((u) => u > from).length;
      const r = this.remat[v];
      if (r === 'load') this.counts[C.reload] += later;
      else if (r === 'lane') this.counts[C.laneExtract] += later;
      else if (r === 'lane0') this.counts[C.lowLaneExtract] += later;
      else if (r === 'const') this.counts[C.alu] += later;
      else {
        this.counts[C.spill] += 1;
        this.counts[C.reload] += later;
      }
      // A value fetched again at every use need not be fetched at its definition.
      if (atStart && r !== null && r !== 'const') this.counts[this.ops[start[v]].cls]--;
    };
    const admit = (v: number) => {
      active.push(v);
      if (!crosses(v)) return;
      if (active.filter((a) => preserved.has(a)).length < freePreserved) preserved.add(v);
      else refetched.push(v);
    };
    for (const v of order) {
      active = active.filter((a) => end[a] >= start[v]);
      if (active.length < free) {
        admit(v);
        continue;
      }
      // Spill the range that ends last (the current one or an active one).
      let victim = v;
      for (const a of active) if (end[a] > end[victim]) victim = a;
      if (victim === v) spill(v, start[v], true);
      else {
        spill(victim, start[v], false);
        active = active.filter((a) => a !== victim);
        preserved.delete(victim);
        admit(v);
      }
    }
    for (const v of refetched) if (!spilledSet.has(v)) this.refetch(v, start[v], useAt[v], clobberAt);
    return spilled;
  }

  /** The cost of a range held in a call-clobbered register: fetched again at its first use after each clobbering op. */
  private refetch(v: number, start: number, uses: number[], clobberAt: number[]): void {
    let prev = start;
    let times = 0;
    let first = -1;
    for (const u of uses) {
      if (u <= start) continue;
      const p = clobberAt.find((c) => prev < c && c < u);
      if (p !== undefined) {
        times++;
        if (first < 0) first = p;
      }
      prev = u;
    }
    if (!times) return;
    const r = this.remat[v];
    if (r === 'load') this.counts[C.reload] += times;
    else if (r === 'lane') this.counts[C.laneExtract] += times;
    else if (r === 'lane0') this.counts[C.lowLaneExtract] += times;
    else if (r === 'const') this.counts[C.alu] += times;
    else {
      // Stored to its guest register's home before the first clobber, and that home not overwritten since: fetch it from there.
      const last = uses[uses.length - 1];
      const home = this.homeStores.find((h) => h.vreg === v && h.op < first);
      const intact = home && !this.homeStores.some((h) => h.reg === home.reg && h.op > home.op && h.op < last);
      if (home && intact) this.counts[home.low ? C.lowLaneExtract : home.lane ? C.laneExtract : C.reload] += times;
      else {
        this.counts[C.spill] += 1;
        this.counts[C.reload] += times;
      }
    }
  }
}
