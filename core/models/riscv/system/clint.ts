// The core-local interruptor of QEMU's virt board (SiFive CLINT, which the RISC-V
// ACLINT spec splits into an MSWI and an MTIMER device with the same layout): per
// hart a software-interrupt word (msip, bit 0 drives mip.MSIP) and a 64-bit timer
// compare register (mtimecmp, MTIP is pending while mtime >= mtimecmp), and the one
// 64-bit mtime shared by all harts. OpenSBI programs mtimecmp on the kernel's SBI
// set_timer calls and the kernel's scheduler tick comes from here.
//
// Time is not kept here: the machine owns it (`MachineClock`, derived from
// instructions retired and time skipped in WFI) and calls `update()` when it moves,
// so the timer interrupt is a deterministic function of the guest's execution.
// 64-bit registers are kept as two 32-bit halves, because the hart writes them as two
// 32-bit accesses; their numeric value is folded into one double for comparisons
// (values from 2^53 up, e.g. OpenSBI's "never" of all ones, are beyond any reachable
// mtime and compare as +Infinity).
import { MIP_MSIP, MIP_MTIP, narrowMerge, narrowRead, type InterruptLines, type MachineClock, type MmioDevice } from './bus';

export const CLINT_BASE = 0x2000000;
export const CLINT_SIZE = 0x10000;
/** Offsets of hart 0's registers, as in the SiFive CLINT and the ACLINT spec. */
export const CLINT_MSIP = 0x0;
export const CLINT_MTIMECMP = 0x4000;
export const CLINT_MTIME = 0xbff8;

const TWO32 = 0x100000000;
/** The first double at which not every integer is representable. */
const TWO53 = 2 ** 53;

export class Clint implements MmioDevice {
  readonly name = 'clint';
  readonly base = CLINT_BASE;
  readonly size = CLINT_SIZE;

  private msip = 0;
  // mtimecmp is not reset by the hardware (the spec leaves it undefined); all ones
  // keeps MTIP low until firmware programs it, as OpenSBI's first write does anyway.
  private cmpLo = 0xffffffff;
  private cmpHi = 0xffffffff;
  private cmp = Infinity;
  private mtip = false;

  // The lines start low, as the hart's mip does out of reset; nothing is sent to them
  // here, so that the machine may build the devices before the hart they interrupt.
  constructor(
    private readonly lines: InterruptLines,
    private readonly clock: MachineClock,
  ) {}

  /** Re-evaluates MTIP against the clock; the machine calls it whenever time moves. */
  update(): void {
    const level = this.clock.mtime() >= this.cmp;
    if (level !== this.mtip) {
      this.mtip = level;
      this.lines.set(MIP_MTIP, level);
    }
  }

  /** The mtime at which MTIP rises (+Infinity when never): where WFI may skip to. */
  nextTimerEvent(): number {
    return this.cmp;
  }

  read(offset: number, width: 1 | 2 | 4): number {
    const word = this.readWord(offset & ~3);
    return width === 4 ? word : narrowRead(word, offset, width);
  }

  write(offset: number, width: 1 | 2 | 4, value: number): void {
    const aligned = offset & ~3;
    this.writeWord(aligned, width === 4 ? value >>> 0 : narrowMerge(this.readWord(aligned), offset, width, value));
  }

  private readWord(off: number): number {
    if (off === CLINT_MSIP) return this.msip;
    if (off === CLINT_MTIMECMP) return this.cmpLo;
    if (off === CLINT_MTIMECMP + 4) return this.cmpHi;
    if (off === CLINT_MTIME || off === CLINT_MTIME + 4) {
      const t = this.clock.mtime();
      return off === CLINT_MTIME ? t % TWO32 >>> 0 : Math.floor(t / TWO32) >>> 0;
    }
    // Registers of harts this machine does not have read as zero.
    return 0;
  }

  private writeWord(off: number, v: number): void {
    if (off === CLINT_MSIP) {
      // Only bit 0 is implemented; the rest are hardwired to zero.
      const bit = v & 1;
      if (bit !== this.msip) {
        this.msip = bit;
        this.lines.set(MIP_MSIP, bit === 1);
      }
    } else if (off === CLINT_MTIMECMP || off === CLINT_MTIMECMP + 4) {
      if (off === CLINT_MTIMECMP) this.cmpLo = v;
      else this.cmpHi = v;
      this.cmp = this.cmpHi >= TWO53 / TWO32 ? Infinity : this.cmpHi * TWO32 + this.cmpLo;
      this.update();
    } else if (off === CLINT_MTIME || off === CLINT_MTIME + 4) {
      const t = this.clock.mtime();
      const lo = off === CLINT_MTIME ? v : t % TWO32 >>> 0;
      const hi = off === CLINT_MTIME ? Math.floor(t / TWO32) : v;
      this.clock.setMtime(hi * TWO32 + lo);
      this.update();
    }
  }
}
