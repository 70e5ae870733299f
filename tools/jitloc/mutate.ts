// Valid mutations of RISC-V guest code, for the bug localizer (localize.ts): related
// programs made from a proof of concept by rewriting instructions of its failing unit
// in place. Every mutation keeps the instruction's size (4 bytes), so no branch
// offset moves, and keeps its class: a constant changed (an ALU immediate, a shift
// amount, an upper immediate, a load or store offset by a multiple of 8), a register
// swapped for another one the unit uses, an operation replaced by another of the
// same class (register-register ALU ops, immediate ALU ops, M-extension ops, load
// widths, store widths), two adjacent independent instructions swapped, or an ALU
// instruction's operation and constant taken from one of the same format that the
// differential fuzzer's generator wrote (tools/node/dbt-fuzz.ts), its registers kept. Control
// flow, system, FP and atomic instructions are left alone. A tiny disassembler
// prints the minimized failing unit.

import type { Rng } from 'virtlab';

/** The file offset of guest address `vaddr` in an ELF64 image, or -1. */
export function fileOffset(elf: Uint8Array, vaddr: number): number {
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 64 || v.getUint32(0) !== 0x7f454c46 || elf[4] !== 2) return -1;
  const phoff = Number(v.getBigUint64(32, true));
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  for (let n = 0; n < phnum; n++) {
    const p = phoff + n * phentsize;
    if (p + 56 > elf.length || v.getUint32(p, true) !== 1) continue; // PT_LOAD
    const offset = Number(v.getBigUint64(p + 8, true));
    const start = Number(v.getBigUint64(p + 16, true));
    const filesz = Number(v.getBigUint64(p + 32, true));
    if (vaddr >= start && vaddr + 4 <= start + filesz) return offset + (vaddr - start);
  }
  return -1;
}

export function readWord(elf: Uint8Array, at: number): number {
  return (elf[at] | (elf[at + 1] << 8) | (elf[at + 2] << 16) | (elf[at + 3] << 24)) >>> 0;
}

export function writeWord(elf: Uint8Array, at: number, w: number): void {
  elf[at] = w & 0xff;
  elf[at + 1] = (w >>> 8) & 0xff;
  elf[at + 2] = (w >>> 16) & 0xff;
  elf[at + 3] = (w >>> 24) & 0xff;
}

const OP_IMM = 0x13;
const OP_IMM_32 = 0x1b;
const OP = 0x33;
const OP_32 = 0x3b;
const LUI = 0x37;
const LOAD = 0x03;
const STORE = 0x23;

const opcode = (w: number) => w & 0x7f;
const rd = (w: number) => (w >>> 7) & 31;
const f3 = (w: number) => (w >>> 12) & 7;
const rs1 = (w: number) => (w >>> 15) & 31;
const rs2 = (w: number) => (w >>> 20) & 31;
const f7 = (w: number) => w >>> 25;
const immI = (w: number) => w >> 20;
const immS = (w: number) => ((w >> 25) << 5) | ((w >>> 7) & 31);
const withRd = (w: number, r: number) => ((w & ~(31 << 7)) | (r << 7)) >>> 0;
const withRs1 = (w: number, r: number) => ((w & ~(31 << 15)) | (r << 15)) >>> 0;
const withRs2 = (w: number, r: number) => ((w & ~(31 << 20)) | (r << 20)) >>> 0;
const withF3 = (w: number, f: number) => ((w & ~(7 << 12)) | (f << 12)) >>> 0;
const withImmI = (w: number, imm: number) => ((w & 0xfffff) | ((imm & 0xfff) << 20)) >>> 0;
const withImmS = (w: number, imm: number) => ((w & 0x01fff07f) | ((imm & 31) << 7) | (((imm >> 5) & 0x7f) << 25)) >>> 0;

/** Is this an instruction the mutator may touch (a 4-byte ALU, LUI, load or store)? */
export function mutable(w: number): boolean {
  if ((w & 3) !== 3) return false;
  switch (opcode(w)) {
    case OP_IMM:
    case OP_IMM_32:
    case LUI:
    case LOAD:
    case STORE:
      return true;
    case OP:
    case OP_32:
      return f7(w) === 0 || f7(w) === 0x20 || f7(w) === 1;
  }
  return false;
}

/** Registers an instruction reads and writes (x registers; x0 left out). */
export function regsOf(w: number): { reads: number[]; writes: number[] } {
  const nz = (rs: number[]) => rs.filter((r) => r !== 0);
  switch (opcode(w)) {
    case OP_IMM:
    case OP_IMM_32:
    case LOAD:
      return { reads: nz([rs1(w)]), writes: nz([rd(w)]) };
    case OP:
    case OP_32:
      return { reads: nz([rs1(w), rs2(w)]), writes: nz([rd(w)]) };
    case LUI:
      return { reads: [], writes: nz([rd(w)]) };
    case STORE:
      return { reads: nz([rs1(w), rs2(w)]), writes: [] };
  }
  return { reads: [], writes: [] };
}

const isShiftImm = (w: number) => (opcode(w) === OP_IMM || opcode(w) === OP_IMM_32) && (f3(w) === 1 || f3(w) === 5);

/** What the mutator knows of the failing unit: its registers, and those that hold addresses. */
export interface UnitRegisters {
  /** Registers the unit's mutable instructions use. */
  readonly used: readonly number[];
  /** Registers that must keep their values: sp, ra, and the bases of the unit's loads and stores. */
  readonly pinned: ReadonlySet<number>;
}

export function unitRegisters(words: readonly number[]): UnitRegisters {
  const used = new Set<number>();
  const pinned = new Set<number>([1, 2]);
  for (const w of words) {
    if (!mutable(w)) continue;
    const { reads, writes } = regsOf(w);
    for (const r of [...reads, ...writes]) used.add(r);
    if (opcode(w) === LOAD || opcode(w) === STORE) pinned.add(rs1(w));
  }
  return { used: [...used].sort((a, b) => a - b), pinned };
}

/** Kinds of mutation, as the report names them. */
export type MutationKind = 'constant' | 'register' | 'operation' | 'order' | 'fuzz';

/** The 4-byte ALU instructions of a program's text, by opcode: what 'fuzz' mutations draw from. */
export function aluPool(elf: Uint8Array, text: number): Map<number, number[]> {
  const pool = new Map<number, number[]>();
  for (let pc = text; ; ) {
    const at = fileOffset(elf, pc);
    if (at < 0) break;
    const w = readWord(elf, at);
    if ((w & 3) !== 3) {
      pc += 2;
      continue;
    }
    pc += 4;
    const oc = opcode(w);
    if (oc !== OP && oc !== OP_IMM && oc !== OP_32 && oc !== OP_IMM_32 && oc !== LUI) continue;
    if (!mutable(w)) continue;
    let list = pool.get(oc);
    if (!list) pool.set(oc, (list = []));
    list.push(w);
  }
  return pool;
}

/** w with the operation and constant of a pool instruction of its format, and w's own registers. */
export function fromPool(rng: Rng, w: number, pool: ReadonlyMap<number, readonly number[]>): number | undefined {
  const list = pool.get(opcode(w));
  if (!list?.length) return undefined;
  const c = list[rng.int(list.length)];
  // Register fields: rd (7–11) always; rs1 (15–19) unless LUI; rs2 (20–24) for register-register ops.
  const oc = opcode(w);
  let mask = 31 << 7;
  if (oc !== LUI) mask |= 31 << 15;
  if (oc === OP || oc === OP_32) mask |= 31 << 20;
  const out = ((c & ~mask) | (w & mask)) >>> 0;
  return out !== w ? out : undefined;
}

/**
 * One mutation of instruction w (its neighbour `next` for a swap), or undefined when
 * the chosen kind does not apply. Returns the new word(s).
 */
export function mutateOne(rng: Rng, kind: MutationKind, w: number, regs: UnitRegisters): number | undefined {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const oc = opcode(w);
  switch (kind) {
    case 'constant': {
      if (isShiftImm(w)) {
        const width = oc === OP_IMM ? 64 : 32;
        const sh = rng.int(width);
        return ((w & ~(((width - 1) | 0) << 20)) | (sh << 20)) >>> 0;
      }
      if (oc === OP_IMM || oc === OP_IMM_32) {
        const imm = immI(w);
        const next = pick([imm + 1, imm - 1, -imm, imm + 8, imm - 8, rng.int(4096) - 2048, pick([-2048, -1, 0, 1, 2047])]);
        return next >= -2048 && next <= 2047 && next !== imm ? withImmI(w, next) : undefined;
      }
      if (oc === LUI) return ((w & 0xfff) | (rng.int(1 << 20) << 12)) >>> 0;
      if (oc === LOAD) {
        const off = immI(w) + pick([-16, -8, 8, 16]);
        return off >= -2048 && off <= 2047 ? withImmI(w, off) : undefined;
      }
      if (oc === STORE) {
        const off = immS(w) + pick([-16, -8, 8, 16]);
        return off >= -2048 && off <= 2047 ? withImmS(w, off) : undefined;
      }
      return undefined;
    }
    case 'register': {
      const free = regs.used.filter((r) => r !== 0);
      if (!free.length) return undefined;
      const { reads, writes } = regsOf(w);
      const slots: Array<'rd' | 'rs1' | 'rs2'> = [];
      if (writes.length && !regs.pinned.has(rd(w))) slots.push('rd');
      if (reads.includes(rs1(w)) && oc !== LOAD && oc !== STORE) slots.push('rs1');
      if ((oc === OP || oc === OP_32 || oc === STORE) && rs2(w) !== 0) slots.push('rs2');
      if (!slots.length) return undefined;
      const slot = pick(slots);
      const choices = slot === 'rd' ? free.filter((r) => !regs.pinned.has(r)) : free;
      if (!choices.length) return undefined;
      const r = pick(choices);
      const out = slot === 'rd' ? withRd(w, r) : slot === 'rs1' ? withRs1(w, r) : withRs2(w, r);
      return out !== w ? out : undefined;
    }
    case 'operation': {
      let out: number | undefined;
      if (oc === OP_IMM && !isShiftImm(w)) out = withF3(w, pick([0, 2, 3, 4, 6, 7]));
      else if (oc === OP_IMM && isShiftImm(w)) {
        // slli, srli or srai: funct3 and the top six bits.
        const [nf3, top] = pick([[1, 0], [5, 0], [5, 0x10]] as const);
        out = ((w & ~((0x3f << 26) | (7 << 12))) | (top << 26) | (nf3 << 12)) >>> 0;
      }
      else if (oc === OP || oc === OP_32) {
        if (f7(w) === 1) out = withF3(w, oc === OP ? rng.int(8) : pick([0, 4, 5, 6, 7]));
        else {
          const [nf7, nf3] = oc === OP ? pick([[0, 0], [0x20, 0], [0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [0x20, 5], [0, 6], [0, 7]]) : pick([[0, 0], [0x20, 0], [0, 1], [0, 5], [0x20, 5]]);
          out = (((w & 0x01ffffff & ~(7 << 12)) | (nf7 << 25) | (nf3 << 12)) >>> 0);
        }
      } else if (oc === LOAD) out = withF3(w, pick([0, 1, 2, 3, 4, 5, 6]));
      else if (oc === STORE) out = withF3(w, pick([0, 1, 2, 3]));
      return out !== undefined && out !== w ? out : undefined;
    }
    default:
      return undefined;
  }
}

/** May two adjacent mutable instructions trade places without changing what they compute? */
export function independent(a: number, b: number): boolean {
  if (!mutable(a) || !mutable(b)) return false;
  const x = regsOf(a);
  const y = regsOf(b);
  const meet = (p: number[], q: number[]) => p.some((r) => q.includes(r));
  if (meet(x.writes, y.reads) || meet(x.reads, y.writes) || meet(x.writes, y.writes)) return false;
  const mem = (w: number) => opcode(w) === LOAD || opcode(w) === STORE;
  // Two accesses may alias (or fault in the other order) unless both only read.
  if (mem(a) && mem(b) && (opcode(a) === STORE || opcode(b) === STORE)) return false;
  return a !== b;
}

const REG = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

/** The instruction in assembly, for the classes the mutator knows; `.word` otherwise. */
export function disassemble(w: number): string {
  const d = REG[rd(w)];
  const s1 = REG[rs1(w)];
  const s2 = REG[rs2(w)];
  switch (opcode(w)) {
    case OP_IMM: {
      if (isShiftImm(w)) return `${f3(w) === 1 ? 'slli' : (w >>> 30) & 1 ? 'srai' : 'srli'} ${d}, ${s1}, ${(w >>> 20) & 63}`;
      return `${['addi', '', 'slti', 'sltiu', 'xori', '', 'ori', 'andi'][f3(w)]} ${d}, ${s1}, ${immI(w)}`;
    }
    case OP_IMM_32:
      if (isShiftImm(w)) return `${f3(w) === 1 ? 'slliw' : (w >>> 30) & 1 ? 'sraiw' : 'srliw'} ${d}, ${s1}, ${(w >>> 20) & 31}`;
      return f3(w) === 0 ? `addiw ${d}, ${s1}, ${immI(w)}` : `.word 0x${w.toString(16).padStart(8, '0')}`;
    case OP:
    case OP_32: {
      const w32 = opcode(w) === OP_32 ? 'w' : '';
      const name =
        f7(w) === 1
          ? ['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'][f3(w)]
          : f7(w) === 0x20
            ? f3(w) === 0 ? 'sub' : 'sra'
            : ['add', 'sll', 'slt', 'sltu', 'xor', 'srl', 'or', 'and'][f3(w)];
      return `${name}${w32} ${d}, ${s1}, ${s2}`;
    }
    case LUI:
      return `lui ${d}, 0x${(w >>> 12).toString(16)}`;
    case LOAD:
      return `${['lb', 'lh', 'lw', 'ld', 'lbu', 'lhu', 'lwu', '?'][f3(w)]} ${d}, ${immI(w)}(${s1})`;
    case STORE:
      return `${['sb', 'sh', 'sw', 'sd', '?', '?', '?', '?'][f3(w)]} ${s2}, ${immS(w)}(${s1})`;
    case 0x6f:
      return `jal ${d}, …`;
    case 0x67:
      return `jalr ${d}, ${immI(w)}(${s1})`;
    case 0x63:
      return `${['beq', 'bne', '?', '?', 'blt', 'bge', 'bltu', 'bgeu'][f3(w)]} ${s1}, ${s2}, …`;
    case 0x73:
      return w === 0x73 ? 'ecall' : `system 0x${w.toString(16)}`;
  }
  return `.word 0x${w.toString(16).padStart(8, '0')}`;
}

/** A no-op of four bytes (addi zero, zero, 0): what the minimizer puts in place of an instruction. */
export const NOP = 0x00000013;
