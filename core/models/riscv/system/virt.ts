// The device set of QEMU's virt board with one hart, wired together (UART → PLIC source
// 10, CLINT and PLIC → the hart's mip lines, test finisher → power off/reset) on one
// bus, and where QEMU places the kernel, the initramfs and the device tree in RAM. A
// machine builds its devices here, so that they, the device tree (fdt.ts) and the
// memory map cannot disagree.
import { Bus, type InterruptLines, type MachineClock } from './bus';
import { Clint } from './clint';
import { VIRT_DRAM_BASE } from './fdt';
import { Finisher } from './finisher';
import { Plic } from './plic';
import { Uart16550 } from './uart16550';

export interface VirtDevices {
  bus: Bus;
  clint: Clint;
  plic: Plic;
  uart: Uart16550;
  finisher: Finisher;
}

/** Builds the virt board's devices on a new bus. `output` receives each byte the guest
 *  sends on the console; `onPowerOff` the status of a power-off through the test
 *  finisher; `onReset` a reset request through it (ignored when absent). */
export function createVirtDevices(
  lines: InterruptLines,
  clock: MachineClock,
  output: (byte: number) => void,
  onPowerOff: (status: number) => void,
  onReset: () => void = () => {},
): VirtDevices {
  const bus = new Bus();
  const clint = new Clint(lines, clock);
  const plic = new Plic(lines);
  const uart = new Uart16550(plic, output);
  const finisher = new Finisher(onPowerOff, onReset);
  // In address order: the test finisher, the CLINT, the PLIC, the UART.
  for (const d of [finisher, clint, plic, uart]) bus.add(d);
  return { bus, clint, plic, uart, finisher };
}

const MiB = 2 ** 20;

/** Where the kernel goes: 2 MiB into RAM, past the firmware, which is where Debian's
 *  OpenSBI fw_jump jumps (FW_JUMP_ADDR of the generic platform on RV64) and where QEMU
 *  loads a kernel behind a firmware smaller than 2 MiB. */
export const VIRT_KERNEL_BASE = VIRT_DRAM_BASE + 2 * MiB;

/** Where QEMU 7.2 puts the initramfs: far enough above the kernel that the kernel does
 *  not overwrite it while unpacking, half of RAM above the kernel on small machines and
 *  128 MiB above it from 256 MiB of RAM on, so that it stays in the kernel's lowmem. */
export function virtInitrdAddress(memoryBytes: number, kernelEntry = VIRT_KERNEL_BASE): number {
  return kernelEntry + Math.min(memoryBytes / 2, 128 * MiB);
}

/** Where QEMU 7.2 puts the device tree: at the end of RAM (but below 3 GiB of address,
 *  which 32-bit kernels can reach), aligned down to 2 MiB so that the kernel can map it
 *  with one large page. */
export function virtDtbAddress(memoryBytes: number, dtbBytes: number): number {
  const end = Math.min(VIRT_DRAM_BASE + memoryBytes, 3072 * MiB);
  return Math.floor((end - dtbBytes) / (2 * MiB)) * (2 * MiB);
}
