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
// QEMU keeps one software TLB per MMU index, and the RISC-V target's index is the
// privilege the access is made at (cpu_mmu_index): user (0), supervisor (1), and
// supervisor with sstatus.SUM set (2, MMUIdx_S_SUM), so that the kernel's accesses to
// user pages during copy_to/from_user neither flush nor reuse the user table. A
// privilege change selects another table and costs the MMU nothing; the miss helper
// checks the page's user bit against the index (get_physical_address), so user code
// never reaches a supervisor page and the kernel reaches user pages only with SUM.
//
// Flushes follow QEMU's RISC-V target: sfence.vma calls helper_tlb_flush, which
// empties the software TLBs of every MMU index (tlb_flush) whatever address or ASID
// it names, and a satp write that changes the mode, ASID or root (csr.c write_satp)
// does the same, so every guest context switch empties them, ASIDs or not. QEMU
// empties only the tables used since the last flush (its per-CPU dirty mask of MMU
// indexes): each costs softTlbFlushCyclesPerEntry per entry (QEMU clears the table
// with memset), on top of the helper call (softTlbHelperCycles). A satp write is
// itself a CSR helper call (softTlbHelperCycles, mmu.cycles.switch).

import { BaseMmu, F_USER, HostBacking, PRIV_USER, PRIV_SUPERVISOR_SUM, RadixTable, WalkResult, guestMemoryOffset, type GuestKernel, type GuestPrivilege, type MmuContext } from 'virtlab';

/** MMU indexes of QEMU's RISC-V target that a guest without virtualization uses: U, S, S+SUM. */
const MMU_INDEXES = 3;

/** The software TLBs of one VM: one direct-mapped table per MMU index, and which were filled since the last flush. */
interface SoftTlbs {
  readonly tag: Float64Array[];
  readonly frame: Float64Array[];
  dirty: number;
}

export class SoftMmu extends BaseMmu {
  readonly name = 'softmmu';
  /** The software TLBs of each VM (QEMU's per-MMU-index tables): guest vpn tags and guest frames. */
  private readonly soft = new Map<number, SoftTlbs>();
  /** The emulator process's page table over each VM's guest RAM. */
  private readonly backing = new Map<number, HostBacking>();
  private readonly hw = new WalkResult();
  /** The last VM's table, so the hot path does no map lookup. */
  private curVm = -1;
  /** MMU index of the selected table, and its bit in the dirty mask. */
  private curIdx = 0;
  private curTlbs: SoftTlbs | null = null;
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
    const tables = { tag: [] as Float64Array[], frame: [] as Float64Array[], dirty: 0 };
    for (let i = 0; i < MMU_INDEXES; i++) {
      tables.tag.push(new Float64Array(this.entries).fill(-1));
      tables.frame.push(new Float64Array(this.entries));
    }
    this.soft.set(vm.vmid, tables);
    const table = new RadixTable(this.host, this.ctx.profile.memory.pageTableLevels);
    this.backing.set(vm.vmid, HostBacking.build(table, vm.mem.frames, () => this.host.alloc()));
    this.curVm = -1;
  }

  /** Selects the table of the VM's current MMU index (on a change of VM or of privilege, never per access). */
  private select(vm: GuestKernel): void {
    const t = this.soft.get(vm.vmid)!;
    this.curVm = vm.vmid;
    this.curIdx = this.mmuIndex(vm.privilege);
    this.curTlbs = t;
    this.curTag = t.tag[this.curIdx];
    this.curFrame = t.frame[this.curIdx];
  }

  /** QEMU's cpu_mmu_index for RISC-V without virtualization: the privilege, with S+SUM apart. */
  protected mmuIndex(mode: GuestPrivilege): number {
    return mode;
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
    // The permission check of get_physical_address: user pages from U or S+SUM, supervisor pages from S only.
    const user = (this.walk.flags & F_USER) !== 0;
    const allowed = vm.privilege === PRIV_SUPERVISOR_SUM || user === (vm.privilege === PRIV_USER);
    if (this.walk.frame < 0 || !allowed) {
      this.guestFault(vm, vpn);
      return false;
    }
    this.curTlbs!.dirty |= 1 << this.curIdx;
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

  /** A guest fault found by the miss helper unwinds to the CPU loop, which raises it in the guest. */
  protected override deliverGuestFault(_vm: GuestKernel): void {
    this.charge('fault', this.cost.translatorFault);
  }

  /** tlb_flush: every MMU index's table of the VM that is dirty, at the helper's cost plus a memset per table. */
  private emptySoftTlb(vm: GuestKernel): number {
    const t = this.soft.get(vm.vmid)!;
    let tables = 0;
    for (let i = 0; i < MMU_INDEXES; i++) {
      if (!(t.dirty & (1 << i))) continue;
      t.tag[i].fill(-1);
      tables++;
    }
    t.dirty = 0;
    return this.charge('flush', this.cost.softHelper + tables * this.entries * this.cost.softFlushPerEntry);
  }

  /** sfence.vma: QEMU's RISC-V helper_tlb_flush empties everything, whatever the operands. */
  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    super.flush(vm, asid, vpn);
    return this.emptySoftTlb(vm);
  }

  /** A satp write (a CSR helper call) that changes the root (or ASID) empties the software TLBs (write_satp → tlb_flush). */
  override rootSwitch(vm: GuestKernel, p: number): number {
    const same = vm.current === p;
    super.rootSwitch(vm, p);
    return same ? 0 : this.charge('switch', this.cost.softHelper) + this.emptySoftTlb(vm);
  }

  /** A privilege change selects another MMU index's table: nothing is flushed or switched. */
  override privilege(vm: GuestKernel, mode: GuestPrivilege): number {
    super.privilege(vm, mode);
    if (vm.vmid === this.curVm) this.select(vm);
    return 0;
  }

  protected override saveExtra(): unknown {
    return {
      soft: [...this.soft].map(([vmid, t]) => [vmid, t.tag.map((x) => x.slice()), t.frame.map((x) => x.slice()), t.dirty]),
      backing: [...this.backing].map(([vmid, b]) => [vmid, b.table.root, b.table.levels, b.guestFrames]),
    };
  }

  protected override loadExtra(extra: unknown): void {
    const x = extra as { soft: Array<[number, Float64Array[], Float64Array[], number]>; backing: Array<[number, number, 3 | 4 | 5, number]> };
    for (const [vmid, tag, frame, dirty] of x.soft) {
      const t = this.soft.get(vmid);
      if (!t) continue;
      tag.forEach((x, i) => t.tag[i].set(x));
      frame.forEach((x, i) => t.frame[i].set(x));
      t.dirty = dirty;
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
