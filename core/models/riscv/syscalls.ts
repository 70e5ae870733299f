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
import { PAGE_SIZE, PERM_DECODED, PERM_MAPPED, PERM_R, PERM_W, PERM_X } from './memory';
import { EBADF, EINVAL, EISDIR, ENOENT, ENOTDIR, normalize, Pipe, S_IFCHR, S_IFDIR, S_IFIFO, VfsError, VNode } from './vfs';
import { conflictingLock, F_RDLCK, F_UNLCK, F_WRLCK, flushMappings, refreshMappings, releaseLocks, setLock, unmapShared } from './filelocks';
import { raise, rtSigaction, rtSigpending, rtSigprocmask, rtSigqueueinfo, rtSigreturn, sendSelf, SI_TKILL, SI_USER, SIGPIPE } from './signals';

export const ENOSYS = 38;
const ENOMEM = 12;
const ENOTTY = 25;
const ENODEV = 19;
const ESPIPE = 29;
const EACCES = 13;
const EPIPE = 32;
export const EFAULT = 14;
const ESRCH = 3;
const EAGAIN = 11;
const EPERM = 1;
const ERANGE = 34;
const O_CLOEXEC = 0x80000;
const O_NONBLOCK = 0x800;
const O_APPEND = 0x400;

/** The process id every guest sees (and the tid of its first thread, see threads.ts). */
export const PID = 1000;

/** rv64 Linux system call numbers (the generic table of asm-generic/unistd.h) → names. */
export const RV64_SYSCALL_NAMES: Readonly<Record<number, string>> = {
  17: 'getcwd', 23: 'dup', 24: 'dup3', 25: 'fcntl', 29: 'ioctl', 34: 'mkdirat', 35: 'unlinkat', 38: 'renameat', 46: 'ftruncate', 48: 'faccessat',
  49: 'chdir', 50: 'fchdir', 56: 'openat', 57: 'close', 59: 'pipe2', 61: 'getdents64', 62: 'lseek', 63: 'read', 64: 'write', 65: 'readv',
  66: 'writev', 67: 'pread64', 68: 'pwrite64', 78: 'readlinkat', 79: 'newfstatat', 80: 'fstat', 82: 'fsync', 83: 'fdatasync', 93: 'exit', 94: 'exit_group',
  96: 'set_tid_address', 98: 'futex', 99: 'set_robust_list', 101: 'nanosleep', 113: 'clock_gettime', 114: 'clock_getres', 115: 'clock_nanosleep',
  123: 'sched_getaffinity', 124: 'sched_yield', 129: 'kill', 130: 'tkill', 131: 'tgkill', 134: 'rt_sigaction', 135: 'rt_sigprocmask',
  136: 'rt_sigpending', 138: 'rt_sigqueueinfo', 139: 'rt_sigreturn', 160: 'uname', 163: 'getrlimit', 166: 'umask', 169: 'gettimeofday',
  172: 'getpid', 173: 'getppid', 174: 'getuid', 175: 'geteuid', 176: 'getgid', 177: 'getegid', 178: 'gettid', 179: 'sysinfo', 198: 'socket',
  214: 'brk', 215: 'munmap', 216: 'mremap', 220: 'clone', 222: 'mmap', 226: 'mprotect', 227: 'msync', 233: 'madvise', 259: 'riscv_flush_icache', 261: 'prlimit64',
  276: 'renameat2', 278: 'getrandom', 293: 'rseq', 439: 'faccessat2',
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

const zero: SyscallHandler = () => 0;
const pid: SyscallHandler = () => PID;
const user: SyscallHandler = () => 1000;

/** The Linux system calls this sandbox answers, by name. */
export const LINUX_SYSCALLS: Readonly<Record<string, SyscallHandler>> = {
  // exit ends one thread (threads.ts); exit_group the whole process.
  exit_group: exit,
  read: (p) => readFd(p, p.argInt(0), p.arg(1), p.arg(2), -1),
  pread64: (p) => positioned(p, p.argInt(0), p.arg(3)) || readFd(p, p.argInt(0), p.arg(1), p.arg(2), p.arg(3)),
  write: (p) => writeFd(p, p.argInt(0), p.mem.read(p.arg(1), p.arg(2))),
  pwrite64: (p) => positioned(p, p.argInt(0), p.arg(3)) || writeFd(p, p.argInt(0), p.mem.read(p.arg(1), p.arg(2)), p.arg(3)),
  readv: (p) => vectored(p, false),
  writev: (p) => vectored(p, true),
  openat: (p) => openat(p, p.argInt(0), p.mem.readCString(p.arg(1)), p.argInt(2)),
  close: (p) => {
    const fd = p.argInt(0);
    if (!p.linux.fds[fd]) return -EBADF;
    closeFd(p, fd);
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
  faccessat: (p) => faccessat(p, p.argInt(0), p.mem.readCString(p.arg(1)), p.argInt(2)),
  // AT_EACCESS and AT_SYMLINK_NOFOLLOW change nothing here (one user, no links); AT_EMPTY_PATH is the descriptor itself.
  faccessat2: (p) => {
    const flags = p.argInt(3);
    if (flags & ~0x1300) return -EINVAL;
    const name = p.mem.readCString(p.arg(1));
    if (name === '' && flags & 0x1000) {
      const f = p.linux.fds[p.argInt(0)];
      if (!f) return -EBADF;
      return f.node ? faccessat(p, AT_FDCWD, f.path, p.argInt(2)) : 0;
    }
    return faccessat(p, p.argInt(0), name, p.argInt(2));
  },
  mkdirat: (p) => {
    p.vfs.mkdir(path(p, p.argInt(0), p.mem.readCString(p.arg(1))), p.argInt(2) & ~p.linux.umask & 0o7777);
    return 0;
  },
  renameat: (p) => renameat(p, 0),
  renameat2: (p) => renameat(p, p.argInt(4)),
  chdir: (p) => chdir(p, path(p, AT_FDCWD, p.mem.readCString(p.arg(0)))),
  fchdir: (p) => {
    const f = p.linux.fds[p.argInt(0)];
    if (!f) return -EBADF;
    if (!f.node || !f.node.isDir) return -ENOTDIR;
    return chdir(p, f.path);
  },
  ftruncate: (p) => ftruncate(p, p.argInt(0), p.arg(1)),
  fsync: (p) => fsync(p, p.argInt(0)),
  fdatasync: (p) => fsync(p, p.argInt(0)),
  umask: (p) => {
    const old = p.linux.umask;
    p.linux.umask = p.argInt(0) & 0o777;
    return old;
  },
  pipe2: (p) => pipe2(p, p.arg(0), p.argInt(1)),
  unlinkat: (p) => {
    // AT_REMOVEDIR is the one flag.
    if (p.argInt(2) & ~0x200) return -EINVAL;
    p.vfs.unlink(path(p, p.argInt(0), p.mem.readCString(p.arg(1))), (p.argInt(2) & 0x200) !== 0);
    return 0;
  },
  readlinkat: (p) => {
    const name = p.mem.readCString(p.arg(1));
    if (name !== '/proc/self/exe') {
      // There are no symbolic links: an existing file is not one (EINVAL).
      p.vfs.lookup(path(p, p.argInt(0), name));
      return -EINVAL;
    }
    const exe = new TextEncoder().encode('/' + p.options.programPath.replace(/^\/+/, ''));
    const len = Math.min(exe.length, p.arg(3));
    p.mem.write(p.arg(2), exe.subarray(0, len));
    return len;
  },
  getcwd: (p) => {
    // The kernel's getcwd returns the length with the NUL; glibc returns the buffer.
    const cwd = new TextEncoder().encode(p.linux.cwd + '\0');
    if (p.arg(1) < cwd.length) return -ERANGE;
    p.mem.write(p.arg(0), cwd);
    return cwd.length;
  },
  dup: (p) => dup(p, p.argInt(0), -1),
  dup3: (p) => {
    const flags = p.argInt(2);
    if (flags & ~O_CLOEXEC) return -EINVAL;
    return dup(p, p.argInt(0), p.argInt(1), 0, (flags & O_CLOEXEC) !== 0);
  },
  fcntl: (p) => fcntl(p, p.argInt(0), p.argInt(1), p.arg(2)),
  // Nothing here is a terminal.
  ioctl: (p) => (p.linux.fds[p.argInt(0)] ? -ENOTTY : -EBADF),
  brk: (p) => brk(p, p.arg(0)),
  mmap: (p) => mmap(p, p.arg(0), p.arg(1), p.argInt(2), p.argInt(3), p.argInt(4), p.arg(5)),
  munmap: (p) => munmap(p, p.arg(0), p.arg(1)),
  mprotect: (p) => mprotect(p, p.arg(0), p.arg(1), p.argInt(2)),
  msync: (p) => msync(p, p.arg(0), p.arg(1), p.argInt(2)),
  mremap: (p) => mremap(p, p.arg(0), p.arg(1), p.arg(2), p.argInt(3)),
  madvise: (p) => madvise(p, p.arg(0), p.arg(1), p.argInt(2)),
  // The robust-futex list matters only to a thread that dies holding a lock.
  set_robust_list: (p) => (p.arg(1) === 24 ? 0 : -EINVAL),
  nanosleep: (p) => sleep(p, p.arg(0), false),
  clock_nanosleep: (p) => {
    const clock = p.argInt(0);
    // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_BOOTTIME, CLOCK_TAI.
    if (![0, 1, 2, 7, 11].includes(clock)) return -EINVAL;
    return sleep(p, p.arg(2), (p.argInt(1) & 1) !== 0);
  },
  rt_sigprocmask: rtSigprocmask,
  rt_sigaction: rtSigaction,
  rt_sigreturn: rtSigreturn,
  rt_sigpending: rtSigpending,
  rt_sigqueueinfo: (p) => rtSigqueueinfo(p, PID),
  sysinfo,
  riscv_flush_icache: (p) => {
    // The range is a hint; like fence.i on every hart, every decoded instruction goes.
    if (p.arg(2) & ~1) return -EINVAL;
    p.cpu.flushCode();
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
  getrlimit: (p) => prlimit(p, p.argInt(0), 0, p.arg(1)),
  prlimit64: (p) => {
    const who = p.argInt(0);
    if (who !== 0 && who !== PID) return -ESRCH;
    return prlimit(p, p.argInt(1), p.arg(2), p.arg(3));
  },
  getrandom: (p) => {
    // GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE: the seeded source never blocks.
    if (p.argInt(2) & ~7) return -EINVAL;
    const len = p.arg(1);
    const buf = new Uint8Array(len);
    p.options.randomBytes(buf);
    p.mem.write(p.arg(0), buf);
    return len;
  },
  sched_getaffinity: (p) => {
    // One CPU; the kernel copies its cpumask (one unsigned long) and returns its size.
    const who = p.argInt(0);
    if (who !== 0 && who !== PID) return -ESRCH;
    const size = p.arg(1);
    if (size < 8 || size % 8) return -EINVAL;
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
  kill: (p) => {
    // This process is the only one the guest can see: itself, its group, or everyone.
    const who = p.argInt(0);
    if (who !== PID && who !== 0 && who !== -1 && who !== -PID) return -ESRCH;
    return sendSelf(p, p.argInt(1), SI_USER);
  },
  // Any live thread of the process may be named (glibc's raise() and abort() name the
  // calling thread); dispositions and the mask are the process's, so the signal is the
  // process's to deliver.
  tkill: (p) => {
    const tid = p.argInt(0);
    if (tid <= 0) return -EINVAL;
    return p.threads.has(tid) ? sendSelf(p, p.argInt(1), SI_TKILL) : -ESRCH;
  },
  tgkill: (p) => {
    const tgid = p.argInt(0);
    const tid = p.argInt(1);
    if (tgid <= 0 || tid <= 0) return -EINVAL;
    return tgid === PID && p.threads.has(tid) ? sendSelf(p, p.argInt(2), SI_TKILL) : -ESRCH;
  },
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

const AT_FDCWD = -100;

/** The absolute path of `name` relative to a directory descriptor or the working directory. */
function path(p: GuestProcess, dirfd: number, name: string): string {
  if (name === '') throw new VfsError(ENOENT);
  if (name.startsWith('/')) return name;
  if (dirfd === AT_FDCWD) return `${p.linux.cwd}/${name}`;
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

function dup(p: GuestProcess, fd: number, target: number, min = 0, cloexec = false): number {
  const f = p.linux.fds[fd];
  if (!f) return -EBADF;
  const copy = { ...f, cloexec };
  if (target >= 0) {
    if (target === fd) return -EINVAL;
    if (p.linux.fds[target]) closeFd(p, target);
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
  const node = p.vfs.open(full, create, (flags & 0x80) !== 0, (flags & 0x200) !== 0, write, p.argInt(3) & 0o7777 & ~p.linux.umask);
  if ((flags & 0x10000) !== 0 && !node.isDir) return -ENOTDIR;
  if (node.isDir && write) return -EISDIR;
  return alloc(p, {
    node,
    std: -1,
    pos: 0,
    append: (flags & O_APPEND) !== 0,
    writable: write,
    path: normalize(full),
    accmode: acc,
    cloexec: (flags & O_CLOEXEC) !== 0,
    nonblock: (flags & O_NONBLOCK) !== 0,
    description: {},
  });
}

/**
 * Closes a descriptor. As close(2) says, the process's record locks on the file go
 * whichever of its descriptors closes; an OFD's locks go with its last descriptor.
 */
function closeFd(p: GuestProcess, fd: number): void {
  const f = p.linux.fds[fd]!;
  p.linux.fds[fd] = null;
  if (!f.node) return;
  releaseLocks(f.node, p.linux);
  if (f.description && !p.linux.fds.some((g) => g !== null && g.description === f.description)) releaseLocks(f.node, f.description);
}

/** pread64 and pwrite64 refuse what has no position (ESPIPE) and negative offsets; 0 when they may go on. */
function positioned(p: GuestProcess, fd: number, at: number): number {
  const f = p.linux.fds[fd];
  if (!f) return -EBADF;
  if (f.pipe || f.std >= 0) return -ESPIPE;
  return at < 0 ? -EINVAL : 0;
}

function faccessat(p: GuestProcess, dirfd: number, name: string, mode: number): number {
  const node = p.vfs.lookup(path(p, dirfd, name));
  if (mode & ~7) return -EINVAL;
  // The guest is not root: a read-only file or directory refuses W_OK, a file without x bits X_OK.
  if (mode & 2 && !node.writable) return -EACCES;
  if (mode & 1 && !node.isDir && !(node.mode & 0o111)) return -EACCES;
  if (mode & 4 && !(node.mode & 0o444)) return -EACCES;
  return 0;
}

/** renameat and renameat2 (RENAME_NOREPLACE 1, RENAME_EXCHANGE 2). */
function renameat(p: GuestProcess, flags: number): number {
  if (flags & ~3 || flags === 3) return -EINVAL;
  const from = path(p, p.argInt(0), p.mem.readCString(p.arg(1)));
  const to = path(p, p.argInt(2), p.mem.readCString(p.arg(3)));
  p.vfs.rename(from, to, (flags & 1) !== 0, (flags & 2) !== 0);
  return 0;
}

function chdir(p: GuestProcess, to: string): number {
  const node = p.vfs.lookup(to);
  if (!node.isDir) return -ENOTDIR;
  p.linux.cwd = normalize(to);
  return 0;
}

function ftruncate(p: GuestProcess, fd: number, len: number): number {
  const f = p.linux.fds[fd];
  if (!f) return -EBADF;
  // Not a regular file, or not open for writing: EINVAL, as the kernel answers.
  if (!f.node || f.node.isDir || f.node.device || !f.writable || len < 0) return -EINVAL;
  const n = f.node;
  flushMappings(p.mem, p.linux.shared, n);
  if (len > n.size) {
    n.ensure(len);
    n.data.fill(0, n.size, len);
  }
  n.size = len;
  refreshMappings(p.mem, p.linux.shared, n);
  return 0;
}

function fsync(p: GuestProcess, fd: number): number {
  const f = p.linux.fds[fd];
  if (!f) return -EBADF;
  // Pipes and the standard streams cannot be synced; files are in memory and always are.
  return f.pipe || f.std >= 0 ? -EINVAL : 0;
}

function pipe2(p: GuestProcess, at: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | 0x4000)) return -EINVAL;
  p.mem.check(at, 8, PERM_W);
  const pipe = new Pipe(p.vfs.newIno());
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const nonblock = (flags & O_NONBLOCK) !== 0;
  const r = alloc(p, { node: null, std: -1, pos: 0, append: false, writable: false, path: 'pipe:', pipe, accmode: 0, cloexec, nonblock });
  const w = alloc(p, { node: null, std: -1, pos: 0, append: false, writable: true, path: 'pipe:', pipe, accmode: 1, cloexec, nonblock });
  p.mem.dv.setInt32(at, r, true);
  p.mem.dv.setInt32(at + 4, w, true);
  return 0;
}

/** Is some descriptor open on this end of the pipe? */
function pipeEnd(p: GuestProcess, pipe: Pipe, writeEnd: boolean): boolean {
  return p.linux.fds.some((f) => f !== null && f.pipe === pipe && f.writable === writeEnd);
}

function readPipe(p: GuestProcess, pipe: Pipe, buf: number, len: number): number {
  if (pipe.size === 0) {
    // With a writer still open the kernel would block; nothing else can run to fill it.
    return pipeEnd(p, pipe, true) ? -EAGAIN : 0;
  }
  const bytes = pipe.take(len);
  p.mem.write(buf, bytes);
  return bytes.length;
}

function writePipe(p: GuestProcess, pipe: Pipe, bytes: Uint8Array): number {
  if (!pipeEnd(p, pipe, false)) {
    raise(p, SIGPIPE);
    return -EPIPE;
  }
  const n = pipe.put(bytes);
  return n === 0 ? -EAGAIN : n;
}

function statPipe(p: GuestProcess, pipe: Pipe, buf: number): number {
  const st = new Uint8Array(128);
  const dv = new DataView(st.buffer);
  dv.setBigUint64(8, BigInt(pipe.ino), true);
  dv.setUint32(16, S_IFIFO | 0o600, true);
  dv.setUint32(20, 1, true);
  dv.setUint32(24, 1000, true);
  dv.setUint32(28, 1000, true);
  dv.setInt32(56, PAGE_SIZE, true);
  p.mem.write(buf, st);
  return 0;
}

function fcntl(p: GuestProcess, fd: number, cmd: number, arg: number): number {
  const f = p.linux.fds[fd];
  if (!f) return -EBADF;
  switch (cmd) {
    case 0: // F_DUPFD
    case 1030: // F_DUPFD_CLOEXEC
      if (arg < 0 || arg >= 1024) return -EINVAL;
      return dup(p, fd, -1, arg, cmd === 1030);
    case 1: // F_GETFD
      return f.cloexec ? 1 : 0;
    case 2: // F_SETFD
      f.cloexec = (arg & 1) !== 0;
      return 0;
    case 3: // F_GETFL
      return (f.accmode ?? (f.std === 0 ? 0 : f.writable ? 1 : 0)) | (f.append ? O_APPEND : 0) | (f.nonblock ? O_NONBLOCK : 0);
    case 4: // F_SETFL: only O_APPEND and O_NONBLOCK can change
      f.append = (arg & O_APPEND) !== 0;
      f.nonblock = (arg & O_NONBLOCK) !== 0;
      return 0;
    case F_GETLK:
    case F_OFD_GETLK:
      return getLock(p, f, arg, cmd === F_OFD_GETLK);
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return putLock(p, f, arg, cmd === F_OFD_SETLK || cmd === F_OFD_SETLKW, cmd === F_SETLKW || cmd === F_OFD_SETLKW);
    default:
      return -EINVAL;
  }
}

/** nanosleep and clock_nanosleep: the guest's clock moves on by the time slept (charged to it). */
function sleep(p: GuestProcess, req: number, absolute: boolean): number {
  p.mem.check(req, 16, PERM_R);
  const sec = Number(p.mem.dv.getBigInt64(req, true));
  const nsec = Number(p.mem.dv.getBigInt64(req + 8, true));
  if (sec < 0 || nsec < 0 || nsec >= 1e9) return -EINVAL;
  const ns = absolute ? Math.max(0, sec * 1e9 + nsec - p.options.now()) : sec * 1e9 + nsec;
  p.chargedNs += ns;
  return 0;
}

/** sysinfo: uptime from the guest's clock, memory from the guest's memory map. */
function sysinfo(p: GuestProcess): number {
  const at = p.arg(0);
  const b = new Uint8Array(112);
  const dv = new DataView(b.buffer);
  const mem = p.mem;
  let free = 0;
  for (let pg = 0; pg < mem.size / PAGE_SIZE; pg++) if (!(mem.perm[pg] & PERM_MAPPED)) free++;
  dv.setBigInt64(0, BigInt(Math.floor(p.options.now() / 1e9)), true);
  dv.setBigUint64(32, BigInt(mem.size), true); // totalram
  dv.setBigUint64(40, BigInt(free * PAGE_SIZE), true); // freeram
  dv.setUint16(80, 1, true); // procs
  dv.setUint32(104, 1, true); // mem_unit
  p.mem.write(at, b);
  return 0;
}

/**
 * madvise: hints are accepted; MADV_DONTNEED drops the pages, and a private anonymous
 * page comes back zero-filled on the next touch (file-backed private pages would be
 * re-read from the file; here they come back zero too — see the README).
 */
function madvise(p: GuestProcess, addr: number, len: number, advice: number): number {
  if (addr % PAGE_SIZE || len < 0) return -EINVAL;
  // The advice values Linux knows for private anonymous memory (MADV_REMOVE 9 needs shared memory).
  if (!((advice >= 0 && advice <= 4) || (advice >= 8 && advice <= 25 && advice !== 9))) return -EINVAL;
  const end = addr + roundUp(len, PAGE_SIZE);
  for (let pg = addr / PAGE_SIZE; pg < end / PAGE_SIZE; pg++) if (!(p.mem.perm[pg] & PERM_MAPPED)) return -ENOMEM;
  const MADV_DONTNEED = 4;
  if (advice === MADV_DONTNEED) {
    for (let pg = addr / PAGE_SIZE; pg < end / PAGE_SIZE; pg++) {
      // Decoded or translated code on a dropped page is dropped with it.
      if (p.mem.perm[pg] & PERM_DECODED) p.mem.onCodeWrite(pg);
    }
    p.mem.u8.fill(0, addr, end);
    // Shared file pages come back from the file.
    for (const m of p.linux.shared) if (m.start < end && m.start + m.len > addr) refreshMappings(p.mem, [m], m.node);
  }
  return 0;
}

const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_OFD_SETLKW = 38;
const EDEADLK = 35;

/**
 * A struct flock's range as first and last byte (Infinity: to the end of any file),
 * or -EINVAL. l_whence counts from the start, the descriptor's position or the end.
 */
function lockRange(p: GuestProcess, f: OpenFile, at: number): [number, number] | number {
  const whence = p.mem.dv.getInt16(at + 2, true);
  const base = whence === 0 ? 0 : whence === 1 ? f.pos : whence === 2 ? f.node!.size : NaN;
  if (Number.isNaN(base)) return -EINVAL;
  const start = base + Number(p.mem.dv.getBigInt64(at + 8, true));
  const len = Number(p.mem.dv.getBigInt64(at + 16, true));
  // A negative length covers the bytes before l_start.
  const [first, last] = len > 0 ? [start, start + len - 1] : len === 0 ? [start, Infinity] : [start + len, start - 1];
  return first < 0 ? -EINVAL : [first, last];
}

/** F_GETLK and F_OFD_GETLK: the first lock that would stop this one, or l_type F_UNLCK. */
function getLock(p: GuestProcess, f: OpenFile, at: number, ofd: boolean): number {
  p.mem.check(at, 32, PERM_W);
  if (!f.node || f.node.isDir) return -EINVAL;
  const type = p.mem.dv.getInt16(at, true);
  if (type !== F_RDLCK && type !== F_WRLCK) return -EINVAL;
  if (ofd && p.mem.dv.getInt32(at + 24, true) !== 0) return -EINVAL;
  const range = lockRange(p, f, at);
  if (typeof range === 'number') return range;
  const owner = ofd ? f.description! : p.linux;
  const c = conflictingLock(f.node, owner, type, range[0], range[1]);
  if (!c) {
    p.mem.dv.setInt16(at, F_UNLCK, true);
    return 0;
  }
  p.mem.dv.setInt16(at, c.type, true);
  p.mem.dv.setInt16(at + 2, 0, true);
  p.mem.dv.setBigInt64(at + 8, BigInt(c.start), true);
  p.mem.dv.setBigInt64(at + 16, c.end === Infinity ? 0n : BigInt(c.end - c.start + 1), true);
  // An OFD lock has no process: its holder shows as -1.
  p.mem.dv.setInt32(at + 24, c.ofd ? -1 : PID, true);
  return 0;
}

/**
 * F_SETLK, F_SETLKW and their OFD forms. A conflicting lock answers EAGAIN; a waiting
 * call that meets one answers EDEADLK, since only this process holds locks here and
 * nothing it would wait for could come (Linux would wait forever).
 */
function putLock(p: GuestProcess, f: OpenFile, at: number, ofd: boolean, wait: boolean): number {
  p.mem.check(at, 32, PERM_R);
  if (!f.node || f.node.isDir) return -EINVAL;
  const type = p.mem.dv.getInt16(at, true);
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) return -EINVAL;
  if (ofd && p.mem.dv.getInt32(at + 24, true) !== 0) return -EINVAL;
  // A read lock needs a descriptor open for reading, a write lock one open for writing.
  const acc = f.accmode ?? 0;
  if ((type === F_RDLCK && acc === 1) || (type === F_WRLCK && acc === 0)) return -EBADF;
  const range = lockRange(p, f, at);
  if (typeof range === 'number') return range;
  const owner = ofd ? f.description! : p.linux;
  if (type !== F_UNLCK && conflictingLock(f.node, owner, type, range[0], range[1])) return wait ? -EDEADLK : -EAGAIN;
  setLock(f.node, owner, ofd, type, range[0], range[1]);
  return 0;
}

/** msync: the mapped range must be mapped; shared file pages are written to their files. */
function msync(p: GuestProcess, addr: number, len: number, flags: number): number {
  const MS_ASYNC = 1;
  const MS_SYNC = 4;
  if (addr % PAGE_SIZE || len < 0 || flags & ~7 || (flags & MS_ASYNC && flags & MS_SYNC)) return -EINVAL;
  const end = addr + roundUp(len, PAGE_SIZE);
  for (let pg = addr / PAGE_SIZE; pg < end / PAGE_SIZE; pg++) if (!(p.mem.perm[pg] & PERM_MAPPED)) return -ENOMEM;
  for (const m of p.linux.shared) if (m.start < end && m.start + m.len > addr) flushMappings(p.mem, [m], m.node);
  return 0;
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
  if (f.pipe) return f.writable ? -EBADF : readPipe(p, f.pipe, buf, len);
  if (!f.node || f.std > 0 || f.accmode === 1) return -EBADF;
  if (f.node.isDir) return -EISDIR;
  if (f.node.device === 'null') return 0;
  if (f.node.device === 'zero') {
    p.mem.write(buf, new Uint8Array(len));
    return len;
  }
  const pos = at >= 0 ? at : f.pos;
  flushMappings(p.mem, p.linux.shared, f.node);
  const count = Math.max(0, Math.min(len, f.node.size - pos));
  p.mem.write(buf, f.node.data.subarray(pos, pos + count));
  if (at < 0) f.pos += count;
  return count;
}

/** write, and with `at` ≥ 0 pwrite64 (which, as on Linux, still appends on an O_APPEND descriptor). */
function writeFd(p: GuestProcess, fd: number, bytes: Uint8Array, at = -1): number {
  const f = p.linux.fds[fd];
  if (!f) return -EBADF;
  if (f.std === 1 || f.std === 2) {
    const written = (f.std === 1 ? p.options.writeStdout : p.options.writeStderr)(bytes);
    // The reader has gone: the kernel sends SIGPIPE (which ends the process unless it is
    // ignored or handled) and the write answers EPIPE.
    if (written === false) {
      raise(p, SIGPIPE);
      return -EPIPE;
    }
    return bytes.length;
  }
  if (f.pipe) return f.writable ? writePipe(p, f.pipe, bytes) : -EBADF;
  if (!f.writable || !f.node) return -EBADF;
  if (f.node.device) return bytes.length;
  const pos = f.append ? f.node.size : at >= 0 ? at : f.pos;
  const shared = p.linux.shared;
  flushMappings(p.mem, shared, f.node);
  f.node.ensure(pos + bytes.length);
  // Bytes skipped past the old end read back as zeros (a hole).
  if (pos > f.node.size) f.node.data.fill(0, f.node.size, pos);
  f.node.data.set(bytes, pos);
  f.node.size = Math.max(f.node.size, pos + bytes.length);
  if (at < 0) f.pos = pos + bytes.length;
  refreshMappings(p.mem, shared, f.node);
  return bytes.length;
}

function getdents(p: GuestProcess, fd: number, buf: number, len: number): number {
  const f = p.linux.fds[fd];
  if (!f || !f.node) return -EBADF;
  if (!f.node.isDir) return -ENOTDIR;
  const entries: Array<[string, VNode]> = [['.', f.node], ['..', f.node.parent ?? f.node], ...[...f.node.children!.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))];
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
    if (f.pipe) return statPipe(p, f.pipe, buf);
    node = f.node;
    std = f.std;
  } else node = p.vfs.lookup(path(p, dirfd, name));
  const st = new Uint8Array(128);
  // A file unlinked while open has no links left.
  const links = node && !node.isDir && node.parent === null && !node.device ? 0 : 1;
  const dv = new DataView(st.buffer);
  if (node) {
    dv.setBigUint64(8, BigInt(node.ino), true);
    dv.setUint32(16, node.mode, true);
    dv.setBigInt64(48, BigInt(node.size), true);
    dv.setBigInt64(64, BigInt(Math.ceil(node.size / 512)), true);
  } else {
    // The standard streams are pipes, as when qemu-riscv64 runs under a test harness
    // (glibc then buffers stdout fully); a terminal would make it line-buffered.
    dv.setBigUint64(8, BigInt(100 + std), true);
    dv.setUint32(16, S_IFIFO | 0o600, true);
  }
  dv.setUint32(20, node?.mode !== undefined && (node.mode & S_IFDIR) === S_IFDIR ? 2 : links, true);
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

const RLIM_INFINITY = 0xffffffffffffffffn;
const RLIMIT_STACK = 3;
const RLIMIT_NOFILE = 7;

/** A resource's limits before prlimit64 sets them: the stack is the one given to the process. */
function defaultLimit(p: GuestProcess, resource: number): [bigint, bigint] {
  if (resource === RLIMIT_STACK) return [BigInt(p.options.stackBytes), RLIM_INFINITY];
  if (resource === RLIMIT_NOFILE) return [1024n, 1048576n];
  return [RLIM_INFINITY, RLIM_INFINITY];
}

/** getrlimit and prlimit64 on this process: writes the old limits to `old`, then sets `next`. */
function prlimit(p: GuestProcess, resource: number, next: number, old: number): number {
  // RLIM_NLIMITS is 16.
  if (resource < 0 || resource >= 16) return -EINVAL;
  const cur = p.linux.rlimits.get(resource) ?? defaultLimit(p, resource);
  let set: [bigint, bigint] | null = null;
  if (next) {
    p.mem.check(next, 16, PERM_R);
    set = [p.mem.dv.getBigUint64(next, true), p.mem.dv.getBigUint64(next + 8, true)];
    if (set[0] > set[1]) return -EINVAL;
    // An unprivileged process may lower its hard limit, never raise it.
    if (set[1] > cur[1]) return -EPERM;
  }
  if (old) {
    p.mem.check(old, 16, PERM_W);
    p.mem.dv.setBigUint64(old, cur[0], true);
    p.mem.dv.setBigUint64(old + 8, cur[1], true);
  }
  if (set) p.linux.rlimits.set(resource, set);
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
  if (len <= 0) return -EINVAL;
  const mem = p.mem;
  const size = roundUp(len, PAGE_SIZE);
  const fixed = (flags & 0x10) !== 0;
  const anonymous = (flags & 0x20) !== 0;
  // MAP_SHARED 1, MAP_PRIVATE 2, MAP_SHARED_VALIDATE 3: one of them.
  const kind = flags & 3;
  if (kind === 0) return -EINVAL;
  const shared = kind !== 2 && !anonymous;
  let file: OpenFile | null = null;
  if (!anonymous) {
    file = p.linux.fds[fd] ?? null;
    if (!file) return -EBADF;
    if (!file.node || file.node.isDir) return -ENODEV;
    if (off < 0 || off % PAGE_SIZE) return -EINVAL;
    // A mapping needs a descriptor open for reading; a shared writable one, for writing too.
    const acc = file.accmode ?? 0;
    if (acc === 1 || (shared && prot & 2 && acc !== 2)) return -EACCES;
  }
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
  if (file) {
    const node = file.node!;
    flushMappings(mem, p.linux.shared, node);
    if (shared) {
      const m = { start, len: size, node, off };
      p.linux.shared.push(m);
      refreshMappings(mem, [m], node);
    } else {
      // A private mapping of a file: a copy of its contents.
      const data = node.data.subarray(Math.min(off, node.size), Math.min(node.size, off + len));
      mem.u8.set(data, start);
    }
  }
  mem.protect(start, size, PERM_MAPPED | protBits(prot));
  p.linux.mmapFloor = Math.min(p.linux.mmapFloor, start);
  return start;
}

/** Unmaps and zeroes [start, start + len), telling the timing model first. */
function release(p: GuestProcess, start: number, len: number): void {
  p.options.onMemoryMap?.('unmap', start, len);
  if (p.linux.shared.length) unmapShared(p.mem, p.linux.shared, start, len);
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
  // MREMAP_MAYMOVE is the one flag supported; MREMAP_FIXED and MREMAP_DONTUNMAP are refused.
  if (old % PAGE_SIZE || flags & ~1 || newLen === 0) return -EINVAL;
  for (let pg = old / PAGE_SIZE; pg < (old + roundUp(oldLen, PAGE_SIZE)) / PAGE_SIZE; pg++) if (!(p.mem.perm[pg] & PERM_MAPPED)) return -EFAULT;
  const mem = p.mem;
  const oldSize = roundUp(oldLen, PAGE_SIZE);
  const newSize = roundUp(newLen, PAGE_SIZE);
  if (newSize <= oldSize) {
    if (newSize < oldSize) release(p, old + newSize, oldSize - newSize);
    return old;
  }
  const perm = mem.perm[old / PAGE_SIZE];
  // A shared file mapping that grows or moves stays one: its record follows the pages.
  const shared = p.linux.shared.find((m) => m.start <= old + oldSize - 1 && m.start + m.len >= old + oldSize);
  if (shared) flushMappings(mem, [shared], shared.node);
  if (mem.isFree(old + oldSize, newSize - oldSize)) {
    mem.protect(old + oldSize, newSize - oldSize, perm & ~16);
    if (shared) {
      shared.len += newSize - oldSize;
      refreshMappings(mem, [shared], shared.node);
    }
    return old;
  }
  if (!(flags & 1)) return -ENOMEM;
  const start = findFree(p, newSize);
  if (start < 0) return -ENOMEM;
  mem.u8.copyWithin(start, old, old + oldSize);
  mem.u8.fill(0, start + oldSize, start + newSize);
  mem.protect(start, newSize, perm & ~16);
  if (shared) {
    // The part of the mapping inside the old range moves; what lay before `old` stays.
    const moved = { ...shared, start, len: newSize, off: shared.off + (old - shared.start) };
    if (shared.start < old) shared.len = old - shared.start;
    else p.linux.shared.splice(p.linux.shared.indexOf(shared), 1);
    p.linux.shared.push(moved);
    refreshMappings(mem, [moved], moved.node);
  }
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
