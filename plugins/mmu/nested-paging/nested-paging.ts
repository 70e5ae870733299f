// Nested paging (EPT, NPT, RISC-V G-stage): the hardware walks two tables. Every
// guest page-table entry address is guest-physical, so before each guest entry it
// reads, the walker translates that address through the host table (the EPT, a
// RadixTable in simulated host memory), and it translates the final guest-physical
// address the same way. Each host entry and each guest entry read is one counted
// reference: a cold walk of an n-level guest on an m-level host makes
// n + (n+1)·m = (n+1)(m+1)−1 of them (24 for 4+4, 35 for 5+5), because that is what
// the tables hold, not because a formula says so. Two real caches cut it down: the
// page-walk cache (guest entries by guest-virtual prefix, host entries by
// guest-physical prefix) and the nested TLB (guest-physical → host frame), both
// set-associative and sized by the host profile, with hits and misses counted. No
// guest event traps: page-table writes, flushes and root switches cost nothing
// beyond the shared bookkeeping, and a guest page fault is raised in the guest
// without an exit (its exception entry, pageFaultEntryCycles).
//
// Accessed and dirty bits of the EPT (core EptAccessBits, per guest frame): a walk of
// the EPT for a guest frame sets its A bit, as the processor does when it fills a
// translation, and a write (access(vm, vpn, true)) to a frame whose D bit is clear
// sets it with one more reference to the leaf entry, as the processor's assist does.
// Clearing the bits (clearAccessBits) writes each entry, then INVEPT: the VM's
// translations leave the TLB, the nested TLB and the page-walk cache, so the next
// access to each page walks again and sets its A bit again. This is what the
// dirty-log and working-set plugins read in a guest run at page granularity.

import { BaseMmu, EptAccessBits, HostBacking, PAGE, RadixTable, Tlb, WalkResult, type GuestKernel, type MmuContext } from 'virtlab';

export class NestedMmu extends BaseMmu {
  readonly name = 'nested-paging';
  private readonly epts = new Map<number, HostBacking>();
  private readonly ntlb: Tlb | null;
  private readonly gw = new WalkResult();
  private readonly hw = new WalkResult();
  private readonly bits = new Map<number, EptAccessBits>();

  constructor(ctx: MmuContext) {
    super(ctx);
    const t = ctx.profile.tlb;
    this.ntlb = ctx.nestedTlb && t.nestedTlbEntries > 0 ? new Tlb(t.nestedTlbEntries, Math.min(t.nestedTlbWays, t.nestedTlbEntries)) : null;
  }

  override attach(vm: GuestKernel): void {
    const table = new RadixTable(this.host, this.ctx.profile.memory.pageTableLevels);
    this.epts.set(vm.vmid, HostBacking.build(table, vm.mem.frames, () => this.host.alloc()));
    this.bits.set(vm.vmid, new EptAccessBits(vm.mem.frames));
  }

  /** The A/D bits of a VM's EPT. */
  accessBits(vm: GuestKernel): EptAccessBits {
    const b = this.bits.get(vm.vmid);
    if (!b) throw new Error(`VM ${vm.vmid} is not attached to the nested-paging MMU`);
    return b;
  }

  /**
   * Clears the A and D bits (or only D, `dirtyOnly`) of the listed guest frames: each
   * entry written is a reference to it, then an INVEPT (a VM exit) empties the VM's
   * cached translations. Returns the entries written; the cycles go to 'flush' and 'exit'.
   */
  clearAccessBits(vm: GuestKernel, frames: ArrayLike<number>, dirtyOnly = false): number {
    const b = this.accessBits(vm);
    const ept = this.epts.get(vm.vmid)!;
    let cycles = 0;
    for (let i = 0; i < frames.length; i++) {
      const g = frames[i];
      if (!b.isAccessed(g) && !b.isDirty(g)) continue;
      ept.table.walk(g, this.hw);
      cycles += this.walker.ref(this.hw.entryAddrs[this.hw.refs - 1], this.stats);
    }
    const written = dirtyOnly ? b.clearDirty(frames) : b.clearAccessed(frames);
    this.charge('flush', cycles);
    if (written > 0) {
      for (const p of vm.processes) {
        this.tlb.flush(this.tag(vm, p.asid));
        this.pwc?.flush(this.tag(vm, p.asid));
      }
      this.ntlb?.flush(vm.vmid);
      // The host-side tags are negative, which Tlb.flush reads as "every context": the
      // page-walk cache is emptied, more than INVEPT drops, at the cost of refills only.
      this.pwc?.flush();
      this.vmExit(vm, 'invept');
    }
    return written;
  }

  /** The host-side tag of a VM's EPT entries in the page-walk cache (apart from guest tags). */
  private hostCtx(vm: GuestKernel): number {
    return -1 - vm.vmid;
  }

  /** References and cycles of the walk in progress. */
  private refs = 0;
  private cyc = 0;

  /**
   * Translates guest frame g through the nested TLB, or else by walking the EPT
   * (through the host side of the page-walk cache); adds the references and cycles
   * to `this.refs`/`this.cyc`. Returns the host frame. A guest flush leaves both
   * untouched: they cache the host dimension only.
   */
  private hostFrame(vm: GuestKernel, ept: HostBacking, g: number): number {
    const s = this.stats;
    if (this.ntlb) {
      const f = this.ntlb.lookup(g, vm.vmid);
      if (f >= 0) {
        s.ntlbHits++;
        return f;
      }
      s.ntlbMisses++;
    }
    // The EPT's own entries are host-physical: they sit where host memory says.
    this.walker.walk1d(ept.table, g, this.hostCtx(vm), 0, this.hw, s);
    // Filling a translation sets the EPT entry's accessed bit.
    this.bits.get(vm.vmid)?.touch(g, false);
    this.refs += this.walker.refs;
    this.cyc += this.walker.cycles;
    const f = this.hw.frame;
    if (f < 0) throw new Error(`guest frame ${g} of VM ${vm.vmid} is outside its ${ept.guestFrames} backed frames`);
    this.ntlb?.insert(g, vm.vmid, f);
    return f;
  }

  access(vm: GuestKernel, vpn: number, write = false): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      const s = this.stats;
      const proc = vm.processes[vm.current];
      const ept = this.epts.get(vm.vmid)!;
      const gw = this.gw;
      proc.table.walk(vpn, gw);
      const levels = proc.table.levels;
      let start = 0;
      if (this.pwc) {
        start = Math.min(this.pwc.start(vpn, levels, vm.ctxTag), gw.refs - 1);
        if (start > 0) s.pwcHits++;
        else s.pwcMisses++;
      }
      this.refs = 0;
      this.cyc = 0;
      // Each guest entry read: translate its guest-physical address through the EPT, then read it.
      for (let i = start; i < gw.refs; i++) {
        const gpa = gw.entryAddrs[i];
        const hf = this.hostFrame(vm, ept, Math.floor(gpa / PAGE));
        this.refs++;
        this.cyc += this.walker.ref(hf * PAGE + (gpa % PAGE), s);
      }
      if (this.pwc && gw.refs - 2 >= start) this.pwc.fill(vpn, levels, vm.ctxTag, start, gw.refs - 2);
      // The final guest-physical address goes through the EPT too.
      const frame = gw.frame >= 0 ? this.hostFrame(vm, ept, gw.frame) : -1;
      this.chargeWalk(vm, vpn, this.refs, this.cyc);
      // No guest mapping: a guest page fault, delivered to the guest kernel without an exit.
      if (frame >= 0) this.tlb.fill(vpn, this.lastTag, frame);
      else this.guestFault(vm, vpn);
    }
    if (write) {
      // A write through a translation whose EPT D bit is clear: the processor goes back to the leaf entry to set it.
      const b = this.bits.get(vm.vmid)!;
      const g = this.guestFrame(vm, vpn);
      if (g >= 0 && !b.isDirty(g)) {
        b.touch(g, true);
        const ept = this.epts.get(vm.vmid)!.table.walk(g, this.hw);
        this.charge('walk', this.walker.ref(ept.entryAddrs[ept.refs - 1], this.stats));
      }
    }
    return this.stats.cycles - before;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    const g = this.guestFrame(vm, vpn);
    if (g < 0) return -1;
    return this.epts.get(vm.vmid)!.table.walk(g, this.hw).frame;
  }

  protected override saveExtra(): unknown {
    // The EPT A/D bits are state: a write after a restore must find its D bit as it was.
    const bits = [...this.bits].map(([vmid, b]) => [vmid, b.accessed.slice(), b.dirty.slice(), b.accessedCount, b.dirtyCount]);
    return { epts: [...this.epts].map(([vmid, e]) => [vmid, e.table.root, e.table.levels, e.guestFrames]), ntlb: this.ntlb?.save() ?? null, bits };
  }

  protected override loadExtra(extra: unknown): void {
    const x = extra as { epts: Array<[number, number, 3 | 4 | 5, number]>; ntlb: ReturnType<Tlb['save']> | null; bits?: Array<[number, Uint32Array, Uint32Array, number, number]> };
    this.epts.clear();
    for (const [vmid, root, levels, frames] of x.epts) this.epts.set(vmid, new HostBacking(new RadixTable(this.host, levels, root), frames));
    if (this.ntlb && x.ntlb) this.ntlb.load(x.ntlb);
    for (const [vmid, accessed, dirty, accessedCount, dirtyCount] of x.bits ?? []) {
      const b = this.bits.get(vmid);
      if (!b) continue;
      b.accessed.set(accessed);
      b.dirty.set(dirty);
      b.accessedCount = accessedCount;
      b.dirtyCount = dirtyCount;
    }
  }
}
