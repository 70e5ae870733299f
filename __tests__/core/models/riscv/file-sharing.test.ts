// The system calls a database engine rests on, against Linux's semantics (man 2
// pread, fcntl, mmap, msync, unlink): positioned I/O, record locks of the process and
// of open file descriptions, shared file mappings kept coherent with the file, and a
// file unlinked while open. Each handler runs on a real GuestProcess, its arguments
// in a0..a5 as the guest's ecall leaves them.
import { GuestProcess } from '../../../../core/models/riscv/process';
import { LINUX_SYSCALLS } from '../../../../core/models/riscv/syscalls';
import { PAGE_SIZE, PERM_MAPPED, PERM_R, PERM_W, GuestFault } from '../../../../core/models/riscv/memory';
import { VfsError } from '../../../../core/models/riscv/vfs';

const EBADF = -9;
const EAGAIN = -11;
const ENOMEM = -12;
const EACCES = -13;
const EINVAL = -22;
const ESPIPE = -29;
const EDEADLK = -35;
const F_RDLCK = 0;
const F_WRLCK = 1;
const F_UNLCK = 2;
const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_OFD_SETLKW = 38;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0x40;
const O_APPEND = 0x400;
const AT_FDCWD = -100;
const MAP_SHARED = 1;
const MAP_PRIVATE = 2;
const PROT_RW = 3;

/** Scratch memory for strings, buffers and struct flock. */
const SCRATCH = 0x10000;
const PATH = SCRATCH;
const FLOCK = SCRATCH + 0x100;
const BUF = SCRATCH + 0x1000;
const STAT = SCRATCH + 0x3000;

function newProcess(): GuestProcess {
  const p = new GuestProcess({
    memoryBytes: 16 * 2 ** 20,
    stackBytes: 2 ** 20,
    maxInstructions: 0,
    argv: ['t'],
    envp: [],
    programPath: 't',
    files: new Map(),
    readStdin: () => null,
    writeStdout: () => true,
    writeStderr: () => true,
    now: () => 0,
    randomBytes: () => {},
  });
  p.mem.protect(SCRATCH, 0x10000, PERM_MAPPED | PERM_R | PERM_W);
  p.linux.brkStart = 0x100000;
  p.linux.brkCur = 0x100000;
  p.linux.stackBottom = p.mem.size - 2 ** 20;
  p.linux.mmapFloor = p.linux.stackBottom;
  return p;
}

/** One system call as the process dispatches it: a VfsError is -errno, a fault -EFAULT. */
function sys(p: GuestProcess, name: string, ...args: number[]): number {
  const x = p.hart.x;
  for (let i = 0; i < 6; i++) {
    const v = BigInt(args[i] ?? 0);
    x[2 * (10 + i)] = Number(BigInt.asIntN(32, v));
    x[2 * (10 + i) + 1] = Number(BigInt.asIntN(32, v >> 32n));
  }
  try {
    return LINUX_SYSCALLS[name](p);
  } catch (e) {
    if (e instanceof VfsError) return -e.errno;
    if (e instanceof GuestFault) return -14;
    throw e;
  }
}

function open(p: GuestProcess, path: string, flags: number): number {
  p.mem.write(PATH, new TextEncoder().encode(path + '\0'));
  return sys(p, 'openat', AT_FDCWD, PATH, flags, 0o644);
}

function pwrite(p: GuestProcess, fd: number, text: string, at: number): number {
  const bytes = new TextEncoder().encode(text);
  p.mem.write(BUF, bytes);
  return sys(p, 'pwrite64', fd, BUF, bytes.length, at);
}

function pread(p: GuestProcess, fd: number, len: number, at: number): string {
  const n = sys(p, 'pread64', fd, BUF, len, at);
  if (n < 0) throw new Error(`pread64: ${n}`);
  return String.fromCharCode(...p.mem.read(BUF, n));
}

/** struct flock { short l_type, l_whence; off_t l_start, l_len; pid_t l_pid; }, then fcntl. */
function lock(p: GuestProcess, fd: number, cmd: number, type: number, start: number, len: number, whence = 0): number {
  const dv = p.mem.dv;
  dv.setInt16(FLOCK, type, true);
  dv.setInt16(FLOCK + 2, whence, true);
  dv.setBigInt64(FLOCK + 8, BigInt(start), true);
  dv.setBigInt64(FLOCK + 16, BigInt(len), true);
  dv.setInt32(FLOCK + 24, 0, true);
  return sys(p, 'fcntl', fd, cmd, FLOCK);
}

function flockOut(p: GuestProcess): { type: number; start: number; len: number; pid: number } {
  const dv = p.mem.dv;
  return { type: dv.getInt16(FLOCK, true), start: Number(dv.getBigInt64(FLOCK + 8, true)), len: Number(dv.getBigInt64(FLOCK + 16, true)), pid: dv.getInt32(FLOCK + 24, true) };
}

describe('pread64 and pwrite64', () => {
  // Mutation that breaks it: pwrite64 moving the descriptor's offset, or not zero-filling the hole.
  it('write at an offset without moving the file offset, leaving a hole of zeros', () => {
    const p = newProcess();
    const fd = open(p, '/tmp/f', O_RDWR | O_CREAT);
    expect(pwrite(p, fd, 'tail', 8)).toBe(4);
    expect(pwrite(p, fd, 'head', 0)).toBe(4);
    expect(pread(p, fd, 64, 0)).toBe('head\0\0\0\0tail');
    expect(pread(p, fd, 3, 9)).toBe('ail');
    // The offset is still 0: a plain read starts at the beginning.
    expect(sys(p, 'read', fd, BUF, 4)).toBe(4);
    expect(String.fromCharCode(...p.mem.read(BUF, 4))).toBe('head');
  });

  it('append on an O_APPEND descriptor whatever the offset (the Linux behaviour)', () => {
    const p = newProcess();
    const fd = open(p, '/tmp/a', O_RDWR | O_CREAT | O_APPEND);
    pwrite(p, fd, 'one', 0);
    pwrite(p, fd, 'two', 0);
    expect(pread(p, fd, 64, 0)).toBe('onetwo');
  });

  it('refuse negative offsets (EINVAL) and the standard streams and pipes (ESPIPE)', () => {
    const p = newProcess();
    const fd = open(p, '/tmp/n', O_RDWR | O_CREAT);
    expect(sys(p, 'pwrite64', fd, BUF, 1, -1)).toBe(EINVAL);
    expect(sys(p, 'pread64', fd, BUF, 1, -4096)).toBe(EINVAL);
    expect(sys(p, 'pwrite64', 1, BUF, 1, 0)).toBe(ESPIPE);
    expect(sys(p, 'pipe2', BUF + 512, 0)).toBe(0);
    expect(sys(p, 'pread64', p.mem.dv.getInt32(BUF + 512, true), BUF, 1, 0)).toBe(ESPIPE);
    expect(sys(p, 'pwrite64', 99, BUF, 1, 0)).toBe(EBADF);
  });
});

describe('fcntl record locks', () => {
  // Mutation that breaks it: granting every lock (the old F_SETLK), or letting the
  // process's own POSIX locks conflict with each other.
  it('never conflict within the process, and conflict with an open file description', () => {
    const p = newProcess();
    const a = open(p, '/tmp/db', O_RDWR | O_CREAT);
    const b = open(p, '/tmp/db', O_RDWR);
    expect(lock(p, a, F_SETLK, F_WRLCK, 100, 10)).toBe(0);
    // Another descriptor of the same process: no conflict, F_GETLK answers F_UNLCK.
    expect(lock(p, b, F_SETLK, F_WRLCK, 100, 1)).toBe(0);
    expect(lock(p, b, F_GETLK, F_WRLCK, 0, 0)).toBe(0);
    expect(flockOut(p).type).toBe(F_UNLCK);
    // An OFD lock is another owner: it sees the process's lock, with its pid.
    expect(lock(p, b, F_OFD_GETLK, F_RDLCK, 0, 0)).toBe(0);
    expect(flockOut(p)).toEqual({ type: F_WRLCK, start: 100, len: 10, pid: 1000 });
    expect(lock(p, b, F_OFD_SETLK, F_RDLCK, 105, 1)).toBe(EAGAIN);
    expect(lock(p, b, F_OFD_SETLKW, F_RDLCK, 105, 1)).toBe(EDEADLK);
    expect(lock(p, b, F_OFD_SETLK, F_RDLCK, 110, 5)).toBe(0);
    // Read locks share; a write lock over an OFD read lock is refused to the process.
    expect(lock(p, a, F_SETLK, F_RDLCK, 110, 1)).toBe(0);
    expect(lock(p, a, F_SETLK, F_WRLCK, 112, 1)).toBe(EAGAIN);
    expect(lock(p, a, F_SETLKW, F_WRLCK, 112, 1)).toBe(EDEADLK);
    expect(lock(p, a, F_GETLK, F_WRLCK, 0, 0)).toBe(0);
    expect(flockOut(p)).toEqual({ type: F_RDLCK, start: 110, len: 5, pid: -1 });
  });

  // Mutation that breaks it: releasing POSIX locks only when the locking descriptor closes.
  it('drop the process locks when any descriptor of the file closes; OFD locks with their last descriptor', () => {
    const p = newProcess();
    const a = open(p, '/tmp/db', O_RDWR | O_CREAT);
    const b = open(p, '/tmp/db', O_RDWR);
    const c = open(p, '/tmp/db', O_RDWR);
    expect(lock(p, a, F_SETLK, F_WRLCK, 0, 1)).toBe(0);
    expect(lock(p, c, F_OFD_GETLK, F_WRLCK, 0, 1)).toBe(0);
    expect(flockOut(p).type).toBe(F_WRLCK);
    expect(sys(p, 'close', b)).toBe(0);
    expect(lock(p, c, F_OFD_GETLK, F_WRLCK, 0, 1)).toBe(0);
    expect(flockOut(p).type).toBe(F_UNLCK);
    // An OFD lock survives while a dup of its description is open.
    expect(lock(p, c, F_OFD_SETLK, F_WRLCK, 0, 0)).toBe(0);
    const d = sys(p, 'dup', c);
    expect(sys(p, 'close', c)).toBe(0);
    expect(lock(p, a, F_SETLK, F_RDLCK, 50, 1)).toBe(EAGAIN);
    expect(sys(p, 'close', d)).toBe(0);
    expect(lock(p, a, F_SETLK, F_RDLCK, 50, 1)).toBe(0);
  });

  // Mutation that breaks it: unlocking the whole lock instead of splitting it.
  it('split a lock on a partial unlock, and read ranges from l_whence and negative lengths', () => {
    const p = newProcess();
    const a = open(p, '/tmp/db', O_RDWR | O_CREAT);
    const b = open(p, '/tmp/db', O_RDWR);
    expect(lock(p, a, F_SETLK, F_WRLCK, 0, 100)).toBe(0);
    expect(lock(p, a, F_SETLK, F_UNLCK, 10, 10)).toBe(0);
    expect(lock(p, b, F_OFD_GETLK, F_RDLCK, 10, 10)).toBe(0);
    expect(flockOut(p).type).toBe(F_UNLCK);
    expect(lock(p, b, F_OFD_GETLK, F_RDLCK, 0, 0)).toBe(0);
    expect(flockOut(p)).toMatchObject({ type: F_WRLCK, start: 0, len: 10 });
    expect(lock(p, b, F_OFD_GETLK, F_RDLCK, 15, 0)).toBe(0);
    expect(flockOut(p)).toMatchObject({ type: F_WRLCK, start: 20, len: 80 });
    // l_len < 0 covers [l_start + l_len, l_start - 1]; SEEK_END counts from the size.
    pwrite(p, a, 'x'.repeat(200), 0);
    expect(lock(p, a, F_SETLK, F_RDLCK, -10, -5, 2)).toBe(0);
    expect(lock(p, b, F_OFD_GETLK, F_WRLCK, 180, 0)).toBe(0);
    expect(flockOut(p)).toMatchObject({ type: F_RDLCK, start: 185, len: 5 });
    // To the end of any file: l_len 0, reported as 0.
    expect(lock(p, a, F_SETLK, F_WRLCK, 1000, 0)).toBe(0);
    expect(lock(p, b, F_OFD_GETLK, F_RDLCK, 5000, 1)).toBe(0);
    expect(flockOut(p)).toMatchObject({ type: F_WRLCK, start: 1000, len: 0 });
  });

  it('refuse bad types, ranges before the start, and locks the descriptor cannot take', () => {
    const p = newProcess();
    open(p, '/tmp/db', O_RDWR | O_CREAT);
    const r = open(p, '/tmp/db', O_RDONLY);
    const w = open(p, '/tmp/db', O_WRONLY);
    expect(lock(p, r, F_SETLK, 7, 0, 1)).toBe(EINVAL);
    expect(lock(p, r, F_GETLK, F_UNLCK, 0, 1)).toBe(EINVAL);
    expect(lock(p, r, F_SETLK, F_RDLCK, 5, -10)).toBe(EINVAL);
    expect(lock(p, r, F_SETLK, F_RDLCK, 0, 1, 9)).toBe(EINVAL);
    expect(lock(p, r, F_SETLK, F_WRLCK, 0, 1)).toBe(EBADF);
    expect(lock(p, w, F_SETLK, F_RDLCK, 0, 1)).toBe(EBADF);
    expect(lock(p, r, F_SETLK, F_RDLCK, 0, 1)).toBe(0);
  });
});

describe('shared file mappings', () => {
  // Mutation that breaks it: MAP_SHARED treated as MAP_PRIVATE (a copy of the file), or
  // no flush before a read of the file.
  it('show stores through the file and writes to the file in memory', () => {
    const p = newProcess();
    const fd = open(p, '/tmp/shm', O_RDWR | O_CREAT);
    expect(sys(p, 'ftruncate', fd, 2 * PAGE_SIZE)).toBe(0);
    pwrite(p, fd, 'from the file', PAGE_SIZE + 7);
    const at = sys(p, 'mmap', 0, 2 * PAGE_SIZE, PROT_RW, MAP_SHARED, fd, 0);
    expect(at).toBeGreaterThan(0);
    expect(String.fromCharCode(...p.mem.u8.subarray(at + PAGE_SIZE + 7, at + PAGE_SIZE + 20))).toBe('from the file');
    // A store by the guest, then a read of the file.
    p.mem.u8.set(new TextEncoder().encode('stored'), at + 3);
    expect(pread(p, fd, 9, 0)).toBe('\0\0\0stored');
    // A write to the file, then a load by the guest.
    pwrite(p, fd, 'WRITE', 4);
    expect(String.fromCharCode(...p.mem.u8.subarray(at + 3, at + 9))).toBe('sWRITE');
    // Shrinking the file zeroes what lies past its end; growing it back reads zeros.
    expect(sys(p, 'ftruncate', fd, 5)).toBe(0);
    expect(p.mem.u8[at + 5]).toBe(0);
    expect(sys(p, 'ftruncate', fd, PAGE_SIZE)).toBe(0);
    expect(pread(p, fd, 8, 0)).toBe('\0\0\0sW\0\0\0');
  });

  // Mutation that breaks it: munmap dropping the pages without writing them to the file.
  it('write back on munmap and msync, survive close, and are checked like Linux', () => {
    const p = newProcess();
    const fd = open(p, '/tmp/shm', O_RDWR | O_CREAT);
    sys(p, 'ftruncate', fd, PAGE_SIZE);
    const at = sys(p, 'mmap', 0, PAGE_SIZE, PROT_RW, MAP_SHARED, fd, 0);
    expect(sys(p, 'close', fd)).toBe(0);
    p.mem.u8.set([1, 2, 3], at);
    expect(sys(p, 'msync', at, PAGE_SIZE, 4)).toBe(0);
    expect(sys(p, 'msync', at + 1, PAGE_SIZE, 4)).toBe(EINVAL);
    expect(sys(p, 'msync', at, PAGE_SIZE, 5)).toBe(EINVAL);
    expect(sys(p, 'msync', SCRATCH + 0x20000, PAGE_SIZE, 4)).toBe(ENOMEM);
    p.mem.u8.set([9], at + 100);
    expect(sys(p, 'munmap', at, PAGE_SIZE)).toBe(0);
    const again = open(p, '/tmp/shm', O_RDONLY);
    expect([...new Uint8Array(new TextEncoder().encode(pread(p, again, 3, 0)))]).toEqual([1, 2, 3]);
    expect(pread(p, again, 1, 100).charCodeAt(0)).toBe(9);
    // A shared writable mapping needs O_RDWR; any mapping needs read access.
    expect(sys(p, 'mmap', 0, PAGE_SIZE, PROT_RW, MAP_SHARED, again, 0)).toBe(EACCES);
    expect(sys(p, 'mmap', 0, PAGE_SIZE, 1, MAP_SHARED, again, 1)).toBe(EINVAL);
    expect(sys(p, 'mmap', 0, PAGE_SIZE, 1, 0, again, 0)).toBe(EINVAL);
    const w = open(p, '/tmp/shm', O_WRONLY);
    expect(sys(p, 'mmap', 0, PAGE_SIZE, 1, MAP_PRIVATE, w, 0)).toBe(EACCES);
  });

  it('leave the file alone when private', () => {
    const p = newProcess();
    const fd = open(p, '/tmp/priv', O_RDWR | O_CREAT);
    pwrite(p, fd, 'abc', 0);
    const at = sys(p, 'mmap', 0, PAGE_SIZE, PROT_RW, MAP_PRIVATE, fd, 0);
    p.mem.u8[at] = 0x7a;
    sys(p, 'munmap', at, PAGE_SIZE);
    expect(pread(p, fd, 3, 0)).toBe('abc');
  });
});

describe('a file unlinked while open', () => {
  // Mutation that breaks it: fstat reporting one link for an unlinked file (SQLite then
  // cannot tell that its database was deleted under it).
  it('stays readable through its descriptor and has no links', () => {
    const p = newProcess();
    const fd = open(p, '/tmp/gone-journal', O_RDWR | O_CREAT);
    pwrite(p, fd, 'kept', 0);
    expect(sys(p, 'fstat', fd, STAT)).toBe(0);
    expect(p.mem.dv.getUint32(STAT + 20, true)).toBe(1);
    p.mem.write(PATH, new TextEncoder().encode('/tmp/gone-journal\0'));
    expect(sys(p, 'unlinkat', AT_FDCWD, PATH, 0)).toBe(0);
    expect(sys(p, 'faccessat', AT_FDCWD, PATH, 0)).toBe(-2);
    expect(sys(p, 'unlinkat', AT_FDCWD, PATH, 0x100)).toBe(EINVAL);
    expect(sys(p, 'fstat', fd, STAT)).toBe(0);
    expect(p.mem.dv.getUint32(STAT + 20, true)).toBe(0);
    expect(pread(p, fd, 4, 0)).toBe('kept');
    expect(sys(p, 'getpid')).toBe(1000);
  });
});

describe('snapshots', () => {
  // Mutation that breaks it: saveState leaving out the shared mappings or the locks (a
  // resumed database would lose its index's coherence or its locks).
  it('keep record locks and shared mappings across save and load', () => {
    const p = newProcess();
    const fd = open(p, '/tmp/db-shm', O_RDWR | O_CREAT);
    const other = open(p, '/tmp/db-shm', O_RDWR);
    sys(p, 'ftruncate', fd, PAGE_SIZE);
    const at = sys(p, 'mmap', 0, PAGE_SIZE, PROT_RW, MAP_SHARED, fd, 0);
    expect(lock(p, fd, F_SETLK, F_WRLCK, 120, 8)).toBe(0);
    expect(lock(p, other, F_OFD_SETLK, F_RDLCK, 200, 1)).toBe(0);
    p.mem.u8[at + 5] = 42;
    const q = newProcess();
    q.loadState(structuredClone(p.saveState()));
    // The store reached the file before the save, and the mapping still tracks it.
    expect(pread(q, fd, 6, 0).charCodeAt(5)).toBe(42);
    pwrite(q, fd, '\x07', 6);
    expect(q.mem.u8[at + 6]).toBe(7);
    expect(lock(q, other, F_OFD_GETLK, F_WRLCK, 0, 0)).toBe(0);
    expect(flockOut(q)).toMatchObject({ type: F_WRLCK, start: 120, len: 8, pid: 1000 });
    expect(lock(q, fd, F_GETLK, F_WRLCK, 150, 0)).toBe(0);
    expect(flockOut(q)).toMatchObject({ type: F_RDLCK, start: 200, len: 1, pid: -1 });
  });
});
