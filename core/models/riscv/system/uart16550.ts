// The NS16550A UART of QEMU's virt board (at 0x10000000, PLIC source 10, byte-wide
// registers at consecutive offsets): the console of OpenSBI and of Linux's 8250 driver.
//
// The line is infinitely fast: a byte written to THR is handed to `output` at once,
// so THR and the transmitter are always empty again by the next access (LSR THRE and
// TEMT read 1) and, after each write, the THRE interrupt is pending again. This is what
// Linux's 8250 driver relies on once its boot console hands over: it enables ETBEI in
// IER and transmits from the THRE interrupt, up to a FIFO's worth per interrupt, and
// stops by clearing ETBEI. Enabling ETBEI while THR is empty raises the THRE interrupt
// (a rising edge of IER bit 1 re-arms it, as QEMU and Bochs do and as the driver's
// startup test of the THRE interrupt expects); reading IIR while it is the interrupt
// reported, or writing THR, clears it.
//
// Received bytes come from the host through `input` into a queue, and from there into
// the receive FIFO (16 bytes, or one when FIFOs are off) as it has room — the host side
// is flow-controlled, so no byte is lost to overrun unless the guest loops its own
// output back (MCR LOOP) into a full FIFO. Without a notion of character time, data
// below the FIFO trigger level is reported at once as a character timeout (IIR 0x0C),
// which is what a real UART reports a few character times later.
import type { IrqSink, MmioDevice } from './bus';

export const UART_BASE = 0x10000000;
export const UART_SIZE = 0x100;
/** The UART's PLIC source on QEMU's virt. */
export const UART_IRQ = 10;
/** The input clock QEMU's virt declares in the device tree (clock-frequency). */
export const UART_CLOCK_HZ = 3686400;

// Register offsets.
export const UART_RBR = 0; // read, DLAB=0
export const UART_THR = 0; // write, DLAB=0
export const UART_DLL = 0; // DLAB=1
export const UART_IER = 1; // DLAB=0
export const UART_DLM = 1; // DLAB=1
export const UART_IIR = 2; // read
export const UART_FCR = 2; // write
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

// IER bits.
export const IER_ERBFI = 0x01; // received data available
export const IER_ETBEI = 0x02; // THR empty
export const IER_ELSI = 0x04; // receiver line status
export const IER_EDSSI = 0x08; // modem status

// IIR values (bits 3:0) and the FIFO-enabled marker (bits 7:6).
export const IIR_NO_INT = 0x01;
export const IIR_MSI = 0x00;
export const IIR_THRI = 0x02;
export const IIR_RDI = 0x04;
export const IIR_RLSI = 0x06;
export const IIR_CTI = 0x0c;
export const IIR_FIFO = 0xc0;

// FCR bits.
export const FCR_ENABLE = 0x01;
export const FCR_CLEAR_RX = 0x02;
export const FCR_CLEAR_TX = 0x04;

export const LCR_DLAB = 0x80;

// MCR bits.
export const MCR_DTR = 0x01;
export const MCR_RTS = 0x02;
export const MCR_OUT1 = 0x04;
export const MCR_OUT2 = 0x08;
export const MCR_LOOP = 0x10;

// LSR bits.
export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_PE = 0x04;
export const LSR_FE = 0x08;
export const LSR_BI = 0x10;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
export const LSR_FIFOE = 0x80;
const LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

// MSR bits: deltas in 3:0, lines in 7:4.
export const MSR_DCTS = 0x01;
export const MSR_DDSR = 0x02;
export const MSR_TERI = 0x04;
export const MSR_DDCD = 0x08;
export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_RI = 0x40;
export const MSR_DCD = 0x80;
/** A terminal is attached: CTS, DSR and DCD asserted, as QEMU reports. */
const MSR_CONNECTED = MSR_CTS | MSR_DSR | MSR_DCD;

const FIFO_DEPTH = 16;
/** Receive trigger levels selected by FCR bits 7:6. */
const TRIGGER = [1, 4, 8, 14];

export class Uart16550 implements MmioDevice {
  readonly name = 'uart0';
  readonly base = UART_BASE;
  readonly size = UART_SIZE;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  /** Error and break bits of LSR (DR, THRE and TEMT are derived). */
  private lsrErrors = 0;
  private msr = MSR_CONNECTED;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  private fifoEnabled = false;
  private trigger = 1;
  private thrPending = false;
  private lastRbr = 0;

  private readonly rx = new Uint8Array(FIFO_DEPTH);
  private rxHead = 0;
  private rxCount = 0;
  /** Bytes from the host not yet in the receive FIFO. */
  private host: number[] = [];
  private hostHead = 0;

  private irqLevel = false;

  constructor(
    private readonly irq: IrqSink,
    private readonly output: (byte: number) => void,
  ) {}

  /** Queues bytes typed on the host's side of the line. */
  input(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.host.push(bytes[i] & 0xff);
    this.refill();
    this.updateIrq();
  }

  read(offset: number, _width: 1 | 2 | 4): number {
    switch (offset) {
      case 0:
        if (this.lcr & LCR_DLAB) return this.dll;
        return this.readRbr();
      case 1:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case 2: {
        const iir = this.iir();
        // Reading IIR acknowledges a THRE interrupt it reports.
        if ((iir & 0x0f) === IIR_THRI) {
          this.thrPending = false;
          this.updateIrq();
        }
        return iir;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const lsr = this.lsr();
        if (this.lsrErrors !== 0) {
          this.lsrErrors = 0;
          this.updateIrq();
        }
        return lsr;
      }
      case 6: {
        const msr = this.msr;
        if (msr & 0x0f) {
          this.msr &= 0xf0;
          this.updateIrq();
        }
        return msr;
      }
      case 7:
        return this.scr;
      default:
        return 0;
    }
  }

  write(offset: number, _width: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    switch (offset) {
      case 0:
        if (this.lcr & LCR_DLAB) this.dll = v;
        else this.transmit(v);
        break;
      case 1:
        if (this.lcr & LCR_DLAB) {
          this.dlm = v;
        } else {
          const was = this.ier;
          this.ier = v & 0x0f;
          // A rising ETBEI with THR empty (always, on this line) re-arms THRE; clearing
          // ETBEI forgets it.
          if ((was ^ this.ier) & IER_ETBEI) this.thrPending = (this.ier & IER_ETBEI) !== 0;
        }
        break;
      case 2:
        this.writeFcr(v);
        break;
      case 3:
        this.lcr = v;
        break;
      case 4:
        this.writeMcr(v & 0x1f);
        break;
      case 7:
        this.scr = v;
        break;
      default:
        // LSR and MSR are read-only (factory test writes are not modelled).
        return;
    }
    this.updateIrq();
  }

  /** The interrupt identification IIR would show now, without acknowledging anything. */
  iir(): number {
    return this.pendingInterrupt() | (this.fifoEnabled ? IIR_FIFO : 0);
  }

  /** The line status LSR would show now. */
  lsr(): number {
    return (this.rxCount > 0 ? LSR_DR : 0) | LSR_THRE | LSR_TEMT | this.lsrErrors;
  }

  /** The divisor latch (baud = clock / (16 · divisor)). */
  divisor(): number {
    return (this.dlm << 8) | this.dll;
  }

  private pendingInterrupt(): number {
    const ier = this.ier;
    if (ier & IER_ELSI && this.lsrErrors & LSR_ERRORS) return IIR_RLSI;
    if (ier & IER_ERBFI && this.rxCount > 0) {
      if (!this.fifoEnabled || this.rxCount >= this.trigger) return IIR_RDI;
      return IIR_CTI;
    }
    if (ier & IER_ETBEI && this.thrPending) return IIR_THRI;
    if (ier & IER_EDSSI && this.msr & 0x0f) return IIR_MSI;
    return IIR_NO_INT;
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) this.receive(byte);
    else this.output(byte);
    // Sent at once: THR is empty again, so its interrupt is pending again.
    this.thrPending = true;
  }

  private readRbr(): number {
    if (this.rxCount > 0) {
      this.lastRbr = this.rx[this.rxHead];
      this.rxHead = (this.rxHead + 1) % FIFO_DEPTH;
      this.rxCount--;
      this.refill();
      this.updateIrq();
    }
    return this.lastRbr;
  }

  /** A byte arriving on the receiver: into the FIFO, or an overrun when it is full. */
  private receive(byte: number): void {
    const depth = this.fifoEnabled ? FIFO_DEPTH : 1;
    if (this.rxCount >= depth) {
      this.lsrErrors |= LSR_OE;
      return;
    }
    this.rx[(this.rxHead + this.rxCount) % FIFO_DEPTH] = byte;
    this.rxCount++;
  }

  /** Moves host bytes into the FIFO while it has room (not in loopback: the line is
   *  then disconnected from the host). */
  private refill(): void {
    if (this.mcr & MCR_LOOP) return;
    const depth = this.fifoEnabled ? FIFO_DEPTH : 1;
    while (this.hostHead < this.host.length && this.rxCount < depth) this.receive(this.host[this.hostHead++]);
    if (this.hostHead === this.host.length && this.hostHead > 0) {
      this.host = [];
      this.hostHead = 0;
    }
  }

  private writeFcr(v: number): void {
    const enable = (v & FCR_ENABLE) !== 0;
    if (enable !== this.fifoEnabled) {
      // Switching the FIFOs on or off empties them.
      this.fifoEnabled = enable;
      this.rxHead = 0;
      this.rxCount = 0;
    }
    if (enable) {
      if (v & FCR_CLEAR_RX) {
        this.rxHead = 0;
        this.rxCount = 0;
      }
      this.trigger = TRIGGER[v >>> 6];
    } else {
      this.trigger = 1;
    }
    this.refill();
  }

  private writeMcr(v: number): void {
    const before = this.modemLines();
    this.mcr = v;
    const after = this.modemLines();
    let delta = 0;
    if ((before ^ after) & MSR_CTS) delta |= MSR_DCTS;
    if ((before ^ after) & MSR_DSR) delta |= MSR_DDSR;
    if ((before ^ after) & MSR_DCD) delta |= MSR_DDCD;
    if (before & MSR_RI && !(after & MSR_RI)) delta |= MSR_TERI;
    this.msr = after | (this.msr & 0x0f) | delta;
    this.refill();
  }

  /** Modem status lines: the MCR outputs looped back in loopback, else a connected terminal. */
  private modemLines(): number {
    const m = this.mcr;
    if (!(m & MCR_LOOP)) return MSR_CONNECTED;
    return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
  }

  private updateIrq(): void {
    const level = this.pendingInterrupt() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.setLevel(UART_IRQ, level);
    }
  }
}
