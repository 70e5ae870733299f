// The persistent translation cache's contents and their checks: the modules a run
// compiled, each unit's entry and the exact guest bytes it was translated from, and
// the three per-run numberings the modules' bytes embed (chain slots, exit-table
// entries, unit counter ids). A later run preloads the numberings into its runtime, so
// every cached module is valid byte for byte, and offers each cached unit when
// execution first reaches its entry: the unit is installed only if the guest's code
// is still the bytes it was made from, on executable pages. Reading and writing the
// file is the host's business (virtlab exec); this holds no I/O.
//
// Layout (little-endian): "VLCC", format version, checksum and length of the body;
// the body is the tag (build, engine, options), the memory layout, the numberings
// and the modules. A cache that is truncated, corrupt, of another format or tag is
// refused whole with a reason; the run then translates as usual.

import * as memoryModule from '../riscv/memory';
import type { GuestMemory } from '../riscv/memory';
import type { Unit } from './ir';

// Read once: imported bindings compile to getter calls under CommonJS.
const { PAGE_SHIFT, PERM_X } = memoryModule;
/** "VLCC", the format's version, and the header's bytes (magic, version, checksum, body length). */
const MAGIC = 0x43434c56;
const VERSION = 1;
const HEAD = 16;

/** A unit of a cached module. */
export interface CachedUnit {
  readonly entry: number;
  /** Its export in the module. */
  readonly exportName: string;
  /** Its counter id when it was translated (its code addresses that counter). */
  readonly id: number;
  /** Units of one group in a module call each other directly: they are checked, installed and dropped together. */
  readonly group: number;
  readonly guestInstructions: number;
  readonly guestBytes: number;
  readonly blocks: number;
  readonly pages: readonly number[];
  /** The guest code it was translated from: start addresses and the bytes there. */
  readonly ranges: ReadonlyArray<{ readonly start: number; readonly bytes: Uint8Array }>;
}

/** A compiled translation as cached: the module's bytes and its units. */
export interface CachedModule {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly units: readonly CachedUnit[];
}

/** The numberings the modules' bytes embed. */
export interface CacheTables {
  /** The guest pc of each chain slot, by slot. */
  readonly slotPcs: ArrayLike<number>;
  readonly exits: number;
  readonly exitCode: ArrayLike<number>;
  readonly exitPc: ArrayLike<number>;
  readonly exitRefund: ArrayLike<number>;
  readonly nextUnit: number;
}

export interface CacheContents {
  readonly tables: CacheTables;
  readonly modules: CachedModule[];
}

/** What the modules' bytes depend on besides the tag: the memory layout and how units are lowered. */
export function layoutFingerprint(mem: GuestMemory, kind: string, emitOptions: unknown): string {
  return JSON.stringify({ kind, emitOptions, size: mem.size, pages: mem.pages, wasmPages: mem.wasmPages, stateBase: mem.stateBase, lookupBase: mem.lookupBase, countersBase: mem.countersBase });
}

/** What the cache keeps of a unit as it is translated: its sizes, pages and guest code (unitRanges). */
export function unitInfo(u: Unit, mem: GuestMemory): Omit<CachedUnit, 'exportName' | 'id' | 'group'> {
  return { entry: u.entry, guestInstructions: u.guestInstructions, guestBytes: u.guestBytes, blocks: u.blocks.length, pages: [...u.pages], ranges: unitRanges(u, mem) };
}

/** The guest code of a unit, as the smallest set of byte ranges covering its blocks. */
export function unitRanges(u: Unit, mem: GuestMemory): CachedUnit['ranges'] {
  const spans = u.blocks.map((b) => [b.start, b.end] as [number, number]).filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const out: Array<{ start: number; bytes: Uint8Array }> = [];
  let cur: [number, number] | null = null;
  for (const s of spans) {
    if (cur && s[0] <= cur[1]) cur[1] = Math.max(cur[1], s[1]);
    else {
      if (cur) out.push({ start: cur[0], bytes: mem.u8.slice(cur[0], cur[1]) });
      cur = [s[0], s[1]];
    }
  }
  if (cur) out.push({ start: cur[0], bytes: mem.u8.slice(cur[0], cur[1]) });
  return out;
}

/**
 * Guest bytes of the units that are not what they were translated from (or not on
 * executable pages of this memory): 0 when they may be installed.
 */
export function mismatchedBytes(units: ReadonlyArray<Pick<CachedUnit, 'ranges'>>, mem: GuestMemory): number {
  let bad = 0;
  const u8 = mem.u8;
  for (const u of units) {
    for (const r of u.ranges) {
      const end = r.start + r.bytes.length;
      let ok = end <= mem.size;
      for (let p = r.start >>> PAGE_SHIFT; ok && p <= (end - 1) >>> PAGE_SHIFT; p++) if ((mem.perm[p] & PERM_X) === 0) ok = false;
      if (!ok) {
        bad += r.bytes.length;
        continue;
      }
      for (let i = 0; i < r.bytes.length; i++) if (u8[r.start + i] !== r.bytes[i]) bad++;
    }
  }
  return bad;
}

/** A 32-bit digest of the body, so that a flipped or missing byte anywhere refuses the file. */
function checksum(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5 ^ (to - from);
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const w = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    h = Math.imul(h ^ w, 0x01000193);
    h ^= h >>> 15;
  }
  for (; i < to; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

const utf8 = new TextEncoder();

class Writer {
  buf: Uint8Array<ArrayBuffer>;
  dv: DataView;
  n = 0;

  /** `size`: what the file will take, about (growing a buffer of megabytes copies it). */
  constructor(size: number) {
    this.buf = new Uint8Array(Math.max(1 << 16, size));
    this.dv = new DataView(this.buf.buffer);
  }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }

  u32(v: number): void {
    this.room(4);
    this.dv.setUint32(this.n, v >>> 0, true);
    this.n += 4;
  }

  i32(v: number): void {
    this.room(4);
    this.dv.setInt32(this.n, v | 0, true);
    this.n += 4;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }

  str(s: string): void {
    // At most 3 bytes of UTF-8 per UTF-16 unit: encoded in place, its length written before it.
    this.room(4 + 3 * s.length);
    const { written } = utf8.encodeInto(s, this.buf.subarray(this.n + 4));
    this.u32(written);
    this.n += written;
  }
}

class Reader {
  private readonly dv: DataView;
  n: number;

  constructor(
    private readonly b: Uint8Array,
    from: number,
  ) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.n = from;
  }

  u32(): number {
    const v = this.dv.getUint32(this.n, true);
    this.n += 4;
    return v;
  }

  i32(): number {
    const v = this.dv.getInt32(this.n, true);
    this.n += 4;
    return v;
  }

  /** A view into the file's bytes (not a copy: they are only read). */
  bytes(): Uint8Array<ArrayBuffer> {
    const len = this.u32();
    if (this.n + len > this.b.length) throw new RangeError('past the end');
    const out = this.b.subarray(this.n, this.n + len) as Uint8Array<ArrayBuffer>;
    this.n += len;
    return out;
  }

  str(): string {
    return new TextDecoder().decode(this.bytes());
  }

  get done(): boolean {
    return this.n === this.b.length;
  }
}

/** The cache file's bytes. */
export function encodeCodeCache(tag: string, layout: string, c: CacheContents): Uint8Array {
  const t = c.tables;
  const w = new Writer(c.modules.reduce((n, m) => n + cachedModuleBytes(m), 64 + 3 * (tag.length + layout.length) + 4 * t.slotPcs.length + 12 * t.exits + 64));
  for (let i = 0; i < HEAD; i++) w.u32(0);
  w.n = HEAD;
  w.str(tag);
  w.str(layout);
  w.u32(t.slotPcs.length);
  for (let i = 0; i < t.slotPcs.length; i++) w.u32(t.slotPcs[i]);
  w.u32(t.exits);
  for (let i = 0; i < t.exits; i++) {
    w.u32(t.exitCode[i]);
    w.u32(t.exitPc[i]);
    w.i32(t.exitRefund[i]);
  }
  w.u32(t.nextUnit);
  w.u32(c.modules.length);
  for (const m of c.modules) {
    w.bytes(m.bytes);
    w.u32(m.units.length);
    for (const u of m.units) {
      w.u32(u.entry);
      w.u32(u.id);
      w.u32(u.group);
      w.str(u.exportName);
      w.u32(u.guestInstructions);
      w.u32(u.guestBytes);
      w.u32(u.blocks);
      w.u32(u.pages.length);
      for (const p of u.pages) w.u32(p);
      w.u32(u.ranges.length);
      for (const r of u.ranges) {
        w.u32(r.start);
        w.bytes(r.bytes);
      }
    }
  }
  // A view, not a copy (megabytes).
  const out = w.buf.subarray(0, w.n);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, checksum(out, HEAD, out.length), true);
  dv.setUint32(12, out.length - HEAD, true);
  return out;
}

/** The cache's contents, or why it cannot be used. */
export function decodeCodeCache(b: Uint8Array, tag: string, layout: string): CacheContents | string {
  if (b.length < HEAD) return `truncated (${b.length} bytes)`;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) return 'not a code cache';
  const version = dv.getUint32(4, true);
  if (version !== VERSION) return `format ${version}, this build reads format ${VERSION}`;
  if (dv.getUint32(12, true) !== b.length - HEAD) return `truncated or extended (${b.length - HEAD} bytes of body, header says ${dv.getUint32(12, true)})`;
  if (dv.getUint32(8, true) !== checksum(b, HEAD, b.length)) return 'corrupt (checksum)';
  try {
    const r = new Reader(b, HEAD);
    if (r.str() !== tag) return 'written by another build, engine or engine options';
    if (r.str() !== layout) return 'written for another memory layout';
    const slotPcs = new Float64Array(r.u32());
    for (let i = 0; i < slotPcs.length; i++) slotPcs[i] = r.u32();
    const exits = r.u32();
    const exitCode = new Uint8Array(exits);
    const exitPc = new Float64Array(exits);
    const exitRefund = new Int32Array(exits);
    for (let i = 0; i < exits; i++) {
      exitCode[i] = r.u32();
      exitPc[i] = r.u32();
      exitRefund[i] = r.i32();
    }
    const nextUnit = r.u32();
    const modules: CachedModule[] = [];
    for (let m = r.u32(); m > 0; m--) {
      const bytes = r.bytes();
      const units: CachedUnit[] = [];
      for (let k = r.u32(); k > 0; k--) {
        const entry = r.u32();
        const id = r.u32();
        const group = r.u32();
        const exportName = r.str();
        const guestInstructions = r.u32();
        const guestBytes = r.u32();
        const blocks = r.u32();
        const pages: number[] = [];
        for (let p = r.u32(); p > 0; p--) pages.push(r.u32());
        const ranges: Array<{ start: number; bytes: Uint8Array }> = [];
        for (let q = r.u32(); q > 0; q--) ranges.push({ start: r.u32(), bytes: r.bytes() });
        units.push({ entry, id, group, exportName, guestInstructions, guestBytes, blocks, pages, ranges });
      }
      if (units.length) modules.push({ bytes, units });
    }
    if (!r.done) return 'corrupt (trailing bytes)';
    return { tables: { slotPcs, exits, exitCode, exitPc, exitRefund, nextUnit }, modules };
  } catch {
    return 'corrupt (truncated record)';
  }
}

/** The size a module takes in the file, roughly (for the size cap). */
export function cachedModuleBytes(m: CachedModule): number {
  let n = m.bytes.length + 8;
  for (const u of m.units) {
    n += 36 + u.exportName.length + 4 * u.pages.length;
    for (const r of u.ranges) n += 8 + r.bytes.length;
  }
  return n;
}
