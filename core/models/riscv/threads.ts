// The threads of a RISC-V Linux user process, and the system calls that make and
// synchronise them: clone (a thread of the same process), futex, set_tid_address,
// gettid, sched_yield and the exit of one thread. GuestProcess (process.ts) owns one
// ThreadScheduler and runs its guest through it.
//
// The model. All threads of a process share its guest memory, descriptors and memory
// map; each has its own integer and FP registers, pc, FP flags and rounding mode (so
// its own tp, the TLS pointer). One hart executes them in turn: the scheduler keeps
// the registers of the threads that are not running in their GuestThread record and
// swaps them into the process's one hart state (which the interpreter and translated
// code both read from the guest's WebAssembly memory) when it switches. So every
// engine runs the same threads on the same state, and translated code needs nothing
// per thread.
//
// Interleaving is deterministic, by instruction quanta: a runnable thread runs for
// THREAD_QUANTUM instructions (or until it blocks in a futex wait, yields or exits),
// then the next runnable thread in tid order runs (round robin). Budgets are exact
// in every engine, system calls stop every engine at the same instruction, and the
// remaining quantum is kept across run() calls, so the interleaving depends neither
// on the engine nor on how the caller splits its budget. While only one thread is
// alive there is no slicing at all: single-threaded guests run exactly as before.
//
// Atomics across threads. The hart's LR reservation is cleared at every switch, as
// Linux does on RISC-V when it switches tasks (an sc to a dummy address on the way
// out of the kernel): a store by another thread can only happen after a switch, so
// it always breaks the reservation, and an SC after a preemption between LR and SC
// fails and is retried. AMOs are single instructions and are never split.
//
// Time. Futex timeouts are on the guest's clock (ProcessOptions.now, the clock that
// clock_gettime reads) and are checked at every switch. When every thread is blocked
// and one of them has a timeout, the process sleeps until the earliest one: the sleep
// is charged to the guest (chargedNs), as a runner charges any time the guest spends
// outside its instructions. When every thread is blocked and none can time out the
// process is deadlocked; Linux would hang, and we end the guest with a message.
//
// Timing under a simulation: the threads of a guest share the guest's vCPU, time
// sliced; their instructions together count against the budget that run() gets.

import type { GuestProcess } from './process';
import type { StopReason } from './interpreter';
import { PERM_R, PERM_W } from './memory';
import type { SyscallHandler } from './syscalls';

/** Instructions a thread runs before the next runnable thread gets the hart. */
export const THREAD_QUANTUM = 10_000;

/** The tid of a process's first thread: its pid (see syscalls.ts PID). */
const MAIN_TID = 1000;

// Linux constants (include/uapi/linux/sched.h, futex.h, asm-generic/errno-base.h).
const CLONE_VM = 0x100;
const CLONE_FS = 0x200;
const CLONE_FILES = 0x400;
const CLONE_SIGHAND = 0x800;
const CLONE_THREAD = 0x10000;
const CLONE_SETTLS = 0x80000;
const CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_CLEARTID = 0x200000;
const CLONE_CHILD_SETTID = 0x1000000;
/** What a thread of this model must share with its creator. */
const CLONE_THREAD_FLAGS = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128;
const FUTEX_CLOCK_REALTIME = 256;

const EAGAIN = 11;
const EINVAL = 22;
const ENOSYS = 38;
const ETIMEDOUT = 110;

/** One thread: its registers while it does not run, and what it waits for. */
export interface GuestThread {
  readonly tid: number;
  state: 'runnable' | 'blocked' | 'exited';
  /** Integer registers (the hart's layout: x[2r] low, x[2r+1] high, 33 registers). */
  readonly x: Int32Array;
  /** FP registers as raw 64-bit patterns (two words each). */
  readonly f: Uint32Array;
  pc: number;
  flags: number;
  frm: number;
  /** set_tid_address / CLONE_CHILD_CLEARTID: zeroed and woken when the thread exits (0: none). */
  clearChildTid: number;
  /** The futex word a blocked thread waits on, the wait's bitset, and its deadline (guest ns; Infinity: none). */
  waitAddr: number;
  waitBits: number;
  deadline: number;
  /** Instructions this thread retired. */
  instructions: number;
}

/** What a snapshot holds of the threads (see ThreadScheduler.save). */
export interface ThreadsState {
  threads: Array<{ tid: number; state: GuestThread['state']; x: number[]; f: number[]; pc: number; flags: number; frm: number; clearChildTid: number; waitAddr: number; waitBits: number; deadline: number | null; instructions: number }>;
  current: number;
  sliceLeft: number;
  nextTid: number;
  waiters: number[];
  switches: number;
}

function newThread(tid: number): GuestThread {
  return { tid, state: 'runnable', x: new Int32Array(66), f: new Uint32Array(64), pc: 0, flags: 0, frm: 0, clearChildTid: 0, waitAddr: 0, waitBits: 0, deadline: Infinity, instructions: 0 };
}

export class ThreadScheduler {
  /** Threads alive (runnable or blocked), in tid order. */
  private threads: GuestThread[] = [];
  /** The thread whose registers are in the hart. */
  current: GuestThread;
  /** Instructions left of the current thread's quantum. */
  private sliceLeft = THREAD_QUANTUM;
  private nextTid = MAIN_TID + 1;
  /** Blocked threads in the order they began to wait: futex wakes take them first in, first out. */
  private waiters: GuestThread[] = [];
  /** Set by a system call that must end the executor's run (a block, a yield, an exit, a clone). */
  private stopRequested = false;
  /** Context switches so far. */
  switches = 0;

  constructor(private readonly p: GuestProcess) {
    this.current = newThread(MAIN_TID);
    this.threads.push(this.current);
  }

  /** Threads alive (runnable or blocked). */
  get alive(): number {
    return this.threads.length;
  }

  /** Whether a thread of this id is alive (tkill and tgkill address threads by tid). */
  has(tid: number): boolean {
    return this.threads.some((t) => t.tid === tid);
  }

  /** Called by the process after a system call: true when the executor must stop (and the scheduler decide). */
  takeStop(): boolean {
    const s = this.stopRequested;
    this.stopRequested = false;
    return s;
  }

  /**
   * Runs at most `budget` instructions of the process's threads through `exec` (the
   * process's executor), switching threads at quantum ends and when one blocks.
   * Returns like an executor: 'budget', a fault (of the current thread), or 'stop'
   * when the process ended.
   */
  run(budget: number, exec: (n: number) => StopReason): StopReason {
    const p = this.p;
    const h = p.hart;
    let left = budget;
    while (left > 0) {
      if (p.exited) return { kind: 'stop' };
      const single = this.threads.length === 1 && this.current.state === 'runnable';
      if (!single && (this.current.state !== 'runnable' || this.sliceLeft <= 0)) {
        if (!this.schedule()) return { kind: 'stop' };
        continue;
      }
      // With one thread alive nothing is sliced: the run is exactly the single-threaded one.
      const n = single ? left : Math.min(left, this.sliceLeft);
      const before = h.instret;
      const stop = exec(n);
      const ran = h.instret - before;
      left -= ran;
      this.current.instructions += ran;
      if (!single) this.sliceLeft -= ran;
      if (stop.kind === 'fault') return stop;
      if (stop.kind === 'stop' && p.exited) return stop;
    }
    return { kind: 'budget' };
  }

  /**
   * Picks the next thread to run (round robin in tid order, after the current one),
   * waking threads whose futex wait timed out, and swaps it into the hart. When all
   * are blocked, sleeps until the earliest timeout; with none, ends the process as
   * deadlocked and returns false.
   */
  private schedule(): boolean {
    const p = this.p;
    for (;;) {
      const now = p.options.now();
      for (const t of this.waiters) if (t.deadline <= now) this.timeOut(t);
      this.waiters = this.waiters.filter((t) => t.state === 'blocked');
      const next = this.pickAfter(this.current.tid);
      if (next !== null) {
        this.switchTo(next);
        this.sliceLeft = THREAD_QUANTUM;
        return true;
      }
      let earliest = Infinity;
      for (const t of this.waiters) earliest = Math.min(earliest, t.deadline);
      if (earliest === Infinity) {
        const n = this.threads.length;
        p.end({ state: 'limit', message: `deadlock: ${n === 1 ? 'the only thread is' : `all ${n} threads are`} blocked in futex waits that nothing can wake` });
        return false;
      }
      // Every thread sleeps: the process idles until the earliest timeout.
      p.chargedNs += Math.max(0, earliest - now);
      for (const t of this.waiters) if (t.deadline <= earliest) this.timeOut(t);
      this.waiters = this.waiters.filter((t) => t.state === 'blocked');
    }
  }

  private pickAfter(tid: number): GuestThread | null {
    let first: GuestThread | null = null;
    for (const t of this.threads) {
      if (t.state !== 'runnable') continue;
      if (t.tid > tid) return t;
      first ??= t;
    }
    return first;
  }

  /** Ends `t`'s futex wait with -ETIMEDOUT in a0 (in the hart when `t` is the current thread). */
  private timeOut(t: GuestThread): void {
    t.state = 'runnable';
    const x = t === this.current ? this.p.hart.x : t.x;
    x[20] = -ETIMEDOUT;
    x[21] = -1;
  }

  /** Saves the hart into the current thread and loads `t`'s registers into it. */
  private switchTo(t: GuestThread): void {
    const h = this.p.hart;
    // Linux breaks the reservation on every task switch (see the file comment).
    h.reservation = -1;
    if (t === this.current) return;
    const c = this.current;
    if (c.state !== 'exited') {
      c.x.set(h.x);
      c.f.set(h.fu32);
      c.pc = h.pc;
      c.flags = h.flags;
      c.frm = h.frm;
    }
    h.x.set(t.x);
    h.fu32.set(t.f);
    h.pc = t.pc;
    h.flags = t.flags;
    h.frm = t.frm;
    this.current = t;
    this.switches++;
  }

  // ---- the system calls ----

  /** clone(flags, newsp, ptid, tls, ctid) for a new thread of this process; returns its tid. */
  clone(flags: number, newsp: number, ptid: number, tls: number, ctid: number): number {
    const p = this.p;
    if ((flags & CLONE_THREAD_FLAGS) !== CLONE_THREAD_FLAGS) {
      // A new process (fork, vfork, posix_spawn): this sandbox runs one process.
      p.unimplemented.set(220, (p.unimplemented.get(220) ?? 0) + 1);
      return -ENOSYS;
    }
    const h = p.hart;
    const t = newThread(this.nextTid++);
    t.x.set(h.x);
    t.f.set(h.fu32);
    t.flags = h.flags;
    t.frm = h.frm;
    // The child resumes after the ecall with a0 = 0, on its own stack and TLS.
    t.pc = h.pc + 4;
    t.x[20] = 0;
    t.x[21] = 0;
    if (newsp !== 0) setReg(t.x, 2, newsp);
    if (flags & CLONE_SETTLS) setReg(t.x, 4, tls);
    if (flags & CLONE_PARENT_SETTID) writeU32(p, ptid, t.tid);
    if (flags & CLONE_CHILD_SETTID) writeU32(p, ctid, t.tid);
    if (flags & CLONE_CHILD_CLEARTID) t.clearChildTid = ctid;
    this.threads.push(t);
    // The parent goes on; slicing starts (or goes on) from here, whatever the caller's budget.
    if (this.threads.length === 2) this.sliceLeft = THREAD_QUANTUM;
    this.stopRequested = true;
    return t.tid;
  }

  /** exit of the calling thread: clears and wakes its child tid; the last thread's exit ends the process. */
  exitThread(code: number): void {
    const p = this.p;
    const t = this.current;
    if (t.clearChildTid !== 0) {
      try {
        writeU32(p, t.clearChildTid, 0);
        this.wake(t.clearChildTid, 1, -1);
      } catch {
        // Linux ignores a fault on the clear_child_tid word.
      }
    }
    t.state = 'exited';
    this.threads = this.threads.filter((x) => x !== t);
    if (this.threads.length === 0) p.end({ state: 'exited', exitCode: code & 0xff });
    this.stopRequested = true;
  }

  /** The futex system call. */
  futex(addr: number, op: number, val: number, timeout: number, addr2: number, val3: number): number {
    const p = this.p;
    const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    switch (cmd) {
      case FUTEX_WAIT:
      case FUTEX_WAIT_BITSET: {
        const bits = cmd === FUTEX_WAIT ? -1 : val3;
        if (bits === 0) return -EINVAL;
        if (addr % 4 !== 0) return -EINVAL;
        let deadline = Infinity;
        if (timeout !== 0) {
          p.mem.check(timeout, 16, PERM_R);
          const sec = Number(p.mem.dv.getBigInt64(timeout, true));
          const nsec = Number(p.mem.dv.getBigInt64(timeout + 8, true));
          if (sec < 0 || nsec < 0 || nsec >= 1e9) return -EINVAL;
          // FUTEX_WAIT's timeout is relative, FUTEX_WAIT_BITSET's absolute (both on the guest's one clock).
          deadline = (cmd === FUTEX_WAIT ? p.options.now() : 0) + sec * 1e9 + nsec;
        }
        if (readU32(p, addr) !== val >>> 0) return -EAGAIN;
        if (deadline <= p.options.now()) return -ETIMEDOUT;
        const t = this.current;
        t.state = 'blocked';
        t.waitAddr = addr;
        t.waitBits = bits;
        t.deadline = deadline;
        this.waiters.push(t);
        this.stopRequested = true;
        // The answer when a wake comes; a timeout replaces it with -ETIMEDOUT.
        return 0;
      }
      case FUTEX_WAKE:
      case FUTEX_WAKE_BITSET: {
        const bits = cmd === FUTEX_WAKE ? -1 : val3;
        if (bits === 0) return -EINVAL;
        return this.wake(addr, val, bits);
      }
      case FUTEX_REQUEUE:
      case FUTEX_CMP_REQUEUE: {
        if (cmd === FUTEX_CMP_REQUEUE && readU32(p, addr) !== val3 >>> 0) return -EAGAIN;
        // val2 (the most to requeue) is passed in the timeout argument.
        const woken = this.wake(addr, val, -1);
        let moved = 0;
        for (const t of this.waiters) {
          if (moved >= timeout) break;
          if (t.state === 'blocked' && t.waitAddr === addr) {
            t.waitAddr = addr2;
            moved++;
          }
        }
        return woken + moved;
      }
      case FUTEX_WAKE_OP: {
        // val3 encodes: op (bits 28–31, 8 = oparg is a shift), cmp (24–27), oparg (12–23), cmparg (0–11).
        const opKind = (val3 >>> 28) & 7;
        const shift = (val3 >>> 28) & 8;
        const cmpKind = (val3 >>> 24) & 15;
        let oparg = (val3 << 8) >> 20;
        const cmparg = (val3 << 20) >> 20;
        if (shift) oparg = 1 << (oparg & 31);
        const old = readU32(p, addr2) | 0;
        const next = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][opKind];
        if (next === undefined) return -ENOSYS;
        writeU32(p, addr2, next);
        let woken = this.wake(addr, val, -1);
        const cmp = [old === cmparg, old !== cmparg, old < cmparg, old <= cmparg, old > cmparg, old >= cmparg][cmpKind];
        if (cmp === undefined) return -ENOSYS;
        if (cmp) woken += this.wake(addr2, timeout, -1);
        return woken;
      }
      default:
        // Priority-inheritance futexes and the rest: not modelled.
        return -ENOSYS;
    }
  }

  /** Wakes up to `n` threads waiting on `addr` whose bitset meets `bits`, first in first out; returns how many. */
  private wake(addr: number, n: number, bits: number): number {
    let woken = 0;
    for (const t of this.waiters) {
      if (woken >= n) break;
      if (t.state === 'blocked' && t.waitAddr === addr && (t.waitBits & bits) !== 0) {
        t.state = 'runnable';
        woken++;
      }
    }
    if (woken > 0) this.waiters = this.waiters.filter((t) => t.state === 'blocked');
    return woken;
  }

  /** sched_yield: the rest of the quantum goes to the next runnable thread. */
  yield(): void {
    if (this.threads.length > 1) {
      this.sliceLeft = 0;
      this.stopRequested = true;
    }
  }

  // ---- snapshots ----

  /** The threads' state; the current thread's registers are the hart's, saved with it. */
  save(): ThreadsState {
    return {
      threads: this.threads.map((t) => ({
        tid: t.tid, state: t.state, x: [...t.x], f: [...t.f], pc: t.pc, flags: t.flags, frm: t.frm,
        clearChildTid: t.clearChildTid, waitAddr: t.waitAddr, waitBits: t.waitBits,
        deadline: t.deadline === Infinity ? null : t.deadline, instructions: t.instructions,
      })),
      current: this.current.tid,
      sliceLeft: this.sliceLeft,
      nextTid: this.nextTid,
      waiters: this.waiters.map((t) => t.tid),
      switches: this.switches,
    };
  }

  load(s: ThreadsState): void {
    const byTid = new Map<number, GuestThread>();
    this.threads = s.threads.map((d) => {
      const t = newThread(d.tid);
      t.state = d.state;
      t.x.set(d.x);
      t.f.set(d.f);
      Object.assign(t, { pc: d.pc, flags: d.flags, frm: d.frm, clearChildTid: d.clearChildTid, waitAddr: d.waitAddr, waitBits: d.waitBits, deadline: d.deadline ?? Infinity, instructions: d.instructions });
      byTid.set(t.tid, t);
      return t;
    });
    // The current thread may have exited (the process ended in its exit): keep a record for it.
    this.current = byTid.get(s.current) ?? Object.assign(newThread(s.current), { state: 'exited' as const });
    this.sliceLeft = s.sliceLeft;
    this.nextTid = s.nextTid;
    this.waiters = s.waiters.map((tid) => byTid.get(tid)!);
    this.switches = s.switches;
    this.stopRequested = false;
  }
}

function setReg(x: Int32Array, r: number, v: number): void {
  x[2 * r] = v | 0;
  x[2 * r + 1] = Math.floor(v / 4294967296) | 0;
}

function readU32(p: GuestProcess, addr: number): number {
  p.mem.check(addr, 4, PERM_R);
  return p.mem.dv.getUint32(addr, true);
}

function writeU32(p: GuestProcess, addr: number, v: number): void {
  p.mem.check(addr, 4, PERM_W);
  p.mem.dv.setUint32(addr, v >>> 0, true);
  p.mem.wrote(addr, 4);
}

/**
 * The thread system calls, by name; syscalls.ts merges them into its table (they
 * replace the single-threaded answers of exit, gettid, futex and the like).
 */
export const THREAD_SYSCALLS: Readonly<Record<string, SyscallHandler>> = {
  // rv64 passes clone's arguments as flags, newsp, parent_tid, tls, child_tid.
  clone: (p) => p.threads.clone(p.arg(0), p.arg(1), p.arg(2), p.arg(3), p.arg(4)),
  futex: (p) => p.threads.futex(p.arg(0), p.argInt(1), p.argInt(2), p.arg(3), p.arg(4), p.argInt(5)),
  set_tid_address: (p) => {
    p.threads.current.clearChildTid = p.arg(0);
    return p.threads.current.tid;
  },
  gettid: (p) => p.threads.current.tid,
  sched_yield: (p) => {
    p.threads.yield();
    return 0;
  },
  exit: (p) => {
    p.threads.exitThread(p.argInt(0));
    return 0;
  },
};
