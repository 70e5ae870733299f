// A flattened device tree (DTB, version 17) writer, and the tree of QEMU's virt board
// as our machine implements it. The firmware (OpenSBI) and the kernel find every
// device, the memory, the timebase and the command line in this blob, passed in a1.
//
// `virtBoardDtb` follows what qemu-system-riscv64 7.2 writes for `-M virt` with one
// hart: the same nodes in the same order, with the same properties in the same order
// and the same phandle numbers, so that Linux probes devices in the same sequence and
// prints the same console. Nodes of devices this machine does not have (fw-cfg,
// flash, platform bus, goldfish RTC, PCI, virtio-mmio) are left out rather than
// described without a device behind them.
import { CLINT_BASE, CLINT_SIZE } from './clint';
import { FINISHER_BASE, FINISHER_PASS, FINISHER_RESET, FINISHER_SIZE } from './finisher';
import { PLIC_BASE, PLIC_SIZE } from './plic';
import { UART_BASE, UART_CLOCK_HZ, UART_IRQ, UART_SIZE } from './uart16550';

export const FDT_MAGIC = 0xd00dfeed;
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
export const FDT_BEGIN_NODE = 1;
export const FDT_END_NODE = 2;
export const FDT_PROP = 3;
export const FDT_NOP = 4;
export const FDT_END = 9;
const HEADER_BYTES = 40;

/** A node of a device tree under construction: properties and children, in order. */
export class FdtNode {
  readonly props: { name: string; value: Uint8Array }[] = [];
  readonly children: FdtNode[] = [];

  constructor(readonly name: string) {}

  /** A child node, appended after the existing ones. */
  child(name: string): FdtNode {
    if (this.children.some((c) => c.name === name)) throw new Error(`device tree: node ${this.name || '/'} already has a child ${name}`);
    const c = new FdtNode(name);
    this.children.push(c);
    return c;
  }

  /** A property with raw bytes as its value. */
  bytes(name: string, value: Uint8Array): this {
    if (this.props.some((p) => p.name === name)) throw new Error(`device tree: node ${this.name || '/'} already has a property ${name}`);
    this.props.push({ name, value });
    return this;
  }

  /** A property with no value (a flag, like `interrupt-controller` or `ranges`). */
  empty(name: string): this {
    return this.bytes(name, new Uint8Array(0));
  }

  /** A property of 32-bit big-endian cells. */
  u32(name: string, ...cells: number[]): this {
    const b = new Uint8Array(4 * cells.length);
    const v = new DataView(b.buffer);
    cells.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c > 0xffffffff) throw new Error(`device tree: ${name}: ${c} is not a 32-bit cell`);
      v.setUint32(4 * i, c);
    });
    return this.bytes(name, b);
  }

  /** A property of 64-bit big-endian values (two cells each). */
  u64(name: string, ...values: (number | bigint)[]): this {
    const b = new Uint8Array(8 * values.length);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => v.setBigUint64(8 * i, BigInt(x)));
    return this.bytes(name, b);
  }

  /** A NUL-terminated string property. */
  str(name: string, s: string): this {
    return this.strs(name, [s]);
  }

  /** A string list: each string NUL-terminated, back to back. */
  strs(name: string, list: string[]): this {
    const parts = list.map((s) => new TextEncoder().encode(s));
    const b = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
    let o = 0;
    for (const p of parts) {
      b.set(p, o);
      o += p.length + 1;
    }
    return this.bytes(name, b);
  }

  /** The node's own phandle, by which other nodes' cells refer to it. */
  phandle(n: number): this {
    return this.u32('phandle', n);
  }
}

/** A memory reservation block entry: firmware or data the OS must not allocate. */
export interface FdtReservation {
  address: number | bigint;
  size: number | bigint;
}

/** Serialises a tree as a DTB v17 blob: header, memory reservation block, structure
 *  block and strings block (property names shared), as dtc and libfdt lay them out. */
export function writeDtb(root: FdtNode, opts: { reservations?: FdtReservation[]; bootCpuId?: number } = {}): Uint8Array {
  const strings: number[] = [];
  const stringOffset = new Map<string, number>();
  const enc = new TextEncoder();
  const nameOffset = (name: string): number => {
    let o = stringOffset.get(name);
    if (o === undefined) {
      o = strings.length;
      stringOffset.set(name, o);
      for (const b of enc.encode(name)) strings.push(b);
      strings.push(0);
    }
    return o;
  };

  const struct: number[] = [];
  const u32 = (v: number) => struct.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  const pad = () => {
    while (struct.length % 4) struct.push(0);
  };
  const emit = (node: FdtNode) => {
    u32(FDT_BEGIN_NODE);
    for (const b of enc.encode(node.name)) struct.push(b);
    struct.push(0);
    pad();
    for (const p of node.props) {
      u32(FDT_PROP);
      u32(p.value.length);
      u32(nameOffset(p.name));
      for (const b of p.value) struct.push(b);
      pad();
    }
    for (const c of node.children) emit(c);
    u32(FDT_END_NODE);
  };
  emit(root);
  u32(FDT_END);

  const reservations = opts.reservations ?? [];
  const rsvOff = HEADER_BYTES; // already 8-aligned
  const structOff = rsvOff + 16 * (reservations.length + 1);
  const stringsOff = structOff + struct.length;
  const total = stringsOff + strings.length;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const header = [FDT_MAGIC, total, structOff, stringsOff, rsvOff, FDT_VERSION, FDT_LAST_COMP_VERSION, opts.bootCpuId ?? 0, strings.length, struct.length];
  header.forEach((h, i) => v.setUint32(4 * i, h));
  reservations.forEach((r, i) => {
    v.setBigUint64(rsvOff + 16 * i, BigInt(r.address));
    v.setBigUint64(rsvOff + 16 * i + 8, BigInt(r.size));
  });
  out.set(struct, structOff);
  out.set(strings, stringsOff);
  return out;
}

export interface VirtBoardOptions {
  /** RAM size in bytes, at 0x80000000. */
  memoryBytes: number;
  /** The kernel command line (/chosen/bootargs). */
  bootargs: string;
  /** Where the initramfs lies in guest physical memory, end exclusive. */
  initrd?: { start: number; end: number };
  /** riscv,isa of the hart, e.g. "rv64imafdc_zicsr_zifencei". */
  isa: string;
  mmuType: 'riscv,sv39' | 'riscv,sv48' | 'riscv,sv57';
  /** Frequency of mtime; QEMU's virt runs it at 10 MHz. */
  timebaseHz?: number;
  /** Bytes for /chosen/rng-seed, which Linux credits to its random pool at boot. QEMU
   *  writes 32 random bytes; the default here is 32 fixed bytes so that runs repeat. */
  rngSeed?: Uint8Array;
  /** Whether to describe the hart's performance counters for OpenSBI's PMU support (the
   *  /pmu node QEMU writes); default true. */
  pmu?: boolean;
  /** How many programmable counters (mhpmcounter3 up) the hart has, for the /pmu node's
   *  event map; default 16, as QEMU's `pmu-num`. */
  pmuCounters?: number;
}

/** The memory map of QEMU's virt board that the device tree describes. */
export const VIRT_DRAM_BASE = 0x80000000;

/** Phandles as QEMU numbers them. */
const PHANDLE_CPU0 = 1;
const PHANDLE_CPU0_INTC = 2;
const PHANDLE_PLIC = 3;
const PHANDLE_TEST = 4;

/** What QEMU 7.2 declares as riscv,ndev for its 96-entry source array (source 0
 *  included); Linux prints the count at boot ("mapped 96 interrupts"), so the console
 *  depends on it. Source 96 itself is absent: its registers read zero. */
const VIRT_PLIC_NDEV_DECLARED = 96;

/** The pmu node's event map as QEMU 7.2 writes it: triples (first event, last event,
 *  counters that may count them, as a bitmap of counter numbers) for the SBI PMU
 *  hardware events cycles (1) and instructions (2), which the fixed counters 0 and 2
 *  also count, and the dTLB/iTLB miss cache events 0x10019, 0x1001b, 0x10021; a zero
 *  triple ends it. `counters` is the number of programmable counters, mhpmcounter3 up. */
function pmuEventMap(counters: number): number[] {
  if (!Number.isInteger(counters) || counters < 0 || counters > 29) throw new Error(`device tree: ${counters} programmable counters (0..29)`);
  // With no programmable counters QEMU 7.2's 32-bit mask of zero width comes out as
  // all ones from bit 3 (a shift by 32); written the same, so that OpenSBI reads the
  // same tree under both.
  const cmask = counters === 0 ? 0xfffffff8 : ((2 ** counters - 1) * 8) >>> 0;
  return [1, 1, (cmask | 1) >>> 0, 2, 2, (cmask | 4) >>> 0, 0x10019, 0x10019, cmask, 0x1001b, 0x1001b, cmask, 0x10021, 0x10021, cmask, 0, 0, 0, 0, 0];
}

/** The cpu-local interrupt numbers the CLINT and PLIC are wired to (mip bits). */
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;
const IRQ_M_EXT = 11;

/** A fixed rng-seed: 32 bytes of a 32-bit xorshift from a constant, so that the pool
 *  Linux seeds from it is the same on every run. */
function defaultRngSeed(): Uint8Array {
  const out = new Uint8Array(32);
  let x = 0x76697274;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** QEMU virt's generic PCIe host bridge (ECAM at 0x30000000): its legacy INTx lines
 *  swizzled over PLIC sources 32..35 by slot, an I/O window, a 32-bit window, and the
 *  64-bit window QEMU places at the first 16 GiB boundary past RAM. */
function pciHostNode(soc: FdtNode, memoryBytes: number): void {
  const map: number[] = [];
  for (let slot = 0; slot < 4; slot++) {
    for (let pin = 1; pin <= 4; pin++) map.push(slot << 11, 0, 0, pin, PHANDLE_PLIC, 0x20 + ((slot + pin - 1) % 4));
  }
  const highSize = 16 * 2 ** 30;
  const highBase = Math.ceil((VIRT_DRAM_BASE + memoryBytes) / highSize) * highSize;
  const hi = (v: number) => Math.floor(v / 2 ** 32);
  const lo = (v: number) => v % 2 ** 32;
  soc
    .child('pci@30000000')
    .u32('interrupt-map-mask', 0x1800, 0, 0, 7)
    .u32('interrupt-map', ...map)
    .u32('ranges', 0x1000000, 0, 0, 0, 0x3000000, 0, 0x10000, 0x2000000, 0, 0x40000000, 0, 0x40000000, 0, 0x40000000, 0x3000000, hi(highBase), lo(highBase), hi(highBase), lo(highBase), hi(highSize), lo(highSize))
    .u64('reg', 0x30000000, 0x10000000)
    .empty('dma-coherent')
    .u32('bus-range', 0, 0xff)
    .u32('linux,pci-domain', 0)
    .str('device_type', 'pci')
    .str('compatible', 'pci-host-ecam-generic')
    .u32('#size-cells', 2)
    .u32('#interrupt-cells', 1)
    .u32('#address-cells', 3);
}

/** The device tree of QEMU's virt board with one hart, for the devices of virt.ts. */
export function virtBoardTree(opts: VirtBoardOptions): FdtNode {
  const root = new FdtNode('');
  root.u32('#address-cells', 2).u32('#size-cells', 2).str('compatible', 'riscv-virtio').str('model', 'riscv-virtio,qemu');

  if (opts.pmu ?? true) {
    root.child('pmu').u32('riscv,event-to-mhpmcounters', ...pmuEventMap(opts.pmuCounters ?? 16)).str('compatible', 'riscv,pmu');
  }

  // QEMU's nodes for devices this machine does not have are written all the same: Linux
  // keeps an unflattened copy of the tree, so the memory it reserves at boot depends on
  // them. Nothing answers at their addresses (an access faults, as absent hardware), and
  // nothing there is probed: the committed kernel has no fw-cfg, CFI flash, goldfish RTC,
  // PCI or virtio driver, and OpenSBI's generic platform looks only for its console,
  // timer, IPI and reset devices.
  root.child('fw-cfg@10100000').empty('dma-coherent').u64('reg', 0x10100000, 0x18).str('compatible', 'qemu,fw-cfg-mmio');
  root.child('flash@20000000').u32('bank-width', 4).u64('reg', 0x20000000, 0x2000000, 0x22000000, 0x2000000).str('compatible', 'cfi-flash');

  const chosen = root.child('chosen');
  if (opts.initrd) {
    const { start, end } = opts.initrd;
    if (!(end > start)) throw new Error(`device tree: initrd end ${end} is not after its start ${start}`);
    // QEMU 7.2 writes one cell each; Linux reads either width from the length.
    if (end <= 0xffffffff) chosen.u32('linux,initrd-end', end).u32('linux,initrd-start', start);
    else chosen.u64('linux,initrd-end', end).u64('linux,initrd-start', start);
  }
  chosen.bytes('rng-seed', opts.rngSeed ?? defaultRngSeed());
  if (opts.bootargs !== '') chosen.str('bootargs', opts.bootargs);
  chosen.str('stdout-path', `/soc/serial@${UART_BASE.toString(16)}`);

  root.child('poweroff').u32('value', FINISHER_PASS).u32('offset', 0).u32('regmap', PHANDLE_TEST).str('compatible', 'syscon-poweroff');
  root.child('reboot').u32('value', FINISHER_RESET).u32('offset', 0).u32('regmap', PHANDLE_TEST).str('compatible', 'syscon-reboot');

  root
    .child('platform-bus@4000000')
    .u32('interrupt-parent', PHANDLE_PLIC)
    .u32('ranges', 0, 0, 0x4000000, 0x2000000)
    .u32('#address-cells', 1)
    .u32('#size-cells', 1)
    .strs('compatible', ['qemu,platform', 'simple-bus']);

  if (!(opts.memoryBytes > 0) || opts.memoryBytes % 4096) throw new Error(`device tree: memory size ${opts.memoryBytes} is not a positive multiple of 4 KiB`);
  root
    .child(`memory@${VIRT_DRAM_BASE.toString(16)}`)
    .str('device_type', 'memory')
    .u64('reg', VIRT_DRAM_BASE, opts.memoryBytes);

  const cpus = root.child('cpus');
  cpus.u32('#address-cells', 1).u32('#size-cells', 0).u32('timebase-frequency', opts.timebaseHz ?? 10_000_000);
  const cpu = cpus.child('cpu@0');
  cpu
    .phandle(PHANDLE_CPU0)
    .str('device_type', 'cpu')
    .u32('reg', 0)
    .str('status', 'okay')
    .str('compatible', 'riscv')
    .str('riscv,isa', opts.isa)
    .str('mmu-type', opts.mmuType);
  cpu
    .child('interrupt-controller')
    .u32('#interrupt-cells', 1)
    .empty('interrupt-controller')
    .str('compatible', 'riscv,cpu-intc')
    .phandle(PHANDLE_CPU0_INTC);
  cpus.child('cpu-map').child('cluster0').child('core0').u32('cpu', PHANDLE_CPU0);

  const soc = root.child('soc');
  soc.u32('#address-cells', 2).u32('#size-cells', 2).str('compatible', 'simple-bus').empty('ranges');
  soc.child('rtc@101000').u32('interrupts', 11).u32('interrupt-parent', PHANDLE_PLIC).u64('reg', 0x101000, 0x1000).str('compatible', 'google,goldfish-rtc');
  soc
    .child(`serial@${UART_BASE.toString(16)}`)
    .u32('interrupts', UART_IRQ)
    .u32('interrupt-parent', PHANDLE_PLIC)
    .u32('clock-frequency', UART_CLOCK_HZ)
    .u64('reg', UART_BASE, UART_SIZE)
    .str('compatible', 'ns16550a');
  soc
    .child(`test@${FINISHER_BASE.toString(16)}`)
    .phandle(PHANDLE_TEST)
    .u64('reg', FINISHER_BASE, FINISHER_SIZE)
    .strs('compatible', ['sifive,test1', 'sifive,test0', 'syscon']);
  pciHostNode(soc, opts.memoryBytes);
  // Eight virtio-mmio slots on PLIC sources 1..8, written last to first as QEMU does.
  for (let slot = 8; slot >= 1; slot--) {
    const base = 0x10000000 + slot * 0x1000;
    soc.child(`virtio_mmio@${base.toString(16)}`).u32('interrupts', slot).u32('interrupt-parent', PHANDLE_PLIC).u64('reg', base, 0x1000).str('compatible', 'virtio,mmio');
  }
  soc
    .child(`plic@${PLIC_BASE.toString(16)}`)
    .phandle(PHANDLE_PLIC)
    .u32('riscv,ndev', VIRT_PLIC_NDEV_DECLARED)
    .u64('reg', PLIC_BASE, PLIC_SIZE)
    .u32('interrupts-extended', PHANDLE_CPU0_INTC, IRQ_M_EXT, PHANDLE_CPU0_INTC, IRQ_S_EXT)
    .empty('interrupt-controller')
    .strs('compatible', ['sifive,plic-1.0.0', 'riscv,plic0'])
    .u32('#address-cells', 0)
    .u32('#interrupt-cells', 1);
  soc
    .child(`clint@${CLINT_BASE.toString(16)}`)
    .u32('interrupts-extended', PHANDLE_CPU0_INTC, IRQ_M_SOFT, PHANDLE_CPU0_INTC, IRQ_M_TIMER)
    .u64('reg', CLINT_BASE, CLINT_SIZE)
    .strs('compatible', ['sifive,clint0', 'riscv,clint0']);
  return root;
}

/** The DTB of QEMU's virt board with one hart, for the devices of virt.ts. */
export function virtBoardDtb(opts: VirtBoardOptions): Uint8Array {
  return writeDtb(virtBoardTree(opts));
}
