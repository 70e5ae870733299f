// The RV64GC decoder: turns a 32-bit instruction, or a 16-bit compressed one expanded
// to its 32-bit equivalent, into an operation number and operand fields. The
// interpreter decodes with it into its per-page tables, and the translators' lifter
// decodes with it too, so every engine agrees on what an instruction means.
//
// `Op` is a const enum: TypeScript's transpilers inline its members as literals only
// within this file, so modules that switch on operation numbers in a hot loop (the
// interpreter) keep their own copy of it, checked against this one by a test.

/** Operation numbers. 0 means "not decoded yet" in the interpreter's tables. */
export const enum Op {
  NONE = 0,
  ILLEGAL,
  LUI, AUIPC, JAL, JALR,
  BEQ, BNE, BLT, BGE, BLTU, BGEU,
  LB, LH, LW, LD, LBU, LHU, LWU,
  SB, SH, SW, SD,
  ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
  ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
  ADDIW, SLLIW, SRLIW, SRAIW, ADDW, SUBW, SLLW, SRLW, SRAW,
  FENCE, FENCE_I, ECALL, EBREAK,
  CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI,
  MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU,
  MULW, DIVW, DIVUW, REMW, REMUW,
  LR_W, SC_W, AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W, AMOMIN_W, AMOMAX_W, AMOMINU_W, AMOMAXU_W,
  LR_D, SC_D, AMOSWAP_D, AMOADD_D, AMOXOR_D, AMOAND_D, AMOOR_D, AMOMIN_D, AMOMAX_D, AMOMINU_D, AMOMAXU_D,
  FLW, FSW, FLD, FSD,
  FMADD_S, FMSUB_S, FNMSUB_S, FNMADD_S, FMADD_D, FMSUB_D, FNMSUB_D, FNMADD_D,
  FADD_S, FSUB_S, FMUL_S, FDIV_S, FSQRT_S, FSGNJ_S, FSGNJN_S, FSGNJX_S, FMIN_S, FMAX_S,
  FCVT_W_S, FCVT_WU_S, FCVT_L_S, FCVT_LU_S, FMV_X_W, FEQ_S, FLT_S, FLE_S, FCLASS_S,
  FCVT_S_W, FCVT_S_WU, FCVT_S_L, FCVT_S_LU, FMV_W_X,
  FADD_D, FSUB_D, FMUL_D, FDIV_D, FSQRT_D, FSGNJ_D, FSGNJN_D, FSGNJX_D, FMIN_D, FMAX_D,
  FCVT_S_D, FCVT_D_S, FEQ_D, FLT_D, FLE_D, FCLASS_D,
  FCVT_W_D, FCVT_WU_D, FCVT_L_D, FCVT_LU_D, FMV_X_D,
  FCVT_D_W, FCVT_D_WU, FCVT_D_L, FCVT_D_LU, FMV_D_X,
  COUNT,
}

/** Decoded operands. `rm` holds the rounding mode of FP ops; `rs3` the third FMA operand. */
export interface Decoded {
  op: number;
  rd: number;
  rs1: number;
  rs2: number;
  rs3: number;
  rm: number;
  imm: number;
  /** 2 for compressed, 4 otherwise. */
  len: number;
}

export function newDecoded(): Decoded {
  return { op: Op.NONE, rd: 0, rs1: 0, rs2: 0, rs3: 0, rm: 0, imm: 0, len: 4 };
}

function set(d: Decoded, op: number, rd: number, rs1: number, rs2: number, imm: number): void {
  d.op = op;
  d.rd = rd;
  d.rs1 = rs1;
  d.rs2 = rs2;
  d.imm = imm | 0;
}

const LOADS = [Op.LB, Op.LH, Op.LW, Op.LD, Op.LBU, Op.LHU, Op.LWU, Op.ILLEGAL];
const STORES = [Op.SB, Op.SH, Op.SW, Op.SD];
const BRANCHES = [Op.BEQ, Op.BNE, Op.ILLEGAL, Op.ILLEGAL, Op.BLT, Op.BGE, Op.BLTU, Op.BGEU];
const AMO_W: Record<number, number> = {
  0x02: Op.LR_W, 0x03: Op.SC_W, 0x01: Op.AMOSWAP_W, 0x00: Op.AMOADD_W, 0x04: Op.AMOXOR_W, 0x0c: Op.AMOAND_W,
  0x08: Op.AMOOR_W, 0x10: Op.AMOMIN_W, 0x14: Op.AMOMAX_W, 0x18: Op.AMOMINU_W, 0x1c: Op.AMOMAXU_W,
};

/** Decodes a 32-bit instruction into `d` (len 4). */
export function decode32(inst: number, d: Decoded): void {
  d.len = 4;
  d.rs3 = 0;
  d.rm = 0;
  const opcode = inst & 0x7f;
  const rd = (inst >>> 7) & 31;
  const f3 = (inst >>> 12) & 7;
  const rs1 = (inst >>> 15) & 31;
  const rs2 = (inst >>> 20) & 31;
  const f7 = inst >>> 25;
  const immI = inst >> 20;
  const immS = ((inst >> 25) << 5) | ((inst >>> 7) & 0x1f);
  set(d, Op.ILLEGAL, 0, 0, 0, 0);
  switch (opcode) {
    case 0x37:
      return set(d, Op.LUI, rd, 0, 0, inst & 0xfffff000);
    case 0x17:
      return set(d, Op.AUIPC, rd, 0, 0, inst & 0xfffff000);
    case 0x6f: {
      const imm = ((inst >> 31) << 20) | (((inst >>> 12) & 0xff) << 12) | (((inst >>> 20) & 1) << 11) | (((inst >>> 21) & 0x3ff) << 1);
      return set(d, Op.JAL, rd, 0, 0, imm);
    }
    case 0x67:
      if (f3 === 0) set(d, Op.JALR, rd, rs1, 0, immI);
      return;
    case 0x63: {
      const imm = ((inst >> 31) << 12) | (((inst >>> 7) & 1) << 11) | (((inst >>> 25) & 0x3f) << 5) | (((inst >>> 8) & 0xf) << 1);
      return set(d, BRANCHES[f3], 0, rs1, rs2, imm);
    }
    case 0x03:
      return set(d, LOADS[f3], rd, rs1, 0, immI);
    case 0x23:
      if (f3 < 4) set(d, STORES[f3], 0, rs1, rs2, immS);
      return;
    case 0x13:
      switch (f3) {
        case 0:
          return set(d, Op.ADDI, rd, rs1, 0, immI);
        case 2:
          return set(d, Op.SLTI, rd, rs1, 0, immI);
        case 3:
          return set(d, Op.SLTIU, rd, rs1, 0, immI);
        case 4:
          return set(d, Op.XORI, rd, rs1, 0, immI);
        case 6:
          return set(d, Op.ORI, rd, rs1, 0, immI);
        case 7:
          return set(d, Op.ANDI, rd, rs1, 0, immI);
        case 1:
          if (inst >>> 26 === 0) set(d, Op.SLLI, rd, rs1, 0, (inst >>> 20) & 63);
          return;
        case 5:
          if (inst >>> 26 === 0) set(d, Op.SRLI, rd, rs1, 0, (inst >>> 20) & 63);
          else if (inst >>> 26 === 0x10) set(d, Op.SRAI, rd, rs1, 0, (inst >>> 20) & 63);
          return;
      }
      return;
    case 0x1b:
      if (f3 === 0) set(d, Op.ADDIW, rd, rs1, 0, immI);
      else if (f3 === 1 && f7 === 0) set(d, Op.SLLIW, rd, rs1, 0, rs2);
      else if (f3 === 5 && f7 === 0) set(d, Op.SRLIW, rd, rs1, 0, rs2);
      else if (f3 === 5 && f7 === 0x20) set(d, Op.SRAIW, rd, rs1, 0, rs2);
      return;
    case 0x33: {
      let op: number = Op.ILLEGAL;
      if (f7 === 0) op = [Op.ADD, Op.SLL, Op.SLT, Op.SLTU, Op.XOR, Op.SRL, Op.OR, Op.AND][f3];
      else if (f7 === 0x20) op = f3 === 0 ? Op.SUB : f3 === 5 ? Op.SRA : Op.ILLEGAL;
      else if (f7 === 1) op = [Op.MUL, Op.MULH, Op.MULHSU, Op.MULHU, Op.DIV, Op.DIVU, Op.REM, Op.REMU][f3];
      return set(d, op, rd, rs1, rs2, 0);
    }
    case 0x3b: {
      let op: number = Op.ILLEGAL;
      if (f7 === 0) op = f3 === 0 ? Op.ADDW : f3 === 1 ? Op.SLLW : f3 === 5 ? Op.SRLW : Op.ILLEGAL;
      else if (f7 === 0x20) op = f3 === 0 ? Op.SUBW : f3 === 5 ? Op.SRAW : Op.ILLEGAL;
      else if (f7 === 1) op = [Op.MULW, Op.ILLEGAL, Op.ILLEGAL, Op.ILLEGAL, Op.DIVW, Op.DIVUW, Op.REMW, Op.REMUW][f3];
      return set(d, op, rd, rs1, rs2, 0);
    }
    case 0x0f:
      if (f3 === 0) set(d, Op.FENCE, 0, 0, 0, 0);
      else if (f3 === 1) set(d, Op.FENCE_I, 0, 0, 0, 0);
      return;
    case 0x73:
      if (f3 === 0) {
        if (inst === 0x00000073) set(d, Op.ECALL, 0, 0, 0, 0);
        else if (inst === 0x00100073) set(d, Op.EBREAK, 0, 0, 0, 0);
        return;
      }
      if (f3 === 4) return;
      return set(d, [0, Op.CSRRW, Op.CSRRS, Op.CSRRC, 0, Op.CSRRWI, Op.CSRRSI, Op.CSRRCI][f3], rd, rs1, 0, (inst >>> 20) & 0xfff);
    case 0x2f: {
      const f5 = inst >>> 27;
      const base = AMO_W[f5];
      if (base === undefined || (f3 !== 2 && f3 !== 3)) return;
      if ((f5 === 0x02) && rs2 !== 0) return;
      return set(d, f3 === 2 ? base : base + (Op.LR_D - Op.LR_W), rd, rs1, rs2, 0);
    }
    case 0x07:
      if (f3 === 2) set(d, Op.FLW, rd, rs1, 0, immI);
      else if (f3 === 3) set(d, Op.FLD, rd, rs1, 0, immI);
      return;
    case 0x27:
      if (f3 === 2) set(d, Op.FSW, 0, rs1, rs2, immS);
      else if (f3 === 3) set(d, Op.FSD, 0, rs1, rs2, immS);
      return;
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: {
      const fmt = (inst >>> 25) & 3;
      if (fmt > 1) return;
      const k = (opcode - 0x43) >>> 2;
      set(d, (fmt === 0 ? Op.FMADD_S : Op.FMADD_D) + k, rd, rs1, rs2, 0);
      d.rs3 = inst >>> 27;
      d.rm = f3;
      return;
    }
    case 0x53:
      decodeFp(inst, d, rd, rs1, rs2, f3, f7);
      return;
  }
}

function decodeFp(inst: number, d: Decoded, rd: number, rs1: number, rs2: number, f3: number, f7: number): void {
  const fp = (op: number) => {
    set(d, op, rd, rs1, rs2, 0);
    d.rm = f3;
  };
  switch (f7) {
    case 0x00: return fp(Op.FADD_S);
    case 0x04: return fp(Op.FSUB_S);
    case 0x08: return fp(Op.FMUL_S);
    case 0x0c: return fp(Op.FDIV_S);
    case 0x01: return fp(Op.FADD_D);
    case 0x05: return fp(Op.FSUB_D);
    case 0x09: return fp(Op.FMUL_D);
    case 0x0d: return fp(Op.FDIV_D);
    case 0x2c: if (rs2 === 0) fp(Op.FSQRT_S); return;
    case 0x2d: if (rs2 === 0) fp(Op.FSQRT_D); return;
    case 0x10: if (f3 < 3) fp(Op.FSGNJ_S + f3); return;
    case 0x11: if (f3 < 3) fp(Op.FSGNJ_D + f3); return;
    case 0x14: if (f3 < 2) fp(Op.FMIN_S + f3); return;
    case 0x15: if (f3 < 2) fp(Op.FMIN_D + f3); return;
    case 0x20: if (rs2 === 1) fp(Op.FCVT_S_D); return;
    case 0x21: if (rs2 === 0) fp(Op.FCVT_D_S); return;
    case 0x50: if (f3 < 3) fp([Op.FLE_S, Op.FLT_S, Op.FEQ_S][f3]); return;
    case 0x51: if (f3 < 3) fp([Op.FLE_D, Op.FLT_D, Op.FEQ_D][f3]); return;
    case 0x60: if (rs2 < 4) fp(Op.FCVT_W_S + rs2); return;
    case 0x61: if (rs2 < 4) fp(Op.FCVT_W_D + rs2); return;
    case 0x68: if (rs2 < 4) fp(Op.FCVT_S_W + rs2); return;
    case 0x69: if (rs2 < 4) fp(Op.FCVT_D_W + rs2); return;
    case 0x70:
      if (rs2 === 0 && f3 === 0) fp(Op.FMV_X_W);
      else if (rs2 === 0 && f3 === 1) fp(Op.FCLASS_S);
      return;
    case 0x71:
      if (rs2 === 0 && f3 === 0) fp(Op.FMV_X_D);
      else if (rs2 === 0 && f3 === 1) fp(Op.FCLASS_D);
      return;
    case 0x78: if (rs2 === 0 && f3 === 0) fp(Op.FMV_W_X); return;
    case 0x79: if (rs2 === 0 && f3 === 0) fp(Op.FMV_D_X); return;
  }
  void inst;
}

const sext = (x: number, bits: number) => (x << (32 - bits)) >> (32 - bits);

/** Decodes a 16-bit compressed instruction into its 32-bit equivalent's fields (len 2). */
export function decode16(i: number, d: Decoded): void {
  set(d, Op.ILLEGAL, 0, 0, 0, 0);
  d.rs3 = 0;
  d.rm = 0;
  d.len = 2;
  const quadrant = i & 3;
  const f3 = (i >>> 13) & 7;
  const rdp = 8 + ((i >>> 2) & 7);
  const rs1p = 8 + ((i >>> 7) & 7);
  const rd = (i >>> 7) & 31;
  const rs2 = (i >>> 2) & 31;
  const imm6 = sext(((i >>> 7) & 0x20) | ((i >>> 2) & 0x1f), 6);
  if (quadrant === 0) {
    const uimmD = ((i >>> 7) & 0x38) | ((i << 1) & 0xc0);
    const uimmW = ((i >>> 7) & 0x38) | ((i >>> 4) & 4) | ((i << 1) & 0x40);
    switch (f3) {
      case 0: {
        const nz = ((i >>> 7) & 0x30) | ((i >>> 1) & 0x3c0) | ((i >>> 4) & 4) | ((i >>> 2) & 8);
        if (nz !== 0) set(d, Op.ADDI, rdp, 2, 0, nz);
        return;
      }
      case 1: return set(d, Op.FLD, rdp, rs1p, 0, uimmD);
      case 2: return set(d, Op.LW, rdp, rs1p, 0, uimmW);
      case 3: return set(d, Op.LD, rdp, rs1p, 0, uimmD);
      case 5: return set(d, Op.FSD, 0, rs1p, rdp, uimmD);
      case 6: return set(d, Op.SW, 0, rs1p, rdp, uimmW);
      case 7: return set(d, Op.SD, 0, rs1p, rdp, uimmD);
    }
    return;
  }
  if (quadrant === 1) {
    switch (f3) {
      case 0: return set(d, Op.ADDI, rd, rd, 0, imm6);
      case 1: if (rd !== 0) set(d, Op.ADDIW, rd, rd, 0, imm6); return;
      case 2: return set(d, Op.ADDI, rd, 0, 0, imm6);
      case 3:
        if (rd === 2) {
          const nz = sext(((i >>> 3) & 0x200) | ((i >>> 2) & 0x10) | ((i << 1) & 0x40) | ((i << 4) & 0x180) | ((i << 3) & 0x20), 10);
          if (nz !== 0) set(d, Op.ADDI, 2, 2, 0, nz);
        } else if (imm6 !== 0) set(d, Op.LUI, rd, 0, 0, imm6 << 12);
        return;
      case 4: {
        const f2 = (i >>> 10) & 3;
        const shamt = ((i >>> 7) & 0x20) | ((i >>> 2) & 0x1f);
        if (f2 === 0) return set(d, Op.SRLI, rs1p, rs1p, 0, shamt);
        if (f2 === 1) return set(d, Op.SRAI, rs1p, rs1p, 0, shamt);
        if (f2 === 2) return set(d, Op.ANDI, rs1p, rs1p, 0, imm6);
        const r2 = 8 + ((i >>> 2) & 7);
        const g = (i >>> 5) & 3;
        if ((i >>> 12) & 1) {
          if (g === 0) set(d, Op.SUBW, rs1p, rs1p, r2, 0);
          else if (g === 1) set(d, Op.ADDW, rs1p, rs1p, r2, 0);
        } else set(d, [Op.SUB, Op.XOR, Op.OR, Op.AND][g], rs1p, rs1p, r2, 0);
        return;
      }
      case 5: {
        const off = sext(((i >>> 1) & 0x800) | ((i >>> 7) & 0x10) | ((i >>> 1) & 0x300) | ((i << 2) & 0x400) | ((i >>> 1) & 0x40) | ((i << 1) & 0x80) | ((i >>> 2) & 0xe) | ((i << 3) & 0x20), 12);
        return set(d, Op.JAL, 0, 0, 0, off);
      }
      case 6:
      case 7: {
        const off = sext(((i >>> 4) & 0x100) | ((i >>> 7) & 0x18) | ((i << 1) & 0xc0) | ((i >>> 2) & 6) | ((i << 3) & 0x20), 9);
        return set(d, f3 === 6 ? Op.BEQ : Op.BNE, 0, rs1p, 0, off);
      }
    }
    return;
  }
  if (quadrant === 2) {
    const uimmD = ((i >>> 7) & 0x20) | ((i >>> 2) & 0x18) | ((i << 4) & 0x1c0);
    const uimmW = ((i >>> 7) & 0x20) | ((i >>> 2) & 0x1c) | ((i << 4) & 0xc0);
    const suimmD = ((i >>> 7) & 0x38) | ((i >>> 1) & 0x1c0);
    const suimmW = ((i >>> 7) & 0x3c) | ((i >>> 1) & 0xc0);
    switch (f3) {
      case 0: return set(d, Op.SLLI, rd, rd, 0, ((i >>> 7) & 0x20) | rs2);
      case 1: return set(d, Op.FLD, rd, 2, 0, uimmD);
      case 2: if (rd !== 0) set(d, Op.LW, rd, 2, 0, uimmW); return;
      case 3: if (rd !== 0) set(d, Op.LD, rd, 2, 0, uimmD); return;
      case 4:
        if (((i >>> 12) & 1) === 0) {
          if (rs2 === 0) {
            if (rd !== 0) set(d, Op.JALR, 0, rd, 0, 0);
          } else set(d, Op.ADD, rd, 0, rs2, 0);
        } else if (rd === 0 && rs2 === 0) set(d, Op.EBREAK, 0, 0, 0, 0);
        else if (rs2 === 0) set(d, Op.JALR, 1, rd, 0, 0);
        else set(d, Op.ADD, rd, rd, rs2, 0);
        return;
      case 5: return set(d, Op.FSD, 0, 2, rs2, suimmD);
      case 6: return set(d, Op.SW, 0, 2, rs2, suimmW);
      case 7: return set(d, Op.SD, 0, 2, rs2, suimmD);
    }
  }
}

/** Does an FP op take a rounding mode (so that rm 5 and 6, or a dynamic frm above 4, are illegal)? */
export function usesRm(op: number): boolean {
  return (op >= Op.FMADD_S && op <= Op.FSQRT_S) || (op >= Op.FADD_D && op <= Op.FSQRT_D) ||
    (op >= Op.FCVT_W_S && op <= Op.FCVT_LU_S) || (op >= Op.FCVT_S_W && op <= Op.FCVT_S_LU) ||
    op === Op.FCVT_S_D || op === Op.FCVT_D_S || (op >= Op.FCVT_W_D && op <= Op.FCVT_LU_D) || (op >= Op.FCVT_D_W && op <= Op.FCVT_D_LU);
}

/** Does an FP op read its first operand from an integer register (conversions from integers, moves)? */
export function fpReadsInt(op: number): boolean {
  return (op >= Op.FCVT_S_W && op <= Op.FMV_W_X) || (op >= Op.FCVT_D_W && op <= Op.FMV_D_X);
}

/** Does op write an integer register rd (so rd = x0 must be discarded)? */
export function writesIntRd(op: number): boolean {
  if (op >= Op.LUI && op <= Op.JALR) return true;
  if (op >= Op.LB && op <= Op.LWU) return true;
  if (op >= Op.ADDI && op <= Op.SRAW) return true;
  if (op >= Op.CSRRW && op <= Op.CSRRCI) return true;
  if (op >= Op.MUL && op <= Op.AMOMAXU_D) return true;
  switch (op) {
    case Op.FCVT_W_S: case Op.FCVT_WU_S: case Op.FCVT_L_S: case Op.FCVT_LU_S: case Op.FMV_X_W:
    case Op.FEQ_S: case Op.FLT_S: case Op.FLE_S: case Op.FCLASS_S:
    case Op.FEQ_D: case Op.FLT_D: case Op.FLE_D: case Op.FCLASS_D:
    case Op.FCVT_W_D: case Op.FCVT_WU_D: case Op.FCVT_L_D: case Op.FCVT_LU_D: case Op.FMV_X_D:
      return true;
  }
  return false;
}
