// Page tables stored as real entries in simulated physical memory, and the walkers
// that count their memory references.
//
// A `PhysicalMemory` hands out 4 KiB frames (deterministically, lowest first, with
// contiguous runs for direct segments). A `RadixTable` is a 9-bits-per-level radix
// tree of `levels` levels (3: Sv39; 4: Sv48 or x86-64; 5: x86-64 LA57) whose table
// pages are frames of that memory; an entry is a number (frame × 16 + flags), kept in
// one Float64Array per memory so that no object exists per entry. A walk reports the
// physical address of every entry it read, which is what nested walks translate and
// what shadow paging write-protects.

export const PAGE = 4096;
export const ENTRIES = 512;
export const F_VALID = 1;
export const F_WRITE = 2;
export const F_EXEC = 4;
export const F_USER = 8;

export class PhysicalMemory {
  /** Table entries of frames used as page tables: entries[slot·512 + i]. */
  entries = new Float64Array(ENTRIES * 64);
  /** frame → table slot + 1 (0: not a table). */
  private slotOf = new Int32Array(1024);
  private slots = 0;
  private readonly used: Uint8Array;
  private cursor = 0;
  allocated = 0;

  constructor(readonly frames: number) {
    this.used = new Uint8Array(frames);
  }

  /** A free frame (the lowest from a moving cursor), or -1. */
  alloc(): number {
    for (let n = 0; n < this.frames; n++) {
      const f = (this.cursor + n) % this.frames;
      if (!this.used[f]) {
        this.used[f] = 1;
        this.cursor = f + 1;
        this.allocated++;
        return f;
      }
    }
    return -1;
  }

  /** `count` contiguous free frames (first fit), or -1. */
  allocContiguous(count: number): number {
    let run = 0;
    for (let f = 0; f < this.frames; f++) {
      run = this.used[f] ? 0 : run + 1;
      if (run === count) {
        const start = f - count + 1;
        this.used.fill(1, start, f + 1);
        this.allocated += count;
        return start;
      }
    }
    return -1;
  }

  free(frame: number): void {
    if (!this.used[frame]) return;
    this.used[frame] = 0;
    this.allocated--;
    const s = frame < this.slotOf.length ? this.slotOf[frame] : 0;
    if (s) {
      this.entries.fill(0, (s - 1) * ENTRIES, s * ENTRIES);
      this.slotOf[frame] = 0;
    }
  }

  save(): { entries: Float64Array; slotOf: Int32Array; slots: number; used: Uint8Array; cursor: number; allocated: number } {
    return { entries: this.entries.slice(0, this.slots * ENTRIES), slotOf: this.slotOf.slice(), slots: this.slots, used: this.used.slice(), cursor: this.cursor, allocated: this.allocated };
  }

  load(s: ReturnType<PhysicalMemory['save']>): void {
    this.entries = new Float64Array(Math.max(this.entries.length, s.entries.length));
    this.entries.set(s.entries);
    this.slotOf = s.slotOf.slice();
    this.slots = s.slots;
    this.used.set(s.used);
    this.cursor = s.cursor;
    this.allocated = s.allocated;
  }

  /** Largest run of free frames, and the number of free runs: fragmentation. */
  fragmentation(): { largestFree: number; runs: number } {
    let largest = 0;
    let runs = 0;
    let run = 0;
    for (let f = 0; f <= this.frames; f++) {
      if (f < this.frames && !this.used[f]) run++;
      else if (run) {
        runs++;
        largest = Math.max(largest, run);
        run = 0;
      }
    }
    return { largestFree: largest, runs };
  }

  /** The entry array offset of a table frame, making the frame a table on first use. */
  table(frame: number): number {
    if (frame >= this.slotOf.length) {
      const n = new Int32Array(Math.max(frame + 1, this.slotOf.length * 2));
      n.set(this.slotOf);
      this.slotOf = n;
    }
    let s = this.slotOf[frame];
    if (!s) {
      s = ++this.slots;
      this.slotOf[frame] = s;
      if (s * ENTRIES > this.entries.length) {
        const n = new Float64Array(this.entries.length * 2);
        n.set(this.entries);
        this.entries = n;
      }
    }
    return (s - 1) * ENTRIES;
  }
}

/** Result of a walk, reused across walks (no allocation per walk). */
export class WalkResult {
  /** Physical addresses of the entries read, outermost first. */
  readonly entryAddrs = new Float64Array(8);
  refs = 0;
  /** Leaf frame, or -1 when the address is not mapped. */
  frame = -1;
  flags = 0;
}

/**
 * What MMU strategies read of a guest page table: its root, its depth, and walks that
 * report every entry they read (its guest-physical address) and the leaf frame with its
 * flags (F_*). RadixTable (the model's own tables) implements it, and so does the view
 * of a booted kernel's real Sv39/Sv48 tables (core/models/riscv/system/guest-tables.ts).
 */
export interface GuestTable {
  /** The root table's frame (guest-physical page number). */
  readonly root: number;
  readonly levels: 3 | 4 | 5;
  /** Walks for vpn, leaving every entry read in `out` (a superpage leaf ends the walk early). */
  walk(vpn: number, out: WalkResult): WalkResult;
}

export class RadixTable implements GuestTable {
  readonly root: number;

  /** A table with a fresh root frame; `root` adopts an existing one (restoring a snapshot). */
  constructor(
    readonly mem: PhysicalMemory,
    readonly levels: 3 | 4 | 5,
    root = -1,
  ) {
    if (root < 0) {
      root = mem.alloc();
      if (root < 0) throw new Error('out of physical memory for a page-table root');
      mem.table(root);
    }
    this.root = root;
  }

  private index(vpn: number, level: number): number {
    // level 0 is the root; 9 bits per level, the leaf level holds the lowest bits.
    return Math.floor(vpn / 2 ** (9 * (this.levels - 1 - level))) % ENTRIES;
  }

  /**
   * Maps page vpn to frame; returns the physical addresses of the entries written
   * (one leaf, plus any new intermediate tables), for write-protection accounting.
   */
  map(vpn: number, frame: number, flags: number, written: number[] = []): number[] {
    const mem = this.mem;
    let table = this.root;
    for (let level = 0; level < this.levels - 1; level++) {
      const off = mem.table(table) + this.index(vpn, level);
      let e = mem.entries[off];
      if (e % 2 !== 1) {
        const next = mem.alloc();
        if (next < 0) throw new Error('out of physical memory for page tables');
        mem.table(next);
        e = next * 16 + F_VALID;
        mem.entries[off] = e;
        written.push(table * PAGE + this.index(vpn, level) * 8);
      }
      table = Math.floor(e / 16);
    }
    const leaf = mem.table(table) + this.index(vpn, this.levels - 1);
    mem.entries[leaf] = frame * 16 + (flags | F_VALID);
    written.push(table * PAGE + this.index(vpn, this.levels - 1) * 8);
    return written;
  }

  /**
   * Clears the entry a walk for vpn reads at step `depth` (0: the root's entry; levels − 1:
   * the leaf), dropping whatever it mapped below; returns its physical address, or -1
   * when the walk does not reach that step.
   */
  clearAt(vpn: number, depth: number): number {
    const mem = this.mem;
    let table = this.root;
    for (let level = 0; level < depth; level++) {
      const e = mem.entries[mem.table(table) + this.index(vpn, level)];
      if (e % 2 !== 1) return -1;
      table = Math.floor(e / 16);
    }
    mem.entries[mem.table(table) + this.index(vpn, depth)] = 0;
    return table * PAGE + this.index(vpn, depth) * 8;
  }

  /** Clears the leaf entry of vpn; returns its physical address, or -1 if unmapped. */
  unmap(vpn: number): number {
    const r = this.walk(vpn, new WalkResult());
    if (r.frame < 0) return -1;
    const addr = r.entryAddrs[r.refs - 1];
    const table = Math.floor(addr / PAGE);
    this.mem.entries[this.mem.table(table) + (addr % PAGE) / 8] = 0;
    return addr;
  }

  /** Walks the table for vpn, recording the physical address of each entry read. */
  walk(vpn: number, out: WalkResult): WalkResult {
    const mem = this.mem;
    let table = this.root;
    out.refs = 0;
    out.frame = -1;
    out.flags = 0;
    for (let level = 0; level < this.levels; level++) {
      const idx = this.index(vpn, level);
      out.entryAddrs[out.refs++] = table * PAGE + idx * 8;
      const e = mem.entries[mem.table(table) + idx];
      if (e % 2 !== 1) return out;
      if (level === this.levels - 1) {
        out.frame = Math.floor(e / 16);
        out.flags = e % 16;
        return out;
      }
      table = Math.floor(e / 16);
    }
    return out;
  }
}
