// What a file shares beyond its bytes: fcntl record locks, and the MAP_SHARED mappings
// through which the guest reads and writes it as memory. Both are kept per file (VNode)
// and are what a database's locking protocol and shared-memory index rest on.
//
// Record locks follow fcntl(2): a traditional (POSIX) lock belongs to the process and
// never conflicts with the process's own; it goes when the process closes ANY
// descriptor of the file. An open-file-description (OFD) lock belongs to the
// description, conflicts with every other owner's — the process's POSIX locks
// included — and goes when the description's last descriptor closes. A lock of the
// same owner over a range replaces what that owner held there, split or merged.
//
// A shared mapping is guest memory standing for a range of the file. Guest stores to
// it are plain stores (no hook per access), so file and memory are made to agree at
// each system call that looks at or changes the file: before the file is read,
// mapped, synced or unmapped, bytes of a mapping that differ from the file are
// written into it; after the file is written or truncated, the file's bytes are
// copied into every mapping. With one address space that is exactly what the guest
// can observe, as long as a file page is mapped once (two mappings of one page agree
// only after the next such call; see the README).

import type { GuestMemory } from './memory';
import { PAGE_SIZE, PERM_DECODED } from './memory';
import type { VNode } from './vfs';

export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;

/** Who holds a lock: the process (POSIX locks) or an open file description (OFD locks). */
export type LockOwner = object;

export interface RecordLock {
  owner: LockOwner;
  /** The owner is an open file description (F_OFD_*), not the process. */
  ofd: boolean;
  type: typeof F_RDLCK | typeof F_WRLCK;
  /** First and last byte, inclusive; `end` is Infinity for a lock to the end of any file. */
  start: number;
  end: number;
}

export interface SharedMapping {
  /** Guest address and length (whole pages). */
  start: number;
  len: number;
  node: VNode;
  /** File offset of `start`. */
  off: number;
}

const locksOf = new WeakMap<VNode, RecordLock[]>();

export function fileLocks(node: VNode): RecordLock[] {
  let l = locksOf.get(node);
  if (!l) locksOf.set(node, (l = []));
  return l;
}

/** The first lock of another owner that a lock of `type` over [start, end] would conflict with. */
export function conflictingLock(node: VNode, owner: LockOwner, type: number, start: number, end: number): RecordLock | null {
  for (const l of locksOf.get(node) ?? []) {
    if (l.owner === owner) continue;
    if (l.start > end || l.end < start) continue;
    if (l.type === F_WRLCK || type === F_WRLCK) return l;
  }
  return null;
}

/**
 * Sets (F_RDLCK, F_WRLCK) or removes (F_UNLCK) `owner`'s lock over [start, end]:
 * what the owner held there goes first (ranges that stick out are kept), then the
 * new lock is merged with the owner's adjacent or overlapping locks of its type.
 */
export function setLock(node: VNode, owner: LockOwner, ofd: boolean, type: number, start: number, end: number): void {
  const kept: RecordLock[] = [];
  for (const l of fileLocks(node)) {
    if (l.owner !== owner || l.start > end || l.end < start) {
      kept.push(l);
      continue;
    }
    if (l.start < start) kept.push({ ...l, end: start - 1 });
    if (l.end > end) kept.push({ ...l, start: end + 1 });
  }
  if (type !== F_UNLCK) {
    const lock: RecordLock = { owner, ofd, type: type as RecordLock['type'], start, end };
    const merged: RecordLock[] = [];
    for (const l of kept) {
      if (l.owner === owner && l.type === lock.type && l.start <= lock.end + 1 && lock.start <= l.end + 1) {
        lock.start = Math.min(lock.start, l.start);
        lock.end = Math.max(lock.end, l.end);
      } else merged.push(l);
    }
    merged.push(lock);
    kept.length = 0;
    kept.push(...merged);
  }
  kept.sort((a, b) => a.start - b.start || a.end - b.end);
  locksOf.set(node, kept);
}

/** Drops every lock `owner` holds on `node` (a close). */
export function releaseLocks(node: VNode, owner: LockOwner): void {
  const l = locksOf.get(node);
  if (l) locksOf.set(node, l.filter((x) => x.owner !== owner));
}

// ---- shared mappings ----

/** Writes the bytes the guest changed in `node`'s mappings into the file (within its size). */
export function flushMappings(mem: GuestMemory, maps: readonly SharedMapping[], node: VNode): void {
  for (const m of maps) {
    if (m.node !== node) continue;
    const n = Math.min(m.len, node.size - m.off);
    if (n <= 0) continue;
    const src = mem.u8;
    const dst = node.data;
    for (let i = 0; i < n; i++) {
      const b = src[m.start + i];
      if (dst[m.off + i] !== b) dst[m.off + i] = b;
    }
  }
}

/** Copies the file's bytes into each of `node`'s mappings; past the end of the file, zeros. */
export function refreshMappings(mem: GuestMemory, maps: readonly SharedMapping[], node: VNode): void {
  for (const m of maps) {
    if (m.node !== node) continue;
    const n = Math.max(0, Math.min(m.len, node.size - m.off));
    mem.u8.set(node.data.subarray(m.off, m.off + n), m.start);
    mem.u8.fill(0, m.start + n, m.start + m.len);
    // A page that held decoded code now holds other bytes.
    for (let pg = m.start / PAGE_SIZE; pg < (m.start + m.len) / PAGE_SIZE; pg++) if (mem.perm[pg] & PERM_DECODED) mem.onCodeWrite(pg);
  }
}

/**
 * Removes [start, start + len) from the shared mappings, flushing what it covered
 * first; a mapping that only partly overlaps keeps the rest.
 */
export function unmapShared(mem: GuestMemory, maps: SharedMapping[], start: number, len: number): void {
  const end = start + len;
  const out: SharedMapping[] = [];
  for (const m of maps) {
    const mEnd = m.start + m.len;
    if (mEnd <= start || m.start >= end) {
      out.push(m);
      continue;
    }
    flushMappings(mem, [m], m.node);
    if (m.start < start) out.push({ ...m, len: start - m.start });
    if (mEnd > end) out.push({ ...m, start: end, len: mEnd - end, off: m.off + (end - m.start) });
  }
  maps.length = 0;
  maps.push(...out);
}

/** The absolute path of a node still linked in the tree, or null (unlinked, or outside it). */
export function nodePath(node: VNode): string | null {
  const parts: string[] = [];
  for (let n = node; n.parent; n = n.parent) {
    const name = [...n.parent.children!.entries()].find(([, c]) => c === n)?.[0];
    if (name === undefined) return null;
    parts.unshift(name);
  }
  return parts.length ? '/' + parts.join('/') : null;
}
