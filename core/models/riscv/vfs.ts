// The guest's virtual file system: the only files a guest can see. An in-memory,
// writable /tmp; read-only files the runner mounts (contents supplied as bytes, so
// core/ never touches the host's disk); /dev/null and /dev/zero; and the standard
// streams, which the process connects to its own callbacks.

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

export class VNode {
  data: Uint8Array;
  size: number;
  readonly children: Map<string, VNode> | null;
  /** The directory holding this node (for '..'); null for the root and for unlinked nodes. */
  parent: VNode | null = null;

  constructor(
    readonly ino: number,
    readonly mode: number,
    readonly writable: boolean,
    data?: Uint8Array,
    readonly device: 'null' | 'zero' | null = null,
  ) {
    this.data = data ?? new Uint8Array(0);
    this.size = this.data.length;
    this.children = (mode & 0o170000) === S_IFDIR ? new Map() : null;
  }

  get isDir(): boolean {
    return this.children !== null;
  }

  /** Grows the backing store geometrically so appends are amortized O(1). */
  ensure(size: number): void {
    if (size <= this.data.length) return;
    const next = new Uint8Array(Math.max(size, this.data.length * 2, 256));
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }
}

export class VfsError extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}

export const ENOENT = 2;
export const EBADF = 9;
export const EACCES = 13;
export const EEXIST = 17;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const EROFS = 30;
export const ENOTEMPTY = 39;

/**
 * A pipe's buffer: bytes written to one end wait here for the other. Its capacity is
 * the kernel's default, 16 pages.
 */
export class Pipe {
  static readonly CAPACITY = 65536;
  private buf = new Uint8Array(Pipe.CAPACITY);
  private head = 0;
  size = 0;

  constructor(readonly ino: number) {}

  /** Appends what fits; returns how many bytes did. */
  put(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, Pipe.CAPACITY - this.size);
    for (let i = 0; i < n; i++) this.buf[(this.head + this.size + i) % Pipe.CAPACITY] = bytes[i];
    this.size += n;
    return n;
  }

  /** Removes and returns up to `max` bytes. */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.size);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.buf[(this.head + i) % Pipe.CAPACITY];
    this.head = (this.head + n) % Pipe.CAPACITY;
    this.size -= n;
    return out;
  }
}

/** An absolute path in canonical form: no '.', '..', empty or trailing components. */
export function normalize(path: string): string {
  return '/' + split(path).join('/');
}

export class Vfs {
  private nextIno = 1;
  readonly root: VNode;

  constructor(mounts: ReadonlyMap<string, Uint8Array>) {
    this.root = this.node(S_IFDIR | 0o755, false);
    const tmp = this.node(S_IFDIR | 0o1777, true);
    this.link(this.root, 'tmp', tmp);
    const dev = this.node(S_IFDIR | 0o755, false);
    this.link(this.root, 'dev', dev);
    dev.children!.set('null', new VNode(this.nextIno++, S_IFCHR | 0o666, true, undefined, 'null'));
    dev.children!.set('zero', new VNode(this.nextIno++, S_IFCHR | 0o666, true, undefined, 'zero'));
    for (const [path, bytes] of [...mounts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const parts = split(path);
      if (!parts.length) continue;
      let dir = this.root;
      for (const part of parts.slice(0, -1)) {
        let next = dir.children!.get(part);
        if (!next) {
          next = this.node(S_IFDIR | 0o755, false);
          this.link(dir, part, next);
        }
        if (!next.isDir) break;
        dir = next;
      }
      this.link(dir, parts[parts.length - 1], this.node(S_IFREG | 0o444, false, bytes));
    }
  }

  private node(mode: number, writable: boolean, data?: Uint8Array): VNode {
    return new VNode(this.nextIno++, mode, writable, data);
  }

  /** An inode number for something outside the tree (a pipe). */
  newIno(): number {
    return this.nextIno++;
  }

  /** Links `node` into `dir` under `name`. */
  private link(dir: VNode, name: string, node: VNode): void {
    dir.children!.set(name, node);
    node.parent = dir;
  }

  /** Resolves an absolute path (the system calls make relative ones absolute first). */
  lookup(path: string): VNode {
    // Walked component by component, as Linux does: `..` and a trailing `/` after a
    // file are ENOTDIR (`/data/file.txt/..`), not the folder a lexical clean-up gives.
    let n = this.root;
    const up: VNode[] = [];
    for (const part of path.split('/')) {
      if (!n.isDir) throw new VfsError(ENOTDIR);
      if (part === '' || part === '.') continue;
      if (part === '..') {
        n = up.pop() ?? this.root;
        continue;
      }
      const next = n.children!.get(part);
      if (!next) throw new VfsError(ENOENT);
      up.push(n);
      n = next;
    }
    return n;
  }

  /** The parent directory of a path and the last component. */
  parent(path: string): { dir: VNode; name: string } {
    const parts = split(path);
    if (!parts.length) throw new VfsError(EEXIST);
    const dir = this.lookup('/' + parts.slice(0, -1).join('/'));
    if (!dir.isDir) throw new VfsError(ENOTDIR);
    return { dir, name: parts[parts.length - 1] };
  }

  /** Opens (and with `create`, creates) a regular file. */
  open(path: string, create: boolean, exclusive: boolean, truncate: boolean, write: boolean, mode = 0o644): VNode {
    let node: VNode | undefined;
    try {
      node = this.lookup(path);
    } catch (e) {
      if (!(e instanceof VfsError) || e.errno !== ENOENT || !create) throw e;
    }
    if (node) {
      if (create && exclusive) throw new VfsError(EEXIST);
      if (write && node.isDir) throw new VfsError(EISDIR);
      if ((write || truncate) && !node.writable) throw new VfsError(node.device ? 0 : EROFS);
      if (truncate && !node.device) node.size = 0;
      return node;
    }
    const { dir, name } = this.parent(path);
    if (!dir.writable) throw new VfsError(EROFS);
    const created = this.node(S_IFREG | (mode & 0o7777), true);
    this.link(dir, name, created);
    return created;
  }

  mkdir(path: string, mode = 0o755): void {
    const { dir, name } = this.parent(path);
    if (dir.children!.has(name)) throw new VfsError(EEXIST);
    if (!dir.writable) throw new VfsError(EROFS);
    this.link(dir, name, this.node(S_IFDIR | (mode & 0o7777), true));
  }

  /** rename(2): replaces a compatible target atomically; `noReplace` and `exchange` as renameat2's flags. */
  rename(from: string, to: string, noReplace: boolean, exchange: boolean): void {
    const a = this.parent(from);
    const node = a.dir.children!.get(a.name);
    if (!node) throw new VfsError(ENOENT);
    const b = this.parent(to);
    if (!a.dir.writable || !b.dir.writable) throw new VfsError(EROFS);
    const target = b.dir.children!.get(b.name);
    // A directory cannot move below itself.
    for (let d: VNode | null = b.dir; d; d = d.parent) if (d === node) throw new VfsError(EINVAL);
    if (exchange) {
      if (!target) throw new VfsError(ENOENT);
      this.link(a.dir, a.name, target);
      this.link(b.dir, b.name, node);
      return;
    }
    if (target) {
      if (noReplace) throw new VfsError(EEXIST);
      if (target === node) return;
      if (node.isDir) {
        if (!target.isDir) throw new VfsError(ENOTDIR);
        if (target.children!.size) throw new VfsError(ENOTEMPTY);
      } else if (target.isDir) throw new VfsError(EISDIR);
      target.parent = null;
    }
    a.dir.children!.delete(a.name);
    this.link(b.dir, b.name, node);
  }

  unlink(path: string, removeDir: boolean): void {
    const { dir, name } = this.parent(path);
    const node = dir.children!.get(name);
    if (!node) throw new VfsError(ENOENT);
    if (!dir.writable) throw new VfsError(EROFS);
    if (removeDir) {
      if (!node.isDir) throw new VfsError(ENOTDIR);
      if (node.children!.size) throw new VfsError(ENOTEMPTY);
    } else if (node.isDir) throw new VfsError(EISDIR);
    dir.children!.delete(name);
    node.parent = null;
  }

  /** The writable part of the tree (/tmp), for snapshots. */
  saveTmp(): Array<{ path: string; dir: boolean; data?: Uint8Array }> {
    const out: Array<{ path: string; dir: boolean; data?: Uint8Array }> = [];
    const walk = (n: VNode, path: string) => {
      for (const [name, c] of [...n.children!.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        const p = `${path}/${name}`;
        if (c.isDir) {
          out.push({ path: p, dir: true });
          walk(c, p);
        } else out.push({ path: p, dir: false, data: c.data.slice(0, c.size) });
      }
    };
    walk(this.lookup('/tmp'), '/tmp');
    return out;
  }

  loadTmp(entries: Array<{ path: string; dir: boolean; data?: Uint8Array }>): void {
    this.lookup('/tmp').children!.clear();
    for (const e of entries) {
      if (e.dir) this.mkdir(e.path);
      else {
        const n = this.open(e.path, true, false, true, true);
        n.ensure(e.data!.length);
        n.data.set(e.data!);
        n.size = e.data!.length;
      }
    }
  }
}

function split(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}
