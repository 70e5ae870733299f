// The lifter: decodes guest RV64GC code with the shared decoder (decoder.ts, so every
// engine agrees on what an instruction means) and turns one basic block at a time
// into IR (ir.ts). Instructions that the translators leave to the interpreter —
// system calls, CSR accesses, fence.i, ebreak, illegal encodings — end the block with
// an `interp` terminator; rare ones that do not change control flow (atomics, single
// precision, odd conversions) become INTERP instructions inside the block.
//
// A block ends at a branch or jump, before an instruction it cannot fetch (a page
// without execute permission), or after `maxInstructions`.

import * as decoderModule from '../riscv/decoder';
import * as irModule from './ir';
import { decode16, decode32, fpReadsInt, newDecoded, type Op as OpEnum, usesRm, writesIntRd, type Decoded } from '../riscv/decoder';
import * as memoryModule from '../riscv/memory';
import type { GuestMemory } from '../riscv/memory';
import { W as WasmOp } from '../wasm/encoder';
import { Block as IrBlock, DIV_S, DIV_U, Inst as IrInst, type K as KEnum, MULH_SS, MULH_SU, MULH_UU, REM_S, REM_U, Unit, type RegRef, type Term } from './ir';

// Imported bindings compile to getter calls under CommonJS; the hot paths read these local copies.
// (TypeScript's const enums are objects at run time here; they are read once.)
const Op = (decoderModule as unknown as { Op: { readonly [P in keyof typeof OpEnum]: number } }).Op;
const { PAGE_SHIFT, PERM_X } = memoryModule;
const Inst = IrInst;
type Inst = IrInst;
const Block = IrBlock;
type Block = IrBlock;
const W = WasmOp;
const K = (irModule as unknown as { K: { readonly [P in keyof typeof KEnum]: number } }).K;


const TWO32 = 4294967296;

/** Is x1 or x5 (ra, t0): a link register by the RISC-V calling convention. */
function isLink(r: number): boolean {
  return r === 1 || r === 5;
}

/** FP operations the lowering handles inline in their common case (doubles). */
const FP_INLINE = new Set<number>([
  Op.FADD_D, Op.FSUB_D, Op.FMUL_D, Op.FDIV_D, Op.FSQRT_D,
  Op.FMADD_D, Op.FMSUB_D, Op.FNMSUB_D, Op.FNMADD_D,
  Op.FEQ_D, Op.FLT_D, Op.FLE_D, Op.FMIN_D, Op.FMAX_D,
  Op.FCVT_W_D, Op.FCVT_L_D, Op.FCVT_D_W, Op.FCVT_D_WU, Op.FCVT_D_L, Op.FCVT_D_LU,
]);

/** How many FP source registers an FP op reads (1, 2 or 3). */
function fpSources(op: number): number {
  if (op >= Op.FMADD_S && op <= Op.FNMADD_D) return 3;
  switch (op) {
    case Op.FSQRT_S: case Op.FSQRT_D:
    case Op.FCVT_W_S: case Op.FCVT_WU_S: case Op.FCVT_L_S: case Op.FCVT_LU_S: case Op.FMV_X_W: case Op.FCLASS_S:
    case Op.FCVT_W_D: case Op.FCVT_WU_D: case Op.FCVT_L_D: case Op.FCVT_LU_D: case Op.FMV_X_D: case Op.FCLASS_D:
    case Op.FCVT_S_D: case Op.FCVT_D_S:
      return 1;
  }
  return 2;
}

export interface LiftOptions {
  /** Longest block, in guest instructions. */
  readonly maxInstructions: number;
}

/** Builds IR for one unit; `lift(pc)` appends the basic block starting at pc. */
export class BlockLifter {
  private readonly d: Decoded = newDecoded();
  private unit!: Unit;
  private block!: Block;
  private gi = 0;

  constructor(
    private readonly mem: GuestMemory,
    private readonly options: LiftOptions,
  ) {}

  /** Can the instruction at pc be fetched (its bytes on executable pages)? */
  fetchable(pc: number): boolean {
    const mem = this.mem;
    if (pc < 0 || pc + 2 > mem.size || pc % 2 !== 0) return false;
    const p = pc >>> PAGE_SHIFT;
    if ((mem.perm[p] & PERM_X) === 0) return false;
    if ((mem.u8[pc] & 3) === 3) {
      if (pc + 4 > mem.size) return false;
      const q = (pc + 3) >>> PAGE_SHIFT;
      if (q !== p && (mem.perm[q] & PERM_X) === 0) return false;
    }
    return true;
  }

  /**
   * Instructions from pc to the end of its basic block (its branch, jump or the
   * instruction the interpreter must run, included), at most `max` — what the runtime
   * interprets at once while code is not yet hot enough to translate — and the pc of
   * the block's final indirect jump (a jalr that is neither a call nor a return), or −1.
   */
  blockInfo(pc: number, max: number): { n: number; jumpPc: number } {
    let n = 0;
    let jumpPc = -1;
    while (n < max && this.fetchable(pc)) {
      const d = this.decodeAt(pc);
      n++;
      const op = d.op;
      if ((op >= Op.JAL && op <= Op.BGEU) || this.endsBefore(d)) {
        if (op === Op.JALR && d.rd === 0 && !(isLink(d.rs1) && d.imm === 0)) jumpPc = pc;
        break;
      }
      pc += d.len;
    }
    return { n: Math.max(1, n), jumpPc };
  }

  /**
   * Decodes the instruction at pc (which must be fetchable) into the lifter's scratch
   * Decoded (valid until the next call), or into a fresh one.
   */
  decodeAt(pc: number, fresh = false): Decoded {
    const u8 = this.mem.u8;
    const d = fresh ? newDecoded() : this.d;
    const lo16 = u8[pc] | (u8[pc + 1] << 8);
    if ((lo16 & 3) !== 3) decode16(lo16, d);
    else decode32((lo16 | (u8[pc + 2] << 16) | (u8[pc + 3] << 24)) >>> 0, d);
    return d;
  }

  /**
   * Lifts the block at pc into `unit`; returns it (count 0: nothing translatable at
   * pc). With `stopAt`, the block also ends (with a jump) before any later pc for
   * which it returns true: code already lifted into the unit.
   */
  lift(unit: Unit, pc: number, stopAt?: (pc: number) => boolean): Block {
    this.unit = unit;
    const block = new Block(pc);
    this.block = block;
    block.firstGi = unit.pcs.length;
    const max = this.options.maxInstructions;
    for (;;) {
      if (stopAt && block.count > 0 && stopAt(pc)) {
        block.term = { k: 'jump', target: pc };
        break;
      }
      if (!this.fetchable(pc)) {
        block.term = { k: 'interp', pc };
        break;
      }
      const d = this.decodeAt(pc);
      // Instructions the interpreter must run end the block before themselves.
      if (this.endsBefore(d)) {
        block.term = { k: 'interp', pc };
        break;
      }
      this.gi = unit.pcs.length;
      unit.pcs.push(pc);
      unit.pages.add(pc >>> PAGE_SHIFT);
      unit.pages.add((pc + d.len - 1) >>> PAGE_SHIFT);
      block.count++;
      const term = this.instruction(d, pc);
      if (term && term.k === 'interp' && term.pc === pc) {
        // Not translatable after all: the block ends before it.
        block.term = term;
        break;
      }
      pc += d.len;
      if (term) {
        block.term = term;
        break;
      }
      if (block.count >= max) {
        block.term = { k: 'jump', target: pc };
        break;
      }
    }
    block.end = pc;
    unit.blocks.push(block);
    return block;
  }

  /**
   * Splits `block` of `unit` before its instruction at pc (a branch target found
   * after the block was lifted): the first part ends with a jump to pc, the second
   * becomes a new block of the unit. Each guest instruction's IR uses only values it
   * defines itself, so the split needs no renaming.
   */
  split(unit: Unit, block: Block, pc: number): Block {
    const gi = unit.pcs.indexOf(pc, block.firstGi);
    if (gi < 0 || gi >= block.firstGi + block.count || gi === block.firstGi) throw new Error(`cannot split the block at 0x${block.start.toString(16)} at 0x${pc.toString(16)}`);
    const tail = new Block(pc);
    tail.firstGi = gi;
    tail.count = block.firstGi + block.count - gi;
    tail.end = block.end;
    tail.term = block.term;
    const at = block.insts.findIndex((i) => i.gi >= gi);
    tail.insts.push(...block.insts.splice(at < 0 ? block.insts.length : at));
    block.count -= tail.count;
    block.end = pc;
    block.term = { k: 'jump', target: pc };
    unit.blocks.push(tail);
    return tail;
  }

  private endsBefore(d: Decoded): boolean {
    switch (d.op) {
      case Op.ILLEGAL:
      case Op.NONE:
      case Op.ECALL:
      case Op.EBREAK:
      case Op.FENCE_I:
      case Op.CSRRW:
      case Op.CSRRS:
      case Op.CSRRC:
      case Op.CSRRWI:
      case Op.CSRRSI:
      case Op.CSRRCI:
        // The FP control registers are translated; counters and timers are the interpreter's.
        return d.imm < 1 || d.imm > 3;
    }
    // A static rounding mode of 5 or 6 is an illegal instruction.
    if (d.op >= Op.FMADD_S && d.op <= Op.FMV_D_X && (d.rm === 5 || d.rm === 6) && usesRm(d.op)) return true;
    return false;
  }

  // ---- emission helpers ----

  private push(k: number, op: number, a: number, b: number, c: number, lo: number, hi: number, hasDst: boolean): number {
    const dst = hasDst ? this.unit.newValue() : -1;
    this.block.insts.push(new Inst(k, op, dst, a, b, c, lo, hi, this.gi));
    return dst;
  }

  private c(lo: number, hi = lo >> 31): number {
    return this.push(K.CONST, 0, -1, -1, -1, lo | 0, hi | 0, true);
  }

  /** A constant from a JavaScript integer in the i64 range (pcs, addresses). */
  private cn(v: number): number {
    return this.c(v | 0, Math.floor(v / TWO32) | 0);
  }

  private x(r: number): number {
    return r === 0 ? this.c(0) : this.push(K.GETX, 0, r, -1, -1, 0, 0, true);
  }

  private setX(r: number, v: number): void {
    if (r !== 0) this.push(K.SETX, 0, r, v, -1, 0, 0, false);
  }

  private f(r: number): number {
    return this.push(K.GETF, 0, r, -1, -1, 0, 0, true);
  }

  private setF(r: number, v: number): void {
    this.push(K.SETF, 0, r, v, -1, 0, 0, false);
  }

  private bin(op: number, a: number, b: number): number {
    return this.push(K.BIN, op, a, b, -1, 0, 0, true);
  }

  private bin32(op: number, a: number, b: number): number {
    return this.push(K.BIN32, op, a, b, -1, 0, 0, true);
  }

  private cmp(op: number, a: number, b: number): number {
    return this.push(K.CMP, op, a, b, -1, 0, 0, true);
  }

  private addr(d: Decoded): number {
    return this.bin(W.i64_add, this.x(d.rs1), this.c(d.imm));
  }

  private load(op: number, bytes: number, d: Decoded): number {
    return this.push(K.LOAD, op, this.addr(d), -1, -1, bytes, 0, true);
  }

  private store(op: number, bytes: number, d: Decoded, v: number): void {
    const a = this.addr(d);
    this.push(K.STORE, op, a, v, -1, bytes, 0, false);
  }

  /** An instruction run by the interpreter inside the block. */
  private interp(d: Decoded, reads: Array<[0 | 1, number]>, writes: Array<[0 | 1, number]>): void {
    const refs: RegRef[] = reads.map(([file, reg]) => ({ file, reg, value: file === 0 ? this.x(reg) : this.f(reg) }));
    const i = new Inst(K.INTERP, d.op, -1, -1, -1, -1, 0, 0, this.gi);
    i.ins = { ...d };
    i.reads = refs;
    i.writes = writes.filter(([file, reg]) => file === 1 || reg !== 0).map(([file, reg]) => ({ file, reg, value: this.unit.newValue() }));
    this.block.insts.push(i);
    for (const w of i.writes) {
      if (w.file === 0) this.setX(w.reg, w.value);
      else this.setF(w.reg, w.value);
    }
  }

  /** Emits IR for one instruction; returns the terminator if it ends the block. */
  private instruction(d: Decoded, pc: number): Term | null {
    const next = pc + d.len;
    const { rd, rs1, rs2, imm } = d;
    switch (d.op) {
      case Op.LUI:
        this.setX(rd, this.c(imm));
        return null;
      case Op.AUIPC:
        this.setX(rd, this.cn(pc + imm));
        return null;
      case Op.JAL: {
        const target = pc + imm;
        if (rd !== 0) this.setX(rd, this.cn(next));
        return isLink(rd) ? { k: 'call', target, ret: next } : { k: 'jump', target };
      }
      case Op.JALR: {
        const t = this.bin(W.i64_and, this.bin(W.i64_add, this.x(rs1), this.c(imm)), this.c(-2));
        if (rd !== 0) this.setX(rd, this.cn(next));
        if (isLink(rd)) return { k: 'icall', target: t, ret: next };
        if (rd === 0 && isLink(rs1) && imm === 0) return { k: 'ret', target: t };
        return { k: 'indirect', target: t };
      }
      case Op.BEQ:
      case Op.BNE:
      case Op.BLT:
      case Op.BGE:
      case Op.BLTU:
      case Op.BGEU: {
        const cmpOp = [W.i64_eq, W.i64_ne, W.i64_lt_s, W.i64_ge_s, W.i64_lt_u, W.i64_ge_u][d.op - Op.BEQ];
        const cond = this.cmp(cmpOp, this.x(rs1), this.x(rs2));
        return { k: 'branch', cond, taken: pc + imm, fall: next };
      }
      case Op.LB: this.setX(rd, this.load(W.i64_load8_s, 1, d)); return null;
      case Op.LH: this.setX(rd, this.load(W.i64_load16_s, 2, d)); return null;
      case Op.LW: this.setX(rd, this.load(W.i64_load32_s, 4, d)); return null;
      case Op.LD: this.setX(rd, this.load(W.i64_load, 8, d)); return null;
      case Op.LBU: this.setX(rd, this.load(W.i64_load8_u, 1, d)); return null;
      case Op.LHU: this.setX(rd, this.load(W.i64_load16_u, 2, d)); return null;
      case Op.LWU: this.setX(rd, this.load(W.i64_load32_u, 4, d)); return null;
      case Op.SB: this.store(W.i64_store8, 1, d, this.x(rs2)); return null;
      case Op.SH: this.store(W.i64_store16, 2, d, this.x(rs2)); return null;
      case Op.SW: this.store(W.i64_store32, 4, d, this.x(rs2)); return null;
      case Op.SD: this.store(W.i64_store, 8, d, this.x(rs2)); return null;
      case Op.ADDI: this.setX(rd, this.bin(W.i64_add, this.x(rs1), this.c(imm))); return null;
      case Op.SLTI: this.setX(rd, this.cmp(W.i64_lt_s, this.x(rs1), this.c(imm))); return null;
      case Op.SLTIU: this.setX(rd, this.cmp(W.i64_lt_u, this.x(rs1), this.c(imm))); return null;
      case Op.XORI: this.setX(rd, this.bin(W.i64_xor, this.x(rs1), this.c(imm))); return null;
      case Op.ORI: this.setX(rd, this.bin(W.i64_or, this.x(rs1), this.c(imm))); return null;
      case Op.ANDI: this.setX(rd, this.bin(W.i64_and, this.x(rs1), this.c(imm))); return null;
      case Op.SLLI: this.setX(rd, this.bin(W.i64_shl, this.x(rs1), this.c(imm))); return null;
      case Op.SRLI: this.setX(rd, this.bin(W.i64_shr_u, this.x(rs1), this.c(imm))); return null;
      case Op.SRAI: this.setX(rd, this.bin(W.i64_shr_s, this.x(rs1), this.c(imm))); return null;
      case Op.ADD: this.setX(rd, this.bin(W.i64_add, this.x(rs1), this.x(rs2))); return null;
      case Op.SUB: this.setX(rd, this.bin(W.i64_sub, this.x(rs1), this.x(rs2))); return null;
      case Op.SLL: this.setX(rd, this.bin(W.i64_shl, this.x(rs1), this.x(rs2))); return null;
      case Op.SLT: this.setX(rd, this.cmp(W.i64_lt_s, this.x(rs1), this.x(rs2))); return null;
      case Op.SLTU: this.setX(rd, this.cmp(W.i64_lt_u, this.x(rs1), this.x(rs2))); return null;
      case Op.XOR: this.setX(rd, this.bin(W.i64_xor, this.x(rs1), this.x(rs2))); return null;
      case Op.SRL: this.setX(rd, this.bin(W.i64_shr_u, this.x(rs1), this.x(rs2))); return null;
      case Op.SRA: this.setX(rd, this.bin(W.i64_shr_s, this.x(rs1), this.x(rs2))); return null;
      case Op.OR: this.setX(rd, this.bin(W.i64_or, this.x(rs1), this.x(rs2))); return null;
      case Op.AND: this.setX(rd, this.bin(W.i64_and, this.x(rs1), this.x(rs2))); return null;
      case Op.ADDIW: this.setX(rd, this.bin32(W.i32_add, this.x(rs1), this.c(imm))); return null;
      case Op.SLLIW: this.setX(rd, this.bin32(W.i32_shl, this.x(rs1), this.c(imm))); return null;
      case Op.SRLIW: this.setX(rd, this.bin32(W.i32_shr_u, this.x(rs1), this.c(imm))); return null;
      case Op.SRAIW: this.setX(rd, this.bin32(W.i32_shr_s, this.x(rs1), this.c(imm))); return null;
      case Op.ADDW: this.setX(rd, this.bin32(W.i32_add, this.x(rs1), this.x(rs2))); return null;
      case Op.SUBW: this.setX(rd, this.bin32(W.i32_sub, this.x(rs1), this.x(rs2))); return null;
      case Op.SLLW: this.setX(rd, this.bin32(W.i32_shl, this.x(rs1), this.x(rs2))); return null;
      case Op.SRLW: this.setX(rd, this.bin32(W.i32_shr_u, this.x(rs1), this.x(rs2))); return null;
      case Op.SRAW: this.setX(rd, this.bin32(W.i32_shr_s, this.x(rs1), this.x(rs2))); return null;
      case Op.FENCE:
        return null;
      case Op.CSRRW:
      case Op.CSRRS:
      case Op.CSRRC:
      case Op.CSRRWI:
      case Op.CSRRSI:
      case Op.CSRRCI: {
        const csr = d.imm;
        const old = this.push(K.GETCSR, 0, csr, -1, -1, 0, 0, true);
        const immediate = d.op >= Op.CSRRWI;
        if (d.op === Op.CSRRW || d.op === Op.CSRRWI || rs1 !== 0) {
          const src = immediate ? this.c(rs1) : this.x(rs1);
          const kind = immediate ? d.op - Op.CSRRWI : d.op - Op.CSRRW;
          const v = kind === 0 ? src : kind === 1 ? this.bin(W.i64_or, old, src) : this.bin(W.i64_and, old, this.bin(W.i64_xor, src, this.c(-1)));
          this.push(K.SETCSR, 0, csr, v, -1, 0, 0, false);
        }
        this.setX(rd, old);
        return null;
      }
      case Op.MUL: this.setX(rd, this.bin(W.i64_mul, this.x(rs1), this.x(rs2))); return null;
      case Op.MULH: this.setX(rd, this.push(K.MULH, MULH_SS, this.x(rs1), this.x(rs2), -1, 0, 0, true)); return null;
      case Op.MULHSU: this.setX(rd, this.push(K.MULH, MULH_SU, this.x(rs1), this.x(rs2), -1, 0, 0, true)); return null;
      case Op.MULHU: this.setX(rd, this.push(K.MULH, MULH_UU, this.x(rs1), this.x(rs2), -1, 0, 0, true)); return null;
      case Op.MULW: this.setX(rd, this.bin32(W.i32_mul, this.x(rs1), this.x(rs2))); return null;
      case Op.DIV: case Op.DIVU: case Op.REM: case Op.REMU:
        this.setX(rd, this.push(K.DIV, [DIV_S, DIV_U, REM_S, REM_U][d.op - Op.DIV], this.x(rs1), this.x(rs2), -1, 64, 0, true));
        return null;
      case Op.DIVW: case Op.DIVUW: case Op.REMW: case Op.REMUW:
        this.setX(rd, this.push(K.DIV, [DIV_S, DIV_U, REM_S, REM_U][d.op - Op.DIVW], this.x(rs1), this.x(rs2), -1, 32, 0, true));
        return null;
      case Op.FLW:
        this.setF(rd, this.bin(W.i64_or, this.load(W.i64_load32_u, 4, d), this.c(0, -1)));
        return null;
      case Op.FLD:
        this.setF(rd, this.load(W.i64_load, 8, d));
        return null;
      case Op.FSW:
        this.store(W.i64_store32, 4, d, this.f(rs2));
        return null;
      case Op.FSD:
        this.store(W.i64_store, 8, d, this.f(rs2));
        return null;
      case Op.FMV_X_D:
        this.setX(rd, this.f(rs1));
        return null;
      case Op.FMV_D_X:
        this.setF(rd, this.x(rs1));
        return null;
      case Op.FMV_X_W:
        this.setX(rd, this.bin32(W.i32_add, this.f(rs1), this.c(0)));
        return null;
      case Op.FMV_W_X:
        this.setF(rd, this.bin(W.i64_or, this.bin(W.i64_and, this.x(rs1), this.c(-1, 0)), this.c(0, -1)));
        return null;
      case Op.FSGNJ_D:
      case Op.FSGNJN_D:
      case Op.FSGNJX_D: {
        const a = this.f(rs1);
        const b = this.f(rs2);
        const sign = this.c(0, 0x80000000 | 0);
        let r: number;
        if (d.op === Op.FSGNJX_D) r = this.bin(W.i64_xor, a, this.bin(W.i64_and, b, sign));
        else {
          const s = d.op === Op.FSGNJ_D ? this.bin(W.i64_and, b, sign) : this.bin(W.i64_and, this.bin(W.i64_xor, b, this.c(-1)), sign);
          r = this.bin(W.i64_or, this.bin(W.i64_and, a, this.c(-1, 0x7fffffff)), s);
        }
        this.setF(rd, r);
        return null;
      }
    }
    if (d.op >= Op.LR_W && d.op <= Op.AMOMAXU_D) {
      this.interp(d, d.op === Op.LR_W || d.op === Op.LR_D ? [[0, rs1]] : [[0, rs1], [0, rs2]], [[0, rd]]);
      return null;
    }
    if (d.op >= Op.FMADD_S && d.op <= Op.FMV_D_X) {
      this.fp(d);
      return null;
    }
    // Anything else is left to the interpreter, which raises the right fault.
    this.unit.pcs.pop();
    this.block.count--;
    return { k: 'interp', pc };
  }

  private fp(d: Decoded): void {
    const n = fpSources(d.op);
    const readsInt = fpReadsInt(d.op);
    const writesInt = writesIntRd(d.op);
    if (!FP_INLINE.has(d.op)) {
      const reads: Array<[0 | 1, number]> = readsInt ? [[0, d.rs1]] : [[1, d.rs1]];
      if (n >= 2) reads.push([1, d.rs2]);
      if (n >= 3) reads.push([1, d.rs3]);
      this.interp(d, reads, [[writesInt ? 0 : 1, d.rd]]);
      return;
    }
    const a = readsInt ? this.x(d.rs1) : this.f(d.rs1);
    const b = n >= 2 ? this.f(d.rs2) : -1;
    const c = n >= 3 ? this.f(d.rs3) : -1;
    const dst = this.unit.newValue();
    const i = new Inst(K.FP, d.op, dst, a, b, c, d.rm, 0, this.gi);
    i.ins = { ...d };
    this.block.insts.push(i);
    if (writesInt) this.setX(d.rd, dst);
    else this.setF(d.rd, dst);
  }
}
