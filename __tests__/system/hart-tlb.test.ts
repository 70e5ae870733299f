// What the privileged hart's TLBs may keep and what they must drop: a page whose PMP
// decision differs within it is not cached, and sfence.vma by address drops every 4 KiB
// slice of the superpage the address lies in. Small programs: machine mode sets PMP (and
// satp), then mret runs the test in supervisor mode; traps land in machine mode.
import { Bus } from '../../core/models/riscv/system/bus';
import { PrivilegedHart, RAM_BASE } from '../../core/models/riscv/system/hart';

const csrrw = (rd: number, csr: number, rs1: number) => ((csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73) >>> 0;
const ld = (rd: number, rs1: number, imm: number) => (((imm & 0xfff) << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x03) >>> 0;
const sfenceVma = (rs1: number, rs2: number) => ((0x09 << 25) | (rs2 << 20) | (rs1 << 15) | 0x73) >>> 0;
const MRET = 0x30200073;

const S_CODE = RAM_BASE + 0x1000;
const M_TRAP = RAM_BASE + 0x800;
const MiB = 1 << 20;

/**
 * A hart with 8 MiB of RAM that has run its machine-mode setup: pmpaddr0/1 and pmpcfg0
 * as given, satp, then mret to S_CODE in supervisor mode.
 */
function supervisorHart(pmp: { addr0: bigint; addr1: bigint; cfg0: bigint }, satp: bigint, sProgram: number[], setup?: (h: PrivilegedHart) => void): PrivilegedHart {
  const h = new PrivilegedHart(8 * MiB, new Bus(), { mtime: () => 0 });
  const dv = new DataView(h.ram.buffer);
  const mProgram = [csrrw(0, 0x305, 31), csrrw(0, 0x3b0, 5), csrrw(0, 0x3b1, 6), csrrw(0, 0x3a0, 7), csrrw(0, 0x180, 28), csrrw(0, 0x341, 8), csrrw(0, 0x300, 9), MRET];
  mProgram.forEach((w, i) => dv.setUint32(4 * i, w, true));
  sProgram.forEach((w, i) => dv.setUint32(S_CODE - RAM_BASE + 4 * i, w, true));
  setup?.(h);
  h.pc = RAM_BASE;
  h.setReg(31, M_TRAP);
  h.setReg(5, pmp.addr0);
  h.setReg(6, pmp.addr1);
  h.setReg(7, pmp.cfg0);
  h.setReg(28, satp);
  h.setReg(8, S_CODE);
  h.setReg(9, 1n << 11n); // MPP = S
  h.run(mProgram.length);
  expect(h.mode).toBe(1);
  return h;
}

it('does not cache a page in the TLB when a PMP entry smaller than the page denies part of it', () => {
  // Mutation that breaks it (checked): filling the TLB whatever PMP decides for the rest
  // of the page (the first load caches the page; the second then reads the denied bytes).
  const data = BigInt(RAM_BASE + 0x40000);
  const h = supervisorHart(
    {
      addr0: (data + 0x100n) >> 2n, // NAPOT, 8 bytes at data + 0x100: no access
      addr1: (1n << 54n) - 1n, // NAPOT, everything: RWX
      cfg0: 0x18n | (0x1fn << 8n),
    },
    0n,
    [ld(10, 11, 0), ld(12, 11, 0x100)],
  );
  h.setReg(11, data);
  h.run(2);
  expect(h.pc).toBe(M_TRAP);
  expect(h.csr(0x342)).toBe(5n); // load access fault
  expect(h.csr(0x343)).toBe(data + 0x100n);
  expect(h.csr(0x341)).toBe(BigInt(S_CODE + 4));
});

it('drops every cached slice of a 2 MiB page on sfence.vma with any address inside it', () => {
  // Mutation that breaks it (checked): sfence.vma by address dropping only that 4 KiB
  // page's entries (the slice the first load cached then still reads the old frame).
  const root = RAM_BASE + 0x10000;
  const l1 = RAM_BASE + 0x11000;
  const va = 0x4000_0000n; // Sv39: root index 1, level-1 index 0
  const oldFrame = BigInt(RAM_BASE + 2 * MiB);
  const newFrame = BigInt(RAM_BASE + 4 * MiB);
  const leaf = (pa: bigint) => ((pa >> 12n) << 10n) | 0xcfn; // V R W X A D
  const h = supervisorHart(
    { addr0: (1n << 54n) - 1n, addr1: 0n, cfg0: 0x1fn },
    (8n << 60n) | (BigInt(root) >> 12n),
    [ld(10, 11, 0), sfenceVma(12, 0), ld(13, 11, 0)],
    (hh) => {
      const dv = new DataView(hh.ram.buffer);
      // RAM 1:1 as one 1 GiB page (root index 2), and va's 2 MiB page in the level-1 table.
      dv.setBigUint64(root - RAM_BASE + 8 * 2, ((BigInt(RAM_BASE) >> 12n) << 10n) | 0xcfn, true);
      dv.setBigUint64(root - RAM_BASE + 8 * 1, ((BigInt(l1) >> 12n) << 10n) | 1n, true);
      dv.setBigUint64(l1 - RAM_BASE, leaf(oldFrame), true);
      dv.setBigUint64(Number(oldFrame) - RAM_BASE + 0x3008, 0x01d_0001_0001n, true);
      dv.setBigUint64(Number(newFrame) - RAM_BASE + 0x3008, 0x2e2_0002_0002n, true);
    },
  );
  h.setReg(11, va + 0x3008n);
  h.setReg(12, va + 0x15000n); // another 4 KiB page of the same 2 MiB page
  h.run(1);
  expect(h.reg(10)).toBe(0x01d_0001_0001n);
  // The kernel remaps the 2 MiB page, then fences one address in it.
  new DataView(h.ram.buffer).setBigUint64(l1 - RAM_BASE, leaf(newFrame), true);
  h.run(2);
  expect(h.reg(13)).toBe(0x2e2_0002_0002n);
  expect(h.traps).toBe(0);
});

/**
 * Sv39 tables with RAM 1:1 and two 4 KiB pages at 0x4000_0000: G (PTE.G set) and N (not
 * global), on frames 1 and 2; `remap` points them at frames 3 and 4 without a fence.
 */
function asidSetup(sProgram: number[]): { h: PrivilegedHart; remap: () => void; frame: (k: number) => bigint } {
  const root = RAM_BASE + 0x10000;
  const l1 = RAM_BASE + 0x11000;
  const l0 = RAM_BASE + 0x12000;
  const frameAt = (k: number) => RAM_BASE + 0x50000 + 0x1000 * k;
  const frame = (k: number) => BigInt(0x1000 + k);
  const leaf = (k: number, g: boolean) => ((BigInt(frameAt(k)) >> 12n) << 10n) | 0xcfn | (g ? 0x20n : 0n);
  let dv!: DataView;
  const h = supervisorHart(
    { addr0: (1n << 54n) - 1n, addr1: 0n, cfg0: 0x1fn },
    (8n << 60n) | (1n << 44n) | (BigInt(root) >> 12n), // ASID 1
    sProgram,
    (hh) => {
      dv = new DataView(hh.ram.buffer);
      dv.setBigUint64(root - RAM_BASE + 8 * 2, ((BigInt(RAM_BASE) >> 12n) << 10n) | 0xefn, true);
      dv.setBigUint64(root - RAM_BASE + 8 * 1, ((BigInt(l1) >> 12n) << 10n) | 1n, true);
      dv.setBigUint64(l1 - RAM_BASE, ((BigInt(l0) >> 12n) << 10n) | 1n, true);
      dv.setBigUint64(l0 - RAM_BASE, leaf(1, true), true);
      dv.setBigUint64(l0 - RAM_BASE + 8, leaf(2, false), true);
      for (let k = 1; k <= 4; k++) dv.setBigUint64(frameAt(k) - RAM_BASE, frame(k), true);
    },
  );
  h.setReg(11, 0x4000_0000n); // G
  h.setReg(13, 0x4000_1000n); // N
  const remap = () => {
    dv.setBigUint64(l0 - RAM_BASE, leaf(3, true), true);
    dv.setBigUint64(l0 - RAM_BASE + 8, leaf(4, false), true);
  };
  return { h, remap, frame };
}

it("keeps global entries across a switch of satp's ASID and drops the others", () => {
  // Mutation that breaks it (checked): dropping every entry on any satp change (the
  // global page then reads its new frame).
  const root = BigInt(RAM_BASE + 0x10000) >> 12n;
  const { h, remap, frame } = asidSetup([ld(10, 11, 0), ld(12, 13, 0), csrrw(0, 0x180, 14), ld(15, 11, 0), ld(16, 13, 0)]);
  h.setReg(14, (8n << 60n) | (5n << 44n) | root); // same tables, ASID 5
  h.run(2);
  expect([h.reg(10), h.reg(12)]).toEqual([frame(1), frame(2)]);
  remap();
  h.run(3);
  expect(h.csr(0x180) >> 44n).toBe((8n << 16n) | 5n);
  // Hardware may use a cached translation until a fence: the global one is kept.
  expect(h.reg(15)).toBe(frame(1));
  expect(h.reg(16)).toBe(frame(4));
  expect(h.traps).toBe(0);
});

it('on sfence.vma with an ASID, drops only that address space’s non-global entries', () => {
  // Mutations that break it (checked): the ASID form flushing everything (the global
  // page then reads its new frame); and flushing whatever ASID it names (a fence of
  // another address space then drops the current one's entries).
  const { h, remap, frame } = asidSetup([ld(10, 11, 0), ld(12, 13, 0), sfenceVma(0, 18), ld(19, 13, 0), sfenceVma(0, 17), ld(15, 11, 0), ld(16, 13, 0)]);
  h.setReg(17, 1n); // the current ASID
  h.setReg(18, 7n); // another one
  h.run(2);
  remap();
  h.run(5);
  expect(h.reg(19)).toBe(frame(2));
  expect(h.reg(15)).toBe(frame(1));
  expect(h.reg(16)).toBe(frame(4));
  expect(h.traps).toBe(0);
});
