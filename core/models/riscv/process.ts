// A RISC-V Linux user process: guest memory, one hart, the interpreter, and the Linux
// system calls that static glibc programs make, answered from a sandbox (the virtual
// file system, the caller's standard streams, the simulated clock, a seeded random
// source). Unimplemented calls answer -ENOSYS and are counted; nothing a guest does
// can reach the host's files or network.

import { buildStack, GuestLoadError, loadElf } from './elf';
import { Hart, Interpreter, type StopReason } from './interpreter';
import { GuestFault, GuestMemory, PAGE_SIZE, PERM_MAPPED, PERM_R, PERM_W, PERM_X } from './memory';
import { EBADF, EINVAL, EISDIR, ENOENT, ENOTDIR, S_IFCHR, S_IFDIR, Vfs, VfsError, VNode } from './vfs';

export { GuestLoadError };

export interface ProcessOptions {
  readonly memoryBytes: number;
  readonly stackBytes: number;
  readonly maxInstructions: number;
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  readonly programPath: string;
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly readStdin: (max: number) => Uint8Array | null;
  readonly writeStdout: (b: Uint8Array) => void;
  readonly writeStderr: (b: Uint8Array) => void;
  readonly now: () => number;
  readonly randomBytes: (out: Uint8Array) => void;
  /** Timing mode: every guest load and store (see Interpreter.accessHook). */
  readonly onMemoryAccess?: (address: number, write: boolean) => void;
  /** Timing mode: memory unmapped or reprotected by the guest. */
  readonly onMemoryMap?: (event: 'unmap' | 'protect', start: number, length: number) => void;
}

export interface ProcessStatus {
  state: 'running' | 'exited' | 'signaled' | 'limit';
  exitCode?: number;
  signal?: number;
  fault?: { signal: number; pc: number; instruction: string; address: number; reason: string };
  message?: string;
}

interface OpenFile {
  node: VNode | null;
  /** 0, 1, 2 for the standard streams. */
  std: number;
  pos: number;
  append: boolean;
  writable: boolean;
  path: string;
}

const ENOSYS = 38;
const ENOMEM = 12;
const ENOTTY = 25;
const ESPIPE = 29;
const EACCES = 13;
const EFAULT = 14;

const SYS_NAMES: Record<number, string> = {
  17: 'getcwd', 23: 'dup', 24: 'dup3', 25: 'fcntl', 29: 'ioctl', 34: 'mkdirat', 35: 'unlinkat', 48: 'faccessat', 56: 'openat', 57: 'close',
  61: 'getdents64', 62: 'lseek', 63: 'read', 64: 'write', 65: 'readv', 66: 'writev', 67: 'pread64', 78: 'readlinkat', 79: 'newfstatat', 80: 'fstat',
  93: 'exit', 94: 'exit_group', 96: 'set_tid_address', 98: 'futex', 99: 'set_robust_list', 101: 'nanosleep', 113: 'clock_gettime', 114: 'clock_getres',
  123: 'sched_getaffinity', 124: 'sched_yield', 129: 'kill', 130: 'tkill', 131: 'tgkill', 134: 'rt_sigaction', 135: 'rt_sigprocmask', 160: 'uname',
  163: 'getrlimit', 169: 'gettimeofday', 172: 'getpid', 173: 'getppid', 174: 'getuid', 175: 'geteuid', 176: 'getgid', 177: 'getegid', 178: 'gettid',
  214: 'brk', 215: 'munmap', 216: 'mremap', 222: 'mmap', 226: 'mprotect', 233: 'madvise', 261: 'prlimit64', 278: 'getrandom', 293: 'rseq',
};

export function syscallName(n: number): string {
  return SYS_NAMES[n] ?? `syscall ${n}`;
}

const PID = 1000;

export class GuestProcess {
  readonly mem: GuestMemory;
  readonly hart: Hart;
  readonly cpu: Interpreter;
  /**
   * What runs the guest's instructions: the interpreter, or a translator's runtime
   * that uses the interpreter for what it does not translate. Either returns the
   * interpreter's stop reasons, so faults and limits are reported the same way.
   */
  executor: { run(budget: number): StopReason };
  readonly vfs: Vfs;
  readonly syscallCounts = new Map<number, number>();
  readonly unimplemented = new Map<number, number>();
  private fds: Array<OpenFile | null> = [];
  private brkStart = 0;
  private brkCur = 0;
  /** Lowest address handed out by mmap so far; mmaps grow downwards from the stack. */
  private mmapFloor = 0;
  private stackBottom = 0;
  private status: ProcessStatus = { state: 'running' };
  private loaded = false;

  constructor(readonly options: ProcessOptions) {
    this.mem = new GuestMemory(roundUp(options.memoryBytes, 65536));
    this.hart = new Hart(this.mem);
    this.vfs = new Vfs(options.files);
    this.cpu = new Interpreter(this.mem, this.hart, () => this.syscall(), options.now);
    this.cpu.accessHook = options.onMemoryAccess ?? null;
    this.executor = this.cpu;
    this.fds = [0, 1, 2].map((std) => ({ node: null, std, pos: 0, append: false, writable: std > 0, path: `/dev/std${['in', 'out', 'err'][std]}` }));
  }

  get instructions(): number {
    return this.hart.instret;
  }

  /** Loads the program and builds its stack; throws GuestLoadError. */
  load(elf: Uint8Array): void {
    const mem = this.mem;
    const image = loadElf(elf, mem);
    const top = mem.size;
    const stackBytes = roundUp(this.options.stackBytes, PAGE_SIZE);
    this.stackBottom = top - stackBytes;
    if (this.stackBottom <= image.brk + 16 * PAGE_SIZE) throw new GuestLoadError(`guest memory of ${mem.size} bytes is too small for this program and its stack`);
    mem.protect(this.stackBottom, stackBytes, PERM_MAPPED | PERM_R | PERM_W);
    // A guard page below the stack stays unmapped.
    this.mmapFloor = this.stackBottom - PAGE_SIZE;
    this.brkStart = this.brkCur = image.brk;
    const random = new Uint8Array(16);
    this.options.randomBytes(random);
    const sp = buildStack(mem, top, { argv: this.options.argv, envp: this.options.envp, execfn: this.options.argv[0] ?? this.options.programPath, random, image });
    this.hart.x[2 * 2] = sp;
    this.hart.x[2 * 2 + 1] = 0;
    this.hart.pc = image.entry;
    this.loaded = true;
  }

  /** Runs at most `budget` instructions. */
  run(budget: number): ProcessStatus {
    if (!this.loaded) throw new Error('load a program before running it');
    if (this.status.state !== 'running') return this.status;
    const max = this.options.maxInstructions;
    let allowed = budget;
    if (max > 0) allowed = Math.min(budget, max - this.hart.instret);
    if (allowed <= 0) {
      this.status = { state: 'limit', message: `stopped after ${this.hart.instret} instructions, the limit` };
      return this.status;
    }
    const stop = this.executor.run(allowed);
    if (stop.kind === 'fault') {
      const f = stop.fault!;
      const raw = stop.raw ?? this.cpu.rawAt(this.hart.pc);
      this.status = {
        state: 'signaled',
        signal: f.signal,
        fault: {
          signal: f.signal,
          pc: this.hart.pc,
          instruction: raw === undefined ? '(not decoded)' : `0x${raw.toString(16).padStart(raw <= 0xffff ? 4 : 8, '0')}`,
          address: f.address,
          reason: f.reason,
        },
      };
    } else if (stop.kind === 'budget' && max > 0 && this.hart.instret >= max) {
      this.status = { state: 'limit', message: `stopped after ${this.hart.instret} instructions, the limit` };
    }
    return this.status;
  }

  // ---- system calls ----

  private arg(i: number): number {
    // a0..a5 are x10..x15; addresses and sizes fit in a double.
    const x = this.hart.x;
    return x[2 * (10 + i) + 1] * 4294967296 + (x[2 * (10 + i)] >>> 0);
  }

  private argInt(i: number): number {
    return this.hart.x[2 * (10 + i)];
  }

  private ret(v: number): void {
    const x = this.hart.x;
    x[20] = v | 0;
    x[21] = v < 0 ? -1 : Math.floor(v / 4294967296) | 0;
    if (v >= 0 && v < 4294967296) x[21] = 0;
  }

  /** Handles the ecall at hart.pc; returns true when the process ended. */
  private syscall(): boolean {
    const n = this.hart.x[2 * 17];
    this.syscallCounts.set(n, (this.syscallCounts.get(n) ?? 0) + 1);
    let r: number;
    try {
      r = this.dispatch(n);
    } catch (e) {
      if (e instanceof VfsError) r = -e.errno;
      else if (e instanceof GuestFault) r = -EFAULT;
      else throw e;
    }
    if (this.status.state !== 'running') return true;
    this.ret(r);
    return false;
  }

  private dispatch(n: number): number {
    const mem = this.mem;
    switch (n) {
      case 93: // exit
      case 94: // exit_group
        this.status = { state: 'exited', exitCode: this.argInt(0) & 0xff };
        return 0;
      case 63: // read
        return this.read(this.argInt(0), this.arg(1), this.arg(2), -1);
      case 67: // pread64
        return this.read(this.argInt(0), this.arg(1), this.arg(2), this.arg(3));
      case 64: // write
        return this.write(this.argInt(0), mem.read(this.arg(1), this.arg(2)));
      case 65: // readv
      case 66: {
        // writev
        const fd = this.argInt(0);
        const iov = this.arg(1);
        const cnt = this.argInt(2);
        let total = 0;
        for (let i = 0; i < cnt; i++) {
          const base = Number(mem.dv.getBigUint64(iov + i * 16, true));
          const len = Number(mem.dv.getBigUint64(iov + i * 16 + 8, true));
          const r = n === 66 ? this.write(fd, mem.read(base, len)) : this.read(fd, base, len, -1);
          if (r < 0) return total || r;
          total += r;
          if (n === 65 && r < len) break;
        }
        return total;
      }
      case 56: // openat
        return this.openat(this.argInt(0), mem.readCString(this.arg(1)), this.argInt(2));
      case 57: {
        // close
        const fd = this.argInt(0);
        if (!this.fds[fd]) return -EBADF;
        this.fds[fd] = null;
        return 0;
      }
      case 62: {
        // lseek
        const f = this.fds[this.argInt(0)];
        if (!f) return -EBADF;
        if (!f.node) return -ESPIPE;
        const off = this.hart.x[2 * 11 + 1] * 4294967296 + (this.hart.x[2 * 11] >>> 0);
        const whence = this.argInt(2);
        const pos = whence === 0 ? off : whence === 1 ? f.pos + off : whence === 2 ? f.node.size + off : NaN;
        if (!(pos >= 0)) return -EINVAL;
        f.pos = pos;
        return pos;
      }
      case 61:
        return this.getdents(this.argInt(0), this.arg(1), this.arg(2));
      case 79: // newfstatat
        return this.fstatat(this.argInt(0), mem.readCString(this.arg(1)), this.arg(2), this.argInt(3));
      case 80: // fstat
        return this.fstatat(this.argInt(0), '', this.arg(1), 0x1000);
      case 48: {
        // faccessat
        this.vfs.lookup(this.path(this.argInt(0), mem.readCString(this.arg(1))));
        return 0;
      }
      case 34: // mkdirat
        this.vfs.mkdir(this.path(this.argInt(0), mem.readCString(this.arg(1))));
        return 0;
      case 35: // unlinkat
        this.vfs.unlink(this.path(this.argInt(0), mem.readCString(this.arg(1))), (this.argInt(2) & 0x200) !== 0);
        return 0;
      case 78: {
        // readlinkat
        const p = mem.readCString(this.arg(1));
        if (p !== '/proc/self/exe') return -ENOENT;
        const target = new TextEncoder().encode('/' + this.options.programPath.replace(/^\/+/, ''));
        const len = Math.min(target.length, this.arg(3));
        mem.write(this.arg(2), target.subarray(0, len));
        return len;
      }
      case 17: {
        // getcwd
        const size = this.arg(1);
        if (size < 2) return -34;
        mem.write(this.arg(0), new Uint8Array([0x2f, 0]));
        return 2;
      }
      case 23: // dup
        return this.dup(this.argInt(0), -1);
      case 24: // dup3
        return this.dup(this.argInt(0), this.argInt(1));
      case 25: {
        // fcntl
        const fd = this.argInt(0);
        const f = this.fds[fd];
        if (!f) return -EBADF;
        const cmd = this.argInt(1);
        if (cmd === 0 || cmd === 1030) return this.dup(fd, -1, this.argInt(2));
        if (cmd === 3) return (f.writable ? (f.std === 0 ? 0 : 1) : 0) | (f.append ? 0x400 : 0);
        return 0;
      }
      case 29: {
        // ioctl: nothing here is a terminal
        if (!this.fds[this.argInt(0)]) return -EBADF;
        return -ENOTTY;
      }
      case 214:
        return this.brk(this.arg(0));
      case 222:
        return this.mmap(this.arg(0), this.arg(1), this.argInt(2), this.argInt(3), this.argInt(4), this.arg(5));
      case 215:
        return this.munmap(this.arg(0), this.arg(1));
      case 226:
        return this.mprotect(this.arg(0), this.arg(1), this.argInt(2));
      case 216:
        return this.mremap(this.arg(0), this.arg(1), this.arg(2), this.argInt(3));
      case 233: // madvise
        return 0;
      case 96: // set_tid_address
        return PID;
      case 99: // set_robust_list
      case 98: // futex: a single thread never waits
      case 124: // sched_yield
      case 101: // nanosleep
      case 135: // rt_sigprocmask
        return 0;
      case 134: {
        // rt_sigaction: accepted, never delivered
        const old = this.arg(2);
        if (old) mem.write(old, new Uint8Array(32));
        return 0;
      }
      case 113: // clock_gettime
        return this.timespec(this.arg(1), this.options.now());
      case 114: {
        // clock_getres
        const p = this.arg(1);
        return p ? this.timespec(p, 1) : 0;
      }
      case 169: {
        // gettimeofday
        const t = this.options.now();
        const p = this.arg(0);
        if (p) {
          mem.check(p, 16, PERM_W);
          mem.dv.setBigInt64(p, BigInt(Math.floor(t / 1e9)), true);
          mem.dv.setBigInt64(p + 8, BigInt(Math.floor((t % 1e9) / 1000)), true);
        }
        return 0;
      }
      case 160: {
        // uname
        const fields = ['Linux', 'virtlab', '6.1.0', '#1 SMP virtlab', 'riscv64', '(none)'];
        const buf = new Uint8Array(65 * 6);
        fields.forEach((f, i) => buf.set(new TextEncoder().encode(f), i * 65));
        mem.write(this.arg(0), buf);
        return 0;
      }
      case 163: // getrlimit
        return this.rlimit(this.argInt(0), this.arg(1));
      case 261: // prlimit64
        return this.arg(3) ? this.rlimit(this.argInt(1), this.arg(3)) : 0;
      case 278: {
        // getrandom
        const len = this.arg(1);
        const buf = new Uint8Array(len);
        this.options.randomBytes(buf);
        mem.write(this.arg(0), buf);
        return len;
      }
      case 123: {
        // sched_getaffinity: one CPU
        const size = this.arg(1);
        if (size < 8) return -EINVAL;
        const mask = new Uint8Array(8);
        mask[0] = 1;
        mem.write(this.arg(2), mask);
        return 8;
      }
      case 172: // getpid
      case 178: // gettid
        return PID;
      case 173:
        return 1;
      case 174:
      case 175:
      case 176:
      case 177:
        return 1000;
      case 129: // kill
      case 130: // tkill
      case 131: {
        // tgkill: a signal sent to itself ends the process
        const sig = this.argInt(n === 131 ? 2 : 1);
        if (sig === 0) return 0;
        this.status = { state: 'signaled', signal: sig, message: `killed itself with signal ${sig}` };
        return 0;
      }
      case 198: // socket: no network in the sandbox
        return -EACCES;
      default:
        this.unimplemented.set(n, (this.unimplemented.get(n) ?? 0) + 1);
        return -ENOSYS;
    }
  }

  private path(dirfd: number, p: string): string {
    if (p.startsWith('/')) return p;
    const AT_FDCWD = -100;
    if (dirfd === AT_FDCWD) return '/' + p;
    const f = this.fds[dirfd];
    if (!f || !f.node) throw new VfsError(EBADF);
    if (!f.node.isDir) throw new VfsError(ENOTDIR);
    return `${f.path}/${p}`;
  }

  private alloc(file: OpenFile, min = 0): number {
    for (let fd = min; ; fd++) {
      if (!this.fds[fd]) {
        this.fds[fd] = file;
        return fd;
      }
    }
  }

  private dup(fd: number, target: number, min = 0): number {
    const f = this.fds[fd];
    if (!f) return -EBADF;
    const copy = { ...f };
    if (target >= 0) {
      if (target === fd) return -EINVAL;
      this.fds[target] = copy;
      return target;
    }
    return this.alloc(copy, min);
  }

  private openat(dirfd: number, p: string, flags: number): number {
    const path = this.path(dirfd, p);
    const acc = flags & 3;
    const write = acc !== 0;
    const create = (flags & 0x40) !== 0;
    const node = this.vfs.open(path, create, (flags & 0x80) !== 0, (flags & 0x200) !== 0, write);
    if ((flags & 0x10000) !== 0 && !node.isDir) return -ENOTDIR;
    if (node.isDir && write) return -EISDIR;
    return this.alloc({ node, std: -1, pos: 0, append: (flags & 0x400) !== 0, writable: write, path: path.replace(/\/+$/, '') || '/' });
  }

  private read(fd: number, buf: number, len: number, at: number): number {
    const f = this.fds[fd];
    if (!f) return -EBADF;
    if (len === 0) return 0;
    if (f.std === 0) {
      const chunk = this.options.readStdin(len);
      if (!chunk) return 0;
      this.mem.write(buf, chunk.subarray(0, len));
      return Math.min(len, chunk.length);
    }
    if (!f.node || f.std > 0) return -EBADF;
    if (f.node.isDir) return -EISDIR;
    if (f.node.device === 'null') return 0;
    if (f.node.device === 'zero') {
      this.mem.write(buf, new Uint8Array(len));
      return len;
    }
    const pos = at >= 0 ? at : f.pos;
    const count = Math.max(0, Math.min(len, f.node.size - pos));
    this.mem.write(buf, f.node.data.subarray(pos, pos + count));
    if (at < 0) f.pos += count;
    return count;
  }

  private write(fd: number, bytes: Uint8Array): number {
    const f = this.fds[fd];
    if (!f) return -EBADF;
    if (f.std === 1) {
      this.options.writeStdout(bytes);
      return bytes.length;
    }
    if (f.std === 2) {
      this.options.writeStderr(bytes);
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

  private getdents(fd: number, buf: number, len: number): number {
    const f = this.fds[fd];
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
    this.mem.write(buf, out.subarray(0, used));
    return used;
  }

  private fstatat(dirfd: number, p: string, buf: number, flags: number): number {
    let node: VNode | null = null;
    let std = -1;
    if (p === '' && flags & 0x1000) {
      const f = this.fds[dirfd];
      if (!f) return -EBADF;
      node = f.node;
      std = f.std;
    } else node = this.vfs.lookup(this.path(dirfd, p));
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
    this.mem.write(buf, st);
    return 0;
  }

  private timespec(p: number, ns: number): number {
    this.mem.check(p, 16, PERM_W);
    this.mem.dv.setBigInt64(p, BigInt(Math.floor(ns / 1e9)), true);
    this.mem.dv.setBigInt64(p + 8, BigInt(Math.floor(ns % 1e9)), true);
    return 0;
  }

  private rlimit(resource: number, p: number): number {
    const inf = 0xffffffffffffffffn;
    const cur = resource === 3 ? BigInt(this.options.stackBytes) : inf;
    this.mem.check(p, 16, PERM_W);
    this.mem.dv.setBigUint64(p, cur, true);
    this.mem.dv.setBigUint64(p + 8, resource === 3 ? cur : inf, true);
    return 0;
  }

  // ---- memory management ----

  private brk(addr: number): number {
    if (addr === 0 || addr < this.brkStart) return this.brkCur;
    const newEnd = roundUp(addr, PAGE_SIZE);
    const oldEnd = roundUp(this.brkCur, PAGE_SIZE);
    if (newEnd > this.mmapFloor - 16 * PAGE_SIZE) return this.brkCur; // out of memory: brk fails
    if (newEnd > oldEnd) {
      if (!this.mem.isFree(oldEnd, newEnd - oldEnd)) return this.brkCur;
      this.mem.protect(oldEnd, newEnd - oldEnd, PERM_MAPPED | PERM_R | PERM_W);
    } else if (newEnd < oldEnd) this.release(newEnd, oldEnd - newEnd);
    this.brkCur = addr;
    return addr;
  }

  /** Finds `len` free bytes below the mmap floor (top-down first fit). */
  private findFree(len: number): number {
    for (let start = this.stackBottom - PAGE_SIZE - len; start >= this.brkStart + 16 * PAGE_SIZE; start -= PAGE_SIZE) {
      if (this.mem.isFree(start, len)) return start;
    }
    return -1;
  }

  private mmap(addr: number, len: number, prot: number, flags: number, fd: number, off: number): number {
    if (len === 0) return -EINVAL;
    const size = roundUp(len, PAGE_SIZE);
    const fixed = (flags & 0x10) !== 0;
    let start: number;
    if (fixed) {
      if (addr % PAGE_SIZE || addr + size > this.mem.size) return -EINVAL;
      start = addr;
      this.release(start, size);
    } else {
      start = this.findFree(size);
      if (start < 0) return -ENOMEM;
    }
    this.mem.u8.fill(0, start, start + size);
    if ((flags & 0x20) === 0) {
      // A private mapping of a file: copy its contents in.
      const f = this.fds[fd];
      if (!f || !f.node) return -EBADF;
      const data = f.node.data.subarray(Math.min(off, f.node.size), Math.min(f.node.size, off + len));
      this.mem.u8.set(data, start);
    }
    this.mem.protect(start, size, PERM_MAPPED | protBits(prot));
    this.mmapFloor = Math.min(this.mmapFloor, start);
    return start;
  }

  private release(start: number, len: number): void {
    this.options.onMemoryMap?.('unmap', start, len);
    this.mem.protect(start, len, 0);
    this.mem.u8.fill(0, start, Math.min(this.mem.size, start + len));
  }

  private munmap(addr: number, len: number): number {
    if (addr % PAGE_SIZE || len === 0) return -EINVAL;
    if (addr >= this.stackBottom) return -EINVAL;
    this.release(addr, roundUp(len, PAGE_SIZE));
    return 0;
  }

  private mprotect(addr: number, len: number, prot: number): number {
    if (addr % PAGE_SIZE) return -EINVAL;
    const size = roundUp(len, PAGE_SIZE);
    for (let p = addr / PAGE_SIZE; p < (addr + size) / PAGE_SIZE; p++) if (!(this.mem.perm[p] & PERM_MAPPED)) return -ENOMEM;
    this.options.onMemoryMap?.('protect', addr, size);
    this.mem.protect(addr, size, PERM_MAPPED | protBits(prot));
    return 0;
  }

  private mremap(old: number, oldLen: number, newLen: number, flags: number): number {
    if (old % PAGE_SIZE) return -EINVAL;
    const oldSize = roundUp(oldLen, PAGE_SIZE);
    const newSize = roundUp(newLen, PAGE_SIZE);
    if (newSize <= oldSize) {
      if (newSize < oldSize) this.release(old + newSize, oldSize - newSize);
      return old;
    }
    const perm = this.mem.perm[old / PAGE_SIZE];
    if (this.mem.isFree(old + oldSize, newSize - oldSize)) {
      this.mem.protect(old + oldSize, newSize - oldSize, perm & ~16);
      return old;
    }
    if (!(flags & 1)) return -ENOMEM;
    const start = this.findFree(newSize);
    if (start < 0) return -ENOMEM;
    this.mem.u8.copyWithin(start, old, old + oldSize);
    this.mem.u8.fill(0, start + oldSize, start + newSize);
    this.mem.protect(start, newSize, perm & ~16);
    this.release(old, oldSize);
    this.mmapFloor = Math.min(this.mmapFloor, start);
    return start;
  }

  // ---- snapshots ----

  saveState(): unknown {
    return {
      hart: this.hart.save(),
      mem: this.mem.save(),
      tmp: this.vfs.saveTmp(),
      fds: this.fds.map((f) => (f ? { std: f.std, pos: f.pos, append: f.append, writable: f.writable, path: f.path } : null)),
      brkStart: this.brkStart,
      brkCur: this.brkCur,
      mmapFloor: this.mmapFloor,
      stackBottom: this.stackBottom,
      status: this.status,
      syscalls: [...this.syscallCounts.entries()],
      unimplemented: [...this.unimplemented.entries()],
    };
  }

  loadState(data: unknown): void {
    const d = data as {
      hart: ReturnType<Hart['save']>;
      mem: ReturnType<GuestMemory['save']>;
      tmp: Parameters<Vfs['loadTmp']>[0];
      fds: Array<{ std: number; pos: number; append: boolean; writable: boolean; path: string } | null>;
      brkStart: number;
      brkCur: number;
      mmapFloor: number;
      stackBottom: number;
      status: ProcessStatus;
      syscalls: Array<[number, number]>;
      unimplemented: Array<[number, number]>;
    };
    this.cpu.flushCode();
    this.hart.load(d.hart);
    this.mem.load(d.mem);
    this.vfs.loadTmp(d.tmp);
    this.fds = d.fds.map((f) => {
      if (!f) return null;
      let node: VNode | null = null;
      if (f.std < 0) {
        try {
          node = this.vfs.lookup(f.path);
        } catch {
          node = null;
        }
      }
      return { ...f, node };
    });
    this.brkStart = d.brkStart;
    this.brkCur = d.brkCur;
    this.mmapFloor = d.mmapFloor;
    this.stackBottom = d.stackBottom;
    this.status = d.status;
    this.syscallCounts.clear();
    for (const [k, v] of d.syscalls) this.syscallCounts.set(k, v);
    this.unimplemented.clear();
    for (const [k, v] of d.unimplemented) this.unimplemented.set(k, v);
    this.loaded = true;
  }
}

function protBits(prot: number): number {
  return (prot & 1 ? PERM_R : 0) | (prot & 2 ? PERM_W : 0) | (prot & 4 ? PERM_X : 0);
}

function roundUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
