// QEMU's SoftMMU, the translation of a cross-ISA emulator: every guest load and
// store in translated code runs an inline check of a direct-mapped software TLB
// (index, compare the tag, add the addend), which costs a few cycles on every
// access, hit or miss. A miss calls a helper that walks the guest table in software
// (entry and return of the helper plus a load and bookkeeping per level). The
// resulting host address then goes through the host's own MMU. The table is not
// tagged with an address space, so every guest flush and context switch empties it.

import { BaseMmu, type GuestKernel, type MmuContext } from 'virtlab';

export class SoftMmu extends BaseMmu {
  readonly name = 'softmmu';
  /** A direct-mapped software TLB per VM (QEMU's per-MMU-index table). */
  private readonly soft = new Map<number, { tag: Float64Array; frame: Float64Array }>();
  /** Cycles of entering and leaving the miss helper. */
  static readonly HELPER_CYCLES = 60;

  constructor(
    ctx: MmuContext,
    private readonly entries = 1024,
  ) {
    super(ctx);
  }

  override attach(vm: GuestKernel): void {
    this.soft.set(vm.vmid, { tag: new Float64Array(this.entries).fill(-1), frame: new Float64Array(this.entries) });
  }

  access(vm: GuestKernel, vpn: number): number {
    const s = this.stats;
    const t = this.soft.get(vm.vmid)!;
    s.accesses++;
    // The inline check: index, compare the tag, add the addend.
    let cycles = this.cost.softCheck;
    const i = vpn % this.entries;
    if (t.tag[i] === vpn) s.l1Hits++;
    else {
      s.misses++;
      this.ctx.hooks.memory.tlbMiss.call({ vcpu: vm.vmid, va: vpn * 4096, asid: vm.processes[vm.current].asid, level: 1 });
      const f = this.guestFrame(vm, vpn);
      // The helper walks the guest table in software: each reference costs a load and bookkeeping.
      const refs = vm.levels;
      const extra = SoftMmu.HELPER_CYCLES + refs * 10;
      s.walkRefs += refs;
      s.walkCycles += refs * this.cost.ref + extra;
      s.refsHistogram[refs]++;
      cycles += refs * this.cost.ref + extra;
      this.ctx.hooks.memory.pageWalk.call({ vcpu: vm.vmid, va: vpn * 4096, references: refs, cycles: refs * this.cost.ref + extra });
      t.tag[i] = vpn;
      t.frame[i] = f;
    }
    // The access itself then goes through the host MMU on the host address.
    const host = this.tlb.probe(t.frame[i], 0);
    if (host === 1) cycles += this.cost.l1;
    else if (host === 2) cycles += this.cost.l1 + this.cost.l2;
    else {
      const refs = this.ctx.profile.memory.pageTableLevels;
      cycles += this.cost.l1 + this.cost.l2 + refs * this.cost.ref;
      s.walkRefs += refs;
      s.walkCycles += refs * this.cost.ref;
      this.tlb.fill(t.frame[i], 0, t.frame[i]);
    }
    s.cycles += cycles;
    return cycles;
  }

  override flush(vm: GuestKernel, asid: number, vpn: number): number {
    super.flush(vm, asid, vpn);
    this.soft.get(vm.vmid)!.tag.fill(-1);
    return 0;
  }

  protected override saveExtra(): unknown {
    return [...this.soft].map(([vmid, t]) => [vmid, t.tag.slice(), t.frame.slice()]);
  }

  protected override loadExtra(extra: unknown): void {
    for (const [vmid, tag, frame] of extra as Array<[number, Float64Array, Float64Array]>) {
      const t = this.soft.get(vmid);
      if (!t) continue;
      t.tag.set(tag);
      t.frame.set(frame);
    }
  }

  override rootSwitch(vm: GuestKernel, p: number): number {
    super.rootSwitch(vm, p);
    // The software TLB is not tagged with an address space: a switch empties it.
    this.soft.get(vm.vmid)!.tag.fill(-1);
    return 0;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    return this.guestFrame(vm, vpn);
  }
}
