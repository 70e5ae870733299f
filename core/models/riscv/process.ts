// A RISC-V Linux user process: guest memory, one hart, the interpreter, and the state
// that the Linux system calls of syscalls.ts act on (descriptors, the memory map),
// answered from a sandbox (the virtual file system, the caller's standard streams,
// the simulated clock, a seeded random source). An ecall dispatches through the
// syscall table by number; unimplemented calls answer -ENOSYS and are counted; signals
// the call raised or unblocked are delivered on its way back (signals.ts); nothing a
// guest does can reach the host's files or network.

import type { Hooks } from '../../engine/hooks';
import type { GuestView, SyscallEvent, TrapEvent } from '../cpu/hooks';
import { buildStack, GuestLoadError, loadElf } from './elf';
import { Hart, Interpreter, type StopReason } from './interpreter';
import { GuestFault, GuestMemory, PAGE_SIZE, PERM_MAPPED, PERM_R, PERM_W, prepareGuestMemory } from './memory';
import { EFAULT, ENOSYS, RV64_SYSCALLS, syscallName } from './syscalls';
import { ThreadScheduler, type ThreadsState } from './threads';
import { Vfs, VfsError, type Pipe, type VNode } from './vfs';
import { fileLocks, flushMappings, nodePath, setLock, type SharedMapping } from './filelocks';
import { deliverSignals, KEEP_REGISTERS, loadSignals, newSignalState, saveSignals, type SignalState } from './signals';

export { GuestLoadError };
export { syscallName } from './syscalls';

export interface ProcessOptions {
  readonly memoryBytes: number;
  readonly stackBytes: number;
  readonly maxInstructions: number;
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  readonly programPath: string;
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly readStdin: (max: number) => Uint8Array | null;
  /** Writes guest output; false when its reader has gone (the guest then gets SIGPIPE). */
  readonly writeStdout: (b: Uint8Array) => unknown;
  readonly writeStderr: (b: Uint8Array) => unknown;
  readonly now: () => number;
  readonly randomBytes: (out: Uint8Array) => void;
  /** Timing mode: every guest load and store (see Interpreter.accessHook). */
  readonly onMemoryAccess?: (address: number, write: boolean) => void;
  /** Timing mode: memory unmapped or reprotected by the guest. */
  readonly onMemoryMap?: (event: 'unmap' | 'protect', start: number, length: number) => void;
  /** The simulation's system call and trap hooks (hooks.cpu), fired only when tapped. */
  readonly hooks?: GuestHooks;
  /** The guest's vCPU entity, reported in hook events (0 when not given). */
  readonly vcpu?: number;
}

/** The hooks a guest process fires: hooks.cpu.syscall and hooks.cpu.trap. */
export interface GuestHooks {
  readonly syscall: Hooks['cpu']['syscall'];
  readonly trap: Hooks['cpu']['trap'];
}

/** Handled traps at one instruction, in a row with nothing retired, after which the guest is ended. */
const MAX_TRAP_REPEATS = 16;

export interface ProcessStatus {
  state: 'running' | 'exited' | 'signaled' | 'limit';
  exitCode?: number;
  signal?: number;
  fault?: { signal: number; pc: number; instruction: string; address: number; reason: string };
  message?: string;
}

/** An open file description of the process (see syscalls.ts). */
export interface OpenFile {
  node: VNode | null;
  /** 0, 1, 2 for the standard streams. */
  std: number;
  pos: number;
  append: boolean;
  writable: boolean;
  path: string;
  /** The pipe this descriptor is an end of (node is then null). */
  pipe?: Pipe;
  /** O_RDONLY 0, O_WRONLY 1, O_RDWR 2, as opened (the standard streams leave it unset). */
  accmode?: number;
  cloexec?: boolean;
  nonblock?: boolean;
  /** The open file description, shared by dup'ed descriptors: the owner of its OFD locks. */
  description?: object;
}

/** The process's Linux state that the system calls (syscalls.ts) read and change. */
export interface LinuxState {
  fds: Array<OpenFile | null>;
  brkStart: number;
  brkCur: number;
  /** Lowest address handed out by mmap so far; mmaps grow downwards from the stack. */
  mmapFloor: number;
  stackBottom: number;
  /** The working directory, an absolute path without a trailing slash ('/' for the root). */
  cwd: string;
  umask: number;
  /** Soft and hard limits set by prlimit64, by resource (unset ones are the defaults). */
  rlimits: Map<number, [bigint, bigint]>;
  signals: SignalState;
  /** MAP_SHARED mappings of files (filelocks.ts). */
  shared: SharedMapping[];
}

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
  /** Descriptors and memory map, as the system calls (syscalls.ts) keep them. */
  readonly linux: LinuxState = { fds: [], brkStart: 0, brkCur: 0, mmapFloor: 0, stackBottom: 0, cwd: '/', umask: 0o022, rlimits: new Map(), signals: newSignalState(), shared: [] };
  /** Simulated nanoseconds that syscall and trap handlers charged the guest, in total. */
  chargedNs = 0;
  /** The process's threads (threads.ts): which one the hart runs, and the others' registers. */
  readonly threads: ThreadScheduler;
  private status: ProcessStatus = { state: 'running' };
  private loaded = false;
  private readonly hooks: GuestHooks | null;
  private view: GuestView | null = null;

  /**
   * Readies, before the rest of a start-up, what a process with `memoryBytes` of guest
   * memory about to start needs: its guest memory (see prepareGuestMemory), then the
   * run loop, whose optimizing compilation then overlaps that start-up (see
   * Interpreter.prepare). Every engine runs the interpreter (translators for what they
   * have not translated).
   */
  static prepare(memoryBytes: number): void {
    prepareGuestMemory(roundUp(memoryBytes, 65536));
    Interpreter.prepare();
  }

  constructor(readonly options: ProcessOptions) {
    this.hooks = options.hooks ?? null;
    this.mem = new GuestMemory(roundUp(options.memoryBytes, 65536));
    this.hart = new Hart(this.mem);
    this.vfs = new Vfs(options.files);
    this.cpu = new Interpreter(this.mem, this.hart, () => this.syscall(), options.now);
    this.cpu.accessHook = options.onMemoryAccess ?? null;
    this.executor = this.cpu;
    this.threads = new ThreadScheduler(this);
    this.linux.fds = [0, 1, 2].map((std) => ({ node: null, std, pos: 0, append: false, writable: std > 0, path: `/dev/std${['in', 'out', 'err'][std]}` }));
  }

  get instructions(): number {
    return this.hart.instret;
  }

  /** Loads the program and builds its stack; throws GuestLoadError. */
  load(elf: Uint8Array): void {
    const mem = this.mem;
    const image = loadElf(elf, mem, this.options.argv[0] ?? this.options.programPath);
    const top = mem.size;
    const stackBytes = roundUp(this.options.stackBytes, PAGE_SIZE);
    const linux = this.linux;
    linux.stackBottom = top - stackBytes;
    if (linux.stackBottom <= image.brk + 16 * PAGE_SIZE) throw new GuestLoadError(`guest memory of ${mem.size} bytes is too small for this program and its stack`, this.options.argv[0] ?? this.options.programPath);
    mem.protect(linux.stackBottom, stackBytes, PERM_MAPPED | PERM_R | PERM_W);
    // A guard page below the stack stays unmapped.
    linux.mmapFloor = linux.stackBottom - PAGE_SIZE;
    linux.brkStart = linux.brkCur = image.brk;
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
    if (max > 0 && this.hart.instret >= max) {
      this.status = { state: 'limit', message: `stopped after ${this.hart.instret} instructions, the limit` };
      return this.status;
    }
    const allowed = max > 0 ? Math.min(budget, max - this.hart.instret) : budget;
    // A budget of nothing (a guest paying for charged time) runs nothing.
    if (allowed <= 0) return this.status;
    const start = this.hart.instret;
    let stop = this.execute(allowed);
    // A trap handler may take the fault and let the guest go on with what is left of the budget.
    let lastPc = -1;
    let lastInstret = -1;
    let repeats = 0;
    while (stop.kind === 'fault' && this.hooks !== null && this.hooks.trap.taps.length > 0) {
      const h = this.hart;
      if (h.pc === lastPc && h.instret === lastInstret) {
        if (++repeats >= MAX_TRAP_REPEATS) break;
      } else {
        lastPc = h.pc;
        lastInstret = h.instret;
        repeats = 0;
      }
      if (!this.trap(stop)) break;
      const left = allowed - (h.instret - start);
      if (left <= 0) {
        stop = { kind: 'budget' };
        break;
      }
      stop = this.execute(left);
    }
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

  /** Has the process ended (exit, a signal, a deadlock)? */
  get exited(): boolean {
    return this.status.state !== 'running';
  }

  /** Runs the threads through the executor (threads.ts), at most `budget` instructions. */
  private execute(budget: number): StopReason {
    return this.threads.run(budget, (n) => this.executor.run(n));
  }

  // ---- system calls ----

  /** Argument i (a0..a5) as a signed 64-bit number: addresses, sizes and offsets fit in a double. */
  arg(i: number): number {
    const x = this.hart.x;
    return x[2 * (10 + i) + 1] * 4294967296 + (x[2 * (10 + i)] >>> 0);
  }

  /** Argument i as the kernel reads an `int`: its low 32 bits, signed. */
  argInt(i: number): number {
    return this.hart.x[2 * (10 + i)];
  }

  /** Ends the process (exit, a signal it sent itself); the ecall in progress stops the run. */
  end(status: ProcessStatus): void {
    this.status = status;
  }

  /** Registers and memory for hook handlers, made on first use. */
  private guestView(): GuestView {
    if (this.view) return this.view;
    const x = this.hart.x;
    const mem = this.mem;
    this.view = {
      reg: (i) => BigInt.asIntN(64, (BigInt(x[2 * i + 1]) << 32n) | BigInt(x[2 * i] >>> 0)),
      setReg: (i, v) => {
        if (i === 0) return;
        x[2 * i] = Number(BigInt.asIntN(32, v));
        x[2 * i + 1] = Number(BigInt.asIntN(32, v >> 32n));
      },
      read: (address, length) => mem.read(address, length),
      write: (address, bytes) => mem.write(address, bytes),
    };
    return this.view;
  }

  private charge(ns: number, hook: string): void {
    if (ns === 0) return;
    if (!(ns > 0 && ns < Infinity)) throw new Error(`a hooks.cpu.${hook} handler set chargeNs to ${ns}; it must be a finite number of nanoseconds ≥ 0`);
    this.chargedNs += ns;
  }

  /** Fires hooks.cpu.syscall; returns the answer of the handler that answered, if one did. */
  private fireSyscall(n: number): number | undefined {
    const args: number[] = [];
    for (let i = 0; i < 6; i++) args.push(this.arg(i));
    const event: SyscallEvent = {
      vcpu: this.options.vcpu ?? 0,
      number: n,
      name: syscallName(n),
      args,
      pc: this.hart.pc,
      timeNs: this.options.now(),
      guest: this.guestView(),
      chargeNs: 0,
    };
    try {
      return this.hooks!.syscall.call(event);
    } finally {
      this.charge(event.chargeNs, 'syscall');
    }
  }

  /** Fires hooks.cpu.trap for a fault at hart.pc; true when a handler took it (the pc is then where the guest resumes). */
  private trap(stop: StopReason): boolean {
    const f = stop.fault!;
    const pc = this.hart.pc;
    const raw = stop.raw ?? this.cpu.rawAt(pc);
    const event: TrapEvent = {
      vcpu: this.options.vcpu ?? 0,
      cause: f.reason,
      signal: f.signal,
      pc,
      address: f.address,
      instruction: raw ?? -1,
      length: raw === undefined ? 0 : (raw & 3) === 3 ? 4 : 2,
      guest: this.guestView(),
      resumePc: pc,
      chargeNs: 0,
    };
    const handled = this.hooks!.trap.call(event) === true;
    this.charge(event.chargeNs, 'trap');
    if (handled) this.hart.pc = event.resumePc;
    return handled;
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
    let r: number | undefined;
    try {
      // Plugins see the call first, and may answer it; nothing is built when none taps.
      if (this.hooks !== null && this.hooks.syscall.taps.length > 0) r = this.fireSyscall(n);
      if (r === undefined) {
        const handler = RV64_SYSCALLS[n];
        if (handler !== undefined) r = handler(this);
        else {
          this.unimplemented.set(n, (this.unimplemented.get(n) ?? 0) + 1);
          r = -ENOSYS;
        }
      }
    } catch (e) {
      if (e instanceof VfsError) r = -e.errno;
      else if (e instanceof GuestFault) r = -EFAULT;
      else throw e;
    }
    if (this.status.state !== 'running') return true;
    // rt_sigreturn has set every register and the pc itself.
    if (r !== KEEP_REGISTERS) {
      this.ret(r);
      this.hart.pc += 4;
    }
    // Signals raised by the call (or unblocked by it) are delivered on the way back.
    const pc = deliverSignals(this);
    if (pc < 0) return true;
    this.cpu.resumeAt(pc);
    // A thread that blocked, yielded, exited or cloned: the scheduler decides what runs next.
    return this.threads.takeStop();
  }

  // ---- snapshots ----

  saveState(): unknown {
    // The files get what the guest stored in their shared mappings first.
    for (const m of this.linux.shared) flushMappings(this.mem, [m], m.node);
    const fds = this.linux.fds;
    const lockNodes = [...new Set(fds.map((f) => f?.node).filter((n): n is VNode => !!n))];
    return {
      hart: this.hart.save(),
      mem: this.mem.save(),
      tmp: this.vfs.saveTmp(),
      shared: this.linux.shared.map((m) => ({ start: m.start, len: m.len, off: m.off, path: nodePath(m.node) })),
      // A lock's owner: -1 for the process, else a descriptor of its open file description.
      locks: lockNodes.flatMap((n) =>
        fileLocks(n).map((l) => ({ path: nodePath(n), owner: l.ofd ? fds.findIndex((f) => f?.description === l.owner) : -1, type: l.type, start: l.start, end: l.end === Infinity ? -1 : l.end })),
      ),
      fds: this.linux.fds.map((f) => (f ? { std: f.std, pos: f.pos, append: f.append, writable: f.writable, path: f.path } : null)),
      brkStart: this.linux.brkStart,
      brkCur: this.linux.brkCur,
      mmapFloor: this.linux.mmapFloor,
      stackBottom: this.linux.stackBottom,
      cwd: this.linux.cwd,
      umask: this.linux.umask,
      rlimits: [...this.linux.rlimits].map(([k, [a, b]]) => [k, a.toString(), b.toString()]),
      signals: saveSignals(this.linux.signals),
      status: this.status,
      chargedNs: this.chargedNs,
      syscalls: [...this.syscallCounts.entries()],
      unimplemented: [...this.unimplemented.entries()],
      threads: this.threads.save(),
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
      cwd?: string;
      umask?: number;
      rlimits?: Array<[number, string, string]>;
      signals?: unknown;
      status: ProcessStatus;
      chargedNs?: number;
      syscalls: Array<[number, number]>;
      unimplemented: Array<[number, number]>;
      threads?: ThreadsState;
      shared?: Array<{ start: number; len: number; off: number; path: string | null }>;
      locks?: Array<{ path: string | null; owner: number; type: number; start: number; end: number }>;
    };
    this.cpu.flushCode();
    this.hart.load(d.hart);
    this.mem.load(d.mem);
    this.vfs.loadTmp(d.tmp);
    this.linux.fds = d.fds.map((f) => {
      if (!f) return null;
      let node: VNode | null = null;
      if (f.std < 0) {
        try {
          node = this.vfs.lookup(f.path);
        } catch {
          node = null;
        }
      }
      return { ...f, node, description: {} };
    });
    const nodeAt = (path: string | null) => {
      try {
        return path === null ? null : this.vfs.lookup(path);
      } catch {
        return null;
      }
    };
    this.linux.shared = [];
    for (const m of d.shared ?? []) {
      const node = nodeAt(m.path);
      if (node) this.linux.shared.push({ start: m.start, len: m.len, off: m.off, node });
    }
    for (const l of d.locks ?? []) {
      const node = nodeAt(l.path);
      const owner = l.owner < 0 ? this.linux : this.linux.fds[l.owner]?.description;
      if (node && owner) setLock(node, owner, l.owner >= 0, l.type, l.start, l.end < 0 ? Infinity : l.end);
    }
    this.linux.brkStart = d.brkStart;
    this.linux.brkCur = d.brkCur;
    this.linux.mmapFloor = d.mmapFloor;
    this.linux.stackBottom = d.stackBottom;
    this.linux.cwd = d.cwd ?? '/';
    this.linux.umask = d.umask ?? 0o022;
    this.linux.rlimits = new Map((d.rlimits ?? []).map(([k, a, b]) => [k, [BigInt(a), BigInt(b)]]));
    this.linux.signals = loadSignals(d.signals);
    this.status = d.status;
    this.chargedNs = d.chargedNs ?? 0;
    this.syscallCounts.clear();
    for (const [k, v] of d.syscalls) this.syscallCounts.set(k, v);
    this.unimplemented.clear();
    for (const [k, v] of d.unimplemented) this.unimplemented.set(k, v);
    if (d.threads) this.threads.load(d.threads);
    this.loaded = true;
  }
}

function roundUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
