// The guest side of a VM for memory virtualization: its guest-physical memory, and
// processes with real page tables in it (mmap, munmap, demand mapping, fork with
// copy-on-write, exit, mprotect). MMU strategies see the kernel's page-table writes,
// flushes, root switches and privilege changes through the calls the workloads make
// on them. The kernel's own data lives in the upper half of every address space
// (one kernel subtree shared by all processes, as Linux shares its kernel page
// tables), mapped without the user bit; user pages carry it. Frames
// carry reference counts (in a typed array) so that pages shared by fork are copied
// on the first write and freed when the last process lets go of them.

import { token } from '../../engine/tokens';
import { ENTRIES, F_USER, F_VALID, F_WRITE, PAGE, PhysicalMemory, RadixTable, WalkResult, type GuestTable } from './paging';

/**
 * The guest's privilege as the MMU sees it: user mode; supervisor mode; supervisor
 * mode with user memory accessible (RISC-V sstatus.SUM, x86 EFLAGS.AC under SMAP),
 * which the kernel sets only while it copies to or from user pages.
 */
export const PRIV_USER = 0;
export const PRIV_SUPERVISOR = 1;
export const PRIV_SUPERVISOR_SUM = 2;
export type GuestPrivilege = typeof PRIV_USER | typeof PRIV_SUPERVISOR | typeof PRIV_SUPERVISOR_SUM;

/** The root-table index of the kernel half (the first entry of the upper half). */
const KERNEL_ROOT_INDEX = ENTRIES / 2;

/** A VM's guest-physical memory as one contiguous run of host frames. */
export interface DirectSegment {
  readonly host: number;
  /** First host frame. */
  readonly base: number;
  readonly frames: number;
}

/**
 * Placements that put each VM in one contiguous host region (placement.contiguous)
 * provide this, so that the workload hands the region to the MMU strategy (direct
 * segments use it as their base and limit rather than allocating memory of their own).
 */
export interface DirectSegments {
  /** The segment of a VM entity, or null if it has none (not placed, or not in one piece). */
  segmentOf(vm: number): DirectSegment | null;
}
export const DirectSegments = token<DirectSegments>('DirectSegments');

export interface GuestProcessSpace {
  readonly asid: number;
  /** What strategies walk: the model's RadixTable, or a view of a real kernel's tables. */
  readonly table: GuestTable;
  /** Mapped virtual pages, for the workload to draw accesses from. */
  readonly pages: number[];
  /** False once the process has exited. */
  alive: boolean;
}

/** The guest side of one VM: its physical memory, page tables and processes. */
export class GuestKernel {
  readonly mem: PhysicalMemory;
  readonly processes: GuestProcessSpace[] = [];
  /** The model's own tables of its processes (by index), which it maps and unmaps. */
  private readonly radix: RadixTable[] = [];
  /** Index of the running process; change it through an MMU strategy's rootSwitch. */
  current = 0;
  /** TLB tag of the running process (VMID and ASID), kept with `current`. */
  ctxTag = 0;
  private nextVpn: number[] = [];
  /** Per guest frame: how many mappings share it (fork shares, copy-on-write splits). */
  private refs: Uint16Array;
  /** Per process: pages shared read-only since a fork, that a write copies. */
  private cow: Array<Set<number>> = [];
  /**
   * Where the placement put this VM's guest-physical memory in host memory, as one
   * contiguous run of host frames (direct segments need it); null when the placement
   * gives no such promise and the MMU strategy backs guest memory itself.
   */
  segment: DirectSegment | null = null;
  /** The privilege the guest runs at; change it through an MMU strategy's `privilege`. */
  privilege: GuestPrivilege = PRIV_USER;
  /** First virtual page of the kernel half: pages from here on are kernel pages. */
  readonly kernelBase: number;
  /** TLB tag of kernel pages: they are global (ASID 0 is never a process's), so no switch or per-ASID flush drops them. */
  readonly kernelTag: number;
  /** The kernel's data pages (in every address space). */
  readonly kernelPages: number[] = [];
  /** The root entry of the shared kernel subtree (0 until the kernel maps its pages). */
  private kernelRootEntry = 0;

  constructor(
    readonly vmid: number,
    guestFrames: number,
    readonly levels: 3 | 4 | 5,
  ) {
    this.mem = new PhysicalMemory(guestFrames);
    this.refs = new Uint16Array(guestFrames);
    this.kernelBase = KERNEL_ROOT_INDEX * ENTRIES ** (levels - 1);
    this.kernelTag = vmid * 65536;
  }

  save(): unknown {
    return {
      mem: this.mem.save(),
      processes: this.processes.map((p) => ({ asid: p.asid, root: p.table.root, pages: [...p.pages], alive: p.alive })),
      current: this.current,
      ctxTag: this.ctxTag,
      nextVpn: [...this.nextVpn],
      refs: this.refs.slice(),
      cow: this.cow.map((c) => [...c]),
      segment: this.segment,
      privilege: this.privilege,
      kernelPages: [...this.kernelPages],
      kernelRootEntry: this.kernelRootEntry,
    };
  }

  load(data: unknown): void {
    const s = data as { mem: ReturnType<PhysicalMemory['save']>; processes: Array<{ asid: number; root: number; pages: number[]; alive: boolean }>; current: number; ctxTag: number; nextVpn: number[]; refs: Uint16Array; cow: number[][]; segment: GuestKernel['segment']; privilege: GuestPrivilege; kernelPages: number[]; kernelRootEntry: number };
    this.mem.load(s.mem);
    this.processes.length = 0;
    this.radix.length = 0;
    for (const p of s.processes) {
      const table = new RadixTable(this.mem, this.levels, p.root);
      this.radix.push(table);
      this.processes.push({ asid: p.asid, table, pages: [...p.pages], alive: p.alive });
    }
    this.current = s.current;
    this.ctxTag = s.ctxTag;
    this.nextVpn = [...s.nextVpn];
    this.refs = Uint16Array.from(s.refs);
    this.cow = s.cow.map((c) => new Set(c));
    this.segment = s.segment ? { ...s.segment } : null;
    this.privilege = s.privilege;
    this.kernelPages.length = 0;
    this.kernelPages.push(...s.kernelPages);
    this.kernelRootEntry = s.kernelRootEntry;
  }

  /**
   * A new address space. Once the kernel has mapped its pages, the new root gets the
   * entry of the shared kernel subtree: one page-table write, whose guest-physical
   * address is pushed on `written`.
   */
  spawn(written: number[] = []): GuestProcessSpace {
    const table = new RadixTable(this.mem, this.levels);
    const p: GuestProcessSpace = { asid: this.processes.length + 1, table, pages: [], alive: true };
    this.radix.push(table);
    if (this.kernelRootEntry) {
      this.mem.entries[this.mem.table(p.table.root) + KERNEL_ROOT_INDEX] = this.kernelRootEntry;
      written.push(p.table.root * PAGE + KERNEL_ROOT_INDEX * 8);
    }
    this.processes.push(p);
    if (this.processes.length === 1) this.ctxTag = this.vmid * 65536 + p.asid;
    this.nextVpn.push(0x10000);
    this.cow.push(new Set());
    return p;
  }

  /**
   * Maps `count` kernel data pages (supervisor only: no user bit) in the kernel half of
   * process 0's table, whose kernel subtree every later address space shares. Returns
   * the entry addresses written and the kernel pages mapped.
   */
  mapKernel(count: number): { written: number[]; vpns: number[] } {
    if (!this.processes.length) throw new Error(`VM ${this.vmid}: the kernel maps its pages into its first address space, and there is none`);
    const table = this.radix[0];
    const written: number[] = [];
    const vpns: number[] = [];
    for (let i = 0; i < count; i++) {
      const frame = this.mem.alloc();
      if (frame < 0) throw new Error(`guest memory of VM ${this.vmid} is exhausted (kernel pages)`);
      this.refs[frame] = 1;
      const vpn = this.kernelBase + this.kernelPages.length;
      table.map(vpn, frame, F_WRITE, written);
      this.kernelPages.push(vpn);
      vpns.push(vpn);
    }
    this.kernelRootEntry = this.mem.entries[this.mem.table(table.root) + KERNEL_ROOT_INDEX];
    if (this.kernelRootEntry % 2 !== F_VALID) this.kernelRootEntry = 0;
    return { written, vpns };
  }

  /** Maps `count` new pages in process p; returns the guest-physical addresses of the entries written. */
  mmap(p: number, count: number): number[] {
    const proc = this.processes[p];
    const written: number[] = [];
    for (let i = 0; i < count; i++) {
      const frame = this.mem.alloc();
      if (frame < 0) break;
      const vpn = this.nextVpn[p]++;
      this.refs[frame] = 1;
      this.radix[p].map(vpn, frame, F_USER | F_WRITE, written);
      proc.pages.push(vpn);
    }
    return written;
  }

  /** Maps page vpn of p to a new frame (a demand fault); returns the entry addresses written. */
  mapPage(p: number, vpn: number): number[] {
    const frame = this.mem.alloc();
    if (frame < 0) throw new Error(`guest memory of VM ${this.vmid} is exhausted`);
    this.refs[frame] = 1;
    const written = this.radix[p].map(vpn, frame, F_USER | F_WRITE);
    this.processes[p].pages.push(vpn);
    return written;
  }

  /** Unmaps page vpn of p; returns the entry address written, or -1 if it was not mapped. */
  unmapPage(p: number, vpn: number): number {
    const w = new WalkResult();
    this.radix[p].walk(vpn, w);
    const addr = this.radix[p].unmap(vpn);
    this.release(w.frame);
    this.cow[p].delete(vpn);
    return addr;
  }

  /** Unmaps the oldest `count` pages of p; returns [vpn, entry address] pairs. */
  munmap(p: number, count: number): Array<[number, number]> {
    const proc = this.processes[p];
    const out: Array<[number, number]> = [];
    for (let i = 0; i < count && proc.pages.length > 1; i++) {
      const vpn = proc.pages.shift()!;
      const w = new WalkResult();
      this.radix[p].walk(vpn, w);
      const addr = this.radix[p].unmap(vpn);
      this.release(w.frame);
      this.cow[p].delete(vpn);
      out.push([vpn, addr]);
    }
    return out;
  }

  /**
   * Forks process p: the child maps the same frames read-only (copy on write), and the
   * parent's entries lose write permission. Returns the child's index, the entry
   * addresses written in both tables, and the vpns whose translations changed in p.
   */
  fork(p: number): { child: number; written: number[]; parentVpns: number[] } {
    const parent = this.processes[p];
    const written: number[] = [];
    const child = this.spawn(written);
    const c = this.processes.length - 1;
    const w = new WalkResult();
    const parentTable = this.radix[p];
    const childTable = this.radix[c];
    for (const vpn of parent.pages) {
      parentTable.walk(vpn, w);
      if (w.frame < 0) continue;
      childTable.map(vpn, w.frame, F_USER, written);
      parentTable.map(vpn, w.frame, F_USER, written);
      child.pages.push(vpn);
      this.refs[w.frame]++;
      this.cow[p].add(vpn);
      this.cow[c].add(vpn);
    }
    this.nextVpn[c] = this.nextVpn[p];
    return { child: c, written, parentVpns: [...parent.pages] };
  }

  /** Ends process p: every page is unmapped; returns [vpn, entry address] pairs. */
  exit(p: number): Array<[number, number]> {
    const proc = this.processes[p];
    const out: Array<[number, number]> = [];
    const w = new WalkResult();
    for (const vpn of proc.pages) {
      this.radix[p].walk(vpn, w);
      out.push([vpn, this.radix[p].unmap(vpn)]);
      this.release(w.frame);
    }
    proc.pages.length = 0;
    this.cow[p].clear();
    proc.alive = false;
    return out;
  }

  /** Indexes of the processes still alive. */
  alive(): number[] {
    const out: number[] = [];
    this.processes.forEach((p, i) => p.alive && out.push(i));
    return out;
  }

  /** Maps the next free virtual page of p to a new frame (an mmap'd page on its first touch). */
  mapNext(p: number): { vpn: number; written: number[] } {
    const vpn = this.nextVpn[p]++;
    return { vpn, written: this.mapPage(p, vpn) };
  }

  /** The next free virtual page of p, reserved (mmap'd) but not mapped: its first touch faults. */
  reserveNext(p: number): number {
    return this.nextVpn[p]++;
  }

  /** Whether vpn of p is shared read-only since a fork, so that a write to it faults. */
  isCow(p: number, vpn: number): boolean {
    const c = this.cow[p];
    return c.size > 0 && c.has(vpn);
  }

  /**
   * A write to a copy-on-write page of p: the page gets its own frame (a copy) if
   * another process still shares it, or just its write permission back if not. A
   * valid entry changes, so the kernel must flush it. Returns the entry address.
   */
  writeFault(p: number, vpn: number): number {
    const table = this.radix[p];
    const w = new WalkResult();
    table.walk(vpn, w);
    this.cow[p].delete(vpn);
    let frame = w.frame;
    if (this.refs[frame] > 1) {
      const copy = this.mem.alloc();
      if (copy < 0) throw new Error(`guest memory of VM ${this.vmid} is exhausted (copy on write)`);
      this.refs[frame]--;
      this.refs[copy] = 1;
      frame = copy;
    }
    const written = table.map(vpn, frame, F_USER | F_WRITE);
    return written[written.length - 1];
  }

  /** Drops one reference to a frame, freeing it with the last one. */
  private release(frame: number): void {
    if (frame < 0) return;
    if (this.refs[frame] > 0) this.refs[frame]--;
    if (this.refs[frame] === 0) this.mem.free(frame);
  }

  /** Changes the permissions of a process's (user) page: one entry written, or -1 if unmapped. */
  protect(p: number, vpn: number, flags: number): number {
    const table = this.radix[p];
    const w = new WalkResult();
    table.walk(vpn, w);
    if (w.frame < 0) return -1;
    const written = table.map(vpn, w.frame, flags | F_USER);
    return written[written.length - 1];
  }

  /** Remaps vpn of p to a new frame (a page migrated or copied on write): one entry written. */
  remap(p: number, vpn: number): number {
    const w = new WalkResult();
    this.radix[p].walk(vpn, w);
    const frame = this.mem.alloc();
    if (frame >= 0) this.refs[frame] = 1;
    this.release(w.frame);
    const written = this.radix[p].map(vpn, frame >= 0 ? frame : 0, F_USER | F_WRITE);
    return written[written.length - 1];
  }
}

