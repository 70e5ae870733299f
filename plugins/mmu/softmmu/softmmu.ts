// QEMU's SoftMMU, the translation of a cross-ISA emulator: every guest load and
// store in translated code runs an inline check of a direct-mapped software TLB
// (index, compare the tag, add the addend), which costs softTlbCheckCycles on every
// access, hit or miss. A miss calls a helper (softTlbHelperCycles to enter and leave
// it) that walks the guest table in software: each reference through the data cache
// plus softWalkStepCycles of bookkeeping per level. A guest page fault found there
// unwinds to the CPU loop (translatorFaultCycles). The resulting host address then
// goes through the host's own MMU: the emulator process's page table backs guest RAM
// (a HostBacking), and a host TLB miss walks it like any hardware walk.
//
// Flushes follow QEMU's RISC-V target: sfence.vma calls helper_tlb_flush, which
// empties the whole software TLB (tlb_flush) whatever address or ASID it names, and a
// satp write that changes the mode, ASID or root (csr.c write_satp) does the same, so
// every guest context switch empties it, ASIDs or not. Emptying costs the helper call
// plus softTlbFlushCyclesPerEntry per entry (QEMU clears the table with memset).

import { BaseMmu, HostBacking, RadixTable, WalkResult, guestMemoryOffset, type GuestKernel, type MmuContext } from 'virtlab';

export class SoftMmu extends BaseMmu {
  readonly name = 'softmmu';
  /** A direct-mapped software TLB per VM (QEMU's per-MMU-index table): guest vpn tags and guest frames. */
  private readonly soft = new Map<number, { tag: Float64Array; frame: Float64Array }>();
  /** The emulator process's page table over each VM's guest RAM. */
  private readonly backing = new Map<number, HostBacking>();
  private readonly hw = new WalkResult();
  /** The last VM's table, so the hot path does no map lookup. */
  private curVm = -1;
  private curTag: Float64Array = new Float64Array(0);
  private curFrame: Float64Array = new Float64Array(0);
  private readonly mask: number;

  constructor(
    ctx: MmuContext,
    private readonly entries = 1024,
  ) {
    super(ctx);
    this.mask = (entries & (entries - 1)) === 0 ? entries - 1 : -1;
  }

  override attach(vm: GuestKernel): void {
    this.soft.set(vm.vmid, { tag: new Float64Array(this.entries).fill(-1), frame: new Float64Array(this.entries) });
    const table = new RadixTable(this.host, this.ctx.profile.memory.pageTableLevels);
    this.backing.set(vm.vmid, HostBacking.build(table, vm.mem.frames, () => this.host.alloc()));
    this.curVm = -1;
  }

  private select(vm: GuestKernel): void {
    const t = this.soft.get(vm.vmid)!;
    this.curVm = vm.vmid;
    this.curTag = t.tag;
    this.curFrame = t.frame;
  }

  access(vm: GuestKernel, vpn: number): number {
    const s = this.stats;
    s.accesses++;
    if (vm.vmid !== this.curVm) this.select(vm);
    const before = s.cycles;
    // The inline check: index, compare the tag, add the addend.
    s.cycles += this.cost.softCheck;
    s.lookupCycles += this.cost.softCheck;
    const i = this.mask >= 0 && vpn < 2147483648 ? vpn & this.mask : vpn % this.entries;
    if (this.curTag[i] === vpn) s.l1Hits++;
    else if (!this.miss(vm, vpn, i)) return s.cycles - before;
    // The access itself then goes through the host MMU, on the host page that backs the guest frame.
    const g = this.curFrame[i];
    const hctx = -1 - vm.vmid;
    const level = this.tlb.probe(g, hctx);
    if (level === 1) {
      s.cycles += this.cost.l1;
      s.lookupCycles += this.cost.l1;
    } else {
      const c = this.cost.l1 + this.cost.l2;
      s.cycles += c;
      s.lookupCycles += c;
      if (level === 0) this.hostWalk(vm, g, hctx);
    }
    return s.cycles - before;
  }

  /** The miss helper: a software walk of the guest table; false when the guest has no mapping (a guest fault). */
  private miss(vm: GuestKernel, vpn: number, i: number): boolean {
    const s = this.stats;
    s.misses++;
    this.ctx.hooks.memory.tlbMiss.call({ vcpu: vm.vmid, va: vpn * 4096, asid: vm.processes[vm.current].asid, level: 1 });
    this.walker.softWalk(vm.processes[vm.current].table, vpn, guestMemoryOffset(vm), this.walk, s);
    const refs = this.walker.refs;
    this.chargeWalk(vm, vpn, refs, this.walker.cycles, this.cost.softHelper + refs * this.cost.softStep);
    if (this.walk.frame < 0) {
      s.guestFaults++;
      this.ctx.hooks.memory.pageFault.call({ vcpu: vm.vmid, va: vpn * 4096, access: 'read', kind: 'guest' });
      this.charge('fault', this.cost.translatorFault);
      return false;
    }
    this.curTag[i] = vpn;
    this.curFrame[i] = this.walk.frame;
    return true;
  }

  /** A host TLB miss: the host's hardware walks the emulator's page table over guest RAM. */
  private hostWalk(vm: GuestKernel, g: number, hctx: number): void {
    const b = this.backing.get(vm.vmid)!;
    this.walker.walk1d(b.table, g, hctx, 0, this.hw, this.stats);
    this.chargeWalk(vm, g, this.walker.refs, this.walker.cycles);
    this.tlb.fill(g, hctx, this.hw.frame);
  }

  /** tlb_flush: the whole software TLB of the VM, at the helper's cost plus a memset of the table. */
  private emptySoftTlb(vm: GuestKernel): number {
    this.soft.get(vm.vmid)!.tag.fill(-1);
    return this.charge('flush', this.cost.softHelper + this.entries * this.cost.softFlushPerEntry);
  }

  /** sfence.vma: QEMU's RISC-V helper_tlb_flush empties everything, whatever the operands. */
  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    super.flush(vm, asid, vpn);
    return this.emptySoftTlb(vm);
  }

  /** A satp write that changes the root (or ASID) empties the software TLB (write_satp → tlb_flush). */
  override rootSwitch(vm: GuestKernel, p: number): number {
    const same = vm.current === p;
    super.rootSwitch(vm, p);
    return same ? 0 : this.emptySoftTlb(vm);
  }

  protected override saveExtra(): unknown {
    return {
      soft: [...this.soft].map(([vmid, t]) => [vmid, t.tag.slice(), t.frame.slice()]),
      backing: [...this.backing].map(([vmid, b]) => [vmid, b.table.root, b.table.levels, b.guestFrames]),
    };
  }

  protected override loadExtra(extra: unknown): void {
    const x = extra as { soft: Array<[number, Float64Array, Float64Array]>; backing: Array<[number, number, 3 | 4 | 5, number]> };
    for (const [vmid, tag, frame] of x.soft) {
      const t = this.soft.get(vmid);
      if (!t) continue;
      t.tag.set(tag);
      t.frame.set(frame);
    }
    this.backing.clear();
    for (const [vmid, root, levels, frames] of x.backing) this.backing.set(vmid, new HostBacking(new RadixTable(this.host, levels, root), frames));
    this.curVm = -1;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    const g = this.guestFrame(vm, vpn);
    return g < 0 ? -1 : this.backing.get(vm.vmid)!.table.walk(g, this.hw).frame;
  }
}
