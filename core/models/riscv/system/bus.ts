// The memory-mapped I/O contract between a RISC-V machine's hart and its devices
// (timer, interrupt controller, UART, power-off), and the bus that routes a
// physical address to the device covering it. Kept free of any hart or machine type
// so that devices stay leaf modules, testable on their own.

/** A memory-mapped device. Offsets are from `base`; widths 1, 2 or 4 bytes; values unsigned.
 *  The hart splits an 8-byte access into two 4-byte ones, low word first. */
export interface MmioDevice {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  read(offset: number, width: 1 | 2 | 4): number;
  write(offset: number, width: 1 | 2 | 4, value: number): void;
}

/** The hart's interrupt-pending lines: mip bit numbers (3 MSIP, 7 MTIP, 9 SEIP, 11 MEIP). */
export interface InterruptLines {
  set(bit: number, level: boolean): void;
}

/** Machine time in timebase ticks (10 MHz, as on QEMU's virt), kept by the machine:
 *  deterministic, derived from instructions retired plus time skipped in WFI. */
export interface MachineClock {
  mtime(): number;
  setMtime(v: number): void;
}

/** An interrupt source's line into the PLIC (sources 1..95, level-triggered). */
export interface IrqSink {
  setLevel(source: number, level: boolean): void;
}

/** mip bit numbers the devices drive. */
export const MIP_MSIP = 3;
export const MIP_MTIP = 7;
export const MIP_SEIP = 9;
export const MIP_MEIP = 11;

/** The bytes a 1- or 2-byte read at `offset` takes from the aligned 32-bit register
 *  `word` (little-endian, as the hart sees memory). */
export function narrowRead(word: number, offset: number, width: 1 | 2): number {
  return (word >>> ((offset & 3) * 8)) & (width === 1 ? 0xff : 0xffff);
}

/** The aligned 32-bit register `word` after a 1- or 2-byte write of `value` at `offset`
 *  replaces its bytes. */
export function narrowMerge(word: number, offset: number, width: 1 | 2, value: number): number {
  const shift = (offset & 3) * 8;
  const mask = (width === 1 ? 0xff : 0xffff) << shift;
  return ((word & ~mask) | ((value << shift) & mask)) >>> 0;
}

/** Routes physical addresses to devices. A machine has a handful of devices, so a
 *  linear scan with a one-entry cache (consecutive accesses tend to hit the same
 *  device: a UART's status polls, a PLIC claim/complete pair) beats any index. */
export class Bus {
  private readonly devices: MmioDevice[] = [];
  private last: MmioDevice | undefined;

  /** Adds a device; refuses one that overlaps a device already on the bus, since
   *  which one answered would then depend on the order of `add` calls. */
  add(d: MmioDevice): void {
    if (!(d.size > 0) || d.base < 0) throw new Error(`device ${d.name}: bad range base=${hex(d.base)} size=${hex(d.size)}`);
    for (const o of this.devices) {
      if (d.base < o.base + o.size && o.base < d.base + d.size) {
        throw new Error(
          `device ${d.name} [${hex(d.base)}, ${hex(d.base + d.size)}) overlaps ${o.name} [${hex(o.base)}, ${hex(o.base + o.size)})`,
        );
      }
    }
    this.devices.push(d);
  }

  /** the device covering addr, or undefined */
  find(addr: number): MmioDevice | undefined {
    const l = this.last;
    if (l !== undefined && addr >= l.base && addr < l.base + l.size) return l;
    const ds = this.devices;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i];
      if (addr >= d.base && addr < d.base + d.size) {
        this.last = d;
        return d;
      }
    }
    return undefined;
  }

  /** The devices in the order they were added. */
  list(): readonly MmioDevice[] {
    return this.devices;
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}
