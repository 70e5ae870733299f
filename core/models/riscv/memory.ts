// Guest memory of a RISC-V user process: one WebAssembly.Memory in which guest
// address A is byte A (so code translated to WebAssembly can share it with the
// interpreter), and a permission byte per 4 KiB page. Addresses outside the memory or
// on pages without the needed permission raise a GuestFault (SIGSEGV).
//
// Above the guest's bytes the same WebAssembly.Memory holds what translated code
// must reach with plain loads and stores (see STATE_* and `stateBase`): the hart's
// registers, pc, FP flags and rounding mode, the translators' budget counter and
// scratch words, the permission table itself, and the translators' lookup table of
// guest pc → translated unit. Guest accesses never reach it: every address is
// checked against `size` first.
//
// Layout (all deterministic): non-PIE programs are linked at 0x10000; static-PIE ones
// are loaded at PIE_BASE; the heap (brk) follows the highest segment; anonymous
// mmaps are carved downwards from below the stack, which sits at the top.

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

/** Permission bits of a page. */
export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_X = 4;
/** The page is mapped (even with no access rights, like PROT_NONE). */
export const PERM_MAPPED = 8;
/** The interpreter holds decoded instructions of the page; a store must drop them. */
export const PERM_DECODED = 16;

export const PIE_BASE = 0x100000;

// Layout of the state area, as byte offsets from `stateBase` (= the guest size).
/** x0…x31 and the x0 sink (x32) as little-endian i64: register r at 8·r. */
export const STATE_X = 0;
/** f0…f31 as raw 64-bit patterns: register r at STATE_F + 8·r. */
export const STATE_F = 272;
/** Where translated code leaves and finds the guest pc (i64). */
export const STATE_PC = 528;
/** Accrued FP exception flags (i32) while translated code runs. */
export const STATE_FLAGS = 536;
/** Dynamic rounding mode (i32) while translated code runs. */
export const STATE_FRM = 540;
/** Instructions translated code may still retire before returning (i32). */
export const STATE_BUDGET = 544;
/** Host-call depth of translated code (i32): guest calls mapped to host calls. */
export const STATE_DEPTH = 548;
/** Counters translated code keeps (i64 each): in-WebAssembly lookups that hit. */
export const STATE_LOOKUP_HITS = 568;
/** Guest calls made as host calls, and guest returns that came back where expected. */
export const STATE_HOST_CALLS = 576;
export const STATE_RETURN_HITS = 584;
/** The permission table: one byte per guest page. */
export const STATE_PERM = 4096;
/**
 * Entries of the permission table: one per page of the 32-bit address space, the
 * entries past the guest's pages always zero (no access). Translated code indexes it
 * with bits 12…31 of an address as they are, with no clamp to the guest's pages; the
 * bits above 31 it checks apart (guest memory is at most 2 GiB).
 */
export const PERM_ENTRIES = 1 << 20;
/** Entries of the pc → unit lookup table (a power of two), 16 bytes each. */
export const LOOKUP_ENTRIES = 1 << 14;
/**
 * Slots of the units-entered counters (i64 each, after the lookup table): unit n
 * counts in slot n mod UNIT_COUNTERS, so that consecutive units do not update one
 * memory word (a chain of dependent stores); their sum is the count.
 */
export const UNIT_COUNTERS = 1 << 14;

/**
 * Counter slots of unit n when runs are counted too (EmitOptions.countRuns): entries
 * in the lower half of the counters, runs of its first block in the upper half.
 */
export function entryCounterSlot(n: number, countRuns: boolean): number {
  return countRuns ? n % (UNIT_COUNTERS >> 1) : n % UNIT_COUNTERS;
}
export function runCounterSlot(n: number): number {
  return (UNIT_COUNTERS >> 1) + (n % (UNIT_COUNTERS >> 1));
}

export const SIGILL = 4;
export const SIGTRAP = 5;
export const SIGBUS = 7;
export const SIGSEGV = 11;

/** A synchronous guest exception; the run loop turns it into a signal. */
export class GuestFault extends Error {
  constructor(
    readonly signal: number,
    readonly address: number,
    readonly reason: string,
  ) {
    // The guest's fault, not a place in our code: no JavaScript stack trace is taken,
    // which cost more than the rest of a fault (the interpreter's warm-up makes
    // hundreds, and some guests handle faults as a matter of course).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(reason);
    Error.stackTraceLimit = limit;
  }
}

/** The sizes guest memory may have: whole 64 KiB units from 1 MiB to 2 GiB. */
export const GUEST_MEMORY = { min: 1 << 20, max: 2 ** 31, align: 65536 } as const;

/**
 * WebAssembly memories made ahead of the GuestMemory that takes them (see
 * prepareGuestMemory), by their number of WebAssembly pages.
 */
const preparedMemories = new Map<number, WebAssembly.Memory>();

/**
 * Makes the WebAssembly memory of a guest of `size` bytes now, for the next GuestMemory
 * of that size to take (fresh: no other takes it). V8 counts a memory's bytes as memory
 * held outside its heap, and hundreds of MiB of it set off garbage collections at once
 * (a scavenge, then an incremental marking): they cost least while the heap is small.
 * `virtlab exec` makes it before it loads its engine's modules: those collections are
 * then a few milliseconds, and the grown heap needs no full collection of its own.
 * An invalid size is left to the GuestMemory to refuse.
 */
export function prepareGuestMemory(size: number): void {
  if (!validSize(size)) return;
  const pages = layout(size).wasmPages;
  if (!preparedMemories.has(pages)) preparedMemories.set(pages, new WebAssembly.Memory({ initial: pages, maximum: pages }));
}

function validSize(size: number): boolean {
  return size % GUEST_MEMORY.align === 0 && size >= GUEST_MEMORY.min && size <= GUEST_MEMORY.max;
}

/** Where the state area's tables lie above guest memory of `size` bytes, and the WebAssembly pages of it all. */
function layout(size: number): { lookupBase: number; countersBase: number; wasmPages: number } {
  // The guest's pages, then zero entries up to PERM_ENTRIES (never written: `perm` covers the guest's pages only).
  const lookupBase = size + STATE_PERM + PERM_ENTRIES;
  const countersBase = lookupBase + LOOKUP_ENTRIES * 16;
  const total = countersBase + UNIT_COUNTERS * 8 - size;
  return { lookupBase, countersBase, wasmPages: (size + Math.ceil(total / 65536) * 65536) / 65536 };
}

export class GuestMemory {
  readonly wasm: WebAssembly.Memory;
  /** Guest bytes: addresses [0, size) are the guest's. */
  readonly size: number;
  readonly pages: number;
  /** Offset of the state area in the WebAssembly memory (see STATE_*). */
  readonly stateBase: number;
  /** Offset of the pc → unit lookup table. */
  readonly lookupBase: number;
  /** Offset of the units-entered counters. */
  readonly countersBase: number;
  /** Total WebAssembly pages (guest memory and state area). */
  readonly wasmPages: number;
  /** Permission bits per page (PERM_*), a view into the state area. */
  readonly perm: Uint8Array;
  u8!: Uint8Array;
  dv!: DataView;
  /** Called with a page number when a store hits a page holding decoded code. */
  onCodeWrite: (page: number) => void = () => {};

  constructor(size: number) {
    if (!validSize(size)) {
      throw new RangeError(`guest memory must be a multiple of 64 KiB between 1 MiB and 2 GiB, got ${size}`);
    }
    this.size = size;
    this.pages = size >>> PAGE_SHIFT;
    this.stateBase = size;
    ({ lookupBase: this.lookupBase, countersBase: this.countersBase, wasmPages: this.wasmPages } = layout(size));
    const prepared = preparedMemories.get(this.wasmPages);
    preparedMemories.delete(this.wasmPages);
    this.wasm = prepared ?? new WebAssembly.Memory({ initial: this.wasmPages, maximum: this.wasmPages });
    this.perm = new Uint8Array(this.wasm.buffer, size + STATE_PERM, this.pages);
    this.refresh();
  }

  /** Re-creates the views (after the underlying buffer changed). */
  refresh(): void {
    // The views cover the guest's bytes only, so no guest-memory helper can reach the state area.
    this.u8 = new Uint8Array(this.wasm.buffer, 0, this.size);
    this.dv = new DataView(this.wasm.buffer, 0, this.size);
  }

  /** Sets permissions on [start, start+len), page-aligned outward. */
  protect(start: number, len: number, perm: number): void {
    const first = Math.floor(start / PAGE_SIZE);
    const last = Math.ceil((start + len) / PAGE_SIZE);
    for (let p = first; p < last && p < this.pages; p++) {
      const decoded = this.perm[p] & PERM_DECODED;
      if (decoded && !(perm & PERM_X)) this.onCodeWrite(p);
      this.perm[p] = perm | (perm & PERM_X ? decoded : 0);
    }
  }

  /** Is every page of [start, start+len) unmapped? */
  isFree(start: number, len: number): boolean {
    const first = Math.floor(start / PAGE_SIZE);
    const last = Math.ceil((start + len) / PAGE_SIZE);
    if (start < 0 || last > this.pages) return false;
    for (let p = first; p < last; p++) if (this.perm[p] & PERM_MAPPED) return false;
    return true;
  }

  /** Address check for an access of `size` bytes needing `need` (PERM_R or PERM_W). */
  check(addr: number, size: number, need: number): void {
    if (addr < 0 || addr + size > this.size) throw new GuestFault(SIGSEGV, addr, `access to unmapped address`);
    const p = addr >>> PAGE_SHIFT;
    if ((this.perm[p] & need) === 0) throw new GuestFault(SIGSEGV, addr, need === PERM_W ? 'write to a page without write permission' : 'read of a page without read permission');
    const q = (addr + size - 1) >>> PAGE_SHIFT;
    if (q !== p && (this.perm[q] & need) === 0) throw new GuestFault(SIGSEGV, addr + size - 1, 'access crosses into an inaccessible page');
  }

  /** Marks a store to [addr, addr+size): drops decoded code on those pages. */
  wrote(addr: number, size: number): void {
    const p = addr >>> PAGE_SHIFT;
    if (this.perm[p] & PERM_DECODED) this.onCodeWrite(p);
    const q = (addr + size - 1) >>> PAGE_SHIFT;
    if (q !== p && this.perm[q] & PERM_DECODED) this.onCodeWrite(q);
  }

  /** Copies guest bytes out (checked for reading). */
  read(addr: number, len: number): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    this.checkRange(addr, len, PERM_R);
    return this.u8.slice(addr, addr + len);
  }

  /** Copies bytes into guest memory (checked for writing). */
  write(addr: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.checkRange(addr, bytes.length, PERM_W);
    this.u8.set(bytes, addr);
    for (let p = addr >>> PAGE_SHIFT; p <= (addr + bytes.length - 1) >>> PAGE_SHIFT; p++) if (this.perm[p] & PERM_DECODED) this.onCodeWrite(p);
  }

  /** Checks every page of a range. */
  checkRange(addr: number, len: number, need: number): void {
    if (addr < 0 || addr + len > this.size || !Number.isFinite(addr)) throw new GuestFault(SIGSEGV, addr, 'access to unmapped address');
    for (let p = addr >>> PAGE_SHIFT; p <= (addr + len - 1) >>> PAGE_SHIFT; p++) {
      if ((this.perm[p] & need) === 0) throw new GuestFault(SIGSEGV, Math.max(addr, p * PAGE_SIZE), 'access to an inaccessible page');
    }
  }

  /** A NUL-terminated string from guest memory (at most `max` bytes). */
  readCString(addr: number, max = 4096): string {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      this.check(addr + i, 1, PERM_R);
      const b = this.u8[addr + i];
      if (b === 0) return new TextDecoder().decode(new Uint8Array(bytes));
      bytes.push(b);
    }
    throw new GuestFault(SIGSEGV, addr, 'string too long');
  }

  /** The mapped pages and the permissions, for snapshots (unmapped pages are zero). */
  save(): { perm: Uint8Array; pages: Uint32Array; bytes: Uint8Array } {
    const mapped: number[] = [];
    for (let p = 0; p < this.pages; p++) if (this.perm[p] & PERM_MAPPED) mapped.push(p);
    const bytes = new Uint8Array(mapped.length * PAGE_SIZE);
    mapped.forEach((p, i) => bytes.set(this.u8.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE), i * PAGE_SIZE));
    return { perm: this.perm.map((p) => p & ~PERM_DECODED), pages: Uint32Array.from(mapped), bytes };
  }

  load(s: { perm: Uint8Array; pages: Uint32Array; bytes: Uint8Array }): void {
    this.u8.fill(0);
    s.pages.forEach((p, i) => this.u8.set(s.bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), p * PAGE_SIZE));
    this.perm.set(s.perm);
  }
}
