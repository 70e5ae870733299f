// The virt board's devices wired as QEMU wires them: the UART's interrupt reaches the
// hart's S-mode external line through PLIC source 10, the CLINT drives MTIP, the test
// finisher powers off, every device sits at the address the device tree gives it (and
// nothing at those of the devices the tree names but the board lacks), and
// the kernel, initramfs and device tree go where QEMU 7.2 puts them.
//
// Mutation that must break these tests: wiring the UART to another PLIC source
// (UART_IRQ = 11) — checked: 'delivers the UART's THRE interrupt to S-mode through PLIC
// source 10' fails (and, in fdt.test.ts, the comparison with QEMU's tree).
import type { InterruptLines, MachineClock } from '../../../../../core/models/riscv/system/bus';
import { virtBoardDtb } from '../../../../../core/models/riscv/system/fdt';
import { createVirtDevices, virtDtbAddress, virtInitrdAddress, VIRT_KERNEL_BASE } from '../../../../../core/models/riscv/system/virt';
import { cells, nodeAt, prop, readDtb } from './dtb-reader';

const SEIP = 9;
const MTIP = 7;

function setup() {
  const mip = new Map<number, boolean>([
    [MTIP, false],
    [SEIP, false],
  ]);
  const lines: InterruptLines = { set: (bit, level) => void mip.set(bit, level) };
  let t = 0;
  const clock: MachineClock = { mtime: () => t, setMtime: (v) => void (t = v) };
  const out: number[] = [];
  const status: number[] = [];
  const v = createVirtDevices(lines, clock, (b) => out.push(b), (s) => status.push(s));
  const rd = (addr: number, w: 1 | 4 = 4) => {
    const d = v.bus.find(addr)!;
    return d.read(addr - d.base, w);
  };
  const wr = (addr: number, value: number, w: 1 | 4 = 4) => {
    const d = v.bus.find(addr)!;
    d.write(addr - d.base, w, value);
  };
  return { ...v, mip, out, status, rd, wr, setTime: (x: number) => void (t = x) };
}

describe('createVirtDevices', () => {
  it("delivers the UART's THRE interrupt to S-mode through PLIC source 10", () => {
    const { mip, rd, wr, out } = setup();
    const PLIC = 0xc000000;
    wr(PLIC + 4 * 10, 1); // priority
    wr(PLIC + 0x2000 + 0x80, 1 << 10); // enable in context 1 (S-mode)
    wr(PLIC + 0x201000, 0); // threshold
    expect(mip.get(SEIP)).toBe(false);
    wr(0x10000001, 0x02, 1); // IER.ETBEI with THR empty
    expect(mip.get(SEIP)).toBe(true);
    expect(rd(PLIC + 0x201004)).toBe(10); // claim
    expect(mip.get(SEIP)).toBe(false);
    expect(rd(0x10000002, 1) & 0x0f).toBe(0x02); // the UART says why
    wr(0x10000000, 0x21, 1);
    wr(0x10000001, 0x00, 1); // nothing more to send: ETBEI off
    wr(PLIC + 0x201004, 10); // complete
    expect(mip.get(SEIP)).toBe(false);
    expect(out).toEqual([0x21]);
  });

  it('builds the devices without touching the lines, so that the hart may come after them', () => {
    const notYet: InterruptLines = {
      set: () => {
        throw new Error('no hart yet');
      },
    };
    const clock: MachineClock = { mtime: () => 0, setMtime: () => {} };
    expect(() => createVirtDevices(notYet, clock, () => {}, () => {})).not.toThrow();
  });

  it('raises MTIP from the CLINT when the machine moves time past mtimecmp', () => {
    const { mip, wr, clint, setTime } = setup();
    wr(0x2004000, 500);
    wr(0x2004004, 0);
    setTime(500);
    clint.update();
    expect(mip.get(MTIP)).toBe(true);
  });

  it('powers off through the test finisher', () => {
    const { wr, status } = setup();
    wr(0x100000, 0x5555);
    expect(status).toEqual([0]);
  });

  it('puts every device the device tree describes on the bus, at its base and size, and nothing where the tree names absent devices', () => {
    const { bus } = setup();
    const root = readDtb(virtBoardDtb({ memoryBytes: 128 * 2 ** 20, bootargs: '', isa: 'rv64imafdc', mmuType: 'riscv,sv39' })).root;
    const soc = nodeAt(root, '/soc')!;
    const absent = /^(rtc|pci|virtio_mmio)@/;
    expect(soc.children.filter((n) => !absent.test(n.name)).length).toBe(bus.list().length);
    for (const n of soc.children) {
      const [bh, bl, sh, sl] = cells(prop(n, 'reg'));
      const base = bh * 2 ** 32 + bl;
      const size = sh * 2 ** 32 + sl;
      const d = bus.find(base);
      if (absent.test(n.name)) {
        expect([n.name, d, bus.find(base + size - 1)]).toEqual([n.name, undefined, undefined]);
        continue;
      }
      expect(d && [d.base, d.size]).toEqual([base, size]);
      const irq = cells(prop(n, 'interrupts'));
      if (irq.length) {
        // The device's line really is that PLIC source: raise it and watch the pending bit.
        const { plic, uart } = setup();
        expect(d?.name).toBe('uart0');
        uart.write(1, 1, 0x02);
        expect((plic.read(0x1000 + 4 * (irq[0] >>> 5), 4) >>> (irq[0] & 31)) & 1).toBe(1);
      }
    }
    // The root's unmodelled devices are not on the bus either.
    for (const [node, addr] of [['/fw-cfg@10100000', 0x10100000], ['/flash@20000000', 0x20000000], ['/platform-bus@4000000', 0x4000000]] as const) {
      expect(nodeAt(root, node)).toBeDefined();
      expect(bus.find(addr)).toBeUndefined();
    }
  });
});

describe('virt memory layout', () => {
  it('places the kernel, initramfs and device tree where QEMU 7.2 does', () => {
    expect(VIRT_KERNEL_BASE).toBe(0x80200000);
    // From QEMU's own device trees (linux,initrd-start) with -m 128M, 512M and 4G.
    expect(virtInitrdAddress(128 * 2 ** 20)).toBe(0x84200000);
    expect(virtInitrdAddress(512 * 2 ** 20)).toBe(0x88200000);
    expect(virtInitrdAddress(4 * 2 ** 30)).toBe(0x88200000);
    // From the DTB address in QEMU's reset vector (monitor `xp /10wx 0x1000`, -m 128M and
    // 4G): below 3 GiB of address however much RAM there is.
    expect(virtDtbAddress(128 * 2 ** 20, 0x85b)).toBe(0x87e00000);
    expect(virtDtbAddress(4 * 2 ** 30, 0x85b)).toBe(0xbfe00000);
  });
});
