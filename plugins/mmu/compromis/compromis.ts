// Compromis direct segments (Teabe et al.): each VM's guest-physical memory is one
// contiguous region of host memory, so a guest-physical address becomes a host
// address by an add and a bounds check, with no host table at all. A TLB miss walks
// only the guest table (n references when the page-walk cache holds nothing, each
// counted by the shared Walker), as native. The price is placement: the host must
// hold a free contiguous region as large as the VM: placement.contiguous finds one
// and the strategy takes it as the VM's segment (without that placement, the
// strategy carves one from its own host memory). An address outside the segment is a
// VM exit. A guest page fault (no guest mapping) is raised in the guest without an
// exit, as under native paging.

import { BaseMmu, PAGE, type GuestKernel } from 'virtlab';

export class CompromisMmu extends BaseMmu {
  readonly name = 'compromis';
  /** Per VM: the direct segment (base host frame, limit in frames). */
  private readonly segments = new Map<number, { base: number; limit: number }>();
  outOfSegment = 0;

  override attach(vm: GuestKernel): void {
    if (vm.segment) {
      if (vm.segment.frames < vm.mem.frames) throw new Error(`the segment of VM ${vm.vmid} holds ${vm.segment.frames} frames, fewer than its ${vm.mem.frames} guest frames`);
      this.segments.set(vm.vmid, { base: vm.segment.base, limit: vm.mem.frames });
      return;
    }
    const base = this.host.allocContiguous(vm.mem.frames);
    if (base < 0) throw new Error(`no contiguous host region of ${vm.mem.frames} frames for VM ${vm.vmid}; the placement must provide one`);
    this.segments.set(vm.vmid, { base, limit: vm.mem.frames });
  }

  access(vm: GuestKernel, vpn: number): number {
    const before = this.stats.cycles;
    if (!this.probe(vm, vpn)) {
      // Guest-physical → host-physical is an add and a bounds check: only the guest
      // walk touches memory, and its entries sit at segment base + guest-physical address.
      const seg = this.segments.get(vm.vmid)!;
      const refs = this.walk1d(vm, vm.processes[vm.current].table, vpn, seg.base * PAGE, this.walk);
      this.chargeWalk(vm, vpn, refs, this.walker.cycles);
      if (this.walk.frame < 0) this.guestFault(vm, vpn);
      else {
        const frame = this.hostFrame(vm, this.walk.frame);
        if (frame >= 0) this.tlb.fill(vpn, this.lastTag, frame);
      }
    }
    return this.stats.cycles - before;
  }

  protected override saveExtra(): unknown {
    return { segments: [...this.segments], outOfSegment: this.outOfSegment };
  }

  protected override loadExtra(extra: unknown): void {
    const x = extra as { segments: Array<[number, { base: number; limit: number }]>; outOfSegment: number };
    this.segments.clear();
    for (const [k, v] of x.segments) this.segments.set(k, { ...v });
    this.outOfSegment = x.outOfSegment;
  }

  private hostFrame(vm: GuestKernel, gframe: number): number {
    const s = this.segments.get(vm.vmid)!;
    if (gframe < 0 || gframe >= s.limit) {
      this.outOfSegment++;
      this.vmExit(vm, 'segment-fault');
      return -1;
    }
    return s.base + gframe;
  }

  resolve(vm: GuestKernel, vpn: number): number {
    const g = this.guestFrame(vm, vpn);
    return g < 0 ? -1 : this.segments.get(vm.vmid)!.base + g;
  }
}
