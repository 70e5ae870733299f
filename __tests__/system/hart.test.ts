// The privileged hart on its own: a few instructions placed in RAM and run in machine
// mode, checking the CSR behaviours Linux and OpenSBI rely on that the bare-metal
// programs do not print (QEMU implements a different set of optional extensions).
import { Bus } from '../../core/models/riscv/system/bus';
import * as decoderModule from '../../core/models/riscv/decoder';
import { PRIV_OPS_BASE, PrivilegedHart, RAM_BASE } from '../../core/models/riscv/system/hart';

/** csrrw rd, csr, rs1 and csrrs rd, csr, rs1 encodings. */
const csrrw = (rd: number, csr: number, rs1: number) => ((csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73) >>> 0;
const csrrs = (rd: number, csr: number, rs1: number) => ((csr << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x73) >>> 0;
const ECALL = 0x00000073;

function hartWith(words: number[]): PrivilegedHart {
  const h = new PrivilegedHart(1 << 20, new Bus(), { mtime: () => 0 });
  words.forEach((w, i) => new DataView(h.ram.buffer).setUint32(4 * i, w, true));
  h.pc = RAM_BASE;
  // The trap vector: a loop at RAM_BASE + 0x800.
  h.setReg(31, RAM_BASE + 0x800);
  h.run(1); // csrw mtvec, t6 is the first word of every program below
  return h;
}

it('leaves satp unchanged when software writes a reserved mode (Linux probes modes this way)', () => {
  // Mutation that breaks it (checked): accepting every mode value in satp.
  const reserved = (11n << 60n) | 0x80123n;
  const sv39 = (8n << 60n) | 0x80042n;
  const h = hartWith([csrrw(0, 0x305, 31), csrrw(0, 0x180, 5), csrrs(6, 0x180, 0), csrrw(0, 0x180, 7), csrrs(28, 0x180, 0), ECALL]);
  h.setReg(5, sv39);
  h.setReg(7, reserved);
  h.run(4);
  expect(h.reg(6)).toBe(sv39);
  expect(h.reg(28)).toBe(sv39);
  expect(h.satpMode).toBe(8);
});

it('raises illegal-instruction with the instruction in mtval for a CSR it does not implement', () => {
  // Mutation that breaks it (checked): reading unknown CSRs as zero.
  const probe = csrrs(10, 0x7c0, 0);
  const h = hartWith([csrrw(0, 0x305, 31), probe, ECALL]);
  h.run(1);
  expect(h.pc).toBe(RAM_BASE + 0x800);
  expect(h.csr(0x342)).toBe(2n);
  expect(h.csr(0x343)).toBe(BigInt(probe));
  expect(h.csr(0x341)).toBe(BigInt(RAM_BASE + 4));
});

it('marks the FP state Dirty (and SD) on an FP register write, and makes FP illegal while FS is Off', () => {
  // Mutation that breaks it (checked): FP operations not setting FS Dirty.
  const fmvDX = 0xf2000053; // fmv.d.x ft0, zero
  const h = hartWith([csrrw(0, 0x305, 31), fmvDX, csrrw(0, 0x300, 5), fmvDX, csrrs(6, 0x300, 0), ECALL]);
  h.run(1);
  expect(h.csr(0x342)).toBe(2n); // FS Off at reset: illegal
  h.pc = RAM_BASE + 8;
  h.setReg(5, 1n << 13n); // FS Initial
  h.run(3);
  expect((h.reg(6) >> 13n) & 3n).toBe(3n);
  expect(h.reg(6) >> 63n).toBe(1n);
});

it("numbers its privileged operations after the decoder's, whose numbers it copies", () => {
  // The hart keeps its own copy of the decoder's operation numbers (as the interpreter
  // does); if the decoder gains an operation, the copies part and this fails.
  const decoderOps = (decoderModule as unknown as { Op: Record<string, number> }).Op;
  expect(PRIV_OPS_BASE).toBe(decoderOps.COUNT);
});
