// Nested paging (EPT, NPT, RISC-V G-stage): the hardware walks two tables. Every
// guest page-table entry address is guest-physical, so each of the guest walk's n
// reads first goes through the host table (m references), and so does the final
// guest-physical address: n + (n+1)·m references per TLB miss, 24 for 4+4 levels and
// 35 for 5+5. The page-walk cache trims the guest side; the optional nested TLB
// caches guest-physical → host translations and spares the host walks of recently
// used guest frames. No guest event traps: page-table writes, flushes and root
// switches cost nothing beyond the shared bookkeeping.

import { BaseMmu, PAGE, RadixTable, Tlb, WalkResult, type GuestKernel, type MmuContext, type PhysicalMemory } from 'virtlab';

/** Hypervisor-side backing of guest-physical frames by host frames (a host page table). */
class Ept {
  readonly table: RadixTable;
  private readonly w = new WalkResult();
  constructor(
    private readonly host: PhysicalMemory,
    levels: 3 | 4 | 5,
    root = -1,
  ) {
    this.table = new RadixTable(host, levels, root);
  }
  /** The host frame of a guest frame, mapping it on first use (an EPT violation). */
  frame(gframe: number): number {
    let f = this.table.walk(gframe, this.w).frame;
    if (f < 0) {
      f = this.host.alloc();
      this.table.map(gframe, f, 0);
    }
    return f;
  }
}

export class NestedMmu extends BaseMmu {
  readonly name = 'nested-paging';
  private readonly epts = new Map<number, Ept>();
  private readonly ntlb: Tlb | null;
  private readonly gw = new WalkResult();

  constructor(ctx: MmuContext) {
    super(ctx);
    this.ntlb = ctx.nestedTlb ? new Tlb(Math.max(16, ctx.profile.tlb.pwcEntries * 8), 4) : null;
  }

  override attach(vm: GuestKernel): void {
    this.epts.set(vm.vmid, new Ept(this.host, this.ctx.profile.memory.pageTableLevels));
  }

  /** References to translate one guest-physical frame through the host table. */
  private hostRefs(vm: GuestKernel, gframe: number): number {
    if (this.ntlb) {
      if (this.ntlb.lookup(gframe, vm.vmid) >= 0) return 0;
      this.ntlb.insert(gframe, vm.vmid, 1);
    }
    return this.ctx.profile.memory.pageTableLevels;
  }

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      const proc = vm.processes[vm.current];
      proc.table.walk(vpn, this.gw);
      const ept = this.epts.get(vm.vmid)!;
      let refs = 0;
      const guestRefs = this.pwcRefs(vm, vpn, this.gw.refs);
      // Each guest entry read: translate its guest-physical address, then read it.
      for (let i = this.gw.refs - guestRefs; i < this.gw.refs; i++) refs += this.hostRefs(vm, Math.floor(this.gw.entryAddrs[i] / PAGE)) + 1;
      // The final guest-physical address.
      refs += this.hostRefs(vm, this.gw.frame);
      this.chargeWalk(vm, vpn, refs);
      this.tlb.fill(vpn, this.tag(vm, proc.asid), ept.frame(this.gw.frame));
    }
    return this.stats.cycles - before;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    const g = this.guestFrame(vm, vpn);
    return g < 0 ? -1 : this.epts.get(vm.vmid)!.frame(g);
  }

  protected override saveExtra(): unknown {
    return { epts: [...this.epts].map(([vmid, e]) => [vmid, e.table.root, e.table.levels]), ntlb: this.ntlb?.save() ?? null };
  }

  protected override loadExtra(extra: unknown): void {
    const x = extra as { epts: Array<[number, number, 3 | 4 | 5]>; ntlb: ReturnType<Tlb['save']> | null };
    this.epts.clear();
    for (const [vmid, root, levels] of x.epts) this.epts.set(vmid, new Ept(this.host, levels, root));
    if (this.ntlb && x.ntlb) this.ntlb.load(x.ntlb);
  }
}
