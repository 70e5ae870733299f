// Sv57 on the privileged hart: five-level tables, and addresses the kernel uses under it
// (Linux's linear map starts at 0xff60_0000_0000_0000), far beyond what a double holds
// exactly. Small programs: machine mode sets up PMP and satp, then mret runs the test in
// supervisor mode; traps are not delegated, so they land in machine mode with exact
// mcause, mepc and mtval.
import { Bus } from '../../core/models/riscv/system/bus';
import { PrivilegedHart, RAM_BASE, SATP_SV39, SATP_SV48, SATP_SV57 } from '../../core/models/riscv/system/hart';
import { VirtMachine } from '../../core/models/riscv/system/machine';
import { nodeAt, prop, readDtb, strings } from '../core/models/riscv/system/dtb-reader';

const csrrw = (rd: number, csr: number, rs1: number) => ((csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73) >>> 0;
const csrrs = (rd: number, csr: number, rs1: number) => ((csr << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x73) >>> 0;
const load = (f3: number, rd: number, rs1: number, imm: number) => (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x03) >>> 0;
const store = (f3: number, rs2: number, rs1: number, imm: number) =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | 0x23) >>> 0;
const LD = 3, LB = 0, SD = 3;
const MRET = 0x30200073;
const SFENCE_VMA_ALL = 0x12000073;

/** The mapped high address of the tests and the physical page behind it. */
const HIGH = 0xff60_0000_1234_5678n;
const DATA_PAGE = BigInt(RAM_BASE + 0x40000);
const ROOT = RAM_BASE + 0x10000;
/** Where the supervisor program starts (identity-mapped with the rest of RAM). */
const S_CODE = RAM_BASE + 0x1000;
const M_TRAP = RAM_BASE + 0x800;

const pte = (ppn: bigint, flags: number) => (ppn << 10n) | BigInt(flags);
const V = 1, R = 2, W = 4, X = 8, A = 64, D = 128;

/** A hart whose RAM holds Sv57 tables mapping RAM 1:1 (a 1 GiB leaf) and HIGH's page to DATA_PAGE. */
function sv57Hart(sProgram: number[]): PrivilegedHart {
  const h = new PrivilegedHart(1 << 20, new Bus(), { mtime: () => 0 });
  h.maxSatpMode = SATP_SV57;
  const dv = new DataView(h.ram.buffer);
  const put64 = (pa: number, v: bigint) => dv.setBigUint64(pa - RAM_BASE, v, true);
  const idx = (va: bigint, level: number) => Number((va >> BigInt(12 + 9 * level)) & 511n);
  // Tables: root (level 4) at ROOT, then one page per level for each path.
  let next = ROOT + 0x1000;
  const table = () => ((next += 0x1000), next - 0x1000);
  const map = (va: bigint, leafLevel: number, ppn: bigint, flags: number) => {
    let t = ROOT;
    for (let level = 4; level > leafLevel; level--) {
      const slot = t + 8 * idx(va, level);
      const cur = dv.getBigUint64(slot - RAM_BASE, true);
      if ((cur & 1n) === 0n) put64(slot, pte(BigInt(table()) >> 12n, V));
      t = Number(dv.getBigUint64(slot - RAM_BASE, true) >> 10n) * 4096;
    }
    put64(t + 8 * idx(va, leafLevel), pte(ppn, flags));
  };
  map(BigInt(RAM_BASE), 2, BigInt(RAM_BASE) >> 12n, V | R | W | X | A | D);
  map(HIGH, 0, DATA_PAGE >> 12n, V | R | W | A | D);
  for (let i = 0; i < 4096; i++) h.ram[Number(DATA_PAGE) - RAM_BASE + i] = (i * 7 + 3) & 255;

  const mProgram = [
    csrrw(0, 0x305, 31), // mtvec
    csrrw(0, 0x3b0, 5), // pmpaddr0: everything
    csrrw(0, 0x3a0, 6), // pmpcfg0: NAPOT, RWX
    csrrw(0, 0x180, 7), // satp
    SFENCE_VMA_ALL,
    csrrw(0, 0x341, 8), // mepc
    csrrw(0, 0x300, 9), // mstatus: MPP = S
    MRET,
  ];
  mProgram.forEach((w, i) => dv.setUint32(4 * i, w, true));
  sProgram.forEach((w, i) => dv.setUint32(S_CODE - RAM_BASE + 4 * i, w, true));
  h.pc = RAM_BASE;
  h.setReg(31, M_TRAP);
  h.setReg(5, -1n);
  h.setReg(6, 0x1f);
  h.setReg(7, (10n << 60n) | (BigInt(ROOT) >> 12n));
  h.setReg(8, S_CODE);
  h.setReg(9, 1n << 11n);
  h.run(mProgram.length);
  return h;
}

/** The bytes of DATA_PAGE as laid down in sv57Hart, little-endian from offset o. */
function expected(o: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(((o + i) * 7 + 3) & 255);
  return v;
}

it('runs a five-level Sv57 walk, loading and storing the right bytes at 0xff60_0000_1234_5678 + 3', () => {
  // Mutation that breaks it (checked): the load's address taken as one double,
  // x[hi]·2^32 + x[lo] + imm, which rounds at this magnitude (to a multiple of 8).
  const h = sv57Hart([load(LD, 10, 11, 3), store(SD, 12, 11, 3 + 16), load(LD, 13, 11, 3 + 16), csrrs(14, 0x180, 0)]);
  expect(h.satpMode).toBe(10);
  expect(h.mode).toBe(1);
  h.setReg(11, HIGH);
  h.setReg(12, 0x1122_3344_5566_7788n);
  h.run(4);
  const o = Number(HIGH & 4095n) + 3;
  expect(h.reg(10)).toBe(expected(o, 8));
  expect(new DataView(h.ram.buffer).getBigUint64(Number(DATA_PAGE) - RAM_BASE + o + 16, true)).toBe(0x1122_3344_5566_7788n);
  expect(h.reg(13)).toBe(0x1122_3344_5566_7788n);
  expect(h.reg(14) >> 60n).toBe(10n);
  expect(h.traps).toBe(0);
});

it('faults on an address that is not canonical under Sv57, with the exact address in mtval', () => {
  // Mutation that breaks it (checked): the canonical check left out: bits 56..0 of this
  // address are HIGH's, so the walk would find the mapping and the load would succeed.
  const bad = HIGH ^ (1n << 63n); // 0x7f60_…: bit 56 set, bit 63 clear
  const h = sv57Hart([load(LB, 10, 11, 3)]);
  h.setReg(11, bad);
  h.run(1);
  expect(h.pc).toBe(M_TRAP);
  expect(h.csr(0x342)).toBe(13n); // load page fault
  expect(h.csr(0x343)).toBe(bad + 3n);
  expect(h.csr(0x341)).toBe(BigInt(S_CODE));
});

it("loads a mapped Sv57 page's last byte, and faults at the next page with the exact address in mtval", () => {
  // Mutation that breaks it (checked): load and store addresses taken as one double,
  // which rounds the last byte's address onto the next, unmapped page and the faulting
  // address down to the page's start.
  const pageEnd = HIGH | 4095n;
  const h = sv57Hart([load(LB, 10, 11, -2), store(SD, 12, 13, 3)]);
  h.setReg(11, pageEnd); // less 2: byte 4093, which a double rounds onto the next page
  h.setReg(13, pageEnd + 1n);
  h.run(2);
  expect(h.reg(10)).toBe(BigInt.asUintN(64, BigInt.asIntN(8, expected(4093, 1))));
  expect(h.csr(0x342)).toBe(15n); // store page fault
  expect(h.csr(0x343)).toBe(pageEnd + 4n);
  expect(h.csr(0x341)).toBe(BigInt(S_CODE + 4));
});

it('refuses Sv57 in satp when the hart offers at most Sv48 (as QEMU with sv57=off), keeping Sv48', () => {
  // Mutation that breaks it (checked): satp taking every mode up to Sv57 whatever the limit.
  const h = new PrivilegedHart(1 << 20, new Bus(), { mtime: () => 0 });
  h.maxSatpMode = SATP_SV48;
  [csrrw(0, 0x180, 5), csrrw(0, 0x180, 7), csrrs(6, 0x180, 0)].forEach((w, i) => new DataView(h.ram.buffer).setUint32(4 * i, w, true));
  h.pc = RAM_BASE;
  h.setReg(5, (9n << 60n) | 0x80042n);
  h.setReg(7, (10n << 60n) | 0x80042n);
  h.run(3);
  expect(h.reg(6)).toBe((9n << 60n) | 0x80042n);
  expect(h.satpMode).toBe(9);
});

it("offers Sv57 on the machine by default, and the widest mode --mmu allows, announced in the tree's mmu-type", () => {
  // Mutation that breaks it (checked): the machine leaving the hart's limit at Sv57 whatever `mmu` says.
  const announced = (m: VirtMachine) => {
    const blob = m.hart.ram.subarray(m.dtbAddress - RAM_BASE);
    return strings(prop(nodeAt(readDtb(blob).root, '/cpus/cpu@0'), 'mmu-type'));
  };
  const kernel = new Uint8Array(16);
  const byDefault = new VirtMachine({ kernel, console: () => {} });
  expect(byDefault.hart.maxSatpMode).toBe(SATP_SV57);
  expect(announced(byDefault)).toEqual(['riscv,sv57']);
  const sv39 = new VirtMachine({ kernel, mmu: 'sv39', console: () => {} });
  expect(sv39.hart.maxSatpMode).toBe(SATP_SV39);
  expect(announced(sv39)).toEqual(['riscv,sv39']);
});

it('takes a jump beyond 2^53 to an unmapped Sv57 page as a fetch page fault with the exact target in mepc and mtval', () => {
  // Mutation that breaks it (checked): mepc written from the pc, a double, which cannot
  // hold the target (it keeps the jump's own address).
  const jalr = (rd: number, rs1: number, imm: number) => (((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x67) >>> 0;
  const target = 0xff60_0000_0000_1002n; // canonical, not mapped, not a multiple of 4
  const h = sv57Hart([jalr(1, 11, 2)]);
  h.setReg(11, target - 2n);
  h.run(1);
  expect(h.pc).toBe(M_TRAP);
  expect(h.csr(0x342)).toBe(12n); // instruction page fault
  expect(h.csr(0x341)).toBe(target);
  expect(h.csr(0x343)).toBe(target);
  expect(h.reg(1)).toBe(BigInt(S_CODE + 4));
});
