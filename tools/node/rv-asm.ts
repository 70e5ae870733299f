// A small RISC-V assembler and ELF writer for tests: enough of RV64GC to build guest
// programs from code (the differential fuzzer's random instruction sequences, tests
// of faults and self-modifying code) without a cross compiler. Instructions are
// encoded by format; labels may be used before they are bound (branches and jal are
// patched when the program is finished).

export type Reg = number;

/** Refuses an immediate that the field cannot hold (it would silently wrap). */
function imm12(imm: number): number {
  if (!Number.isInteger(imm) || imm < -2048 || imm > 2047) throw new RangeError(`immediate ${imm} does not fit 12 signed bits`);
  return imm;
}

const enc = {
  r: (f7: number, rs2: Reg, rs1: Reg, f3: number, rd: Reg, op: number) => ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0,
  i: (imm: number, rs1: Reg, f3: number, rd: Reg, op: number) => (((imm12(imm) & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0,
  s: (imm: number, rs2: Reg, rs1: Reg, f3: number, op: number) => ((((imm12(imm) >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | op) >>> 0,
  b: (imm: number, rs2: Reg, rs1: Reg, f3: number) =>
    ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63) >>> 0,
  u: (imm: number, rd: Reg, op: number) => ((imm & 0xfffff000) | (rd << 7) | op) >>> 0,
  j: (imm: number, rd: Reg) => ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f) >>> 0,
};

/** Funct3 of the integer register-register and register-immediate operations. */
export const ALU = { add: 0, sll: 1, slt: 2, sltu: 3, xor: 4, srl: 5, or: 6, and: 7 } as const;

export class Assembler {
  private readonly half: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Array<{ at: number; label: string; kind: 'b' | 'j' }> = [];

  constructor(readonly base: number) {}

  /** Address of the next instruction. */
  get pc(): number {
    return this.base + this.half.length * 2;
  }

  label(name: string): void {
    this.labels.set(name, this.pc);
  }

  /** Emits a raw 32-bit instruction. */
  word(w: number): void {
    this.half.push(w & 0xffff, (w >>> 16) & 0xffff);
  }

  /** Emits a raw 16-bit (compressed) instruction. */
  hw(h: number): void {
    this.half.push(h & 0xffff);
  }

  // ---- RV64I ----
  lui(rd: Reg, imm20: number): void {
    this.word(enc.u(imm20 << 12, rd, 0x37));
  }
  auipc(rd: Reg, imm20: number): void {
    this.word(enc.u(imm20 << 12, rd, 0x17));
  }
  opImm(f3: number, rd: Reg, rs1: Reg, imm: number): void {
    this.word(enc.i(imm, rs1, f3, rd, 0x13));
  }
  addi(rd: Reg, rs1: Reg, imm: number): void {
    this.opImm(0, rd, rs1, imm);
  }
  shiftImm(kind: 'slli' | 'srli' | 'srai', rd: Reg, rs1: Reg, sh: number): void {
    this.word(enc.i((kind === 'srai' ? 0x400 : 0) | (sh & 63), rs1, kind === 'slli' ? 1 : 5, rd, 0x13));
  }
  op(f7: number, f3: number, rd: Reg, rs1: Reg, rs2: Reg): void {
    this.word(enc.r(f7, rs2, rs1, f3, rd, 0x33));
  }
  opW(f7: number, f3: number, rd: Reg, rs1: Reg, rs2: Reg): void {
    this.word(enc.r(f7, rs2, rs1, f3, rd, 0x3b));
  }
  opImmW(f3: number, f7: number, rd: Reg, rs1: Reg, imm: number): void {
    this.word(f3 === 0 ? enc.i(imm, rs1, 0, rd, 0x1b) : enc.r(f7, imm & 31, rs1, f3, rd, 0x1b));
  }
  load(f3: number, rd: Reg, rs1: Reg, off: number): void {
    this.word(enc.i(off, rs1, f3, rd, 0x03));
  }
  store(f3: number, rs2: Reg, rs1: Reg, off: number): void {
    this.word(enc.s(off, rs2, rs1, f3, 0x23));
  }
  branch(f3: number, rs1: Reg, rs2: Reg, label: string): void {
    this.fixups.push({ at: this.half.length, label, kind: 'b' });
    this.word(enc.b(0, rs2, rs1, f3));
  }
  jal(rd: Reg, label: string): void {
    this.fixups.push({ at: this.half.length, label, kind: 'j' });
    this.word(enc.j(0, rd));
  }
  jalr(rd: Reg, rs1: Reg, off: number): void {
    this.word(enc.i(off, rs1, 0, rd, 0x67));
  }
  ecall(): void {
    this.word(0x00000073);
  }
  fenceI(): void {
    this.word(0x0000100f);
  }
  csr(f3: number, rd: Reg, csr: number, rs1OrImm: number): void {
    this.word(enc.i((csr << 20) >> 20, rs1OrImm, f3, rd, 0x73));
  }
  /** An AMO (funct5) or LR/SC of width 2 (word) or 3 (double). */
  amo(f5: number, width: 2 | 3, rd: Reg, rs1: Reg, rs2: Reg): void {
    this.word(enc.r(f5 << 2, rs2, rs1, width, rd, 0x2f));
  }

  // ---- F and D ----
  fload(width: 2 | 3, rd: Reg, rs1: Reg, off: number): void {
    this.word(enc.i(off, rs1, width, rd, 0x07));
  }
  fstore(width: 2 | 3, rs2: Reg, rs1: Reg, off: number): void {
    this.word(enc.s(off, rs2, rs1, width, 0x27));
  }
  /** An OP-FP instruction: funct7, rs2 field, rm/funct3. */
  fop(f7: number, rd: Reg, rs1: Reg, rs2: Reg, rm: number): void {
    this.word(enc.r(f7, rs2, rs1, rm, rd, 0x53));
  }
  /** fmadd/fmsub/fnmsub/fnmadd (k 0..3), fmt 0 single, 1 double. */
  fma(k: number, fmt: number, rd: Reg, rs1: Reg, rs2: Reg, rs3: Reg, rm: number): void {
    this.word(((rs3 << 27) | (fmt << 25) | (rs2 << 20) | (rs1 << 15) | (rm << 12) | (rd << 7) | (0x43 + 4 * k)) >>> 0);
  }

  // ---- C (full-register forms only) ----
  cAddi(rd: Reg, imm: number): void {
    this.hw((0 << 13) | (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 0x1f) << 2) | 1);
  }
  cLi(rd: Reg, imm: number): void {
    this.hw((2 << 13) | (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 0x1f) << 2) | 1);
  }
  cMv(rd: Reg, rs2: Reg): void {
    this.hw((0x8 << 12) | (rd << 7) | (rs2 << 2) | 2);
  }
  cAdd(rd: Reg, rs2: Reg): void {
    this.hw((0x9 << 12) | (rd << 7) | (rs2 << 2) | 2);
  }
  cSlli(rd: Reg, sh: number): void {
    this.hw((((sh >> 5) & 1) << 12) | (rd << 7) | ((sh & 0x1f) << 2) | 2);
  }

  /** The machine code, with branches and jumps resolved. */
  finish(): Uint8Array {
    for (const f of this.fixups) {
      const target = this.labels.get(f.label);
      if (target === undefined) throw new Error(`undefined label ${f.label}`);
      const at = this.base + f.at * 2;
      const old = (this.half[f.at] | (this.half[f.at + 1] << 16)) >>> 0;
      const off = target - at;
      let w: number;
      if (f.kind === 'b') {
        if (off < -4096 || off >= 4096) throw new Error(`branch to ${f.label} out of range`);
        w = enc.b(off, (old >>> 20) & 31, (old >>> 15) & 31, (old >>> 12) & 7);
      } else {
        if (off < -(1 << 20) || off >= 1 << 20) throw new Error(`jump to ${f.label} out of range`);
        w = enc.j(off, (old >>> 7) & 31);
      }
      this.half[f.at] = w & 0xffff;
      this.half[f.at + 1] = w >>> 16;
    }
    const out = new Uint8Array(this.half.length * 2);
    this.half.forEach((h, i) => {
      out[2 * i] = h & 0xff;
      out[2 * i + 1] = h >>> 8;
    });
    return out;
  }
}

export interface Segment {
  readonly vaddr: number;
  readonly bytes: Uint8Array;
  /** PF_R 4, PF_W 2, PF_X 1. */
  readonly flags: number;
  /** Bytes in memory (≥ bytes.length; the rest is zero). */
  readonly memsz?: number;
}

/** A static, non-PIE RISC-V ELF executable of the given segments. */
export function elf(entry: number, segments: readonly Segment[]): Uint8Array {
  const headerBytes = 64 + 56 * segments.length;
  const offsets: number[] = [];
  let off = Math.ceil(headerBytes / 4096) * 4096;
  for (const s of segments) {
    // File offset and address must agree modulo the page size.
    off += ((s.vaddr % 4096) - (off % 4096) + 4096) % 4096;
    offsets.push(off);
    off += s.bytes.length;
  }
  const out = new Uint8Array(off);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 243, true); // EM_RISCV
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(entry), true);
  dv.setBigUint64(32, 64n, true);
  dv.setUint32(48, 0x5, true); // RVC, double-float ABI
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, segments.length, true);
  segments.forEach((s, i) => {
    const o = 64 + 56 * i;
    dv.setUint32(o, 1, true); // PT_LOAD
    dv.setUint32(o + 4, s.flags, true);
    dv.setBigUint64(o + 8, BigInt(offsets[i]), true);
    dv.setBigUint64(o + 16, BigInt(s.vaddr), true);
    dv.setBigUint64(o + 24, BigInt(s.vaddr), true);
    dv.setBigUint64(o + 32, BigInt(s.bytes.length), true);
    dv.setBigUint64(o + 40, BigInt(s.memsz ?? s.bytes.length), true);
    dv.setBigUint64(o + 48, 4096n, true);
    out.set(s.bytes, offsets[i]);
  });
  return out;
}
