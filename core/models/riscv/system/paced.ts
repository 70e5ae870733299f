// The virt machine paced by simulated time, for VMs in scenarios: each tick grants
// the machine cycles (its clock runs one cycle per instruction, plus the cycles WFI
// skips), and it runs until its clock reaches what it was granted. The machine keeps
// its own clock (mtime is one 10 MHz tick per 100 cycles), so what the guest does
// depends only on its instructions, never on how the run is cut into ticks.
//
// Simulated time is mapped onto the machine's cycles piecewise-linearly: while the
// grant rate (cycles per simulated ns) stays the same, cycle c is at
// epochNs + (c − epochCycles) / rate. A new piece starts only when the rate changes
// or the machine did not run for a while, so a console line, init or power-off gets
// the same simulated time whatever the tick length. A WFI with nothing pending skips
// to the next timer at once and may take the machine past its grant; it then waits,
// idle, until simulated time catches up.
//
// In timing mode an MMU strategy charges cycles for translation (stallCycles): they
// are the VM's but not the guest's, so grants pay for them and the time mapping counts
// them (a VM cycle is a machine cycle or a stall cycle), while the guest's clock and
// everything it does stay those of a plain run.

import { VirtMachine, type MachineOptions, type RunResult } from './machine';
import { consoleLines } from './console-lines';

export interface PacedMachineOptions extends Omit<MachineOptions, 'console'> {
  /** Bytes fed to the UART's receiver at power-on (the host side of the console). */
  stdin?: Uint8Array;
  /** Console bytes kept for the results; the rest is counted and dropped. */
  maxConsole?: number;
  /** Stop after this many instructions (0 or absent: no limit). */
  maxInstructions?: number;
  /**
   * Cycles the VM spends beyond the machine's own (address translation in timing
   * mode), so far: they take simulated time but not guest time, so the machine's grant
   * pays for them and the guest sees nothing of them.
   */
  stallCycles?: () => number;
  /** Each console line when its newline is sent, without line ending, with its simulated time. */
  onLine?: (line: string, timeNs: number) => void;
}

/**
 * The keys under which the runner hands a VM the committed artefacts of
 * scenarios/linux/ when its workload names no kernel, initrd or firmware of its own
 * (a workload's own files are keyed by their path as written in the scenario).
 */
export const COMMITTED_LINUX_FILES = {
  kernel: 'virtlab:scenarios/linux/Image',
  initrd: 'virtlab:scenarios/linux/initramfs.cpio',
  bios: 'virtlab:scenarios/linux/fw_jump.bin',
} as const;

/** How a paced machine ended, with the simulated time it ended at. */
export interface PacedEnd extends RunResult {
  readonly timeNs: number;
}

export class PacedMachine {
  readonly machine: VirtMachine;
  /** The console as sent, up to maxConsole bytes. */
  private readonly kept: Uint8Array;
  private keptBytes = 0;
  /** Console bytes beyond maxConsole. */
  dropped = 0;
  /** Splits the console into lines for onLine (a runaway line is cut). */
  private readonly lines: ((byte: number) => void) | null;
  private readonly maxInstructions: number;
  private readonly stall: () => number;
  /** Cycles granted so far; the machine runs until its clock reaches this. */
  private granted = 0;
  private epochNs = NaN;
  private epochCycles = 0;
  private rate = NaN;
  /** Simulated time at the end of the last tick the machine was granted. */
  private grantedUntilNs = NaN;
  /** Simulated time the machine was powered on (its first grant). */
  startNs = NaN;
  end: PacedEnd | null = null;

  constructor(private readonly opts: PacedMachineOptions) {
    this.kept = new Uint8Array(opts.maxConsole ?? 1 << 20);
    this.maxInstructions = opts.maxInstructions ? opts.maxInstructions : Infinity;
    this.stall = opts.stallCycles ?? (() => 0);
    const onLine = opts.onLine;
    this.lines = onLine ? consoleLines((text) => onLine(text, this.timeAt(this.vmCycles()))) : null;
    this.machine = new VirtMachine({ ...opts, console: (b) => this.consoleByte(b) });
    if (opts.stdin?.length) this.machine.uart.input(opts.stdin);
  }

  /** The machine's clock in cycles: instructions retired plus the cycles WFI skipped. */
  cycles(): number {
    return this.machine.mtime() * 100 + (this.machine.hart.instret % 100);
  }

  /** The VM's cycles: the machine's clock plus the stall cycles. Grants are paid in these. */
  vmCycles(): number {
    return this.cycles() + this.stall();
  }

  /** The simulated time of VM cycle `c` (on the current piece of the mapping). */
  timeAt(c: number): number {
    return this.epochNs + (c - this.epochCycles) / this.rate;
  }

  /** The console kept so far. */
  console(): Uint8Array {
    return this.kept.subarray(0, this.keptBytes);
  }

  /**
   * Grants the machine the cycles of the tick [timeNs, timeNs + dtNs) at `cyclesPerNs`
   * and runs it until its clock reaches them or it ends. Returns how it ended, or null.
   */
  advance(timeNs: number, dtNs: number, cyclesPerNs: number): PacedEnd | null {
    if (this.end) return this.end;
    if (Number.isNaN(this.startNs)) this.startNs = timeNs;
    if (cyclesPerNs !== this.rate || timeNs !== this.grantedUntilNs) {
      // A new piece of the time mapping, from what was granted so far.
      this.epochNs = timeNs;
      this.epochCycles = this.granted;
      this.rate = cyclesPerNs;
    }
    this.grantedUntilNs = timeNs + dtNs;
    if (cyclesPerNs <= 0) return null;
    this.granted = this.epochCycles + cyclesPerNs * (this.grantedUntilNs - this.epochNs);
    const h = this.machine.hart;
    for (let now = this.vmCycles(); now < this.granted; now = this.vmCycles()) {
      if (h.instret >= this.maxInstructions) return this.finish({ reason: 'limit', status: 0, instructions: h.instret });
      const limit = Math.min(this.maxInstructions, h.instret + Math.ceil(this.granted - now));
      const r = this.machine.run(limit);
      if (r.reason !== 'limit') return this.finish(r);
    }
    if (h.instret >= this.maxInstructions) return this.finish({ reason: 'limit', status: 0, instructions: h.instret });
    return null;
  }

  private finish(r: RunResult): PacedEnd {
    this.end = { ...r, timeNs: this.timeAt(this.vmCycles()) };
    return this.end;
  }

  private consoleByte(b: number): void {
    if (this.keptBytes < this.kept.length) this.kept[this.keptBytes++] = b;
    else this.dropped++;
    this.lines?.(b);
  }
}
