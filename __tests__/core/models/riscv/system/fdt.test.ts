// The DTB writer produces a valid v17 blob, and the virt board's tree is QEMU's own
// (qemu-virt.dts, dumped from qemu-system-riscv64 7.2 with the same options): the same
// nodes in the same order with the same properties and values, those of the devices this
// machine does not have included, apart from the random rng-seed; and the references
// OpenSBI and Linux follow (phandles, stdout-path, regmap) lead where they should.
//
// Mutation that must break these tests: swapping the PLIC's two interrupts-extended
// entries (S-mode external first) — checked: 'is the tree QEMU writes for its virt board'
// and 'wires the CLINT and PLIC to the hart's M and S interrupt lines' fail.
// Also placing the PCI host's 64-bit window at the 16 GiB boundary below RAM's end
// instead of above — checked: the comparison with QEMU's tree and the window test fail.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FdtNode, virtBoardDtb, writeDtb, type VirtBoardOptions } from '../../../../../core/models/riscv/system/fdt';
import { cells, nodeAt, phandles, prop, readDtb, readDts, strings, type DtNode } from './dtb-reader';

const QEMU_DTS = readDts(readFileSync(join(__dirname, 'qemu-virt.dts'), 'utf8'));

/** The options qemu-virt.dts was dumped with, and QEMU 7.2's default hart. */
const QEMU_OPTIONS: VirtBoardOptions = {
  memoryBytes: 128 * 2 ** 20,
  bootargs: 'console=ttyS0 earlycon',
  initrd: { start: 0x84200000, end: 0x84200000 + 10000 },
  isa: 'rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc',
  mmuType: 'riscv,sv48',
};

/** A node as comparable text: path, property names and hex values, in order. */
function flatten(n: DtNode, path = '', out: string[] = []): string[] {
  const here = path === '' ? '/' : path;
  for (const p of n.props) {
    const value = p.name === 'rng-seed' ? `${p.value.length} bytes` : Buffer.from(p.value).toString('hex');
    out.push(`${here} ${p.name} = ${value}`);
  }
  for (const c of n.children) {
    out.push(`${path}/${c.name} {`);
    flatten(c, `${path}/${c.name}`, out);
  }
  return out;
}

const ours = (o: Partial<VirtBoardOptions> = {}) => readDtb(virtBoardDtb({ ...QEMU_OPTIONS, ...o }));

describe('writeDtb', () => {
  it('writes a v17 header whose offsets and sizes describe the blob', () => {
    const root = new FdtNode('');
    root.u32('#address-cells', 2).str('model', 'm');
    root.child('a@1').u64('reg', 0x1_0000_0000n, 5).strs('compatible', ['x', 'y']).empty('flag');
    const blob = writeDtb(root, { reservations: [{ address: 0x80000000, size: 0x200000 }], bootCpuId: 0 });
    const { header: h, reservations, root: back } = readDtb(blob);
    expect(h.magic).toBe(0xd00dfeed);
    expect(h.version).toBe(17);
    expect(h.lastCompVersion).toBe(16);
    expect(h.totalsize).toBe(blob.length);
    expect(h.offMemRsvmap % 8).toBe(0);
    expect(h.offDtStruct % 4).toBe(0);
    expect(h.offDtStrings).toBe(h.offDtStruct + h.sizeDtStruct);
    expect(h.offDtStrings + h.sizeDtStrings).toBe(h.totalsize);
    expect(reservations).toEqual([{ address: 0x80000000n, size: 0x200000n }]);
    expect(back.children.map((c) => c.name)).toEqual(['a@1']);
    const a = back.children[0];
    expect(cells(prop(a, 'reg'))).toEqual([1, 0, 0, 5]);
    expect(strings(prop(a, 'compatible'))).toEqual(['x', 'y']);
    expect(prop(a, 'flag')?.length).toBe(0);
    expect(strings(prop(back, 'model'))).toEqual(['m']);
  });

  it('shares property names in the strings block', () => {
    const root = new FdtNode('');
    for (let k = 0; k < 5; k++) root.child(`n${k}`).u32('reg', k);
    const { header } = readDtb(writeDtb(root));
    expect(header.sizeDtStrings).toBe('reg\0'.length);
  });

  it('refuses a duplicate property or child, and a cell that is not 32-bit', () => {
    const n = new FdtNode('x');
    n.u32('a', 1);
    expect(() => n.u32('a', 2)).toThrow(/already has a property a/);
    n.child('c');
    expect(() => n.child('c')).toThrow(/already has a child c/);
    expect(() => n.u32('b', 2 ** 32)).toThrow(/not a 32-bit cell/);
  });
});

describe('virtBoardDtb', () => {
  it('is the tree QEMU writes for its virt board, the devices this machine lacks included', () => {
    expect(flatten(ours().root)).toEqual(flatten(QEMU_DTS));
  });

  it('places the PCI host bridge\'s 64-bit window at the first 16 GiB boundary past RAM, as QEMU does', () => {
    const ranges = (mem: number) => cells(prop(nodeAt(ours({ memoryBytes: mem }).root, '/soc/pci@30000000'), 'ranges')).slice(15, 19);
    expect(ranges(128 * 2 ** 20)).toEqual([4, 0, 4, 0]);
    expect(ranges(16 * 2 ** 30)).toEqual([8, 0, 8, 0]);
  });

  it('points stdout-path at the UART, and the syscon poweroff/reboot nodes at the test device', () => {
    const root = ours().root;
    const stdout = strings(prop(nodeAt(root, '/chosen'), 'stdout-path'))[0];
    expect(strings(prop(nodeAt(root, stdout), 'compatible'))).toEqual(['ns16550a']);
    const byPhandle = phandles(root);
    for (const [node, value] of [
      ['/poweroff', 0x5555],
      ['/reboot', 0x7777],
    ] as const) {
      const regmap = cells(prop(nodeAt(root, node), 'regmap'))[0];
      expect(byPhandle.get(regmap)?.path).toBe('/soc/test@100000');
      expect(cells(prop(nodeAt(root, node), 'value'))).toEqual([value]);
    }
  });

  it('wires the CLINT and PLIC to the hart\'s M and S interrupt lines, and the UART to PLIC source 10', () => {
    const root = ours().root;
    const byPhandle = phandles(root);
    const intc = '/cpus/cpu@0/interrupt-controller';
    const ext = (path: string) => {
      const c = cells(prop(nodeAt(root, path), 'interrupts-extended'));
      return [0, 2].map((k) => `${byPhandle.get(c[k])?.path}:${c[k + 1]}`);
    };
    expect(ext('/soc/clint@2000000')).toEqual([`${intc}:3`, `${intc}:7`]);
    expect(ext('/soc/plic@c000000')).toEqual([`${intc}:11`, `${intc}:9`]);
    const serial = nodeAt(root, '/soc/serial@10000000');
    expect(byPhandle.get(cells(prop(serial, 'interrupt-parent'))[0])?.path).toBe('/soc/plic@c000000');
    expect(cells(prop(serial, 'interrupts'))).toEqual([10]);
    expect(cells(prop(serial, 'clock-frequency'))).toEqual([3686400]);
  });

  it('describes the memory size, hart, timebase and command line it is given', () => {
    const root = ours({ memoryBytes: 6 * 2 ** 30, mmuType: 'riscv,sv39', isa: 'rv64imafdc_zicsr_zifencei', timebaseHz: 1_000_000, bootargs: 'quiet' }).root;
    expect(cells(prop(nodeAt(root, '/memory@80000000'), 'reg'))).toEqual([0, 0x80000000, 1, 0x80000000]);
    const cpu = nodeAt(root, '/cpus/cpu@0');
    expect(strings(prop(cpu, 'mmu-type'))).toEqual(['riscv,sv39']);
    expect(strings(prop(cpu, 'riscv,isa'))).toEqual(['rv64imafdc_zicsr_zifencei']);
    expect(cells(prop(nodeAt(root, '/cpus'), 'timebase-frequency'))).toEqual([1_000_000]);
    expect(strings(prop(nodeAt(root, '/chosen'), 'bootargs'))).toEqual(['quiet']);
  });

  it('writes the initrd bounds only when there is one', () => {
    const chosen = nodeAt(ours({ initrd: undefined }).root, '/chosen');
    expect(prop(chosen, 'linux,initrd-start')).toBeUndefined();
    expect(prop(chosen, 'linux,initrd-end')).toBeUndefined();
    const with_ = nodeAt(ours().root, '/chosen');
    expect(cells(prop(with_, 'linux,initrd-start'))).toEqual([0x84200000]);
    expect(cells(prop(with_, 'linux,initrd-end'))).toEqual([0x84202710]);
  });

  it("maps PMU events to the hart's counters as QEMU does for its pmu-num", () => {
    const map = (pmuCounters: number) => cells(prop(nodeAt(ours({ pmuCounters }).root, '/pmu'), 'riscv,event-to-mhpmcounters'));
    // QEMU 7.2's own values for pmu-num=0 (dumped with -cpu rv64,…,pmu-num=0); pmu-num=16 is in qemu-virt.dts.
    expect(map(0)).toEqual([
      0x01, 0x01, 0xfffffff9, 0x02, 0x02, 0xfffffffc, 0x10019, 0x10019, 0xfffffff8, 0x1001b, 0x1001b, 0xfffffff8, 0x10021, 0x10021, 0xfffffff8, 0, 0, 0, 0, 0,
    ]);
    expect(map(4)[2]).toBe(0b1111001);
    expect(nodeAt(ours({ pmu: false }).root, '/pmu')).toBeUndefined();
  });

  it('is the same blob on every call', () => {
    expect(Buffer.from(virtBoardDtb(QEMU_OPTIONS)).equals(Buffer.from(virtBoardDtb(QEMU_OPTIONS)))).toBe(true);
  });
});
