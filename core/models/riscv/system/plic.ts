// The platform-level interrupt controller of QEMU's virt board (RISC-V PLIC spec,
// `sifive,plic-1.0.0` binding) with one hart: 95 level-triggered sources (1..95, 0 is
// "no interrupt"), 3-bit priorities, and two contexts, 0 for the hart's M-mode (drives
// mip.MEIP) and 1 for its S-mode (drives mip.SEIP). Linux's irq-sifive-plic driver
// uses context 1; OpenSBI only masks everything in context 0.
//
// Register map (offsets from 0xc000000): priority of source N at 4·N; pending bits at
// 0x1000; enable bits of context C at 0x2000 + 0x80·C; threshold of context C at
// 0x200000 + 0x1000·C and its claim/complete register 4 bytes further.
//
// Gateways are level-triggered: a source is pending while its line is high and it is
// not in service; a claim takes it into service (and so off pending) until the
// completion, after which a line still high makes it pending again. Sources, enables and
// pending bits are held as 32-bit masks so that re-evaluating both context outputs on
// each change is a few word operations, with no allocation.
import { MIP_MEIP, MIP_SEIP, narrowMerge, narrowRead, type InterruptLines, type IrqSink, type MmioDevice } from './bus';

export const PLIC_BASE = 0xc000000;
export const PLIC_SIZE = 0x600000;
/** Sources 1..95; QEMU's virt declares riscv,ndev = 95. */
export const PLIC_NDEV = 95;
/** Priorities are WARL with 3 bits, as QEMU's virt (VIRT_IRQCHIP_NUM_PRIO_BITS). */
export const PLIC_MAX_PRIORITY = 7;
export const PLIC_PRIORITY = 0x0;
export const PLIC_PENDING = 0x1000;
export const PLIC_ENABLE = 0x2000;
export const PLIC_ENABLE_STRIDE = 0x80;
export const PLIC_CONTEXT = 0x200000;
export const PLIC_CONTEXT_STRIDE = 0x1000;
/** Offset of claim/complete inside a context's block (threshold is at +0). */
export const PLIC_CLAIM = 4;

const WORDS = 3; // 96 bits: source 0 (reserved) and 1..95
const CONTEXTS = 2;
/** The mip bit each context drives: hart 0 M-mode, hart 0 S-mode. */
const CONTEXT_LINE = [MIP_MEIP, MIP_SEIP];

export class Plic implements MmioDevice, IrqSink {
  readonly name = 'plic';
  readonly base = PLIC_BASE;
  readonly size = PLIC_SIZE;

  private readonly priority = new Uint8Array(PLIC_NDEV + 1);
  /** Current level of each source's line. */
  private readonly level = new Uint32Array(WORDS);
  /** Sources claimed and not yet completed. */
  private readonly inService = new Uint32Array(WORDS);
  /** level & ~inService: what the pending registers show. */
  private readonly pending = new Uint32Array(WORDS);
  private readonly enable = new Uint32Array(WORDS * CONTEXTS);
  private readonly threshold = new Uint8Array(CONTEXTS);
  private readonly output = [false, false];

  // Outputs start low, as the hart's mip does; nothing is sent to the lines here, so that
  // the machine may build the devices before the hart they interrupt.
  constructor(private readonly lines: InterruptLines) {}

  setLevel(source: number, level: boolean): void {
    if (source < 1 || source > PLIC_NDEV) throw new Error(`PLIC: no interrupt source ${source} (sources are 1..${PLIC_NDEV})`);
    const w = source >>> 5;
    const bit = 1 << (source & 31);
    const was = (this.level[w] & bit) !== 0;
    if (was === level) return;
    if (level) this.level[w] |= bit;
    else this.level[w] &= ~bit;
    this.refreshPending(w);
    this.updateOutputs();
  }

  read(offset: number, width: 1 | 2 | 4): number {
    const word = this.readWord(offset & ~3, width === 4);
    return width === 4 ? word : narrowRead(word, offset, width);
  }

  write(offset: number, width: 1 | 2 | 4, value: number): void {
    const aligned = offset & ~3;
    if (width !== 4) {
      // Claim/complete takes only whole words (a narrow write there is ignored); other
      // registers take the bytes written.
      if (aligned >= PLIC_CONTEXT && (aligned & (PLIC_CONTEXT_STRIDE - 1)) === PLIC_CLAIM) return;
      value = narrowMerge(this.readWord(aligned, false), offset, width, value);
    }
    this.writeWord(aligned, value >>> 0);
  }

  /** The source a claim by `context` would return now (0 when none), without claiming. */
  best(context: number): number {
    const th = this.threshold[context];
    let bestSource = 0;
    let bestPriority = th;
    const e = context * WORDS;
    for (let w = 0; w < WORDS; w++) {
      let m = this.pending[w] & this.enable[e + w];
      while (m !== 0) {
        const b = 31 - Math.clz32(m & -m);
        m &= m - 1;
        const s = (w << 5) | b;
        // Strictly greater: ties go to the lowest source id, scanned first.
        const p = this.priority[s];
        if (p > bestPriority) {
          bestPriority = p;
          bestSource = s;
        }
      }
    }
    return bestSource;
  }

  private readWord(off: number, sideEffects: boolean): number {
    if (off < PLIC_PENDING) {
      const s = off >>> 2;
      return s <= PLIC_NDEV ? this.priority[s] : 0;
    }
    if (off < PLIC_ENABLE) {
      const w = (off - PLIC_PENDING) >>> 2;
      return w < WORDS ? this.pending[w] >>> 0 : 0;
    }
    if (off < PLIC_CONTEXT) {
      const rel = off - PLIC_ENABLE;
      const c = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >>> 2;
      return c < CONTEXTS && w < WORDS ? this.enable[c * WORDS + w] >>> 0 : 0;
    }
    const rel = off - PLIC_CONTEXT;
    const c = Math.floor(rel / PLIC_CONTEXT_STRIDE);
    if (c >= CONTEXTS) return 0;
    const r = rel % PLIC_CONTEXT_STRIDE;
    if (r === 0) return this.threshold[c];
    if (r === PLIC_CLAIM) return sideEffects ? this.claim(c) : 0;
    return 0;
  }

  private writeWord(off: number, v: number): void {
    if (off < PLIC_PENDING) {
      const s = off >>> 2;
      if (s === 0 || s > PLIC_NDEV) return;
      this.priority[s] = v & PLIC_MAX_PRIORITY;
      this.updateOutputs();
      return;
    }
    if (off < PLIC_ENABLE) return; // pending bits are read-only
    if (off < PLIC_CONTEXT) {
      const rel = off - PLIC_ENABLE;
      const c = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >>> 2;
      if (c >= CONTEXTS || w >= WORDS) return;
      // Source 0 does not exist: its enable bit is hardwired to zero.
      this.enable[c * WORDS + w] = w === 0 ? v & ~1 : v;
      this.updateOutputs();
      return;
    }
    const rel = off - PLIC_CONTEXT;
    const c = Math.floor(rel / PLIC_CONTEXT_STRIDE);
    if (c >= CONTEXTS) return;
    const r = rel % PLIC_CONTEXT_STRIDE;
    if (r === 0) {
      this.threshold[c] = v & PLIC_MAX_PRIORITY;
      this.updateOutputs();
    } else if (r === PLIC_CLAIM) {
      this.complete(c, v);
    }
  }

  private claim(c: number): number {
    const s = this.best(c);
    if (s !== 0) {
      const w = s >>> 5;
      this.inService[w] |= 1 << (s & 31);
      this.refreshPending(w);
      this.updateOutputs();
    }
    return s;
  }

  private complete(c: number, s: number): void {
    if (s < 1 || s > PLIC_NDEV) return;
    const w = s >>> 5;
    const bit = 1 << (s & 31);
    // The spec ignores a completion for a source not enabled in the completing context;
    // Linux's driver unmasks a masked source around its completion for this reason.
    if ((this.enable[c * WORDS + w] & bit) === 0) return;
    if ((this.inService[w] & bit) === 0) return;
    this.inService[w] &= ~bit;
    this.refreshPending(w);
    this.updateOutputs();
  }

  private refreshPending(w: number): void {
    this.pending[w] = this.level[w] & ~this.inService[w];
  }

  private updateOutputs(): void {
    for (let c = 0; c < CONTEXTS; c++) {
      const level = this.best(c) !== 0;
      if (level !== this.output[c]) {
        this.output[c] = level;
        this.lines.set(CONTEXT_LINE[c], level);
      }
    }
  }
}
