// migration.xbzrle: XBZRLE (Xor-Based Zero Run-Length Encoding) as a migration add-on.
// QEMU keeps a cache of the page versions it last sent (64 MiB by default); when a page
// is dirtied again and is still in the cache, it sends the XOR of old and new content,
// run-length encoded, instead of the page, and the new version replaces the old one in
// the cache; a page not in the cache goes whole and enters the cache, evicting the
// least recently sent page when the cache is full.
//
// The model is that cache, page by page: an LRU over cacheSize / pageSize slots, in
// typed arrays sized by the cache (a table from page to slot, and a doubly linked list
// of the slots). Each
// pre-copy transfer after the full copy takes the pages it really sends
// (TransferPlan.pageList) through the cache: a hit costs a delta whose size depends on
// what the page holds (its class: zero, code, data, random — random content changes
// wholesale, its delta overflows and the page goes whole), a miss the whole page. The
// full copy bypasses the cache, as QEMU's bulk stage does. Estimates only look the pages
// up; a transfer that starts (plan.commit) moves them to the front and counts hits and
// misses. The cost per round is in proportion to the pages sent, never to accesses.

import { definePlugin, MemoryActivity, pageClassOf, registerMigrationAddon, STAGE_EARLY, type MigrationAddon, type SimContext } from 'virtlab';
import type { Options } from './options';

/** Per-migration state (saved in snapshots; a controller may retune the delta sizes). */
export interface XbzrleState {
  /** bytes */
  cacheBytes: number;
  /** Encoded delta over page size, by page class: zero, code, data, random. */
  deltaRatios: [number, number, number, number];
  hits: number;
  misses: number;
}

/**
 * An LRU cache of pages, keyed by page number, in typed arrays whose size follows the
 * cache, not the VM: an open-addressing table (linear probing, backward-shift deletion)
 * from page to slot, and a doubly linked list of the slots, most recent first.
 */
export class PageLru {
  /** Page of each table entry (-1 empty), and its slot. */
  readonly keys: Int32Array;
  readonly vals: Int32Array;
  readonly mask: number;
  readonly pageOf: Int32Array;
  readonly prev: Int32Array;
  readonly next: Int32Array;
  /** Most and least recently sent slots; slots in use. */
  head = -1;
  tail = -1;
  used = 0;

  constructor(readonly capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Int32Array(size).fill(-1);
    this.vals = new Int32Array(size);
    this.pageOf = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  /** A copy of the cache, for snapshots. */
  save(): { capacity: number; keys: Int32Array; vals: Int32Array; pageOf: Int32Array; prev: Int32Array; next: Int32Array; head: number; tail: number; used: number } {
    const { capacity, head, tail, used } = this;
    return { capacity, keys: this.keys.slice(), vals: this.vals.slice(), pageOf: this.pageOf.slice(), prev: this.prev.slice(), next: this.next.slice(), head, tail, used };
  }

  /** A cache as `save` copied it. */
  static load(s: ReturnType<PageLru['save']>): PageLru {
    const c = new PageLru(s.capacity);
    c.keys.set(s.keys);
    c.vals.set(s.vals);
    c.pageOf.set(s.pageOf);
    c.prev.set(s.prev);
    c.next.set(s.next);
    c.head = s.head;
    c.tail = s.tail;
    c.used = s.used;
    return c;
  }

  private home(page: number): number {
    return Math.imul(page, 0x9e3779b1) >>> 0 & this.mask;
  }

  /** The slot of a page, or -1. */
  slotOf(page: number): number {
    for (let i = this.home(page); ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === page) return this.vals[i];
      if (k === -1) return -1;
    }
  }

  has(page: number): boolean {
    return this.slotOf(page) >= 0;
  }

  /** Records that a page was sent: moves it to the front, or inserts it (evicting the least recent). Returns whether it was cached. */
  touch(page: number): boolean {
    let s = this.slotOf(page);
    const hit = s >= 0;
    if (hit) {
      if (s === this.head) return true;
      this.unlink(s);
    } else {
      if (this.capacity === 0) return false;
      if (this.used < this.capacity) s = this.used++;
      else {
        s = this.tail;
        this.unlink(s);
        this.remove(this.pageOf[s]);
      }
      this.pageOf[s] = page;
      let i = this.home(page);
      while (this.keys[i] !== -1) i = (i + 1) & this.mask;
      this.keys[i] = page;
      this.vals[i] = s;
    }
    this.prev[s] = -1;
    this.next[s] = this.head;
    if (this.head >= 0) this.prev[this.head] = s;
    this.head = s;
    if (this.tail < 0) this.tail = s;
    return hit;
  }

  private remove(page: number): void {
    let i = this.home(page);
    while (this.keys[i] !== page) i = (i + 1) & this.mask;
    // Backward-shift deletion keeps every probe chain unbroken.
    for (let j = (i + 1) & this.mask; this.keys[j] !== -1; j = (j + 1) & this.mask) {
      const h = this.home(this.keys[j]);
      const between = i <= j ? i < h && h <= j : i < h || h <= j;
      if (between) continue;
      this.keys[i] = this.keys[j];
      this.vals[i] = this.vals[j];
      i = j;
    }
    this.keys[i] = -1;
  }

  private unlink(s: number): void {
    const p = this.prev[s];
    const n = this.next[s];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
  }
}

export function xbzrleAddon(id: string, sim: SimContext, initial: XbzrleState, caches: Map<number, PageLru>, counters: { hits: { add(n: number): void }; misses: { add(n: number): void } }): MigrationAddon<XbzrleState> {
  const cacheFor = (migration: number, pageSize: number, cacheBytes: number): PageLru => {
    let c = caches.get(migration);
    if (!c) {
      c = new PageLru(Math.floor(cacheBytes / pageSize));
      caches.set(migration, c);
    }
    return c;
  };
  return {
    id,
    // Deltas are computed on raw pages, so XBZRLE runs before any compression.
    stage: STAGE_EARLY,
    initial,
    pageBytes(s, bytes, plan) {
      if (plan.round === 0 || plan.pages === 0) return bytes;
      const list = plan.pageList();
      if (!list.length) return bytes;
      const cache = cacheFor(plan.migration, plan.pageSize, s.cacheBytes);
      const shares = sim.services.get(MemoryActivity).pageClasses(plan.vm);
      let cost = 0;
      let hits = 0;
      for (let i = 0; i < list.length; i++) {
        const page = list[i];
        const hit = plan.commit ? cache.touch(page) : cache.has(page);
        if (hit) {
          hits++;
          cost += s.deltaRatios[pageClassOf(shares, plan.vm, page)];
        } else cost += 1;
      }
      if (plan.commit) {
        s.hits += hits;
        s.misses += list.length - hits;
        counters.hits.add(hits);
        counters.misses.add(list.length - hits);
      }
      // The pages' mean cost, applied to what a page costs so far in the chain.
      return (bytes * cost) / list.length;
    },
  };
}

export default definePlugin<Options>((api) => {
  const o = api.options;
  const caches = new Map<number, PageLru>();
  const counters = {
    hits: api.counter('migration.xbzrle.hits', 'pages', 'Re-sent pages found in the XBZRLE cache (sent as deltas).'),
    misses: api.counter('migration.xbzrle.misses', 'pages', 'Re-sent pages not in the XBZRLE cache (sent whole, then cached).'),
  };
  const d = o.deltaRatios;
  registerMigrationAddon(api, (sim) => xbzrleAddon(api.id, sim, { cacheBytes: o.cacheSize, deltaRatios: [d.zero, d.code, d.data, d.random], hits: 0, misses: 0 }, caches, counters));
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    // A migration's cache is dropped when it ends.
    sim.hooks.migration.end.tap(api.id, (e) => caches.delete(e.migration));
  });
  api.persist('caches', {
    save: () => [...caches].sort((a, b) => a[0] - b[0]).map(([id, c]) => ({ id, cache: c.save() })),
    load: (data) => {
      caches.clear();
      for (const e of data as Array<{ id: number; cache: ReturnType<PageLru['save']> }>) caches.set(e.id, PageLru.load(e.cache));
    },
  });
});
