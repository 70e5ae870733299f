// POSIX signals of a RISC-V Linux user process, as the kernel delivers them: the
// disposition of each signal (rt_sigaction), the blocked mask (rt_sigprocmask), the
// pending set that kill/tkill/tgkill and the kernel itself (SIGPIPE) add to, and
// delivery at the end of a system call — a default action (terminate, terminate with
// core, ignore), or a handler run on the guest stack with the kernel's rt_sigframe
// (siginfo, then a ucontext holding the mask and every register) that returns through
// rt_sigreturn. RISC-V has no SA_RESTORER: the kernel returns through the vDSO's
// trampoline, and so do we, through a one-page trampoline mapped on first delivery.
//
// Only signals raised by system calls are delivered here; a synchronous fault
// (SIGSEGV, SIGBUS, SIGILL) still ends the process with its default action.

import type { GuestProcess } from './process';
import { GuestFault, PAGE_SIZE, PERM_MAPPED, PERM_R, PERM_W, PERM_X } from './memory';

export const SIGKILL = 9;
export const SIGPIPE = 13;
export const SIGSTOP = 19;
const SIGSEGV = 11;

const SIG_DFL = 0;
const SIG_IGN = 1;
const SA_SIGINFO = 4;
const SA_NODEFER = 0x40000000;
const SA_RESETHAND = 0x80000000;

/** Signals whose default action ends the process with a core dump (status still 128 + sig). */
const CORE = new Set([3, 4, 5, 6, 7, 8, 11, 24, 25, 31]);
/**
 * Signals whose default action is to do nothing: SIGCHLD, SIGCONT, SIGURG, SIGWINCH;
 * and the stop signals, since a sandboxed process has no job control to stop it.
 */
const IGNORED = new Set([17, 18, 20, 21, 22, 23, 28]);

/** rt_sigframe: siginfo (128 bytes), then the ucontext. */
const SIGINFO_BYTES = 128;
/** ucontext: flags, link, stack_t (24), sigmask (8), 120 bytes reserved, then mcontext. */
const UC_SIGMASK = 40;
const UC_MCONTEXT = 168;
/** mcontext: pc and x1..x31 (256 bytes), then the FP state (union of F, D, Q: 528 bytes). */
const MC_FP = 256;
const MC_FCSR = MC_FP + 256;
const FRAME_BYTES = SIGINFO_BYTES + UC_MCONTEXT + 256 + 528;

/** The value a handler returns when it has set every register itself (rt_sigreturn). */
export const KEEP_REGISTERS = -(2 ** 52);

export interface SignalAction {
  handler: number;
  flags: number;
  mask: bigint;
}

export interface SignalState {
  /** Index 1..64; index 0 unused. */
  actions: SignalAction[];
  blocked: bigint;
  pending: bigint;
  /** The page holding `li a7, 139; ecall`, or -1 before the first handler runs. */
  trampoline: number;
  /** The siginfo (128 bytes) of each pending signal, as its sender made it. */
  info: Map<number, Uint8Array>;
}

export function newSignalState(): SignalState {
  return { actions: Array.from({ length: 65 }, () => ({ handler: SIG_DFL, flags: 0, mask: 0n })), blocked: 0n, pending: 0n, trampoline: -1, info: new Map() };
}

/** si_code values: sent by kill, by tkill/tgkill, by sigqueue; raised by the kernel. */
export const SI_USER = 0;
export const SI_TKILL = -6;
export const SI_KERNEL = 0x80;

/** SIGKILL and SIGSTOP can be neither blocked nor caught. */
const UNBLOCKABLE = ~((1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1))) & 0xffffffffffffffffn;

const bit = (sig: number) => 1n << BigInt(sig - 1);

/**
 * Adds a signal to the pending set, with the siginfo the kernel would make (signo,
 * code, and the sender's pid and uid), unless `info` is given; it is delivered when
 * the current call returns. A standard signal already pending is not queued twice.
 */
export function raise(p: GuestProcess, sig: number, code = SI_KERNEL, info?: Uint8Array): void {
  const s = p.linux.signals;
  if (s.pending & bit(sig)) return;
  s.pending |= bit(sig);
  let si = info;
  if (!si) {
    si = new Uint8Array(SIGINFO_BYTES);
    const dv = new DataView(si.buffer);
    dv.setInt32(8, code, true);
    if (code <= 0) {
      dv.setInt32(16, 1000, true); // the process id every guest sees (syscalls.ts PID)
      dv.setInt32(20, 1000, true);
    }
  }
  new DataView(si.buffer, si.byteOffset).setInt32(0, sig, true);
  s.info.set(sig, si);
}

function sigset(p: GuestProcess, at: number): bigint {
  return p.mem.dv.getBigUint64(at, true) & 0xffffffffffffffffn;
}

/** rt_sigaction(sig, act, oldact, sigsetsize): the riscv kernel sigaction is {handler, flags, mask}. */
export function rtSigaction(p: GuestProcess): number {
  const sig = p.argInt(0);
  const act = p.arg(1);
  const old = p.arg(2);
  if (p.arg(3) !== 8) return -22;
  if (sig < 1 || sig > 64 || (act && (sig === SIGKILL || sig === SIGSTOP))) return -22;
  const s = p.linux.signals;
  const cur = s.actions[sig];
  if (act) p.mem.check(act, 24, PERM_R);
  if (old) {
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(cur.handler), true);
    dv.setBigUint64(8, BigInt(cur.flags >>> 0), true);
    dv.setBigUint64(16, cur.mask, true);
    p.mem.write(old, b);
  }
  if (act) {
    const dv = p.mem.dv;
    s.actions[sig] = { handler: Number(dv.getBigUint64(act, true)), flags: Number(dv.getBigUint64(act + 8, true) & 0xffffffffn), mask: sigset(p, act + 16) & UNBLOCKABLE };
    // Setting a signal to be ignored discards it if pending (POSIX).
    if (s.actions[sig].handler === SIG_IGN || (s.actions[sig].handler === SIG_DFL && IGNORED.has(sig))) {
      s.pending &= ~bit(sig);
      s.info.delete(sig);
    }
  }
  return 0;
}

/** rt_sigprocmask(how, set, oldset, sigsetsize). */
export function rtSigprocmask(p: GuestProcess): number {
  const how = p.argInt(0);
  const set = p.arg(1);
  const old = p.arg(2);
  if (p.arg(3) !== 8) return -22;
  const s = p.linux.signals;
  let next = s.blocked;
  if (set) {
    p.mem.check(set, 8, PERM_R);
    const v = sigset(p, set);
    if (how === 0) next = s.blocked | v;
    else if (how === 1) next = s.blocked & ~v;
    else if (how === 2) next = v;
    else return -22;
  }
  if (old) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, s.blocked, true);
    p.mem.write(old, b);
  }
  s.blocked = next & UNBLOCKABLE;
  return 0;
}

/** Sends `sig` to this process (the only one a guest can see): 0 checks, out of range is EINVAL. */
export function sendSelf(p: GuestProcess, sig: number, code: number): number {
  if (sig < 0 || sig > 64) return -22;
  if (sig !== 0) raise(p, sig, code);
  return 0;
}

/** rt_sigqueueinfo(tgid, sig, info): the caller's own siginfo, which may not pretend to come from the kernel or kill. */
export function rtSigqueueinfo(p: GuestProcess, pid: number): number {
  const sig = p.argInt(1);
  if (p.argInt(0) !== pid) return -3;
  if (sig < 0 || sig > 64) return -22;
  const info = p.mem.read(p.arg(2), SIGINFO_BYTES).slice();
  const code = new DataView(info.buffer).getInt32(8, true);
  if (code >= 0 || code === SI_TKILL) return -1;
  if (sig !== 0) raise(p, sig, code, info);
  return 0;
}

/** rt_sigpending(set, sigsetsize): the pending signals that are blocked. */
export function rtSigpending(p: GuestProcess): number {
  if (p.arg(1) > 8) return -22;
  const s = p.linux.signals;
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, s.pending & s.blocked, true);
  p.mem.write(p.arg(0), b.subarray(0, p.arg(1)));
  return 0;
}

/**
 * Delivers the lowest pending, unblocked signal, as the kernel does on the way back
 * from a system call: called with hart.pc at the instruction the guest resumes at.
 * Returns the pc to go on at (a handler's, or the same), or -1 when the process ended.
 */
export function deliverSignals(p: GuestProcess): number {
  const s = p.linux.signals;
  for (;;) {
    const ready = s.pending & ~s.blocked;
    if (ready === 0n) return p.hart.pc;
    let sig = 1;
    while (!(ready & bit(sig))) sig++;
    s.pending &= ~bit(sig);
    const info = s.info.get(sig);
    s.info.delete(sig);
    const act = s.actions[sig];
    if (act.handler === SIG_IGN) continue;
    if (act.handler === SIG_DFL) {
      if (IGNORED.has(sig)) continue;
      p.end({ state: 'signaled', signal: sig, message: `${SIGNAL_NAMES[sig] ?? `real-time signal ${sig}`}, default action${CORE.has(sig) ? ' (core dump)' : ''}` });
      return -1;
    }
    return runHandler(p, sig, act, info);
  }
}

function runHandler(p: GuestProcess, sig: number, act: SignalAction, info: Uint8Array | undefined): number {
  const s = p.linux.signals;
  const h = p.hart;
  const x = h.x;
  const reg = (i: number) => BigInt.asUintN(64, (BigInt(x[2 * i + 1]) << 32n) | BigInt(x[2 * i] >>> 0));
  const frame = Number((reg(2) - BigInt(FRAME_BYTES)) & ~15n);
  const b = new Uint8Array(FRAME_BYTES);
  const dv = new DataView(b.buffer);
  // siginfo: signo, errno, code, then (for a signal a process sent) its pid and uid.
  if (info) b.set(info);
  dv.setInt32(0, sig, true);
  const uc = SIGINFO_BYTES;
  dv.setBigUint64(uc + UC_SIGMASK, s.blocked, true);
  // uc_stack: no alternate stack (ss_flags SS_DISABLE).
  dv.setInt32(uc + 16 + 8, 2, true);
  const mc = uc + UC_MCONTEXT;
  dv.setBigUint64(mc, BigInt(h.pc), true);
  for (let i = 1; i < 32; i++) dv.setBigUint64(mc + 8 * i, reg(i), true);
  for (let i = 0; i < 64; i++) dv.setUint32(mc + MC_FP + 4 * i, h.fu32[i], true);
  dv.setUint32(mc + MC_FCSR, (h.frm << 5) | h.flags, true);
  try {
    p.mem.write(frame, b);
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
    // No room on the stack: the kernel forces SIGSEGV.
    p.end({ state: 'signaled', signal: SIGSEGV, message: `no stack to deliver signal ${sig} on` });
    return -1;
  }
  s.blocked = (s.blocked | act.mask | (act.flags & SA_NODEFER ? 0n : bit(sig))) & UNBLOCKABLE;
  if (act.flags & SA_RESETHAND) s.actions[sig] = { handler: SIG_DFL, flags: 0, mask: 0n };
  const set = (i: number, v: number) => {
    x[2 * i] = v | 0;
    x[2 * i + 1] = Math.floor(v / 4294967296) | 0;
  };
  set(1, trampoline(p));
  set(2, frame);
  set(10, sig);
  set(11, act.flags & SA_SIGINFO ? frame : 0);
  set(12, act.flags & SA_SIGINFO ? frame + uc : 0);
  return act.handler;
}

/** The page with `li a7, 139; ecall` that handlers return through (the kernel's vDSO does this). */
function trampoline(p: GuestProcess): number {
  const s = p.linux.signals;
  if (s.trampoline >= 0) return s.trampoline;
  const mem = p.mem;
  let at = -1;
  for (let start = p.linux.mmapFloor - PAGE_SIZE; start >= p.linux.brkStart + 16 * PAGE_SIZE; start -= PAGE_SIZE) {
    if (mem.isFree(start, PAGE_SIZE)) {
      at = start;
      break;
    }
  }
  if (at < 0) throw new GuestFault(SIGSEGV, 0, 'no room for the signal trampoline');
  mem.protect(at, PAGE_SIZE, PERM_MAPPED | PERM_R | PERM_W);
  const code = new Uint8Array(8);
  new DataView(code.buffer).setUint32(0, 0x08b00893, true); // addi a7, zero, 139
  new DataView(code.buffer).setUint32(4, 0x00000073, true); // ecall
  mem.write(at, code);
  mem.protect(at, PAGE_SIZE, PERM_MAPPED | PERM_R | PERM_X);
  p.linux.mmapFloor = Math.min(p.linux.mmapFloor, at);
  s.trampoline = at;
  return at;
}

/** rt_sigreturn: restores the registers, FP state and mask saved in the frame at sp. */
export function rtSigreturn(p: GuestProcess): number {
  const h = p.hart;
  const x = h.x;
  const b = p.mem.read(x[5] * 4294967296 + (x[4] >>> 0), FRAME_BYTES);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const uc = SIGINFO_BYTES;
  const mc = uc + UC_MCONTEXT;
  p.linux.signals.blocked = dv.getBigUint64(uc + UC_SIGMASK, true) & UNBLOCKABLE;
  for (let i = 1; i < 32; i++) {
    x[2 * i] = dv.getInt32(mc + 8 * i, true);
    x[2 * i + 1] = dv.getInt32(mc + 8 * i + 4, true);
  }
  for (let i = 0; i < 64; i++) h.fu32[i] = dv.getUint32(mc + MC_FP + 4 * i, true);
  const fcsr = dv.getUint32(mc + MC_FCSR, true);
  h.flags = fcsr & 31;
  h.frm = (fcsr >>> 5) & 7;
  h.pc = Number(dv.getBigUint64(mc, true));
  return KEEP_REGISTERS;
}

const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 10: 'SIGUSR1',
  11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};

/** Signal state in a snapshot (masks as decimal strings). */
export function saveSignals(s: SignalState): unknown {
  return {
    actions: s.actions.map((a) => ({ handler: a.handler, flags: a.flags, mask: a.mask.toString() })),
    blocked: s.blocked.toString(),
    pending: s.pending.toString(),
    trampoline: s.trampoline,
    info: [...s.info].map(([sig, b]) => [sig, Array.from(b)]),
  };
}

export function loadSignals(d: unknown): SignalState {
  if (!d) return newSignalState();
  const v = d as { actions: Array<{ handler: number; flags: number; mask: string }>; blocked: string; pending: string; trampoline: number; info?: Array<[number, number[]]> };
  return {
    actions: v.actions.map((a) => ({ handler: a.handler, flags: a.flags, mask: BigInt(a.mask) })),
    blocked: BigInt(v.blocked),
    pending: BigInt(v.pending),
    trampoline: v.trampoline,
    info: new Map((v.info ?? []).map(([sig, b]) => [sig, Uint8Array.from(b)])),
  };
}
