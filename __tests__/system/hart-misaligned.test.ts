// Misaligned accesses on the privileged hart, as QEMU's virt board performs them:
// ordinary loads and stores to RAM are done in hardware (no trap), also across a page
// boundary, where a fault names the first byte past it; LR, SC and AMOs need natural
// alignment (LR traps as a misaligned load, AMOs as a misaligned store/AMO), and SC
// compares its address with the reservation first, failing without any access when it
// cannot match. Machine-mode programs, no translation; traps land at mtvec.
import { Bus } from '../../core/models/riscv/system/bus';
import { PrivilegedHart, RAM_BASE } from '../../core/models/riscv/system/hart';

const csrrw = (rd: number, csr: number, rs1: number) => ((csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73) >>> 0;
const ld = (rd: number, rs1: number, imm: number) => (((imm & 0xfff) << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x03) >>> 0;
const sd = (rs2: number, rs1: number, imm: number) => ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (3 << 12) | ((imm & 31) << 7) | 0x23) >>> 0;
/** An A-extension instruction: funct5, width (2 = .w, 3 = .d). */
const amo = (funct5: number, width: number, rd: number, rs1: number, rs2: number) => ((funct5 << 27) | (rs2 << 20) | (rs1 << 15) | (width << 12) | (rd << 7) | 0x2f) >>> 0;
const LR = 0x02, SC = 0x03, AMOADD = 0x00;

const RAM = 1 << 20;
const M_TRAP = RAM_BASE + 0x800;

function machineHart(program: number[]): PrivilegedHart {
  const h = new PrivilegedHart(RAM, new Bus(), { mtime: () => 0 });
  [csrrw(0, 0x305, 31), ...program].forEach((w, i) => new DataView(h.ram.buffer).setUint32(4 * i, w, true));
  h.pc = RAM_BASE;
  h.setReg(31, M_TRAP);
  h.run(1);
  return h;
}

it('performs misaligned loads and stores to RAM without a trap, within a page and across one', () => {
  // Mutation that breaks it (checked): raising load/store address-misaligned for any
  // address not aligned to the access size.
  const h = machineHart([sd(5, 6, 0), ld(7, 6, 0), sd(5, 8, 0), ld(9, 8, 0)]);
  h.setReg(5, 0x0123_4567_89ab_cdefn);
  h.setReg(6, RAM_BASE + 0x2003); // within a page
  h.setReg(8, RAM_BASE + 0x2ffd); // crossing into the next page
  h.run(4);
  expect(h.traps).toBe(0);
  expect(h.reg(7)).toBe(0x0123_4567_89ab_cdefn);
  expect(h.reg(9)).toBe(0x0123_4567_89ab_cdefn);
  expect(new DataView(h.ram.buffer).getBigUint64(0x2ffd, true)).toBe(0x0123_4567_89ab_cdefn);
});

it('reports a misaligned load running off the end of RAM with the first byte past it in mtval', () => {
  // Mutation that breaks it (checked): the access fault of a page-crossing load naming
  // the load's own address.
  const h = machineHart([ld(7, 6, 0)]);
  h.setReg(6, RAM_BASE + RAM - 3);
  h.run(1);
  expect(h.csr(0x342)).toBe(5n); // load access fault
  expect(h.csr(0x343)).toBe(BigInt(RAM_BASE + RAM));
  expect(h.csr(0x341)).toBe(BigInt(RAM_BASE + 4));
});

it('traps a misaligned LR as a misaligned load and a misaligned AMO as a misaligned store/AMO, with the address', () => {
  // Mutation that breaks it (checked): AMOs performed at any alignment, as plain stores are.
  const h = machineHart([amo(LR, 3, 7, 6, 0)]);
  h.setReg(6, RAM_BASE + 0x2004);
  h.run(1);
  expect(h.csr(0x342)).toBe(4n);
  expect(h.csr(0x343)).toBe(BigInt(RAM_BASE + 0x2004));
  const a = machineHart([amo(AMOADD, 2, 7, 6, 5)]);
  a.setReg(6, RAM_BASE + 0x2002);
  a.run(1);
  expect(a.csr(0x342)).toBe(6n);
  expect(a.csr(0x343)).toBe(BigInt(RAM_BASE + 0x2002));
});

it('fails a misaligned SC, or one with no reservation, without an access or a trap', () => {
  // Mutation that breaks it (checked): SC checking alignment (and translating) before
  // comparing with the reservation.
  const h = machineHart([amo(LR, 3, 7, 6, 0), amo(SC, 3, 9, 8, 5), amo(SC, 3, 10, 6, 5), amo(SC, 3, 11, 12, 5)]);
  h.setReg(5, 0x55n);
  h.setReg(6, RAM_BASE + 0x2000);
  h.setReg(8, RAM_BASE + 0x2001); // misaligned, while a reservation is held
  h.setReg(12, 0x10n); // no reservation left, and nothing at this address
  h.run(4);
  expect(h.traps).toBe(0);
  expect(h.reg(9)).toBe(1n);
  expect(h.reg(10)).toBe(1n); // the failed SC dropped the reservation
  expect(h.reg(11)).toBe(1n);
  expect(new DataView(h.ram.buffer).getBigUint64(0x2000, true)).toBe(0n);
});
