// The CLINT raises MTIP exactly while mtime >= mtimecmp and MSIP from msip's bit 0, with
// the SiFive CLINT / ACLINT register layout, 64-bit registers reachable as two 32-bit
// halves; and the bus routes addresses to the device covering them.
//
// Mutation that must break these tests: comparing `mtime > mtimecmp` instead of `>=`
// in Clint.update (checked: 'raises MTIP when mtime reaches mtimecmp' fails).
import { Bus, type InterruptLines, type MachineClock } from '../../../../../core/models/riscv/system/bus';
import { Clint, CLINT_BASE, CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP } from '../../../../../core/models/riscv/system/clint';

class Lines implements InterruptLines {
  // The hart's mip out of reset.
  readonly level = new Map<number, boolean>([
    [3, false],
    [7, false],
  ]);
  sets = 0;
  set(bit: number, level: boolean): void {
    this.level.set(bit, level);
    this.sets++;
  }
}
class Clock implements MachineClock {
  t = 0;
  mtime(): number {
    return this.t;
  }
  setMtime(v: number): void {
    this.t = v;
  }
}

function setup() {
  const lines = new Lines();
  const clock = new Clock();
  const clint = new Clint(lines, clock);
  return { lines, clock, clint };
}

const write64 = (c: Clint, off: number, v: bigint) => {
  c.write(off, 4, Number(v & 0xffffffffn));
  c.write(off + 4, 4, Number(v >> 32n));
};
const read64 = (c: Clint, off: number) => BigInt(c.read(off, 4)) | (BigInt(c.read(off + 4, 4)) << 32n);

describe('Clint', () => {
  it('sits where QEMU virt puts it', () => {
    const { clint } = setup();
    expect(clint.base).toBe(0x2000000);
    expect(clint.size).toBe(0x10000);
    expect(CLINT_BASE).toBe(0x2000000);
  });

  it('keeps MTIP low out of reset, before firmware programs mtimecmp', () => {
    const { lines, clock, clint } = setup();
    clock.t = 123456789;
    clint.update();
    expect(lines.level.get(7)).toBe(false);
    expect(read64(clint, CLINT_MTIMECMP)).toBe(0xffffffffffffffffn);
    expect(clint.nextTimerEvent()).toBe(Infinity);
  });

  it('raises MTIP when mtime reaches mtimecmp and lowers it when mtimecmp moves ahead', () => {
    const { lines, clock, clint } = setup();
    write64(clint, CLINT_MTIMECMP, 1000n);
    expect(clint.nextTimerEvent()).toBe(1000);
    clock.t = 999;
    clint.update();
    expect(lines.level.get(7)).toBe(false);
    clock.t = 1000;
    clint.update();
    expect(lines.level.get(7)).toBe(true);
    // The kernel acknowledges a tick by programming the next one.
    write64(clint, CLINT_MTIMECMP, 2000n);
    expect(lines.level.get(7)).toBe(false);
    // A compare value already in the past fires at once, without waiting for time to move.
    write64(clint, CLINT_MTIMECMP, 10n);
    expect(lines.level.get(7)).toBe(true);
  });

  it('compares all 64 bits: a high word beyond mtime keeps MTIP low', () => {
    const { lines, clock, clint } = setup();
    clock.t = 0x1_0000_0005;
    write64(clint, CLINT_MTIMECMP, 0x2_0000_0000n);
    expect(lines.level.get(7)).toBe(false);
    write64(clint, CLINT_MTIMECMP, 0x1_0000_0005n);
    expect(lines.level.get(7)).toBe(true);
    // OpenSBI disarms the timer with all ones.
    write64(clint, CLINT_MTIMECMP, 0xffffffffffffffffn);
    expect(lines.level.get(7)).toBe(false);
  });

  it('only tells the hart when a line changes', () => {
    const { lines, clock, clint } = setup();
    write64(clint, CLINT_MTIMECMP, 5n);
    const before = lines.sets;
    for (let t = 0; t < 5; t++) {
      clock.t = t;
      clint.update();
    }
    expect(lines.sets).toBe(before);
  });

  it('reads mtime from the machine clock, and writes it there', () => {
    const { clock, clint } = setup();
    clock.t = 0x12_3456_789a;
    expect(read64(clint, CLINT_MTIME)).toBe(0x12_3456_789an);
    expect(clint.read(CLINT_MTIME + 1, 1)).toBe(0x78);
    expect(clint.read(CLINT_MTIME + 2, 2)).toBe(0x3456);
    clint.write(CLINT_MTIME, 4, 7);
    expect(clock.t).toBe(0x12_0000_0007);
    clint.write(CLINT_MTIME + 4, 4, 0);
    expect(clock.t).toBe(7);
  });

  it('drives MSIP from bit 0 of msip only', () => {
    const { lines, clint } = setup();
    clint.write(CLINT_MSIP, 4, 1);
    expect(lines.level.get(3)).toBe(true);
    expect(clint.read(CLINT_MSIP, 4)).toBe(1);
    clint.write(CLINT_MSIP, 4, 0xfffffffe);
    expect(lines.level.get(3)).toBe(false);
    expect(clint.read(CLINT_MSIP, 4)).toBe(0);
  });

  it('reads registers of absent harts as zero and ignores writes to them', () => {
    const { lines, clint } = setup();
    clint.write(CLINT_MSIP + 4, 4, 1);
    expect(lines.level.get(3)).toBe(false);
    expect(clint.read(CLINT_MSIP + 4, 4)).toBe(0);
    expect(clint.read(CLINT_MTIMECMP + 8, 4)).toBe(0);
  });
});

describe('Bus', () => {
  const dev = (name: string, base: number, size: number) => ({ name, base, size, read: () => 0, write: () => {} });

  it('finds the device covering an address, and none outside every device', () => {
    const bus = new Bus();
    const a = dev('a', 0x1000, 0x100);
    const b = dev('b', 0x2000, 0x10);
    bus.add(a);
    bus.add(b);
    expect(bus.find(0x1000)).toBe(a);
    expect(bus.find(0x10ff)).toBe(a);
    expect(bus.find(0x1100)).toBeUndefined();
    expect(bus.find(0x200f)).toBe(b);
    expect(bus.find(0x10ff)).toBe(a);
    expect(bus.find(0x2010)).toBeUndefined();
    expect(bus.find(0xfff)).toBeUndefined();
  });

  it('refuses overlapping devices, naming both', () => {
    const bus = new Bus();
    bus.add(dev('uart', 0x10000000, 0x100));
    expect(() => bus.add(dev('other', 0x100000ff, 0x10))).toThrow(/other.*overlaps uart/);
  });
});
