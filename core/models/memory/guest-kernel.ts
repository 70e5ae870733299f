// The guest side of a VM for memory virtualization: its guest-physical memory, and
// processes with real page tables in it (mmap, munmap, demand mapping, fork with
// copy-on-write, exit, mprotect). MMU strategies see the kernel's page-table writes,
// flushes and root switches through the calls the workloads make on them.

import { F_WRITE, PhysicalMemory, RadixTable, WalkResult } from './paging';

export interface GuestProcessSpace {
  readonly asid: number;
  readonly table: RadixTable;
  /** Mapped virtual pages, for the workload to draw accesses from. */
  readonly pages: number[];
  /** False once the process has exited. */
  alive: boolean;
}

/** The guest side of one VM: its physical memory, page tables and processes. */
export class GuestKernel {
  readonly mem: PhysicalMemory;
  readonly processes: GuestProcessSpace[] = [];
  /** Index of the running process; change it through an MMU strategy's rootSwitch. */
  current = 0;
  /** TLB tag of the running process (VMID and ASID), kept with `current`. */
  ctxTag = 0;
  private nextVpn: number[] = [];

  constructor(
    readonly vmid: number,
    guestFrames: number,
    readonly levels: 3 | 4 | 5,
  ) {
    this.mem = new PhysicalMemory(guestFrames);
  }

  save(): unknown {
    return {
      mem: this.mem.save(),
      processes: this.processes.map((p) => ({ asid: p.asid, root: p.table.root, pages: [...p.pages], alive: p.alive })),
      current: this.current,
      ctxTag: this.ctxTag,
      nextVpn: [...this.nextVpn],
    };
  }

  load(data: unknown): void {
    const s = data as { mem: ReturnType<PhysicalMemory['save']>; processes: Array<{ asid: number; root: number; pages: number[]; alive: boolean }>; current: number; ctxTag: number; nextVpn: number[] };
    this.mem.load(s.mem);
    this.processes.length = 0;
    for (const p of s.processes) this.processes.push({ asid: p.asid, table: new RadixTable(this.mem, this.levels, p.root), pages: [...p.pages], alive: p.alive });
    this.current = s.current;
    this.ctxTag = s.ctxTag;
    this.nextVpn = [...s.nextVpn];
  }

  spawn(): GuestProcessSpace {
    const p: GuestProcessSpace = { asid: this.processes.length + 1, table: new RadixTable(this.mem, this.levels), pages: [], alive: true };
    this.processes.push(p);
    if (this.processes.length === 1) this.ctxTag = this.vmid * 65536 + p.asid;
    this.nextVpn.push(0x10000);
    return p;
  }

  /** Maps `count` new pages in process p; returns the guest-physical addresses of the entries written. */
  mmap(p: number, count: number): number[] {
    const proc = this.processes[p];
    const written: number[] = [];
    for (let i = 0; i < count; i++) {
      const frame = this.mem.alloc();
      if (frame < 0) break;
      const vpn = this.nextVpn[p]++;
      proc.table.map(vpn, frame, F_WRITE, written);
      proc.pages.push(vpn);
    }
    return written;
  }

  /** Maps page vpn of p to a new frame (a demand fault); returns the entry addresses written. */
  mapPage(p: number, vpn: number): number[] {
    const frame = this.mem.alloc();
    if (frame < 0) throw new Error(`guest memory of VM ${this.vmid} is exhausted`);
    const written = this.processes[p].table.map(vpn, frame, F_WRITE);
    this.processes[p].pages.push(vpn);
    return written;
  }

  /** Unmaps page vpn of p; returns the entry address written, or -1 if it was not mapped. */
  unmapPage(p: number, vpn: number): number {
    const w = new WalkResult();
    this.processes[p].table.walk(vpn, w);
    const addr = this.processes[p].table.unmap(vpn);
    if (w.frame >= 0) this.mem.free(w.frame);
    return addr;
  }

  /** Unmaps the oldest `count` pages of p; returns [vpn, entry address] pairs. */
  munmap(p: number, count: number): Array<[number, number]> {
    const proc = this.processes[p];
    const out: Array<[number, number]> = [];
    for (let i = 0; i < count && proc.pages.length > 1; i++) {
      const vpn = proc.pages.shift()!;
      const w = new WalkResult();
      proc.table.walk(vpn, w);
      const addr = proc.table.unmap(vpn);
      if (w.frame >= 0) this.mem.free(w.frame);
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
    const child = this.spawn();
    const c = this.processes.length - 1;
    const written: number[] = [];
    const w = new WalkResult();
    for (const vpn of parent.pages) {
      parent.table.walk(vpn, w);
      if (w.frame < 0) continue;
      child.table.map(vpn, w.frame, 0, written);
      parent.table.map(vpn, w.frame, 0, written);
      child.pages.push(vpn);
    }
    this.nextVpn[c] = this.nextVpn[p];
    return { child: c, written, parentVpns: [...parent.pages] };
  }

  /** Ends process p: every page is unmapped; returns [vpn, entry address] pairs. */
  exit(p: number): Array<[number, number]> {
    const proc = this.processes[p];
    const out: Array<[number, number]> = [];
    for (const vpn of proc.pages) out.push([vpn, proc.table.unmap(vpn)]);
    proc.pages.length = 0;
    proc.alive = false;
    return out;
  }

  /** Indexes of the processes still alive. */
  alive(): number[] {
    const out: number[] = [];
    this.processes.forEach((p, i) => p.alive && out.push(i));
    return out;
  }

  /** Changes the permissions of a process's page: one entry written, or -1 if unmapped. */
  protect(p: number, vpn: number, flags: number): number {
    const proc = this.processes[p];
    const w = new WalkResult();
    proc.table.walk(vpn, w);
    if (w.frame < 0) return -1;
    const written = proc.table.map(vpn, w.frame, flags);
    return written[written.length - 1];
  }

  /** Remaps vpn of p to a new frame (a page migrated or copied on write): one entry written. */
  remap(p: number, vpn: number): number {
    const frame = this.mem.alloc();
    const written = this.processes[p].table.map(vpn, frame >= 0 ? frame : 0, F_WRITE);
    return written[written.length - 1];
  }
}

