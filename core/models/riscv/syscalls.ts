// The Linux system calls of a RISC-V user process, one handler per call in a table
// keyed by the call's name, and the rv64 numbering that maps a number in a7 to that
// name. GuestProcess (process.ts) dispatches an ecall through these tables; a call
// that has no handler here is answered -ENOSYS and counted as unimplemented.
//
// Every handler reads its arguments from the hart's a0..a5 (`p.arg(i)` for addresses,
// sizes and offsets as 64-bit numbers, `p.argInt(i)` for descriptors and flags as
// signed 32-bit ones, as the kernel reads an `int`), acts on the sandbox (the virtual
// file system, the process's descriptors and memory map, its callbacks for the
// standard streams, the clock and random bytes) and returns the value for a0: a
// result, or a negative errno. VfsError and GuestFault thrown by a handler become
// -errno and -EFAULT in the process.

import type { GuestProcess, OpenFile } from './process';
import { THREAD_SYSCALLS } from './threads';
import { PAGE_SIZE, PERM_MAPPED, PERM_R, PERM_W, PERM_X } from './memory';
import { EBADF, EINVAL, EISDIR, ENOENT, ENOTDIR, S_IFCHR, S_IFDIR, VfsError, VNode } from './vfs';

export const ENOSYS = 38;
const ENOMEM = 12;
const ENOTTY = 25;
const ESPIPE = 29;
const EACCES = 13;
const EPIPE = 32;
const SIGPIPE = 13;
export const EFAULT = 14;

/** The process id every guest sees (and the tid of its first thread, see threads.ts). */
export const PID = 1000;

/** rv64 Linux system call numbers (the generic table of asm-generic/unistd.h) → names. */
export const RV64_SYSCALL_NAMES: Readonly<Record<number, string>> = {
  17: 'getcwd', 23: 'dup', 24: 'dup3', 25: 'fcntl', 29: 'ioctl', 34: 'mkdirat', 35: 'unlinkat', 48: 'faccessat', 56: 'openat', 57: 'close',
  61: 'getdents64', 62: 'lseek', 63: 'read', 64: 'write', 65: 'readv', 66: 'writev', 67: 'pread64', 78: 'readlinkat', 79: 'newfstatat', 80: 'fstat',
  93: 'exit', 94: 'exit_group', 96: 'set_tid_address', 98: 'futex', 99: 'set_robust_list', 101: 'nanosleep', 113: 'clock_gettime', 114: 'clock_getres',
  123: 'sched_getaffinity', 124: 'sched_yield', 129: 'kill', 130: 'tkill', 131: 'tgkill', 134: 'rt_sigaction', 135: 'rt_sigprocmask', 160: 'uname',
  163: 'getrlimit', 169: 'gettimeofday', 172: 'getpid', 173: 'getppid', 174: 'getuid', 175: 'geteuid', 176: 'getgid', 177: 'getegid', 178: 'gettid',
  198: 'socket', 214: 'brk', 215: 'munmap', 216: 'mremap', 220: 'clone', 222: 'mmap', 226: 'mprotect', 233: 'madvise', 261: 'prlimit64', 278: 'getrandom', 293: 'rseq',
};

/** The Linux name of an rv64 system call number, or `syscall <n>` for one not in the table. */
export function syscallName(n: number): string {
  return RV64_SYSCALL_NAMES[n] ?? `syscall ${n}`;
}

/** A system call's implementation: reads its arguments from `p`'s registers, returns a0. */
export type SyscallHandler = (p: GuestProcess) => number;

const exit: SyscallHandler = (p) => {
  p.end({ state: 'exited', exitCode: p.argInt(0) & 0xff });
  return 0;
};

/** readv and writev: each iovec in turn, stopping at an error or a short read. */
function vectored(p: GuestProcess, write: boolean): number {
  const mem = p.mem;
  const fd = p.argInt(0);
  const iov = p.arg(1);
  const cnt = p.argInt(2);
  let total = 0;
  for (let i = 0; i < cnt; i++) {
    const base = Number(mem.dv.getBigUint64(iov + i * 16, true));
    const len = Number(mem.dv.getBigUint64(iov + i * 16 + 8, true));
    const r = write ? writeFd(p, fd, mem.read(base, len)) : readFd(p, fd, base, len, -1);
    if (r < 0) return total || r;
    total += r;
    if (!write && r < len) break;
  }
  return total;
}

/** kill, tkill and tgkill: a signal sent to itself ends the process. */
function killSelf(p: GuestProcess, sigArg: number): number {
  const sig = p.argInt(sigArg);
  if (sig === 0) return 0;
  p.end({ state: 'signaled', signal: sig, message: `killed itself with signal ${sig}` });
  return 0;
}

const zero: SyscallHandler = () => 0;
const pid: SyscallHandler = () => PID;
const user: SyscallHandler = () => 1000;

/** The Linux system calls this sandbox answers, by name. */
export const LINUX_SYSCALLS: Readonly<Record<string, SyscallHandler>> = {
  // exit ends one thread (threads.ts); exit_group the whole process.
  exit_group: exit,
  read: (p) => readFd(p, p.argInt(0), p.arg(1), p.arg(2), -1),
  pread64: (p) => readFd(p, p.argInt(0), p.arg(1), p.arg(2), p.arg(3)),
  write: (p) => writeFd(p, p.argInt(0), p.mem.read(p.arg(1), p.arg(2))),
  readv: (p) => vectored(p, false),
  writev: (p) => vectored(p, true),
  openat: (p) => openat(p, p.argInt(0), p.mem.readCString(p.arg(1)), p.argInt(2)),
  close: (p) => {
    const fd = p.argInt(0);
    if (!p.linux.fds[fd]) return -EBADF;
    p.linux.fds[fd] = null;
    return 0;
  },
  lseek: (p) => {
    const f = p.linux.fds[p.argInt(0)];
    if (!f) return -EBADF;
    if (!f.node) return -ESPIPE;
    const off = p.arg(1);
    const whence = p.argInt(2);
    const pos = whence === 0 ? off : whence === 1 ? f.pos + off : whence === 2 ? f.node.size + off : NaN;
    if (!(pos >= 0)) return -EINVAL;
    f.pos = pos;
    return pos;
  },
  getdents64: (p) => getdents(p, p.argInt(0), p.arg(1), p.arg(2)),
  newfstatat: (p) => fstatat(p, p.argInt(0), p.mem.readCString(p.arg(1)), p.arg(2), p.argInt(3)),
  fstat: (p) => fstatat(p, p.argInt(0), '', p.arg(1), 0x1000),
  faccessat: (p) => {
    p.vfs.lookup(path(p, p.argInt(0), p.mem.readCString(p.arg(1))));
    return 0;
  },
  mkdirat: (p) => {
    p.vfs.mkdir(path(p, p.argInt(0), p.mem.readCString(p.arg(1))));
    return 0;
  },
  unlinkat: (p) => {
    p.vfs.unlink(path(p, p.argInt(0), p.mem.readCString(p.arg(1))), (p.argInt(2) & 0x200) !== 0);
    return 0;
  },
  readlinkat: (p) => {
    const target = p.mem.readCString(p.arg(1));
    if (target !== '/proc/self/exe') return -ENOENT;
    const exe = new TextEncoder().encode('/' + p.options.programPath.replace(/^\/+/, ''));
    const len = Math.min(exe.length, p.arg(3));
    p.mem.write(p.arg(2), exe.subarray(0, len));
    return len;
  },
  getcwd: (p) => {
    const size = p.arg(1);
    if (size < 2) return -34;
    p.mem.write(p.arg(0), new Uint8Array([0x2f, 0]));
    return 2;
  },
  dup: (p) => dup(p, p.argInt(0), -1),
  dup3: (p) => dup(p, p.argInt(0), p.argInt(1)),
  fcntl: (p) => {
    const fd = p.argInt(0);
    const f = p.linux.fds[fd];
    if (!f) return -EBADF;
    const cmd = p.argInt(1);
    if (cmd === 0 || cmd === 1030) return dup(p, fd, -1, p.argInt(2));
    if (cmd === 3) return (f.writable ? (f.std === 0 ? 0 : 1) : 0) | (f.append ? 0x400 : 0);
    return 0;
  },
  // Nothing here is a terminal.
  ioctl: (p) => (p.linux.fds[p.argInt(0)] ? -ENOTTY : -EBADF),
  brk: (p) => brk(p, p.arg(0)),
  mmap: (p) => mmap(p, p.arg(0), p.arg(1), p.argInt(2), p.argInt(3), p.argInt(4), p.arg(5)),
  munmap: (p) => munmap(p, p.arg(0), p.arg(1)),
  mprotect: (p) => mprotect(p, p.arg(0), p.arg(1), p.argInt(2)),
  mremap: (p) => mremap(p, p.arg(0), p.arg(1), p.arg(2), p.argInt(3)),
  madvise: zero,
  set_robust_list: zero,
  nanosleep: zero,
  rt_sigprocmask: zero,
  rt_sigaction: (p) => {
    // Accepted, never delivered; only whether SIGPIPE is ignored (SIG_IGN) is kept,
    // since a write to a closed pipe then answers EPIPE instead of ending the process.
    const act = p.arg(1);
    if (p.argInt(0) === SIGPIPE && act) p.linux.ignoresSigpipe = p.mem.read(act, 8).every((b, i) => b === (i === 0 ? 1 : 0));
    const old = p.arg(2);
    if (old) p.mem.write(old, new Uint8Array(32));
    return 0;
  },
  clock_gettime: (p) => timespec(p, p.arg(1), p.options.now()),
  clock_getres: (p) => {
    const at = p.arg(1);
    return at ? timespec(p, at, 1) : 0;
  },
  gettimeofday: (p) => {
    const t = p.options.now();
    const at = p.arg(0);
    if (at) {
      p.mem.check(at, 16, PERM_W);
      p.mem.dv.setBigInt64(at, BigInt(Math.floor(t / 1e9)), true);
      p.mem.dv.setBigInt64(at + 8, BigInt(Math.floor((t % 1e9) / 1000)), true);
    }
    return 0;
  },
  uname: (p) => {
    const fields = ['Linux', 'virtlab', '6.1.0', '#1 SMP virtlab', 'riscv64', '(none)'];
    const buf = new Uint8Array(65 * 6);
    fields.forEach((f, i) => buf.set(new TextEncoder().encode(f), i * 65));
    p.mem.write(p.arg(0), buf);
    return 0;
  },
  getrlimit: (p) => rlimit(p, p.argInt(0), p.arg(1)),
  prlimit64: (p) => (p.arg(3) ? rlimit(p, p.argInt(1), p.arg(3)) : 0),
  getrandom: (p) => {
    const len = p.arg(1);
    const buf = new Uint8Array(len);
    p.options.randomBytes(buf);
    p.mem.write(p.arg(0), buf);
    return len;
  },
  sched_getaffinity: (p) => {
    // One CPU.
    const size = p.arg(1);
    if (size < 8) return -EINVAL;
    const mask = new Uint8Array(8);
    mask[0] = 1;
    p.mem.write(p.arg(2), mask);
    return 8;
  },
  getpid: pid,
  getppid: () => 1,
  getuid: user,
  geteuid: user,
  getgid: user,
  getegid: user,
  kill: (p) => killSelf(p, 1),
  tkill: (p) => killSelf(p, 1),
  tgkill: (p) => killSelf(p, 2),
  // No network in the sandbox.
  socket: () => -EACCES,
  // clone, futex, set_tid_address, gettid, sched_yield and exit: the threads of threads.ts.
  ...THREAD_SYSCALLS,
};

/**
 * The handler of each rv64 number, by number (undefined: answered -ENOSYS), built once
 * from the two tables so that a call costs one array read.
 */
export const RV64_SYSCALLS: ReadonlyArray<SyscallHandler | undefined> = (() => {
  const out: Array<SyscallHandler | undefined> = [];
  for (const [n, name] of Object.entries(RV64_SYSCALL_NAMES)) out[Number(n)] = LINUX_SYSCALLS[name];
  return out;
})();

// ---- files ----

function path(p: GuestProcess, dirfd: number, name: string): string {
  if (name.startsWith('/')) return name;
  const AT_FDCWD = -100;
  if (dirfd === AT_FDCWD) return '/' + name;
  const f = p.linux.fds[dirfd];
  if (!f || !f.node) throw new VfsError(EBADF);
  if (!f.node.isDir) throw new VfsError(ENOTDIR);
  return `${f.path}/${name}`;
}

function alloc(p: GuestProcess, file: OpenFile, min = 0): number {
  const fds = p.linux.fds;
  for (let fd = min; ; fd++) {
    if (!fds[fd]) {
      fds[fd] = file;
      return fd;
    }
  }
}

function dup(p: GuestProcess, fd: number, target: number, min = 0): number {
  const f = p.linux.fds[fd];
  if (!f) return -EBADF;
  const copy = { ...f };
  if (target >= 0) {
    if (target === fd) return -EINVAL;
    p.linux.fds[target] = copy;
    return target;
  }
  return alloc(p, copy, min);
}

function openat(p: GuestProcess, dirfd: number, name: string, flags: number): number {
  const full = path(p, dirfd, name);
  const acc = flags & 3;
  const write = acc !== 0;
  const create = (flags & 0x40) !== 0;
  const node = p.vfs.open(full, create, (flags & 0x80) !== 0, (flags & 0x200) !== 0, write);
  if ((flags & 0x10000) !== 0 && !node.isDir) return -ENOTDIR;
  if (node.isDir && write) return -EISDIR;
  return alloc(p, { node, std: -1, pos: 0, append: (flags & 0x400) !== 0, writable: write, path: full.replace(/\/+$/, '') || '/' });
}

function readFd(p: GuestProcess, fd: number, buf: number, len: number, at: number): number {
  const f = p.linux.fds[fd];
  if (!f) return -EBADF;
  if (len === 0) return 0;
  if (f.std === 0) {
    const chunk = p.options.readStdin(len);
    if (!chunk) return 0;
    p.mem.write(buf, chunk.subarray(0, len));
    return Math.min(len, chunk.length);
  }
  if (!f.node || f.std > 0) return -EBADF;
  if (f.node.isDir) return -EISDIR;
  if (f.node.device === 'null') return 0;
  if (f.node.device === 'zero') {
    p.mem.write(buf, new Uint8Array(len));
    return len;
  }
  const pos = at >= 0 ? at : f.pos;
  const count = Math.max(0, Math.min(len, f.node.size - pos));
  p.mem.write(buf, f.node.data.subarray(pos, pos + count));
  if (at < 0) f.pos += count;
  return count;
}

function writeFd(p: GuestProcess, fd: number, bytes: Uint8Array): number {
  const f = p.linux.fds[fd];
  if (!f) return -EBADF;
  if (f.std === 1 || f.std === 2) {
    const written = (f.std === 1 ? p.options.writeStdout : p.options.writeStderr)(bytes);
    // The reader has gone: SIGPIPE ends the process, as Linux does, unless it ignores the signal.
    if (written === false) {
      if (!p.linux.ignoresSigpipe) p.end({ state: 'signaled', signal: SIGPIPE, message: 'broken pipe (SIGPIPE)' });
      return -EPIPE;
    }
    return bytes.length;
  }
  if (!f.writable || !f.node) return -EBADF;
  if (f.node.device) return bytes.length;
  const pos = f.append ? f.node.size : f.pos;
  f.node.ensure(pos + bytes.length);
  f.node.data.set(bytes, pos);
  f.node.size = Math.max(f.node.size, pos + bytes.length);
  f.pos = pos + bytes.length;
  return bytes.length;
}

function getdents(p: GuestProcess, fd: number, buf: number, len: number): number {
  const f = p.linux.fds[fd];
  if (!f || !f.node) return -EBADF;
  if (!f.node.isDir) return -ENOTDIR;
  const entries: Array<[string, VNode]> = [['.', f.node], ['..', f.node], ...[...f.node.children!.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))];
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  let used = 0;
  const enc = new TextEncoder();
  while (f.pos < entries.length) {
    const [name, node] = entries[f.pos];
    const nameBytes = enc.encode(name);
    const reclen = (19 + nameBytes.length + 1 + 7) & ~7;
    if (used + reclen > len) break;
    dv.setBigUint64(used, BigInt(node.ino), true);
    dv.setBigInt64(used + 8, BigInt(f.pos + 1), true);
    dv.setUint16(used + 16, reclen, true);
    out[used + 18] = node.isDir ? 4 : node.device ? 2 : 8;
    out.set(nameBytes, used + 19);
    used += reclen;
    f.pos++;
  }
  if (used === 0 && f.pos < entries.length) return -EINVAL;
  p.mem.write(buf, out.subarray(0, used));
  return used;
}

function fstatat(p: GuestProcess, dirfd: number, name: string, buf: number, flags: number): number {
  let node: VNode | null = null;
  let std = -1;
  if (name === '' && flags & 0x1000) {
    const f = p.linux.fds[dirfd];
    if (!f) return -EBADF;
    node = f.node;
    std = f.std;
  } else node = p.vfs.lookup(path(p, dirfd, name));
  const st = new Uint8Array(128);
  const dv = new DataView(st.buffer);
  if (node) {
    dv.setBigUint64(8, BigInt(node.ino), true);
    dv.setUint32(16, node.mode, true);
    dv.setBigInt64(48, BigInt(node.size), true);
    dv.setBigInt64(64, BigInt(Math.ceil(node.size / 512)), true);
  } else {
    dv.setBigUint64(8, BigInt(100 + std), true);
    dv.setUint32(16, S_IFCHR | 0o620, true);
    dv.setBigUint64(32, BigInt(0x8800 + std), true);
  }
  dv.setUint32(20, node?.mode !== undefined && (node.mode & S_IFDIR) === S_IFDIR ? 2 : 1, true);
  dv.setUint32(24, 1000, true);
  dv.setUint32(28, 1000, true);
  dv.setInt32(56, PAGE_SIZE, true);
  p.mem.write(buf, st);
  return 0;
}

function timespec(p: GuestProcess, at: number, ns: number): number {
  p.mem.check(at, 16, PERM_W);
  p.mem.dv.setBigInt64(at, BigInt(Math.floor(ns / 1e9)), true);
  p.mem.dv.setBigInt64(at + 8, BigInt(Math.floor(ns % 1e9)), true);
  return 0;
}

function rlimit(p: GuestProcess, resource: number, at: number): number {
  const inf = 0xffffffffffffffffn;
  const cur = resource === 3 ? BigInt(p.options.stackBytes) : inf;
  p.mem.check(at, 16, PERM_W);
  p.mem.dv.setBigUint64(at, cur, true);
  p.mem.dv.setBigUint64(at + 8, resource === 3 ? cur : inf, true);
  return 0;
}

// ---- memory management ----

function brk(p: GuestProcess, addr: number): number {
  const s = p.linux;
  if (addr === 0 || addr < s.brkStart) return s.brkCur;
  const newEnd = roundUp(addr, PAGE_SIZE);
  const oldEnd = roundUp(s.brkCur, PAGE_SIZE);
  if (newEnd > s.mmapFloor - 16 * PAGE_SIZE) return s.brkCur; // out of memory: brk fails
  if (newEnd > oldEnd) {
    if (!p.mem.isFree(oldEnd, newEnd - oldEnd)) return s.brkCur;
    p.mem.protect(oldEnd, newEnd - oldEnd, PERM_MAPPED | PERM_R | PERM_W);
  } else if (newEnd < oldEnd) release(p, newEnd, oldEnd - newEnd);
  s.brkCur = addr;
  return addr;
}

/** Finds `len` free bytes below the mmap floor (top-down first fit). */
function findFree(p: GuestProcess, len: number): number {
  for (let start = p.linux.stackBottom - PAGE_SIZE - len; start >= p.linux.brkStart + 16 * PAGE_SIZE; start -= PAGE_SIZE) {
    if (p.mem.isFree(start, len)) return start;
  }
  return -1;
}

function mmap(p: GuestProcess, addr: number, len: number, prot: number, flags: number, fd: number, off: number): number {
  if (len === 0) return -EINVAL;
  const mem = p.mem;
  const size = roundUp(len, PAGE_SIZE);
  const fixed = (flags & 0x10) !== 0;
  let start: number;
  if (fixed) {
    if (addr % PAGE_SIZE || addr + size > mem.size) return -EINVAL;
    start = addr;
    release(p, start, size);
  } else {
    start = findFree(p, size);
    if (start < 0) return -ENOMEM;
  }
  mem.u8.fill(0, start, start + size);
  if ((flags & 0x20) === 0) {
    // A private mapping of a file: copy its contents in.
    const f = p.linux.fds[fd];
    if (!f || !f.node) return -EBADF;
    const data = f.node.data.subarray(Math.min(off, f.node.size), Math.min(f.node.size, off + len));
    mem.u8.set(data, start);
  }
  mem.protect(start, size, PERM_MAPPED | protBits(prot));
  p.linux.mmapFloor = Math.min(p.linux.mmapFloor, start);
  return start;
}

/** Unmaps and zeroes [start, start + len), telling the timing model first. */
function release(p: GuestProcess, start: number, len: number): void {
  p.options.onMemoryMap?.('unmap', start, len);
  p.mem.protect(start, len, 0);
  p.mem.u8.fill(0, start, Math.min(p.mem.size, start + len));
}

function munmap(p: GuestProcess, addr: number, len: number): number {
  if (addr % PAGE_SIZE || len === 0) return -EINVAL;
  if (addr >= p.linux.stackBottom) return -EINVAL;
  release(p, addr, roundUp(len, PAGE_SIZE));
  return 0;
}

function mprotect(p: GuestProcess, addr: number, len: number, prot: number): number {
  if (addr % PAGE_SIZE) return -EINVAL;
  const size = roundUp(len, PAGE_SIZE);
  for (let pg = addr / PAGE_SIZE; pg < (addr + size) / PAGE_SIZE; pg++) if (!(p.mem.perm[pg] & PERM_MAPPED)) return -ENOMEM;
  p.options.onMemoryMap?.('protect', addr, size);
  p.mem.protect(addr, size, PERM_MAPPED | protBits(prot));
  return 0;
}

function mremap(p: GuestProcess, old: number, oldLen: number, newLen: number, flags: number): number {
  if (old % PAGE_SIZE) return -EINVAL;
  const mem = p.mem;
  const oldSize = roundUp(oldLen, PAGE_SIZE);
  const newSize = roundUp(newLen, PAGE_SIZE);
  if (newSize <= oldSize) {
    if (newSize < oldSize) release(p, old + newSize, oldSize - newSize);
    return old;
  }
  const perm = mem.perm[old / PAGE_SIZE];
  if (mem.isFree(old + oldSize, newSize - oldSize)) {
    mem.protect(old + oldSize, newSize - oldSize, perm & ~16);
    return old;
  }
  if (!(flags & 1)) return -ENOMEM;
  const start = findFree(p, newSize);
  if (start < 0) return -ENOMEM;
  mem.u8.copyWithin(start, old, old + oldSize);
  mem.u8.fill(0, start + oldSize, start + newSize);
  mem.protect(start, newSize, perm & ~16);
  release(p, old, oldSize);
  p.linux.mmapFloor = Math.min(p.linux.mmapFloor, start);
  return start;
}

function protBits(prot: number): number {
  return (prot & 1 ? PERM_R : 0) | (prot & 2 ? PERM_W : 0) | (prot & 4 ? PERM_X : 0);
}

function roundUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
