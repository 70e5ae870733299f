// A machine compatible with QEMU's `virt` board with one hart: RAM at 0x80000000, the
// CLINT, the PLIC, an NS16550A UART as the console, the SiFive test finisher for
// power-off, and a device tree of our own writer passed in a1. It boots either
// firmware (OpenSBI's fw_jump, entered in M-mode at the start of RAM, which jumps to
// the kernel at 0x80200000) or, without firmware, an ELF or raw image in M-mode.
//
// Time is deterministic: mtime counts one 10 MHz tick per 100 instructions retired
// (one instruction per cycle at 1 GHz), plus the ticks WFI skips when nothing is
// pending. Runs are cut at the instruction where the next timer interrupt is due, so
// the results do not depend on how the run is chunked.

import { Bus, type MachineClock } from './bus';
import { Clint } from './clint';
import { Plic } from './plic';
import { Uart16550, UART_IRQ } from './uart16550';
import { Finisher } from './finisher';
import { virtBoardDtb } from './fdt';
import { PrivilegedHart, RAM_BASE, SATP_SV39, SATP_SV48, SATP_SV57, Stop, type HartStorage } from './hart';

export { RAM_BASE };
/** Where fw_jump jumps (FW_JUMP_ADDR of the generic platform) and where an Image goes. */
export const KERNEL_BASE = 0x80200000;
export const INSTRUCTIONS_PER_TICK = 100;
export const TIMEBASE_HZ = 10_000_000;
const MiB = 1024 * 1024;

export interface MachineOptions {
  /** RAM size in bytes (default 128 MiB). */
  memoryBytes?: number;
  /** The kernel: an ELF (loaded at its physical addresses) or a raw image (at 0x80200000). */
  kernel: Uint8Array;
  /** Firmware loaded at 0x80000000 and entered first (OpenSBI fw_jump.bin); none: enter the kernel in M-mode. */
  bios?: Uint8Array;
  initrd?: Uint8Array;
  bootargs?: string;
  /**
   * The widest paging mode the hart offers (satp refuses wider ones), which the device
   * tree's mmu-type announces: sv57 by default, as QEMU 7.2's hart. Linux 6.1 takes the
   * widest mode satp accepts.
   */
  mmu?: 'sv39' | 'sv48' | 'sv57';
  /** Each byte the UART transmits. */
  console: (byte: number) => void;
  /** The engine that runs the hart (default: its interpreter). */
  engine?: HartEngine;
}

/** What runs the hart's instructions: by default the hart's own interpreter (its run()). */
export interface HartExecutor {
  /** Executes at most `budget` instructions, with run()'s contract: same stops, same instruction counts. */
  run(budget: number): Stop;
  /** The engine's own counters, for reports. */
  counters?(): Record<string, number>;
}

/** Another engine for the hart (a translator): the storage it shares with the hart, and its executor. */
export interface HartEngine {
  readonly id: string;
  storage(ramBytes: number): HartStorage;
  attach(hart: PrivilegedHart): HartExecutor;
}

export interface RunResult {
  /** 'poweroff' (status set), 'reset', 'limit' (instruction budget spent), 'idle' (WFI with nothing that could ever wake it). */
  reason: 'poweroff' | 'reset' | 'limit' | 'idle';
  /** The power-off status (0 for a clean power-off, the failure code otherwise). */
  status: number;
  instructions: number;
}

/** The raw-image or ELF segments of a kernel: [physical address, bytes, memory size]. */
function segments(image: Uint8Array): { entry: number; parts: Array<[number, Uint8Array, number]> } {
  const isElf = image.length >= 64 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
  if (!isElf) return { entry: KERNEL_BASE, parts: [[KERNEL_BASE, image, image.length]] };
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image[4] !== 2 || dv.getUint16(18, true) !== 243) throw new Error('not a 64-bit RISC-V ELF');
  const entry = Number(dv.getBigUint64(24, true));
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const parts: Array<[number, Uint8Array, number]> = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue; // PT_LOAD
    const off = Number(dv.getBigUint64(p + 8, true));
    const paddr = Number(dv.getBigUint64(p + 24, true));
    const filesz = Number(dv.getBigUint64(p + 32, true));
    const memsz = Number(dv.getBigUint64(p + 40, true));
    parts.push([paddr, image.subarray(off, off + filesz), memsz]);
  }
  return { entry, parts };
}

export class VirtMachine implements MachineClock {
  readonly bus = new Bus();
  readonly hart: PrivilegedHart;
  readonly executor: HartExecutor;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly finisher: Finisher;
  readonly memoryBytes: number;
  readonly dtbAddress: number;
  /** Ticks added to instructions-retired time: WFI skips and writes to mtime. */
  private tickOffset = 0;
  private ended: RunResult['reason'] | null = null;
  private status = 0;
  /** Ticks WFI skipped (for reports). */
  idleTicks = 0;

  constructor(opts: MachineOptions) {
    const mem = opts.memoryBytes ?? 128 * MiB;
    if (mem % 4096 !== 0 || mem < 2 * MiB || mem > 2048 * MiB) throw new Error(`memory must be whole pages between 2 MiB and 2 GiB, got ${mem}`);
    this.memoryBytes = mem;
    this.hart = new PrivilegedHart(mem, this.bus, this, opts.engine?.storage(mem));
    this.executor = opts.engine ? opts.engine.attach(this.hart) : this.hart;
    const mmu = opts.mmu ?? 'sv57';
    this.hart.maxSatpMode = mmu === 'sv39' ? SATP_SV39 : mmu === 'sv48' ? SATP_SV48 : SATP_SV57;
    this.clint = new Clint(this.hart, this);
    this.plic = new Plic(this.hart);
    this.uart = new Uart16550(this.plic, opts.console);
    this.finisher = new Finisher(
      (status) => this.end('poweroff', status),
      () => this.end('reset', 0),
    );
    this.bus.add(this.finisher);
    this.bus.add(this.clint);
    this.bus.add(this.plic);
    this.bus.add(this.uart);
    void UART_IRQ;

    const ram = this.hart.ram;
    const place = (addr: number, bytes: Uint8Array, memsz = bytes.length, what = 'image') => {
      const off = addr - RAM_BASE;
      if (off < 0 || off + memsz > mem) throw new Error(`${what} [0x${addr.toString(16)}, +0x${memsz.toString(16)}) does not fit in RAM`);
      ram.set(bytes, off);
    };
    const kernel = segments(opts.kernel);
    for (const [addr, bytes, memsz] of kernel.parts) place(addr, bytes, memsz, 'kernel');
    if (opts.bios) place(RAM_BASE, opts.bios, opts.bios.length, 'firmware');

    // The initrd and the device tree go where QEMU puts them: the initrd half-way
    // into RAM (at most 128 MiB past the kernel), the tree at the top, 2 MiB aligned.
    let initrd: { start: number; end: number } | undefined;
    if (opts.initrd) {
      const start = KERNEL_BASE + Math.min(mem / 2, 128 * MiB);
      place(start, opts.initrd, opts.initrd.length, 'initrd');
      initrd = { start, end: start + opts.initrd.length };
    }
    const dtb = virtBoardDtb({
      memoryBytes: mem,
      bootargs: opts.bootargs ?? '',
      initrd,
      isa: 'rv64imafdc',
      mmuType: `riscv,${mmu}`,
      timebaseHz: TIMEBASE_HZ,
    });
    const end = RAM_BASE + Math.min(mem, 3072 * MiB);
    this.dtbAddress = Math.floor((end - dtb.length) / (2 * MiB)) * 2 * MiB;
    place(this.dtbAddress, dtb, dtb.length, 'device tree');

    const h = this.hart;
    h.pc = opts.bios ? RAM_BASE : kernel.entry;
    h.setReg(10, 0); // a0: hart id
    h.setReg(11, this.dtbAddress); // a1: the device tree
    h.setReg(12, 0);
  }

  private end(reason: RunResult['reason'], status: number): void {
    if (this.ended === null) {
      this.ended = reason;
      this.status = status;
    }
    this.hart.requestStop();
  }

  mtime(): number {
    return Math.floor(this.hart.instret / INSTRUCTIONS_PER_TICK) + this.tickOffset;
  }

  setMtime(v: number): void {
    this.tickOffset = v - Math.floor(this.hart.instret / INSTRUCTIONS_PER_TICK);
  }

  /** Runs until power-off, reset, an idle hart nothing can wake, or `maxInstructions` retired in all. */
  run(maxInstructions = Infinity, chunk = 1_000_000): RunResult {
    const h = this.hart;
    const clint = this.clint;
    while (this.ended === null) {
      const left = maxInstructions - h.instret;
      if (left <= 0) return { reason: 'limit', status: 0, instructions: h.instret };
      clint.update();
      let budget = Math.min(left, chunk);
      const due = clint.nextTimerEvent();
      if (due !== Infinity) {
        // Stop exactly where mtime reaches mtimecmp, so MTIP rises at that instruction.
        const at = (due - this.tickOffset) * INSTRUCTIONS_PER_TICK - h.instret;
        if (at > 0) budget = Math.min(budget, at);
      }
      const why = this.executor.run(budget);
      if (why === Stop.WFI) {
        clint.update();
        if (!h.wakeable()) {
          const next = clint.nextTimerEvent();
          if (next === Infinity) return { reason: 'idle', status: 0, instructions: h.instret };
          // Nothing can happen before the timer: skip to it.
          const skip = Math.max(0, next - this.mtime());
          this.tickOffset += skip;
          this.idleTicks += skip;
        }
      }
    }
    return { reason: this.ended, status: this.status, instructions: h.instret };
  }
}
