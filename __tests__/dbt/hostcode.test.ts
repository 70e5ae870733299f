// The host code model's lowering on hand-built IR blocks: the linear-scan allocator
// spills when the host's free integer registers run out (and only then), guest
// register homes decide between loads/stores, moves and lane extracts/inserts, and
// independent isomorphic operations on lane-homed registers pack into one vector
// operation while dependent ones do not. Each test names the mutation of the
// mechanism that must break it.
import { Block, IN_HOST_REGISTER, HOST_CLASSES, HOST_PROFILES, Inst, IrKind as K, lowerUnit, cyclesOf, IN_CPU_STATE, RiscvOp as Op, Unit, type Home, type RegPlacement as Placement } from 'virtlab';

const ADD = 0x7c;
const MUL = 0x7e;
const idx = (c: (typeof HOST_CLASSES)[number]) => HOST_CLASSES.indexOf(c);

const I64_LOAD = 0x29;

interface Body {
  getx(r: number): number;
  setx(r: number, v: number): void;
  bin(op: number, a: number, c: number): number;
  /** A guest load of 8 bytes at address a (its access check inline). */
  load(a: number): number;
  /** End the block with an indirect jump to v instead of a direct one. */
  jumpTo(v: number): void;
  getf(r: number): number;
  setf(r: number, v: number): void;
  /** A double-precision FP operation (op a RISC-V Op) with rounding mode rm on FP values. */
  fp(op: number, rm: number, ...srcs: number[]): number;
}

/** A one-block unit built by `body`, which appends instructions through the helpers. */
function unit(body: (b: Body) => void): Unit {
  const u = new Unit(0x1000);
  const blk = new Block(0x1000);
  u.blocks.push(blk);
  let gi = 0;
  let term: Unit['blocks'][number]['term'] = { k: 'jump', target: 0x2000 };
  /** Appends an instruction of kind k defining a new value (or none when def is false); returns the value. */
  const emit = (k: number, op: number, a: number, b: number, c: number, lo: number, def = true): number => {
    const v = def ? u.newValue() : -1;
    blk.insts.push(new Inst(k, op, v, a, b, c, lo, 0, gi++));
    return v;
  };
  body({
    getx: (r) => emit(K.GETX, 0, r, -1, -1, 0),
    setx: (r, v) => void emit(K.SETX, 0, r, v, -1, 0, false),
    bin: (op, a, c) => emit(K.BIN, op, a, c, -1, 0),
    load: (a) => emit(K.LOAD, I64_LOAD, a, -1, 0, 8),
    jumpTo(v) {
      term = { k: 'indirect', target: v };
    },
    getf: (r) => emit(K.GETF, 0, r, -1, -1, 0),
    setf: (r, v) => void emit(K.SETF, 0, r, v, -1, 0, false),
    fp(op, rm, ...srcs) {
      const v = emit(K.FP, op, srcs[0], srcs[1] ?? -1, srcs[2] ?? -1, rm);
      blk.insts[blk.insts.length - 1].ins = { op, rd: 0, rs1: 0, rs2: 0, rs3: 0, rm, imm: 0, len: 4 };
      return v;
    },
  });
  blk.count = gi;
  for (let i = 0; i < gi; i++) u.pcs.push(0x1000 + 4 * i);
  blk.term = term;
  return u;
}

const all = (h: Home): Home[] => Array.from({ length: 64 }, () => h);
const lower = (u: Unit, host: string, p: Placement) => lowerUnit(u, HOST_PROFILES[host], p)[0];

/** Twelve products live at once, then summed: more values than a starved host has registers. */
const pressure = unit((b) => {
  const prods: number[] = [];
  for (let r = 1; r <= 12; r++) {
    const v = b.getx(r);
    prods.push(b.bin(MUL, v, v));
  }
  let s = prods[0];
  for (const p of prods.slice(1)) s = b.bin(ADD, s, p);
  b.setx(13, s);
});

describe('the host code model', () => {
  // Mutation that must break it: an allocator that never spills (linear scan keeps every range in a register).
  it('spills live ranges only when the free integer registers run out', () => {
    const memory = { homes: all(IN_CPU_STATE), pack: false };
    const wide = lower(pressure, 'aarch64', memory);
    const starved = lower(pressure, 'starved', memory);
    expect(wide.spilledRanges).toBe(0);
    expect(wide.counts[idx('spill')] + wide.counts[idx('reload')]).toBe(0);
    expect(starved.spilledRanges).toBeGreaterThan(0);
    expect(starved.counts[idx('spill')]).toBeGreaterThan(0);
    expect(starved.counts[idx('reload')]).toBeGreaterThan(0);
    expect(cyclesOf(starved.counts, HOST_PROFILES.starved)).toBeGreaterThan(cyclesOf(wide.counts, HOST_PROFILES.starved));
  });

  // Mutation that must break it: free lane moves (lane extracts and inserts neither counted nor costed).
  it('moves lane-homed registers with lane extracts and inserts, which cost more than pinned registers', () => {
    const rw = unit((b) => b.setx(3, b.bin(ADD, b.getx(1), b.getx(2))));
    const lanes: Home[] = all(IN_CPU_STATE).map((_, r) => ({ kind: 'lane', reg: r >> 1, lane: r & 1 }));
    const simd = lower(rw, 'x86-64', { homes: lanes, pack: false });
    const mem = lower(rw, 'x86-64', { homes: all(IN_CPU_STATE), pack: false });
    const gpr = lower(rw, 'x86-64', { homes: all(IN_CPU_STATE).map((h, r) => (r >= 1 && r <= 3 ? IN_HOST_REGISTER : h)), pack: false });
    // x1 is in lane 1 (pextrq), x2 in lane 0 (movq), x3 goes into lane 1 (pinsrq).
    expect(simd.counts[idx('laneExtract')]).toBe(1);
    expect(simd.counts[idx('lowLaneExtract')]).toBe(1);
    expect(simd.counts[idx('laneInsert')]).toBe(1);
    expect(mem.counts[idx('load')] - 1).toBe(2); // the budget check's load, and the two registers
    expect(mem.counts[idx('store')]).toBe(1);
    const host = HOST_PROFILES['x86-64'];
    expect(cyclesOf(simd.counts, host)).toBeGreaterThan(cyclesOf(gpr.counts, host));
    expect(gpr.counts[idx('laneExtract')] + gpr.counts[idx('load')]).toBe(1);
  });

  // Mutation that must break it: guest memory accesses that do not free the call-clobbered registers (TCG's
  // TCG_OPF_CALL_CLOBBER on qemu_ld/qemu_st), or a host profile without the preserved-register count.
  it('keeps values live across a guest memory access only in preserved registers, fetching the rest again', () => {
    // Eight guest registers read before a load and summed after it: eight values live across the access.
    const across = unit((b) => {
      const vs = Array.from({ length: 8 }, (_, k) => b.getx(k + 1));
      const x = b.load(b.getx(9));
      b.setx(10, vs.reduce((s, v) => b.bin(ADD, s, v), x));
    });
    const memory = { homes: all(IN_CPU_STATE), pack: false };
    const x86 = lower(across, 'x86-64', memory);
    const arm = lower(across, 'aarch64', memory);
    // x86-64 keeps 5 registers across calls (rbx, rbp, r12, r13, r15): 3 guest registers are loaded again.
    expect(x86.spilledRanges).toBe(0);
    expect(x86.counts[idx('reload')]).toBe(3);
    // AArch64 keeps 9 (x20–x28): none.
    expect(arm.counts[idx('reload')]).toBe(0);
    // Lane-homed registers are extracted again from their lanes, which the access leaves alone.
    const lanes: Home[] = all(IN_CPU_STATE).map((_, r) => ({ kind: 'lane', reg: r >> 1, lane: r & 1 }));
    const simd = lower(across, 'x86-64', { homes: lanes, pack: false });
    expect(simd.counts[idx('laneExtract')] + simd.counts[idx('lowLaneExtract')]).toBe(9 + 3);
    expect(simd.counts[idx('lowLaneExtract')]).toBeGreaterThan(0);
    expect(simd.counts[idx('reload')]).toBe(0);
  });

  // Mutation that must break it: helper calls that preserve SIMD registers (no save and restore of lanes).
  it('saves and restores the SIMD registers holding guest registers around a helper call', () => {
    const indirect = unit((b) => b.jumpTo(b.getx(1)));
    const homes = all(IN_CPU_STATE);
    for (let r = 1; r <= 4; r++) homes[r] = { kind: 'lane', reg: r >> 1, lane: r & 1 };
    const simd = lower(indirect, 'x86-64', { homes, pack: false });
    const mem = lower(indirect, 'x86-64', { homes: all(IN_CPU_STATE), pack: false });
    // x1–x4 occupy SIMD registers 0, 1 and 2: three stores before the lookup helper, three loads after.
    expect(simd.counts[idx('call')]).toBe(1);
    expect(simd.counts[idx('store')] - mem.counts[idx('store')]).toBe(3);
    expect(simd.counts[idx('load')] - (mem.counts[idx('load')] - 1)).toBe(3);
  });

  // Mutation that must break it: packing that ignores the dependence graph (the second test), or never packs (the first).
  it('packs independent isomorphic operations on lane-homed registers, not dependent ones', () => {
    // x1 and x3 share SIMD register 0, x2 and x4 register 1, in operation order.
    const homes = all(IN_CPU_STATE);
    homes[1] = { kind: 'lane', reg: 0, lane: 0 };
    homes[3] = { kind: 'lane', reg: 0, lane: 1 };
    homes[2] = { kind: 'lane', reg: 1, lane: 0 };
    homes[4] = { kind: 'lane', reg: 1, lane: 1 };
    const independent = unit((b) => {
      b.setx(1, b.bin(ADD, b.getx(1), b.getx(2)));
      b.setx(3, b.bin(ADD, b.getx(3), b.getx(4)));
    });
    const packed = lower(independent, 'x86-64', { homes, pack: true });
    const scalar = lower(independent, 'x86-64', { homes, pack: false });
    expect(packed.packedOps).toBe(2);
    expect(packed.counts[idx('vectorAlu')]).toBeGreaterThan(0);
    expect(packed.counts[idx('laneExtract')]).toBe(0);
    const host = HOST_PROFILES['x86-64'];
    expect(cyclesOf(packed.counts, host)).toBeLessThan(cyclesOf(scalar.counts, host));
    const dependent = unit((b) => {
      b.setx(1, b.bin(ADD, b.getx(1), b.getx(2)));
      b.setx(3, b.bin(ADD, b.getx(1), b.getx(4)));
    });
    expect(lower(dependent, 'x86-64', { homes, pack: true }).packedOps).toBe(0);
  });

  // Mutations that must break it: FP operations lowered as host instructions under QEMU's mapping (no
  // softfloat helper calls), helpers with no cost, or host FP that ignores the rounding mode.
  it('runs FP operations as softfloat helper calls under QEMU, and as host FP instructions under host FP where the rounding mode allows', () => {
    // f3 = f1 * f2 + f4 (dynamic rounding), f5 = f1 + f2 rounded down (a static mode the host does not run in).
    const fpBlock = unit((b) => {
      const f1 = b.getf(1);
      const f2 = b.getf(2);
      b.setf(3, b.fp(Op.FMADD_D, 7, f1, f2, b.getf(4)));
      b.setf(5, b.fp(Op.FADD_D, 2, f1, f2));
    });
    const x86 = HOST_PROFILES['x86-64'];
    const mem = lower(fpBlock, 'x86-64', { homes: all(IN_CPU_STATE), pack: false });
    // QEMU: the rounding mode installed for each of the two modes (gen_set_rm), the muladd on its hardfloat path,
    // the round-down add on its soft path.
    expect(mem.counts[idx('fpHelper')]).toBe(3);
    expect(mem.counts[idx('softfloat')]).toBe(1);
    expect(mem.counts[idx('fp')]).toBe(1);
    const lanes: Home[] = all(IN_CPU_STATE).map((_, r) => (r >= 33 && r <= 37 ? { kind: 'lane', reg: (r - 32) >> 1, lane: (r - 32) & 1 } : IN_CPU_STATE));
    const host = lower(fpBlock, 'x86-64', { homes: lanes, pack: false, hostFp: true });
    // Host FP: the muladd is one host instruction; the round-down add still needs softfloat (and its rounding-mode helper).
    expect(host.counts[idx('fp')]).toBe(1);
    expect(host.counts[idx('softfloat')]).toBe(1);
    expect(host.counts[idx('fpHelper')]).toBe(1);
    // Around each of the two helper calls the three SIMD registers holding f1–f5 are saved and restored.
    expect(host.counts[idx('store')]).toBe(2 * 3);
    // Without the round-down add, host FP needs no helper at all and is cheaper than QEMU's helpers.
    const fmaOnly = unit((b) => b.setf(3, b.fp(Op.FMADD_D, 7, b.getf(1), b.getf(2), b.getf(4))));
    const memFma = lower(fmaOnly, 'x86-64', { homes: all(IN_CPU_STATE), pack: false });
    const hostFma = lower(fmaOnly, 'x86-64', { homes: lanes, pack: false, hostFp: true });
    expect(hostFma.counts[idx('fpHelper')] + hostFma.counts[idx('softfloat')] + hostFma.counts[idx('call')]).toBe(0);
    expect(cyclesOf(hostFma.counts, x86)).toBeLessThan(cyclesOf(memFma.counts, x86));
  });
});
