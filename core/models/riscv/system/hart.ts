// The privileged RV64GC hart of the system machine: machine, supervisor and user modes,
// the control and status registers Linux and OpenSBI use, traps and interrupts with
// delegation, Sv39, Sv48 and Sv57 translation with hardware A/D updates, PMP, WFI, and
// the instructions that work on physical memory through the MMU.
//
// It is a separate engine from the user-mode interpreter (interpreter.ts), which works
// on a flat process address space with signals; this one works on the machine's
// physical RAM and memory-mapped devices. It shares the decoder, the 64-bit helpers and
// the FP operations with it, and follows the same plan for speed: registers as pairs
// of int32 in one Int32Array, instructions decoded once into tables kept by physical
// page (dropped when the page is written), and small direct-mapped TLBs, one per access
// kind and translation regime, so that a load is a tag compare and a DataView read.
//
// Data addresses are exact for every 64-bit value: they stay as their two words and
// are compared by page number, hi·2^20 + (lo >>> 12), a 52-bit integer a double holds
// exactly (a double holding the address itself would round Sv57's kernel addresses,
// such as the linear map at 0xff60_0000_0000_0000). The pc stays one double, exact
// below 2^53 in magnitude, which holds every address Linux runs code at; a jump
// beyond takes its fault exactly, and running code mapped there is refused loudly.

import * as decoderModule from '../decoder';
import * as int64 from '../int64';
import * as fpExecModule from '../fpexec';
import type { Decoded } from '../decoder';
import type { Bus, InterruptLines } from './bus';

const { decode16, decode32, newDecoded, writesIntRd } = decoderModule;
const { div32, div64, mul64, mulh, shl, shr } = int64;
const { execFp } = fpExecModule;

/** The decoder's operation numbers, as literals here (see interpreter.ts), plus the privileged ones. */
const enum Op {
  NONE = 0,
  ILLEGAL,
  LUI, AUIPC, JAL, JALR,
  BEQ, BNE, BLT, BGE, BLTU, BGEU,
  LB, LH, LW, LD, LBU, LHU, LWU,
  SB, SH, SW, SD,
  ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
  ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
  ADDIW, SLLIW, SRLIW, SRAIW, ADDW, SUBW, SLLW, SRLW, SRAW,
  FENCE, FENCE_I, ECALL, EBREAK,
  CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI,
  MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU,
  MULW, DIVW, DIVUW, REMW, REMUW,
  LR_W, SC_W, AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W, AMOMIN_W, AMOMAX_W, AMOMINU_W, AMOMAXU_W,
  LR_D, SC_D, AMOSWAP_D, AMOADD_D, AMOXOR_D, AMOAND_D, AMOOR_D, AMOMIN_D, AMOMAX_D, AMOMINU_D, AMOMAXU_D,
  FLW, FSW, FLD, FSD,
  FMADD_S, FMSUB_S, FNMSUB_S, FNMADD_S, FMADD_D, FMSUB_D, FNMSUB_D, FNMADD_D,
  FADD_S, FSUB_S, FMUL_S, FDIV_S, FSQRT_S, FSGNJ_S, FSGNJN_S, FSGNJX_S, FMIN_S, FMAX_S,
  FCVT_W_S, FCVT_WU_S, FCVT_L_S, FCVT_LU_S, FMV_X_W, FEQ_S, FLT_S, FLE_S, FCLASS_S,
  FCVT_S_W, FCVT_S_WU, FCVT_S_L, FCVT_S_LU, FMV_W_X,
  FADD_D, FSUB_D, FMUL_D, FDIV_D, FSQRT_D, FSGNJ_D, FSGNJN_D, FSGNJX_D, FMIN_D, FMAX_D,
  FCVT_S_D, FCVT_D_S, FEQ_D, FLT_D, FLE_D, FCLASS_D,
  FCVT_W_D, FCVT_WU_D, FCVT_L_D, FCVT_LU_D, FMV_X_D,
  FCVT_D_W, FCVT_D_WU, FCVT_D_L, FCVT_D_LU, FMV_D_X,
  COUNT,
  MRET, SRET, WFI, SFENCE_VMA,
}

/** The first privileged operation number (the decoder's table ends just before). */
export const PRIV_OPS_BASE = Op.COUNT;

const TWO32 = 4294967296;
const TWO20 = 1048576;
export const RAM_BASE = 0x80000000;

// Exception causes.
export const CAUSE = {
  FETCH_MISALIGNED: 0, FETCH_ACCESS: 1, ILLEGAL: 2, BREAKPOINT: 3, LOAD_MISALIGNED: 4, LOAD_ACCESS: 5,
  STORE_MISALIGNED: 6, STORE_ACCESS: 7, ECALL_U: 8, ECALL_S: 9, ECALL_M: 11,
  FETCH_PAGE: 12, LOAD_PAGE: 13, STORE_PAGE: 15,
} as const;

// mstatus bits (the low word; UXL and SXL are fixed at 64 bits in the high word).
const SIE = 1 << 1, MIE = 1 << 3, SPIE = 1 << 5, MPIE = 1 << 7, SPP = 1 << 8;
const MPP_SHIFT = 11, FS_SHIFT = 13, FS_MASK = 3 << 13;
const MPRV = 1 << 17, SUM = 1 << 18, MXR = 1 << 19, TVM = 1 << 20, TW = 1 << 21, TSR = 1 << 22;
const MSTATUS_WRITABLE = SIE | MIE | SPIE | MPIE | SPP | (3 << MPP_SHIFT) | FS_MASK | MPRV | SUM | MXR | TVM | TW | TSR;
const SSTATUS_MASK = SIE | SPIE | SPP | FS_MASK | SUM | MXR;
/** Interrupts S-mode may be delegated (SSI, STI, SEI), and every implemented one. */
const S_INTS = 0x222;
const ALL_INTS = 0xaaa;
const MEDELEG_WRITABLE = 0xb3ff;
/** Interrupt priority, highest first: MEI, MSI, MTI, SEI, SSI, STI. */
const PRIORITY = [11, 3, 7, 9, 1, 5];
/** misa: RV64 with A, C, D, F, I, M, S, U. */
const MISA_LO = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);

// Page-table entry bits.
const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_G = 32, PTE_A = 64, PTE_D = 128;

// Access kinds, which index the TLBs.
const READ = 0, WRITE = 1, FETCH = 2;

/** satp MODE values: bare, Sv39, Sv48, Sv57. */
export const SATP_BARE = 0, SATP_SV39 = 8, SATP_SV48 = 9, SATP_SV57 = 10;

/** Entries of each direct-mapped TLB. */
export const TLB_SIZE = 256;
/** Translation regimes: U, S, M (by privilege: 0, 1, 3 → 0, 1, 2), each with three kinds. */
export const TLB_SET = TLB_SIZE * 3;

/** Why run() returned. */
export const enum Stop {
  BUDGET = 0,
  WFI = 1,
  HALT = 2,
}

/** Thrown inside the run loop to take a trap; the cause and value are in the hart. */
class TrapSignal {}
const TRAP = new TrapSignal();

/** Decoded instructions of one physical page: four words per halfword slot. */
const SLOT_WORDS = 4;
const NO_CODE = new Int32Array(SLOT_WORDS);

/**
 * What the hart tells an observer (an MMU strategy's bridge, core/models/riscv/system/
 * mmu-bridge.ts) when one is attached. Every call is on a slow path: CSR writes, sfence.vma,
 * mode changes, page walks, and the loads and stores that timing mode sends down the
 * slow path; with no observer the hart checks one field there and nothing per access.
 */
export interface HartObserver {
  /**
   * Timing mode: every load and store that translates (satp not bare, data not in
   * M-mode) is announced through `access` before it is translated, so the run loop's
   * data fast path is turned off while the observer is attached.
   */
  readonly timing: boolean;
  /**
   * A load (write = false) or store (AMOs and SC included) to virtual page vpn: the
   * signed page number hi·2^20 + (lo >>> 12) of the address's words, exact for any
   * 64-bit address (Sv57 kernel addresses lie beyond 2^53).
   */
  access(vpn: number, write: boolean): void;
  /** satp was written: its mode (0 bare, 8 Sv39, 9 Sv48, 10 Sv57), ASID, and root table's physical address. */
  satp(mode: number, asid: number, rootPa: number): void;
  /** sfence.vma: every address (`all`) or one virtual page (its signed page number, as in `access`), and an ASID (or -1: every address space). */
  sfence(all: boolean, vpn: number, asid: number): void;
  /** The privilege changed (trap entry, xRET) or sstatus.SUM was toggled. */
  privilege(mode: number, sum: boolean): void;
  /**
   * A walk read an entry from RAM page `page` (offset / 4096) while ptFlag[page] was not
   * 1: `level` is the table's level (0: leaf tables) and vpn the page being translated.
   */
  tableRead(page: number, level: number, vpn: number): void;
  /** A store of `size` bytes to physical address pa, in a page whose ptFlag is set. */
  tableWrite(pa: number, size: number): void;
}

export interface HartEnv {
  /** Machine time in timebase ticks (the `time` CSR). */
  mtime(): number;
}

/**
 * Where a hart keeps RAM, registers and code flags when another engine must reach
 * them with plain loads and stores (a translator's WebAssembly memory): RAM is byte
 * 0 of `buffer`'s view `ram`, the integer registers are 66 int32 at `xOffset` (x[r]
 * as a little-endian i64 at xOffset + 8·r), the FP registers 32 f64 at `fOffset`,
 * and `codeFlag` one byte per RAM page (see PrivilegedHart.codeFlag).
 */
export interface HartStorage {
  readonly ram: Uint8Array;
  readonly xOffset: number;
  readonly fOffset: number;
  readonly codeFlag: Uint8Array;
}

/** Told of every change to the hart's TLBs (see PrivilegedHart.tlbMirror). */
export interface TlbMirror {
  /** Entry i now maps virtual page number vpn (signed: hi·2^20 + (lo >>> 12)) to the RAM page at offset pageOff. */
  fill(i: number, vpn: number, pageOff: number): void;
  /** Some entries were dropped: the empty ones (NaN) in `tags`, by entry index. */
  sync(tags: Float64Array): void;
  /** Every entry was dropped. */
  flush(): void;
}

/** codeFlag bits: the hart keeps decoded instructions of the page; another engine keeps translations of it. */
export const CODE_DECODED = 1;
export const CODE_TRANSLATED = 2;

export class PrivilegedHart implements InterruptLines {
  /** Integer registers: x[2r] low, x[2r+1] high; register 32 is the x0 sink. */
  readonly x: Int32Array;
  readonly f64: Float64Array;
  readonly f32: Float32Array;
  readonly fu32: Uint32Array;
  pc = 0;
  /** 0 user, 1 supervisor, 3 machine. */
  mode = 3;
  flags = 0;
  frm = 0;
  /** Instructions retired (also the cycle count: one instruction per cycle). */
  instret = 0;
  /** mstatus, low word. */
  mstatus = 0;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** mip bits written by software (SSIP, STIP, SEIP) and driven by devices. */
  mipSw = 0;
  mipHw = 0;
  mcounteren = 0;
  scounteren = 0;
  menvcfg = 0;
  senvcfg = 0;
  /** 64-bit CSRs kept as pairs of words: index 2·csr low, 2·csr + 1 high. */
  private readonly wide = new Int32Array(4096 * 2);
  satpMode = 0;
  private satpRoot = 0;
  /** PMP: configuration bytes and decoded address ranges. */
  readonly pmpCfg = new Uint8Array(16);
  private readonly pmpLo = new Float64Array(16);
  private readonly pmpHi = new Float64Array(16);
  private pmpActive = false;
  /** Address reserved by LR (physical), or -1. */
  reservation = -1;
  /** Set when something may have made an interrupt takeable, or the machine wants the loop to stop. */
  private attention = true;
  stopRequested = false;
  /** The pending trap (set before TRAP is thrown). */
  private trapCause = 0;
  private trapTvalLo = 0;
  private trapTvalHi = 0;
  /** A fetch fault at a jump target beyond 2^53, which pc cannot hold: its exact epc. */
  private farEpc = false;
  private farEpcLo = 0;
  private farEpcHi = 0;
  /** The widest translation mode satp accepts: Sv57 as QEMU 7.2's hart (the machine may narrow it). */
  maxSatpMode = SATP_SV57;

  readonly ram: Uint8Array;
  private readonly dv: DataView;
  private readonly ramSize: number;
  /** Per RAM page: CODE_DECODED when decoded instructions are kept for it, CODE_TRANSLATED when another engine keeps translations of it. */
  private readonly codeFlag: Uint8Array;
  /**
   * Told of TLB fills and flushes (a translator's software TLB in its own memory
   * mirrors the hart's entry for entry), and of writes to pages flagged
   * CODE_TRANSLATED (it drops their translations and clears the flag).
   */
  tlbMirror: TlbMirror | null = null;
  onTranslatedWrite: ((page: number) => void) | null = null;
  private readonly code = new Map<number, Int32Array>();
  private readonly scratch: Decoded = newDecoded();
  /** One decoded instruction that straddles two pages (never cached: the second page's mapping may change). */
  private readonly straddle = new Int32Array(SLOT_WORDS);
  private epoch = 0;

  /**
   * Per RAM page: nonzero while an observer counts the page as holding page tables
   * (the observer owns the values; see HartObserver.tableRead). Stores to such a page
   * are never served by the write TLB, so the slow path sees each one.
   */
  readonly ptFlag: Uint8Array;
  /** Set with attachObserver. */
  private observer: HartObserver | null = null;
  /** The data tags timing mode's run loop reads: never filled, so every load and store takes the slow path. */
  private readonly noTags = new Float64Array(TLB_SET * 3).fill(NaN);

  /** Virtual page numbers (hi·2^20 + (lo >>> 12), signed, exact); NaN when empty. */
  private readonly tlbTag = new Float64Array(TLB_SET * 3).fill(NaN);
  private readonly tlbOff = new Float64Array(TLB_SET * 3);
  /** Per entry: the level of the leaf it is a 4 KiB slice of (0 for a page, 1 for 2 MiB, …). */
  private readonly tlbLevel = new Uint8Array(TLB_SET * 3);
  /** The virtual page numbers [superFirst, superEnd) that cover every superpage slice in the TLB. */
  private superFirst = Infinity;
  private superEnd = -Infinity;
  /** The level of the leaf the last walk found. */
  private leafLevel = 0;
  /**
   * Per entry: 1 when it holds in every address space (a global mapping: PTE.G on its
   * path; or no translation). The TLBs hold global entries and those of the current
   * address space (satp's ASID and root) only: a switch drops the others, so the hot
   * path compares no ASID, and global ones survive switches as on hardware with ASIDs.
   */
  private readonly tlbGlobal = new Uint8Array(TLB_SET * 3);
  private leafGlobal = 0;
  /** TLB set bases of the current data and fetch regimes. */
  private dataSet = 2 * TLB_SET;
  private fetchSet = 2 * TLB_SET;
  /** Statistics. */
  tlbMisses = 0;
  pageWalks = 0;
  decodedPages = 0;
  traps = 0;
  interrupts = 0;

  constructor(
    ramBytes: number,
    private readonly bus: Bus,
    private readonly env: HartEnv,
    storage?: HartStorage,
  ) {
    if (storage) {
      const b = storage.ram.buffer;
      if (storage.ram.byteOffset !== 0 || storage.ram.length !== ramBytes) throw new Error('hart storage: RAM must be the first ramBytes of its buffer');
      this.ram = storage.ram;
      this.x = new Int32Array(b, storage.xOffset, 66);
      this.f64 = new Float64Array(b, storage.fOffset, 32);
      this.f32 = new Float32Array(b, storage.fOffset, 64);
      this.fu32 = new Uint32Array(b, storage.fOffset, 64);
      this.codeFlag = storage.codeFlag;
    } else {
      this.ram = new Uint8Array(ramBytes);
      this.x = new Int32Array(66);
      const fbuf = new ArrayBuffer(256);
      this.f64 = new Float64Array(fbuf);
      this.f32 = new Float32Array(fbuf);
      this.fu32 = new Uint32Array(fbuf);
      this.codeFlag = new Uint8Array(Math.ceil(ramBytes / 4096));
    }
    this.dv = new DataView(this.ram.buffer);
    this.ramSize = ramBytes;
    this.ptFlag = new Uint8Array(this.codeFlag.length);
    this.mstatus = 0;
    this.wide[2 * 0x301] = MISA_LO;
  }

  /** Attaches (or, with null, detaches) the observer of the MMU events; call between runs. */
  attachObserver(o: HartObserver | null): void {
    this.observer = o;
    this.ptFlag.fill(0);
    this.flushTlb();
  }

  /** Drops the write translations that reach RAM page `page`, once it counts as a page-table page. */
  protectPage(page: number): void {
    const off = page * 4096;
    for (let s = 0; s < 3; s++) {
      const base = s * TLB_SET + WRITE * TLB_SIZE;
      for (let i = base; i < base + TLB_SIZE; i++) if (this.tlbOff[i] === off) this.tlbTag[i] = NaN;
    }
    this.tlbMirror?.sync(this.tlbTag);
  }

  // ---- interrupt lines (devices) ----

  set(bit: number, level: boolean): void {
    const m = 1 << bit;
    this.mipHw = level ? this.mipHw | m : this.mipHw & ~m;
    this.attention = true;
  }

  /** Asks the run loop to return at the next instruction boundary. */
  requestStop(): void {
    this.stopRequested = true;
    this.attention = true;
  }

  // ---- entry points for another engine running this hart's code (a translator) ----
  // It runs what it can itself and hands the rest to run(); between the two it must
  // keep the hart's view: interrupts are taken at the same instruction boundaries
  // (poll), and its stores into code keep decoded and translated code exact
  // (codeWritten).

  /**
   * What the run loop does at an instruction boundary when something changed: returns
   * true when a stop was requested (run would return HALT), and otherwise takes the
   * interrupt that is pending and enabled, if any.
   */
  poll(): boolean {
    if (!this.attention) return false;
    this.attention = false;
    if (this.stopRequested) {
      this.stopRequested = false;
      return true;
    }
    const irq = this.pendingInterrupt();
    if (irq >= 0) this.takeTrap(irq, true, 0);
    return false;
  }

  /** The RAM offset of the page holding pc if the fetch TLB of the current mode maps it, or -1 (run() then walks, or faults). */
  fetchOffset(pc: number): number {
    const i = this.fetchSet + FETCH * TLB_SIZE + ((pc >>> 12) & (TLB_SIZE - 1));
    return this.tlbTag[i] === Math.floor(pc / 4096) ? this.tlbOff[i] : -1;
  }

  /** The first TLB entry of the data regime in force (its read entries; the write entries follow TLB_SIZE later). */
  dataTlbSet(): number {
    return this.dataSet;
  }

  /** Another engine stored [o, o + size) of RAM (offsets) on a page flagged in codeFlag. */
  codeWritten(o: number, size: number): void {
    this.codeWrite(o, size);
  }

  get mip(): number {
    return this.mipHw | this.mipSw;
  }

  /** Is any enabled-by-mie interrupt pending (what wakes WFI, whatever the global enables)? */
  wakeable(): boolean {
    return ((this.mipHw | this.mipSw) & this.mie) !== 0;
  }

  /** The interrupt to take now, or -1. */
  private pendingInterrupt(): number {
    const pending = (this.mipHw | this.mipSw) & this.mie;
    if (pending === 0) return -1;
    const m = pending & ~this.mideleg;
    if (m !== 0 && (this.mode < 3 || (this.mstatus & MIE) !== 0)) {
      for (const b of PRIORITY) if (m & (1 << b)) return b;
    }
    const s = pending & this.mideleg;
    if (s !== 0 && (this.mode < 1 || (this.mode === 1 && (this.mstatus & SIE) !== 0))) {
      for (const b of PRIORITY) if (s & (1 << b)) return b;
    }
    return -1;
  }

  // ---- traps ----

  /** Raises `cause` with the 64-bit tval given as its two words. */
  private raise(cause: number, tvalLo: number, tvalHi: number): never {
    this.trapCause = cause;
    this.trapTvalLo = tvalLo | 0;
    this.trapTvalHi = tvalHi | 0;
    throw TRAP;
  }

  /** Raises `cause` with a tval held exactly in a number (a pc, an instruction). */
  private raiseNum(cause: number, tval: number): never {
    return this.raise(cause, tval | 0, Math.floor(tval / TWO32));
  }

  /** Enters the trap handler for an exception or interrupt taken at `pc`. */
  takeTrap(cause: number, interrupt: boolean, tval: number): void {
    this.enterTrap(cause, interrupt, tval | 0, Math.floor(tval / TWO32) | 0);
  }

  /** takeTrap with the 64-bit tval as its two words. */
  enterTrap(cause: number, interrupt: boolean, tlo: number, thi: number): void {
    const w = this.wide;
    const pc = this.pc;
    const epcLo = this.farEpc ? this.farEpcLo : pc | 0;
    const epcHi = this.farEpc ? this.farEpcHi : Math.floor(pc / TWO32) | 0;
    this.farEpc = false;
    const deleg = this.mode <= 1 && (((interrupt ? this.mideleg : this.medeleg) >>> cause) & 1) === 1;
    if (interrupt) this.interrupts++;
    else this.traps++;
    if (deleg) {
      w[2 * 0x142] = cause;
      w[2 * 0x142 + 1] = interrupt ? 0x80000000 | 0 : 0;
      w[2 * 0x141] = epcLo;
      w[2 * 0x141 + 1] = epcHi;
      w[2 * 0x143] = tlo;
      w[2 * 0x143 + 1] = thi;
      let s = this.mstatus & ~(SPP | SPIE | SIE);
      if (this.mode === 1) s |= SPP;
      if (this.mstatus & SIE) s |= SPIE;
      this.mstatus = s;
      this.setMode(1);
      this.pc = this.vector(0x105, cause, interrupt);
    } else {
      w[2 * 0x342] = cause;
      w[2 * 0x342 + 1] = interrupt ? 0x80000000 | 0 : 0;
      w[2 * 0x341] = epcLo;
      w[2 * 0x341 + 1] = epcHi;
      w[2 * 0x343] = tlo;
      w[2 * 0x343 + 1] = thi;
      let s = this.mstatus & ~((3 << MPP_SHIFT) | MPIE | MIE);
      s |= this.mode << MPP_SHIFT;
      if (this.mstatus & MIE) s |= MPIE;
      this.mstatus = s;
      this.setMode(3);
      this.pc = this.vector(0x305, cause, interrupt);
    }
    this.reservation = -1;
  }

  private vector(tvec: number, cause: number, interrupt: boolean): number {
    const lo = this.wide[2 * tvec];
    const hi = this.wide[2 * tvec + 1];
    if (!nearWords(hi)) throw new Error(`trap vector 0x${toHex(lo, hi)} lies beyond 2^53, where this hart does not run code`);
    const base = hi * TWO32 + ((lo & ~3) >>> 0);
    return interrupt && (lo & 3) === 1 ? base + 4 * cause : base;
  }

  private setMode(m: number): void {
    this.mode = m;
    this.attention = true;
    this.updateRegimes();
    if (this.observer !== null) this.observer.privilege(m, (this.mstatus & SUM) !== 0);
  }

  private updateRegimes(): void {
    const dm = this.mode === 3 && (this.mstatus & MPRV) !== 0 ? (this.mstatus >>> MPP_SHIFT) & 3 : this.mode;
    this.dataSet = (dm === 3 ? 2 : dm) * TLB_SET;
    this.fetchSet = (this.mode === 3 ? 2 : this.mode) * TLB_SET;
  }

  /** The mode data accesses translate in (MPRV applies MPP's in machine mode). */
  private dataMode(): number {
    return this.mode === 3 && (this.mstatus & MPRV) !== 0 ? (this.mstatus >>> MPP_SHIFT) & 3 : this.mode;
  }

  flushTlb(): void {
    this.tlbTag.fill(NaN);
    this.superFirst = Infinity;
    this.superEnd = -Infinity;
    this.tlbMirror?.flush();
  }

  /** Drops the entries of the current address space, keeping global ones. */
  private flushNonGlobal(): void {
    const tag = this.tlbTag;
    const global = this.tlbGlobal;
    for (let e = 0; e < tag.length; e++) if (global[e] === 0) tag[e] = NaN;
    this.tlbMirror?.sync(tag);
  }

  /**
   * sfence.vma with an address: drops the page's entries in every regime (global ones
   * too unless `keepGlobal`: the ASID form), and, when the address lies in a superpage
   * the TLB holds slices of, every slice of that superpage (the whole leaf is what the
   * fence covers).
   */
  private flushTlbPage(lo: number, hi: number, keepGlobal: boolean): void {
    const tag = this.tlbTag;
    const global = this.tlbGlobal;
    const vpn = hi * TWO20 + (lo >>> 12);
    const i = (lo >>> 12) & (TLB_SIZE - 1);
    for (let s = 0; s < 9; s++) {
      const e = s * TLB_SIZE + i;
      if (tag[e] === vpn && !(keepGlobal && global[e])) tag[e] = NaN;
    }
    if (vpn >= this.superFirst && vpn < this.superEnd) {
      const level = this.tlbLevel;
      for (let e = 0; e < tag.length; e++) {
        if (level[e] === 0 || tag[e] !== tag[e] || (keepGlobal && global[e])) continue;
        const span = 2 ** (9 * level[e]);
        if (Math.floor(tag[e] / span) === Math.floor(vpn / span)) tag[e] = NaN;
      }
    }
    this.tlbMirror?.sync(tag);
  }

  // ---- PMP ----

  private pmpUpdate(): void {
    const w = this.wide;
    this.pmpActive = false;
    for (let i = 0; i < 16; i++) {
      const cfg = this.pmpCfg[i];
      const a = (cfg >>> 3) & 3;
      const lo = w[2 * (0x3b0 + i)] >>> 0;
      const hi = w[2 * (0x3b0 + i) + 1] & 0x3fffff;
      const addr = hi * TWO32 + lo;
      if (a === 0) continue;
      this.pmpActive = true;
      if (a === 1) {
        const prev = i === 0 ? 0 : (w[2 * (0x3b0 + i - 1) + 1] & 0x3fffff) * TWO32 + (w[2 * (0x3b0 + i - 1)] >>> 0);
        this.pmpLo[i] = prev * 4;
        this.pmpHi[i] = addr * 4;
      } else if (a === 2) {
        this.pmpLo[i] = addr * 4;
        this.pmpHi[i] = addr * 4 + 4;
      } else {
        // NAPOT: the count of trailing ones gives the size.
        // (Counted on the words: pmpaddr has 54 bits, more than a double holds exactly.)
        let t = 0;
        while (t < 32 && (lo >>> t) & 1) t++;
        if (t === 32) while (t < 54 && (hi >>> (t - 32)) & 1) t++;
        const size = 2 ** (t + 3);
        const base = t >= 54 ? 0 : (t >= 32 ? (hi >>> (t - 32)) * 2 ** t : hi * TWO32 + ((lo >>> t) * 2 ** t)) * 4;
        this.pmpLo[i] = base;
        this.pmpHi[i] = base + size;
      }
    }
    this.flushTlb();
  }

  /**
   * Does PMP decide alike for every byte of the page at pageBase? Only then may the TLB
   * keep the page: the first entry that touches the page must cover all of it (an entry
   * smaller than a page, or straddling one, leaves that page to be checked per access).
   */
  private pmpPageUniform(pageBase: number): boolean {
    if (!this.pmpActive) return true;
    const end = pageBase + 4096;
    for (let i = 0; i < 16; i++) {
      if ((this.pmpCfg[i] & 0x18) === 0) continue;
      const lo = this.pmpLo[i];
      const hi = this.pmpHi[i];
      if (lo <= pageBase && hi >= end) return true;
      if (lo < end && hi > pageBase) return false;
    }
    return true;
  }

  /** May mode `m` make an access of `kind` to physical address pa? */
  private pmpAllows(pa: number, kind: number, m: number): boolean {
    // With no entry configured, only machine mode may access memory (as QEMU does).
    if (!this.pmpActive) return m === 3;
    for (let i = 0; i < 16; i++) {
      const cfg = this.pmpCfg[i];
      if ((cfg & 0x18) === 0) continue;
      if (pa >= this.pmpLo[i] && pa < this.pmpHi[i]) {
        if (m === 3 && (cfg & 0x80) === 0) return true;
        return (cfg & (kind === READ ? 1 : kind === WRITE ? 2 : 4)) !== 0;
      }
    }
    return m === 3;
  }

  // ---- translation ----

  private faultFor(kind: number): number {
    return kind === FETCH ? CAUSE.FETCH_PAGE : kind === WRITE ? CAUSE.STORE_PAGE : CAUSE.LOAD_PAGE;
  }

  private accessFaultFor(kind: number): number {
    return kind === FETCH ? CAUSE.FETCH_ACCESS : kind === WRITE ? CAUSE.STORE_ACCESS : CAUSE.LOAD_ACCESS;
  }

  /**
   * Translates va (a number, exact below 2^53 in magnitude) for an access of `kind`;
   * see translateWords.
   */
  translate(va: number, kind: number): number {
    return this.translateWords(va | 0, Math.floor(va / TWO32) | 0, kind);
  }

  /**
   * Translates the virtual address whose words are lo, hi for an access of `kind` and
   * fills the TLB when the page is RAM. Returns the physical address (a physical address
   * at or beyond 2^53 may come back rounded: nothing lies there, so it still faults), or
   * raises the page or access fault with the exact address in tval.
   */
  translateWords(lo: number, hi: number, kind: number): number {
    const m = kind === FETCH ? this.mode : this.dataMode();
    this.leafLevel = 0;
    this.leafGlobal = 1;
    let pa: number;
    if (m === 3 || this.satpMode === 0) {
      // Bare: the 56 physical address bits.
      if (hi >>> 24 !== 0) this.raise(this.accessFaultFor(kind), lo, hi);
      pa = hi * TWO32 + (lo >>> 0);
    } else pa = this.walk(lo, hi, kind, m);
    if (!this.pmpAllows(pa, kind, m)) this.raise(this.accessFaultFor(kind), lo, hi);
    const off = pa - RAM_BASE;
    // A page-table page an observer watches gets no write translation: its stores take the slow path.
    if (off >= 0 && off < this.ramSize && this.pmpPageUniform(pa - (pa % 4096)) && (kind !== WRITE || this.ptFlag[off >>> 12] === 0)) {
      const set = (kind === FETCH ? this.fetchSet : this.dataSet) + kind * TLB_SIZE;
      const i = set + ((lo >>> 12) & (TLB_SIZE - 1));
      const vpn = hi * TWO20 + (lo >>> 12);
      this.tlbTag[i] = vpn;
      this.tlbOff[i] = off - (off & 4095);
      this.tlbLevel[i] = this.leafLevel;
      this.tlbGlobal[i] = this.leafGlobal;
      if (this.leafLevel > 0) {
        // The virtual pages of superpages the TLB holds slices of, for sfence.vma by address.
        const span = 2 ** (9 * this.leafLevel);
        const first = vpn - (((vpn % span) + span) % span);
        if (first < this.superFirst) this.superFirst = first;
        if (first + span > this.superEnd) this.superEnd = first + span;
      }
      this.tlbMirror?.fill(i, vpn, this.tlbOff[i]);
    }
    return pa;
  }

  /** The walk for the address with words va (low), vaHi (high). */
  private walk(va: number, vaHi: number, kind: number, m: number): number {
    this.pageWalks++;
    const levels = this.satpMode === SATP_SV39 ? 3 : this.satpMode === SATP_SV48 ? 4 : 5;
    // Canonical: bits 63 down to the top bit of the virtual address all equal it.
    const hiBits = 9 * levels - 20;
    const top = vaHi >> (hiBits - 1);
    if (top !== 0 && top !== -1) this.raise(this.faultFor(kind), va, vaHi);
    // The virtual page number, unsigned, within the mode's bits: exact (at most 45 bits).
    const vpnU = (vaHi & ((1 << hiBits) - 1)) * TWO20 + (va >>> 12);
    const dv = this.dv;
    let table = this.satpRoot;
    let global = 0;
    for (let level = levels - 1; level >= 0; level--) {
      const idx = Math.floor(vpnU / 2 ** (9 * level)) % 512;
      const pteAddr = table + idx * 8;
      const off = pteAddr - RAM_BASE;
      if (off < 0 || off + 8 > this.ramSize || !this.pmpAllows(pteAddr, READ, 1)) this.raise(this.accessFaultFor(kind), va, vaHi);
      if (this.observer !== null && this.ptFlag[off >>> 12] !== 1) this.observer.tableRead(off >>> 12, level, vpnU);
      let lo = dv.getInt32(off, true);
      const hi = dv.getInt32(off + 4, true);
      if ((lo & PTE_V) === 0 || ((lo & PTE_R) === 0 && (lo & PTE_W) !== 0) || hi >>> 22 !== 0) this.raise(this.faultFor(kind), va, vaHi);
      const ppn = (hi & 0x3fffff) * 4194304 + (lo >>> 10);
      global |= lo & PTE_G;
      if ((lo & (PTE_R | PTE_X)) === 0) {
        if (level === 0) this.raise(this.faultFor(kind), va, vaHi);
        table = ppn * 4096;
        continue;
      }
      // A leaf: privilege, permission, superpage alignment.
      const user = (lo & PTE_U) !== 0;
      if (m === 0 ? !user : user && (kind === FETCH || (this.mstatus & SUM) === 0)) this.raise(this.faultFor(kind), va, vaHi);
      const ok = kind === READ ? (lo & PTE_R) !== 0 || ((this.mstatus & MXR) !== 0 && (lo & PTE_X) !== 0) : kind === WRITE ? (lo & PTE_W) !== 0 : (lo & PTE_X) !== 0;
      if (!ok) this.raise(this.faultFor(kind), va, vaHi);
      const span = 2 ** (9 * level);
      if (ppn % span !== 0) this.raise(this.faultFor(kind), va, vaHi);
      this.leafLevel = level;
      this.leafGlobal = global !== 0 ? 1 : 0;
      // Accessed and dirty are set by the walker, as QEMU's virt does.
      const want = kind === WRITE ? PTE_A | PTE_D : PTE_A;
      if ((lo & want) !== want) {
        lo |= want;
        dv.setInt32(off, lo, true);
        this.codeWrite(off, 4);
      }
      return (ppn + (vpnU % span)) * 4096 + (va & 4095);
    }
    return this.raise(this.faultFor(kind), va, vaHi);
  }

  // ---- physical access (slow paths: MMIO, page crossings, misses) ----

  /** Reads RAM or a device; a fault reports the virtual address va, vaHi. */
  private physRead(pa: number, size: number, kind: number, va: number, vaHi: number): number {
    const off = pa - RAM_BASE;
    if (off >= 0 && off + size <= this.ramSize) {
      if (size === 1) return this.ram[off];
      if (size === 2) return this.dv.getUint16(off, true);
      return this.dv.getUint32(off, true);
    }
    const d = this.bus.find(pa);
    if (d === undefined || pa + size > d.base + d.size) this.raise(this.accessFaultFor(kind), va, vaHi);
    return d.read(pa - d.base, size as 1 | 2 | 4) >>> 0;
  }

  private physWrite(pa: number, size: number, v: number, va: number, vaHi: number): void {
    const off = pa - RAM_BASE;
    if (off >= 0 && off + size <= this.ramSize) {
      if (size === 1) this.ram[off] = v;
      else if (size === 2) this.dv.setUint16(off, v, true);
      else this.dv.setUint32(off, v >>> 0, true);
      this.codeWrite(off, size);
      return;
    }
    const d = this.bus.find(pa);
    if (d === undefined || pa + size > d.base + d.size) this.raise(CAUSE.STORE_ACCESS, va, vaHi);
    d.write(pa - d.base, size as 1 | 2 | 4, v >>> 0);
  }

  /** Result of loadSlow, as a pair. */
  private ldLo = 0;
  private ldHi = 0;

  /**
   * The physical address of a load or store (from va, vaHi) that stays within its page.
   * In timing mode the access is announced first, then served by the TLB entry the fast
   * path would have used, so that the guest sees exactly what it sees without an observer.
   */
  private dataPa(va: number, vaHi: number, kind: number): number {
    const o = this.observer;
    if (o !== null && o.timing) {
      this.announce(va, vaHi, kind);
      const i = this.dataSet + kind * TLB_SIZE + ((va >>> 12) & (TLB_SIZE - 1));
      if (this.tlbTag[i] === vaHi * TWO20 + (va >>> 12)) return RAM_BASE + this.tlbOff[i] + (va & 4095);
    }
    return this.translateWords(va, vaHi, kind);
  }

  /** Tells the timing observer of an access that translates (satp not bare, data not in M-mode), by its exact virtual page number. */
  private announce(va: number, vaHi: number, kind: number): void {
    if (this.satpMode !== 0 && this.dataMode() !== 3) this.observer!.access(vaHi * TWO20 + (va >>> 12), kind === WRITE);
  }

  /** After a store to physical pa: tells the observer when the page holds page tables. */
  private tableStore(pa: number, size: number): void {
    const o = pa - RAM_BASE;
    if (o >= 0 && o < this.ramSize && this.ptFlag[o >>> 12] !== 0) this.observer!.tableWrite(pa, size);
  }

  /** A load from va, vaHi the TLB fast path did not serve: unsigned result in ldLo/ldHi. */
  private loadSlow(va: number, vaHi: number, size: number): void {
    if ((va & 4095) + size <= 4096) {
      const pa = this.dataPa(va, vaHi, READ);
      if (size === 8) {
        this.ldLo = this.physRead(pa, 4, READ, va, vaHi) | 0;
        this.ldHi = this.physRead(pa + 4, 4, READ, va, vaHi) | 0;
      } else {
        this.ldLo = this.physRead(pa, size, READ, va, vaHi) | 0;
        this.ldHi = 0;
      }
      return;
    }
    // Crossing into the next page: byte by byte, each translated.
    if (this.observer !== null && this.observer.timing) this.announce(va, vaHi, READ);
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < size; i++) {
      const bLo = (va + i) | 0;
      const bHi = sumHi(va, vaHi, i, bLo);
      // A fault names the first byte that faults: the next page's start, as QEMU's does.
      const b = this.physRead(this.translateWords(bLo, bHi, READ), 1, READ, bLo, bHi);
      if (i < 4) lo |= b << (8 * i);
      else hi |= b << (8 * (i - 4));
    }
    this.ldLo = lo;
    this.ldHi = hi;
  }

  /** A store of lo, hi to va, vaHi the TLB fast path did not serve. */
  private storeSlow(va: number, vaHi: number, size: number, lo: number, hi: number): void {
    if ((va & 4095) + size <= 4096) {
      const pa = this.dataPa(va, vaHi, WRITE);
      if (size === 8) {
        this.physWrite(pa, 4, lo, va, vaHi);
        this.physWrite(pa + 4, 4, hi, va, vaHi);
      } else this.physWrite(pa, size, size === 4 ? lo : lo & ((1 << (8 * size)) - 1), va, vaHi);
      if (pa === this.reservation) this.reservation = -1;
      if (this.observer !== null) this.tableStore(pa, size);
      return;
    }
    // Translate every byte first, so that a fault leaves memory unchanged.
    if (this.observer !== null && this.observer.timing) this.announce(va, vaHi, WRITE);
    const pas: number[] = [];
    for (let i = 0; i < size; i++) {
      const bLo = (va + i) | 0;
      pas.push(this.translateWords(bLo, sumHi(va, vaHi, i, bLo), WRITE));
    }
    for (let i = 0; i < size; i++) {
      const bLo = (va + i) | 0;
      this.physWrite(pas[i], 1, ((i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 255), bLo, sumHi(va, vaHi, i, bLo));
    }
    if (this.observer !== null) this.tableStore(pas[0], size);
  }

  // ---- decoded code ----

  /**
   * A write to RAM offsets [o, o + size): forgets the decoded instructions that overlap
   * it (one starting two bytes before may be a 32-bit one), so self-modifying code and
   * code written through another mapping (Linux patches its text through the fixmap)
   * run as written. Stores keep decoded code exact, so fence.i needs to do nothing.
   */
  private codeWrite(o: number, size: number): void {
    for (let p = Math.max(0, o - 2); p < o + size; p += 2) {
      const page = p >>> 12;
      if (this.codeFlag[page] === 0) continue;
      if (this.codeFlag[page] & CODE_TRANSLATED) this.onTranslatedWrite?.(page);
      const c = this.code.get(page);
      if (c !== undefined) c[((p & 4095) >>> 1) * SLOT_WORDS] = 0;
    }
  }

  /** The decoded table of RAM page `page` (offset / 4096), created when missing. */
  private codePage(page: number): Int32Array {
    let c = this.code.get(page);
    if (c === undefined) {
      c = new Int32Array(2048 * SLOT_WORDS);
      this.code.set(page, c);
      this.codeFlag[page] |= CODE_DECODED;
      this.decodedPages++;
    }
    return c;
  }

  /** Decodes the instruction at virtual pc (physical RAM offset `off`) into `table` at slot index k. */
  private decodeInto(table: Int32Array, k: number, pc: number, off: number): Int32Array {
    const lo16 = this.ram[off] | (this.ram[off + 1] << 8);
    const d = this.scratch;
    let raw: number;
    let target = table;
    if ((lo16 & 3) !== 3) {
      raw = lo16;
      decode16(lo16, d);
    } else {
      let hi16: number;
      if ((off & 4095) === 4094) {
        // The second half lies on the next virtual page.
        const pa2 = this.translate(pc + 2, FETCH);
        hi16 = this.physRead(pa2, 2, FETCH, (pc + 2) | 0, Math.floor((pc + 2) / TWO32));
        target = this.straddle;
        k = 0;
      } else hi16 = this.ram[off + 2] | (this.ram[off + 3] << 8);
      raw = (lo16 | (hi16 << 16)) >>> 0;
      decode32(raw, d);
      if (d.op === Op.ILLEGAL && (raw & 0x7f) === 0x73) decodeSystem(raw, d);
    }
    const rdx = d.rd === 0 && (writesIntRd(d.op) || d.op === Op.ILLEGAL) ? 32 : d.rd;
    target[k] = d.op | (rdx << 9) | (d.rs1 << 16) | (d.rs2 << 22) | (d.len === 2 ? 1 << 27 : 0);
    target[k + 1] = d.imm;
    target[k + 2] = raw | 0;
    target[k + 3] = d.rs3 | (d.rm << 8);
    return target;
  }

  // ---- the run loop ----

  /** Executes up to `budget` instructions; returns why it stopped. */
  run(budget: number): Stop {
    const x = this.x;
    const dv = this.dv;
    const tag = this.tlbTag;
    const toff = this.tlbOff;
    const codeFlag = this.codeFlag;
    // Timing mode reads data tags that never match: every load and store goes to the slow path, which announces it.
    const dtag = this.observer !== null && this.observer.timing ? this.noTags : tag;
    let pc = this.pc;
    let n = 0;
    const start = this.instret;
    let curV = NaN;
    let table: Int32Array = NO_CODE;
    let epoch = this.epoch;
    let dSet = this.dataSet;
    let fSet = this.fetchSet;
    let fetchOff = 0;
    for (;;) {
      try {
        while (n < budget) {
          if (this.attention) {
            this.attention = false;
            this.pc = pc;
            this.instret = start + n;
            if (this.stopRequested) {
              this.stopRequested = false;
              return Stop.HALT;
            }
            const irq = this.pendingInterrupt();
            if (irq >= 0) {
              this.takeTrap(irq, true, 0);
              pc = this.pc;
            }
            dSet = this.dataSet;
            fSet = this.fetchSet;
            curV = NaN;
          }
          const vb = pc - (pc & 4095);
          if (vb !== curV || epoch !== this.epoch) {
            epoch = this.epoch;
            const ti = fSet + FETCH * TLB_SIZE + ((pc >>> 12) & (TLB_SIZE - 1));
            if (tag[ti] === vb / 4096) fetchOff = toff[ti];
            else {
              this.pc = pc;
              this.instret = start + n;
              if (pc & 1) this.raiseNum(CAUSE.FETCH_MISALIGNED, pc);
              const pa = this.translate(pc, FETCH);
              const o = pa - RAM_BASE;
              if (o < 0 || o >= this.ramSize) this.raiseNum(CAUSE.FETCH_ACCESS, pc);
              fetchOff = o - (o & 4095);
            }
            table = this.codePage(fetchOff / 4096);
            curV = vb;
          }
          let k = (pc & 4095) * 2;
          let hot: Int32Array = table;
          let w = hot[k];
          if (w === 0 || (pc & 4095) === 4094) {
            this.pc = pc;
            hot = this.decodeInto(table, k, pc, fetchOff + (pc & 4095));
            if (hot !== table) k = 0;
            w = hot[k];
          }
          const op = w & 255;
          const rd = (w >>> 8) & 127;
          const r1 = (w >>> 15) & 63;
          const r2 = (w >>> 21) & 63;
          const imm = hot[k + 1];
          let next = pc + (w & (1 << 27) ? 2 : 4);
          switch (op) {
            case Op.LUI:
              x[rd] = imm;
              x[rd + 1] = imm >> 31;
              break;
            case Op.AUIPC: {
              const v = pc + imm;
              x[rd] = v | 0;
              x[rd + 1] = Math.floor(v / TWO32) | 0;
              break;
            }
            case Op.JAL:
              x[rd] = next | 0;
              x[rd + 1] = Math.floor(next / TWO32) | 0;
              next = pc + imm;
              break;
            case Op.JALR: {
              const tLo = (x[r1] + imm) & ~1;
              const tHi = (x[r1 + 1] + (imm >> 31) + ((x[r1] + imm) >>> 0 < x[r1] >>> 0 ? 1 : 0)) | 0;
              x[rd] = next | 0;
              x[rd + 1] = Math.floor(next / TWO32) | 0;
              if (nearWords(tHi)) next = tHi * TWO32 + (tLo >>> 0);
              else {
                this.pc = pc;
                this.instret = start + n;
                this.farJump(tLo, tHi);
              }
              break;
            }
            case Op.BEQ:
              if (x[r1] === x[r2] && x[r1 + 1] === x[r2 + 1]) next = pc + imm;
              break;
            case Op.BNE:
              if (x[r1] !== x[r2] || x[r1 + 1] !== x[r2 + 1]) next = pc + imm;
              break;
            case Op.BLT:
              if (x[r1 + 1] < x[r2 + 1] || (x[r1 + 1] === x[r2 + 1] && x[r1] >>> 0 < x[r2] >>> 0)) next = pc + imm;
              break;
            case Op.BGE:
              if (!(x[r1 + 1] < x[r2 + 1] || (x[r1 + 1] === x[r2 + 1] && x[r1] >>> 0 < x[r2] >>> 0))) next = pc + imm;
              break;
            case Op.BLTU:
              if (x[r1 + 1] >>> 0 < x[r2 + 1] >>> 0 || (x[r1 + 1] === x[r2 + 1] && x[r1] >>> 0 < x[r2] >>> 0)) next = pc + imm;
              break;
            case Op.BGEU:
              if (!(x[r1 + 1] >>> 0 < x[r2 + 1] >>> 0 || (x[r1 + 1] === x[r2 + 1] && x[r1] >>> 0 < x[r2] >>> 0))) next = pc + imm;
              break;
            case Op.LB:
            case Op.LH:
            case Op.LW:
            case Op.LD:
            case Op.LBU:
            case Op.LHU:
            case Op.LWU: {
              const a = (x[r1] + imm) | 0;
              const aHi = (x[r1 + 1] + (imm >> 31) + (a >>> 0 < x[r1] >>> 0 ? 1 : 0)) | 0;
              const size = LOAD_SIZE[op];
              const i = dSet + ((a >>> 12) & (TLB_SIZE - 1));
              let lo: number;
              let hi: number;
              if (dtag[i] === aHi * TWO20 + (a >>> 12) && (a & 4095) <= 4096 - size) {
                const o = toff[i] + (a & 4095);
                if (size === 8) {
                  lo = dv.getInt32(o, true);
                  hi = dv.getInt32(o + 4, true);
                } else {
                  lo = size === 4 ? dv.getInt32(o, true) : size === 2 ? dv.getUint16(o, true) : dv.getUint8(o);
                  hi = 0;
                }
              } else {
                this.pc = pc;
                this.instret = start + n;
                this.loadSlow(a, aHi, size);
                lo = this.ldLo;
                hi = this.ldHi;
              }
              switch (op) {
                case Op.LB:
                  lo = (lo << 24) >> 24;
                  hi = lo >> 31;
                  break;
                case Op.LH:
                  lo = (lo << 16) >> 16;
                  hi = lo >> 31;
                  break;
                case Op.LW:
                  hi = lo >> 31;
                  break;
              }
              x[rd] = lo;
              x[rd + 1] = hi;
              break;
            }
            case Op.SB:
            case Op.SH:
            case Op.SW:
            case Op.SD: {
              const a = (x[r1] + imm) | 0;
              const aHi = (x[r1 + 1] + (imm >> 31) + (a >>> 0 < x[r1] >>> 0 ? 1 : 0)) | 0;
              const size = STORE_SIZE[op];
              const i = dSet + TLB_SIZE + ((a >>> 12) & (TLB_SIZE - 1));
              if (dtag[i] === aHi * TWO20 + (a >>> 12) && (a & 4095) <= 4096 - size) {
                const o = toff[i] + (a & 4095);
                if (size === 8) {
                  dv.setInt32(o, x[r2], true);
                  dv.setInt32(o + 4, x[r2 + 1], true);
                } else if (size === 4) dv.setInt32(o, x[r2], true);
                else if (size === 2) dv.setInt16(o, x[r2], true);
                else dv.setInt8(o, x[r2]);
                if (codeFlag[o >>> 12] || codeFlag[(o - 2) >>> 12]) this.codeWrite(o, size);
                if (o + RAM_BASE === this.reservation) this.reservation = -1;
              } else {
                this.pc = pc;
                this.instret = start + n;
                this.storeSlow(a, aHi, size, x[r2], x[r2 + 1]);
              }
              break;
            }
            case Op.ADDI: {
              const lo = (x[r1] + imm) | 0;
              x[rd + 1] = (x[r1 + 1] + (imm >> 31) + (lo >>> 0 < x[r1] >>> 0 ? 1 : 0)) | 0;
              x[rd] = lo;
              break;
            }
            case Op.SLTI: {
              const ih = imm >> 31;
              x[rd] = x[r1 + 1] < ih || (x[r1 + 1] === ih && x[r1] >>> 0 < imm >>> 0) ? 1 : 0;
              x[rd + 1] = 0;
              break;
            }
            case Op.SLTIU: {
              const ih = imm >> 31;
              x[rd] = x[r1 + 1] >>> 0 < ih >>> 0 || (x[r1 + 1] === ih && x[r1] >>> 0 < imm >>> 0) ? 1 : 0;
              x[rd + 1] = 0;
              break;
            }
            case Op.XORI:
              x[rd + 1] = x[r1 + 1] ^ (imm >> 31);
              x[rd] = x[r1] ^ imm;
              break;
            case Op.ORI:
              x[rd + 1] = x[r1 + 1] | (imm >> 31);
              x[rd] = x[r1] | imm;
              break;
            case Op.ANDI:
              x[rd + 1] = x[r1 + 1] & (imm >> 31);
              x[rd] = x[r1] & imm;
              break;
            case Op.SLLI:
              shl(x, rd, x[r1], x[r1 + 1], imm);
              break;
            case Op.SRLI:
              shr(x, rd, x[r1], x[r1 + 1], imm, false);
              break;
            case Op.SRAI:
              shr(x, rd, x[r1], x[r1 + 1], imm, true);
              break;
            case Op.ADD: {
              const a = x[r1];
              const lo = (a + x[r2]) | 0;
              x[rd + 1] = (x[r1 + 1] + x[r2 + 1] + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
              x[rd] = lo;
              break;
            }
            case Op.SUB: {
              const a = x[r1];
              const b = x[r2];
              x[rd + 1] = (x[r1 + 1] - x[r2 + 1] - (a >>> 0 < b >>> 0 ? 1 : 0)) | 0;
              x[rd] = (a - b) | 0;
              break;
            }
            case Op.SLL:
              shl(x, rd, x[r1], x[r1 + 1], x[r2] & 63);
              break;
            case Op.SRL:
              shr(x, rd, x[r1], x[r1 + 1], x[r2] & 63, false);
              break;
            case Op.SRA:
              shr(x, rd, x[r1], x[r1 + 1], x[r2] & 63, true);
              break;
            case Op.SLT:
              x[rd] = x[r1 + 1] < x[r2 + 1] || (x[r1 + 1] === x[r2 + 1] && x[r1] >>> 0 < x[r2] >>> 0) ? 1 : 0;
              x[rd + 1] = 0;
              break;
            case Op.SLTU:
              x[rd] = x[r1 + 1] >>> 0 < x[r2 + 1] >>> 0 || (x[r1 + 1] === x[r2 + 1] && x[r1] >>> 0 < x[r2] >>> 0) ? 1 : 0;
              x[rd + 1] = 0;
              break;
            case Op.XOR:
              x[rd + 1] = x[r1 + 1] ^ x[r2 + 1];
              x[rd] = x[r1] ^ x[r2];
              break;
            case Op.OR:
              x[rd + 1] = x[r1 + 1] | x[r2 + 1];
              x[rd] = x[r1] | x[r2];
              break;
            case Op.AND:
              x[rd + 1] = x[r1 + 1] & x[r2 + 1];
              x[rd] = x[r1] & x[r2];
              break;
            case Op.ADDIW:
              x[rd] = (x[r1] + imm) | 0;
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.SLLIW:
              x[rd] = x[r1] << imm;
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.SRLIW:
              x[rd] = (x[r1] >>> imm) | 0;
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.SRAIW:
              x[rd] = x[r1] >> imm;
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.ADDW:
              x[rd] = (x[r1] + x[r2]) | 0;
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.SUBW:
              x[rd] = (x[r1] - x[r2]) | 0;
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.SLLW:
              x[rd] = x[r1] << (x[r2] & 31);
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.SRLW:
              x[rd] = (x[r1] >>> (x[r2] & 31)) | 0;
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.SRAW:
              x[rd] = x[r1] >> (x[r2] & 31);
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.MUL:
              mul64(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1]);
              break;
            case Op.MULW:
              x[rd] = Math.imul(x[r1], x[r2]);
              x[rd + 1] = x[rd] >> 31;
              break;
            case Op.FENCE:
              break;
            default:
              this.pc = pc;
              this.instret = start + n;
              next = this.cold(op, rd, r1, r2, imm, hot, k, pc, next);
              if (op === Op.WFI) {
                this.pc = next;
                this.instret = start + n + 1;
                return Stop.WFI;
              }
              // CSRs, xRET, fences and FP stores may change the mode, the regimes or memory.
              curV = NaN;
              epoch = -1;
              dSet = this.dataSet;
              fSet = this.fetchSet;
          }
          pc = next;
          n++;
        }
        this.pc = pc;
        this.instret = start + n;
        return Stop.BUDGET;
      } catch (e) {
        if (e !== TRAP) {
          this.pc = pc;
          this.instret = start + n;
          throw e;
        }
        // The faulting instruction does not retire, but it uses up the budget, so that
        // a trap storm still returns to the machine.
        budget--;
        if (this.farEpc) n++;
        this.pc = pc;
        this.instret = start + n;
        this.enterTrap(this.trapCause, false, this.trapTvalLo, this.trapTvalHi);
        pc = this.pc;
        curV = NaN;
        epoch = -1;
        dSet = this.dataSet;
        fSet = this.fetchSet;
      }
    }
  }

  /** Raises illegal-instruction with the instruction's bits in tval, as QEMU does. */
  private illegal(raw: number): never {
    return this.raise(CAUSE.ILLEGAL, raw, 0);
  }

  /** The rarely executed instructions: returns the next pc. */
  private cold(op: number, rd: number, r1: number, r2: number, imm: number, hot: Int32Array, k: number, pc: number, next: number): number {
    const x = this.x;
    const raw = hot[k + 2];
    switch (op) {
      case Op.ECALL:
        return this.raise(this.mode === 0 ? CAUSE.ECALL_U : this.mode === 1 ? CAUSE.ECALL_S : CAUSE.ECALL_M, 0, 0);
      case Op.EBREAK:
        return this.raiseNum(CAUSE.BREAKPOINT, pc);
      case Op.FENCE_I:
        return next;
      case Op.CSRRW:
      case Op.CSRRS:
      case Op.CSRRC:
      case Op.CSRRWI:
      case Op.CSRRSI:
      case Op.CSRRCI:
        this.csrOp(op, rd, r1 >> 1, imm & 0xfff, raw);
        return next;
      case Op.MRET: {
        if (this.mode < 3) return this.illegal(raw);
        const s = this.mstatus;
        const mpp = (s >>> MPP_SHIFT) & 3;
        let ns = s & ~((3 << MPP_SHIFT) | MIE);
        if (s & MPIE) ns |= MIE;
        ns |= MPIE;
        if (mpp !== 3) ns &= ~MPRV;
        this.mstatus = ns;
        this.setMode(mpp === 2 ? 0 : mpp);
        this.reservation = -1;
        return this.returnTo(0x341);
      }
      case Op.SRET: {
        if (this.mode < 1 || (this.mode === 1 && this.mstatus & TSR)) return this.illegal(raw);
        const s = this.mstatus;
        const spp = (s & SPP) !== 0 ? 1 : 0;
        let ns = s & ~(SPP | SIE);
        if (s & SPIE) ns |= SIE;
        ns |= SPIE;
        ns &= ~MPRV;
        this.mstatus = ns;
        this.setMode(spp);
        this.reservation = -1;
        return this.returnTo(0x141);
      }
      case Op.WFI:
        if (this.mode === 0 || (this.mode === 1 && this.mstatus & TW)) return this.illegal(raw);
        return next;
      case Op.SFENCE_VMA:
        if (this.mode === 0 || (this.mode === 1 && this.mstatus & TVM)) return this.illegal(raw);
        if (r2 >> 1 === 0) {
          if (r1 >> 1 !== 0) this.flushTlbPage(x[r1], x[r1 + 1], false);
          else this.flushTlb();
        } else if ((x[r2] & 0xffff) === ((this.wide[2 * 0x180 + 1] >>> 12) & 0xffff)) {
          // One address space's non-global entries: the TLBs hold only the current one's.
          if (r1 >> 1 !== 0) this.flushTlbPage(x[r1], x[r1 + 1], true);
          else this.flushNonGlobal();
        }
        if (this.observer !== null) this.observer.sfence(r1 >> 1 === 0, x[r1 + 1] * TWO20 + (x[r1] >>> 12), r2 >> 1 !== 0 ? x[r2] & 0xffff : -1);
        return next;
      case Op.MULH:
        mulh(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], true, true);
        return next;
      case Op.MULHSU:
        mulh(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], true, false);
        return next;
      case Op.MULHU:
        mulh(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], false, false);
        return next;
      case Op.DIV:
      case Op.DIVU:
      case Op.REM:
      case Op.REMU:
        div64(x, rd, x[r1], x[r1 + 1], x[r2], x[r2 + 1], op === Op.DIV || op === Op.REM, op === Op.REM || op === Op.REMU);
        return next;
      case Op.DIVW:
      case Op.DIVUW:
      case Op.REMW:
      case Op.REMUW:
        div32(x, rd, x[r1], x[r2], op === Op.DIVW || op === Op.REMW, op === Op.REMW || op === Op.REMUW);
        return next;
    }
    if (op >= Op.LR_W && op <= Op.AMOMAXU_D) {
      this.atomic(op, rd, r1, r2);
      return next;
    }
    if (op >= Op.FLW && op <= Op.FMV_D_X) {
      if ((this.mstatus & FS_MASK) === 0) return this.illegal(raw);
      this.float(op, rd, r1, r2, imm, hot[k + 3], raw);
      return next;
    }
    return this.illegal(raw);
  }

  /** The pc an xRET goes to: the epc CSR's value (see farJump for one beyond 2^53). */
  private returnTo(epc: number): number {
    const lo = this.wide[2 * epc];
    const hi = this.wide[2 * epc + 1];
    if (nearWords(hi)) return hi * TWO32 + (lo >>> 0);
    return this.farJump(lo, hi);
  }

  /**
   * A jump to lo, hi, at or beyond 2^53 in magnitude, which the pc (a double) cannot
   * hold. Only Sv57 maps such addresses; no code Linux runs lies there. The fetch there
   * is translated on the words, so its fault is exact (epc and tval the target); should
   * the target be executable, the hart stops with an error rather than run elsewhere.
   */
  private farJump(lo: number, hi: number): never {
    // The jump itself retires (the run loop counts it when it sees farEpc).
    this.farEpc = true;
    this.farEpcLo = lo;
    this.farEpcHi = hi;
    if (lo & 1) this.raise(CAUSE.FETCH_MISALIGNED, lo, hi);
    const o = this.translateWords(lo, hi, FETCH) - RAM_BASE;
    if (o < 0 || o >= this.ramSize) this.raise(CAUSE.FETCH_ACCESS, lo, hi);
    this.farEpc = false;
    throw new Error(`code at 0x${toHex(lo, hi)} lies beyond 2^53, where this hart does not run code`);
  }

  private wideNum(csr: number): number {
    return this.wide[2 * csr + 1] * TWO32 + (this.wide[2 * csr] >>> 0);
  }

  private float(op: number, rd: number, r1: number, r2: number, imm: number, extra: number, raw: number): void {
    const x = this.x;
    const f = this.fu32;
    // FP registers are indexed by number (rd is not remapped for them; r1, r2 are 2·reg).
    const fd = rd >> 1;
    switch (op) {
      case Op.FLW:
      case Op.FLD: {
        const a = (x[r1] + imm) | 0;
        this.loadSlow(a, sumHi(x[r1], x[r1 + 1], imm, a), op === Op.FLW ? 4 : 8);
        f[2 * fd] = this.ldLo >>> 0;
        f[2 * fd + 1] = op === Op.FLW ? 0xffffffff : this.ldHi >>> 0;
        this.mstatus |= FS_MASK;
        return;
      }
      case Op.FSW:
      case Op.FSD: {
        const a = (x[r1] + imm) | 0;
        this.storeSlow(a, sumHi(x[r1], x[r1 + 1], imm, a), op === Op.FSW ? 4 : 8, f[r2] | 0, f[r2 + 1] | 0);
        return;
      }
    }
    if (!execFp(this, op, rd >> 1, r1 >> 1, r2 >> 1, extra & 31, (extra >>> 8) & 7)) this.illegal(raw);
    this.mstatus |= FS_MASK;
  }

  private atomic(op: number, rd: number, r1: number, r2: number): void {
    const x = this.x;
    const va = x[r1];
    const vaHi = x[r1 + 1];
    const wide = op >= Op.LR_D;
    const size = wide ? 8 : 4;
    const base = wide ? op - (Op.LR_D - Op.LR_W) : op;
    // SC compares its address with the reservation before any access, as QEMU's does:
    // with none held, or at an address LR cannot have reserved (misaligned), it fails
    // without touching memory, so it neither faults nor traps as misaligned.
    if (base === Op.SC_W && (this.reservation === -1 || (va & (size - 1)) !== 0)) {
      this.reservation = -1;
      x[rd] = 1;
      x[rd + 1] = 0;
      return;
    }
    if ((va & (size - 1)) !== 0) this.raise(base === Op.LR_W ? CAUSE.LOAD_MISALIGNED : CAUSE.STORE_MISALIGNED, va, vaHi);
    if (base === Op.LR_W) {
      const pa = this.dataPa(va, vaHi, READ);
      this.physCheckRam(pa, va, vaHi, READ);
      const o = pa - RAM_BASE;
      const lo = this.dv.getInt32(o, true);
      x[rd] = lo;
      x[rd + 1] = wide ? this.dv.getInt32(o + 4, true) : lo >> 31;
      this.reservation = pa;
      return;
    }
    const pa = this.dataPa(va, vaHi, WRITE);
    this.physCheckRam(pa, va, vaHi, WRITE);
    const o = pa - RAM_BASE;
    const dv = this.dv;
    if (base === Op.SC_W) {
      const ok = this.reservation === pa;
      this.reservation = -1;
      if (ok) {
        dv.setInt32(o, x[r2], true);
        if (wide) dv.setInt32(o + 4, x[r2 + 1], true);
        this.codeWrite(o, size);
        if (this.observer !== null) this.tableStore(pa, size);
      }
      x[rd] = ok ? 0 : 1;
      x[rd + 1] = 0;
      return;
    }
    const oldLo = dv.getInt32(o, true);
    const oldHi = wide ? dv.getInt32(o + 4, true) : oldLo >> 31;
    const bLo = x[r2];
    const bHi = wide ? x[r2 + 1] : bLo >> 31;
    let lo: number;
    let hi: number;
    switch (base) {
      case Op.AMOSWAP_W:
        lo = bLo;
        hi = bHi;
        break;
      case Op.AMOADD_W:
        lo = (oldLo + bLo) | 0;
        hi = (oldHi + bHi + (lo >>> 0 < oldLo >>> 0 ? 1 : 0)) | 0;
        break;
      case Op.AMOXOR_W:
        lo = oldLo ^ bLo;
        hi = oldHi ^ bHi;
        break;
      case Op.AMOAND_W:
        lo = oldLo & bLo;
        hi = oldHi & bHi;
        break;
      case Op.AMOOR_W:
        lo = oldLo | bLo;
        hi = oldHi | bHi;
        break;
      default: {
        const signed = base === Op.AMOMIN_W || base === Op.AMOMAX_W;
        const less = signed ? oldHi < bHi || (oldHi === bHi && oldLo >>> 0 < bLo >>> 0) : oldHi >>> 0 < bHi >>> 0 || (oldHi === bHi && oldLo >>> 0 < bLo >>> 0);
        const takeOld = base === Op.AMOMIN_W || base === Op.AMOMINU_W ? less : !less;
        lo = takeOld ? oldLo : bLo;
        hi = takeOld ? oldHi : bHi;
      }
    }
    dv.setInt32(o, lo, true);
    if (wide) dv.setInt32(o + 4, hi, true);
    this.codeWrite(o, size);
    if (this.observer !== null) this.tableStore(pa, size);
    if (pa === this.reservation) this.reservation = -1;
    x[rd] = oldLo;
    x[rd + 1] = oldHi;
  }

  /** Atomics work on RAM only: a device address is an access fault. */
  private physCheckRam(pa: number, va: number, vaHi: number, kind: number): void {
    const o = pa - RAM_BASE;
    if (o < 0 || o + 8 > this.ramSize) this.raise(this.accessFaultFor(kind), va, vaHi);
  }

  // ---- CSRs ----

  private csrOp(op: number, rd: number, rs1: number, csr: number, raw: number): void {
    const x = this.x;
    const imm = op >= Op.CSRRWI;
    const writes = op === Op.CSRRW || op === Op.CSRRWI || rs1 !== 0;
    const reads = !(op === Op.CSRRW || op === Op.CSRRWI) || rd !== 64;
    // Privilege and read-only checks come first.
    if (this.mode < ((csr >>> 8) & 3)) this.illegal(raw);
    if (writes && csr >>> 10 === 3) this.illegal(raw);
    if (!this.csrRead(csr, raw)) this.illegal(raw);
    const oldLo = this.csrLo;
    const oldHi = this.csrHi;
    if (writes) {
      const sLo = imm ? rs1 : x[2 * rs1];
      const sHi = imm ? 0 : x[2 * rs1 + 1];
      let lo: number;
      let hi: number;
      if (op === Op.CSRRW || op === Op.CSRRWI) {
        lo = sLo;
        hi = sHi;
      } else if (op === Op.CSRRS || op === Op.CSRRSI) {
        lo = oldLo | sLo;
        hi = oldHi | sHi;
      } else {
        lo = oldLo & ~sLo;
        hi = oldHi & ~sHi;
      }
      this.csrWrite(csr, lo, hi, raw);
    }
    void reads;
    x[rd] = oldLo;
    x[rd + 1] = oldHi;
  }

  private csrLo = 0;
  private csrHi = 0;

  private ret(lo: number, hi: number): boolean {
    this.csrLo = lo | 0;
    this.csrHi = hi | 0;
    return true;
  }

  private retNum(v: number): boolean {
    return this.ret(v % TWO32, Math.floor(v / TWO32));
  }

  private fsOn(): boolean {
    return (this.mstatus & FS_MASK) !== 0;
  }

  /** Reads a CSR into csrLo/csrHi; false when it does not exist (or may not be read now). */
  csrRead(csr: number, raw = 0): boolean {
    const w = this.wide;
    void raw;
    switch (csr) {
      case 0x001:
        return this.fsOn() && this.ret(this.flags, 0);
      case 0x002:
        return this.fsOn() && this.ret(this.frm, 0);
      case 0x003:
        return this.fsOn() && this.ret((this.frm << 5) | this.flags, 0);
      case 0xc00:
      case 0xc01:
      case 0xc02: {
        const bit = 1 << (csr - 0xc00);
        if (this.mode < 3 && (this.mcounteren & bit) === 0) return false;
        if (this.mode < 1 && (this.scounteren & bit) === 0) return false;
        if (csr === 0xc01) return this.retNum(this.env.mtime());
        return this.retNum(this.instret + this.wideNum(csr === 0xc00 ? 0xb00 : 0xb02));
      }
      case 0xb00:
      case 0xb02:
        return this.retNum(this.instret + this.wideNum(csr));
      case 0x100: {
        const s = this.mstatus & SSTATUS_MASK;
        return this.ret(s, 2 | ((this.mstatus & FS_MASK) === FS_MASK ? 0x80000000 : 0));
      }
      case 0x300: {
        const s = this.mstatus;
        return this.ret(s, 0xa | ((s & FS_MASK) === FS_MASK ? 0x80000000 : 0));
      }
      case 0x301:
        return this.ret(MISA_LO, 0x80000000);
      case 0x302:
        return this.ret(this.medeleg, 0);
      case 0x303:
        return this.ret(this.mideleg, 0);
      case 0x304:
        return this.ret(this.mie, 0);
      case 0x104:
        return this.ret(this.mie & this.mideleg, 0);
      case 0x344:
        return this.ret(this.mip, 0);
      case 0x144:
        return this.ret(this.mip & this.mideleg, 0);
      case 0x306:
        return this.ret(this.mcounteren, 0);
      case 0x106:
        return this.ret(this.scounteren, 0);
      case 0x30a:
        return this.ret(this.menvcfg, 0);
      case 0x10a:
        return this.ret(this.senvcfg, 0);
      case 0x180:
        if (this.mode === 1 && this.mstatus & TVM) return false;
        return this.ret(w[2 * csr], w[2 * csr + 1]);
      case 0x305:
      case 0x105:
      case 0x341:
      case 0x141:
      case 0x342:
      case 0x142:
      case 0x343:
      case 0x143:
      case 0x340:
      case 0x140:
      case 0x320:
        return this.ret(w[2 * csr], w[2 * csr + 1]);
      case 0xf11:
      case 0xf12:
      case 0xf13:
      case 0xf14:
      case 0xf15:
        return this.ret(0, 0);
    }
    if (csr >= 0x3a0 && csr <= 0x3af) {
      if (csr & 1) return false;
      const i = (csr - 0x3a0) * 4;
      const c = this.pmpCfg;
      return this.ret(c[i] | (c[i + 1] << 8) | (c[i + 2] << 16) | (c[i + 3] << 24), c[i + 4] | (c[i + 5] << 8) | (c[i + 6] << 16) | (c[i + 7] << 24));
    }
    if (csr >= 0x3b0 && csr <= 0x3ef) return this.ret(w[2 * csr], w[2 * csr + 1]);
    // Hardware performance counters and their events: present, hardwired to zero (no
    // programmable counters, as the recorded QEMU boot's pmu-num=0).
    if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0x323 && csr <= 0x33f)) return this.ret(w[2 * csr], w[2 * csr + 1]);
    if (csr >= 0xc03 && csr <= 0xc1f) {
      const bit = 1 << (csr - 0xc00);
      if (this.mode < 3 && (this.mcounteren & bit) === 0) return false;
      if (this.mode < 1 && (this.scounteren & bit) === 0) return false;
      return this.ret(w[2 * (csr - 0x100)], w[2 * (csr - 0x100) + 1]);
    }
    return false;
  }

  private csrWrite(csr: number, lo: number, hi: number, raw: number): void {
    const w = this.wide;
    switch (csr) {
      case 0x001:
        this.flags = lo & 31;
        this.mstatus |= FS_MASK;
        return;
      case 0x002:
        this.frm = lo & 7;
        this.mstatus |= FS_MASK;
        return;
      case 0x003:
        this.flags = lo & 31;
        this.frm = (lo >>> 5) & 7;
        this.mstatus |= FS_MASK;
        return;
      case 0x300:
        this.setMstatus((this.mstatus & ~MSTATUS_WRITABLE) | (lo & MSTATUS_WRITABLE));
        return;
      case 0x100:
        this.setMstatus((this.mstatus & ~SSTATUS_MASK) | (lo & SSTATUS_MASK));
        return;
      case 0x302:
        this.medeleg = lo & MEDELEG_WRITABLE;
        return;
      case 0x303:
        this.mideleg = lo & S_INTS;
        this.attention = true;
        return;
      case 0x304:
        this.mie = lo & ALL_INTS;
        this.attention = true;
        return;
      case 0x104:
        this.mie = (this.mie & ~this.mideleg) | (lo & this.mideleg & S_INTS);
        this.attention = true;
        return;
      case 0x344:
        this.mipSw = (this.mipSw & ~S_INTS) | (lo & S_INTS);
        this.attention = true;
        return;
      case 0x144: {
        const m = this.mideleg & 0x2;
        this.mipSw = (this.mipSw & ~m) | (lo & m);
        this.attention = true;
        return;
      }
      case 0x306:
        this.mcounteren = lo;
        return;
      case 0x106:
        this.scounteren = lo;
        return;
      case 0x30a:
        this.menvcfg = lo & 1;
        return;
      case 0x10a:
        this.senvcfg = lo & 1;
        return;
      case 0x301:
      case 0x320:
        return;
      case 0x305:
      case 0x105:
        // Direct or vectored; a reserved mode leaves the register unchanged.
        if ((lo & 3) < 2) {
          w[2 * csr] = lo;
          w[2 * csr + 1] = hi;
        }
        return;
      case 0x341:
      case 0x141:
        w[2 * csr] = lo & ~1;
        w[2 * csr + 1] = hi;
        return;
      case 0x342:
      case 0x142:
      case 0x343:
      case 0x143:
      case 0x340:
      case 0x140:
        w[2 * csr] = lo;
        w[2 * csr + 1] = hi;
        return;
      case 0xb00:
      case 0xb02: {
        // The counters are the instructions retired plus an offset the write sets.
        const v = (hi >>> 0) * TWO32 + (lo >>> 0);
        const off = v - this.instret;
        w[2 * csr] = off % TWO32 | 0;
        w[2 * csr + 1] = Math.floor(off / TWO32) | 0;
        return;
      }
      case 0x180: {
        if (this.mode === 1 && this.mstatus & TVM) this.illegal(raw);
        const mode = hi >>> 28;
        // Modes wider than the hart offers, and the reserved ones, leave satp unchanged.
        if (mode !== SATP_BARE && (mode < SATP_SV39 || mode > this.maxSatpMode)) return;
        // All 16 ASID bits are kept, as on QEMU's virt (Linux counts them by writing ones).
        const changed = w[2 * csr] !== lo || w[2 * csr + 1] !== hi;
        w[2 * csr] = lo;
        w[2 * csr + 1] = hi;
        // Another mode drops everything; another address space (ASID or root) keeps the
        // global entries, which hold in all of them.
        if (mode !== this.satpMode) this.flushTlb();
        else if (changed) this.flushNonGlobal();
        this.satpMode = mode;
        this.satpRoot = ((hi & 0xfff) * TWO32 + (lo >>> 0)) * 4096;
        if (this.observer !== null) this.observer.satp(mode, (hi >>> 12) & 0xffff, this.satpRoot);
        return;
      }
    }
    if (csr >= 0x3a0 && csr <= 0x3af) {
      const i = (csr - 0x3a0) * 4;
      for (let b = 0; b < 8; b++) {
        if (this.pmpCfg[i + b] & 0x80) continue;
        // W without R is reserved: such a write leaves the entry's permissions as R = W = 0.
        let c = ((b < 4 ? lo >>> (8 * b) : hi >>> (8 * (b - 4))) & 0xff) & 0x9f;
        if ((c & 3) === 2) c &= ~3;
        this.pmpCfg[i + b] = c;
      }
      this.pmpUpdate();
      return;
    }
    if (csr >= 0x3b0 && csr <= 0x3ef) {
      const i = csr - 0x3b0;
      if (i >= 16) return;
      if (this.pmpCfg[i] & 0x80) return;
      w[2 * csr] = lo;
      w[2 * csr + 1] = hi & 0x3fffff;
      this.pmpUpdate();
      return;
    }
  }

  private setMstatus(v: number): void {
    // MPP holds only implemented modes: the reserved value 2 becomes U.
    if (((v >>> MPP_SHIFT) & 3) === 2) v &= ~(3 << MPP_SHIFT);
    const changed = this.mstatus ^ v;
    this.mstatus = v;
    if (changed & (SUM | MXR)) this.flushTlb();
    if (changed & (MPRV | (3 << MPP_SHIFT))) this.updateRegimes();
    this.attention = true;
    if (changed & SUM && this.observer !== null) this.observer.privilege(this.mode, (v & SUM) !== 0);
  }

  /** Reads a 64-bit CSR as a BigInt (for tests and reports). */
  csr(csr: number): bigint {
    if (!this.csrRead(csr)) throw new Error(`CSR 0x${csr.toString(16)} is not implemented`);
    return (BigInt(this.csrHi >>> 0) << 32n) | BigInt(this.csrLo >>> 0);
  }

  /** Register r as an unsigned BigInt. */
  reg(r: number): bigint {
    return (BigInt(this.x[2 * r + 1] >>> 0) << 32n) | BigInt(this.x[2 * r] >>> 0);
  }

  setReg(r: number, v: number | bigint): void {
    const b = BigInt.asUintN(64, BigInt(v));
    this.x[2 * r] = Number(b & 0xffffffffn) | 0;
    this.x[2 * r + 1] = Number(b >> 32n) | 0;
  }
}

/**
 * The high word of the 64-bit sum of (lo, hi) and a signed 32-bit `add`, whose low word
 * sumLo = (lo + add) | 0 the caller has: the sign of `add` and the carry out of the low
 * words. (The run loop's loads, stores and jalr write the same out inline, in its hot path.)
 */
function sumHi(lo: number, hi: number, add: number, sumLo: number): number {
  return (hi + (add >> 31) + (sumLo >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
}

/** Is a 64-bit value with high word hi below 2^53 in magnitude (exact as a number)? */
function nearWords(hi: number): boolean {
  return ((hi >> 21) + 1) >>> 1 === 0;
}

function toHex(lo: number, hi: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** The privileged instructions of the SYSTEM opcode the shared decoder leaves illegal. */
function decodeSystem(raw: number, d: Decoded): void {
  if (raw === 0x30200073) d.op = Op.MRET;
  else if (raw === 0x10200073) d.op = Op.SRET;
  else if (raw === 0x10500073) d.op = Op.WFI;
  else if (raw >>> 25 === 0x09 && ((raw >>> 7) & 0x1f) === 0 && ((raw >>> 12) & 7) === 0) {
    d.op = Op.SFENCE_VMA;
    d.rs1 = (raw >>> 15) & 31;
    d.rs2 = (raw >>> 20) & 31;
  }
}

const LOAD_SIZE: number[] = [];
LOAD_SIZE[Op.LB] = 1;
LOAD_SIZE[Op.LBU] = 1;
LOAD_SIZE[Op.LH] = 2;
LOAD_SIZE[Op.LHU] = 2;
LOAD_SIZE[Op.LW] = 4;
LOAD_SIZE[Op.LWU] = 4;
LOAD_SIZE[Op.LD] = 8;
const STORE_SIZE: number[] = [];
STORE_SIZE[Op.SB] = 1;
STORE_SIZE[Op.SH] = 2;
STORE_SIZE[Op.SW] = 4;
STORE_SIZE[Op.SD] = 8;
