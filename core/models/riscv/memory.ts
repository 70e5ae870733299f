// Guest memory of a RISC-V user process: one WebAssembly.Memory in which guest
// address A is byte A (so code translated to WebAssembly can share it with the
// interpreter), and a permission byte per 4 KiB page. Addresses outside the memory or
// on pages without the needed permission raise a GuestFault (SIGSEGV).
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
    super(reason);
  }
}

export class GuestMemory {
  readonly wasm: WebAssembly.Memory;
  readonly size: number;
  readonly pages: number;
  /** Permission bits per page (PERM_*). */
  readonly perm: Uint8Array;
  u8!: Uint8Array;
  dv!: DataView;
  /** Called with a page number when a store hits a page holding decoded code. */
  onCodeWrite: (page: number) => void = () => {};

  constructor(size: number) {
    if (size % 65536 !== 0 || size < 1 << 20 || size > 2 ** 31) {
      throw new RangeError(`guest memory must be a multiple of 64 KiB between 1 MiB and 2 GiB, got ${size}`);
    }
    this.size = size;
    this.pages = size >>> PAGE_SHIFT;
    this.wasm = new WebAssembly.Memory({ initial: size / 65536, maximum: size / 65536 });
    this.perm = new Uint8Array(this.pages);
    this.refresh();
  }

  /** Re-creates the views (after the underlying buffer changed). */
  refresh(): void {
    this.u8 = new Uint8Array(this.wasm.buffer);
    this.dv = new DataView(this.wasm.buffer);
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
