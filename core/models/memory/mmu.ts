// Memory virtualization, the shared part: the MmuStrategy contract, the cost model
// from the host profile, and BaseMmu, the TLBs, page-walk cache and counters that
// every strategy charges (TLB hits and misses, walk references, VM exits by cause,
// machine-mode entries, shadow syncs). The strategies themselves live in their
// plugins (plugins/mmu/<id>/); the shadow tables that several of them share are in
// shadow.ts; the guest kernel is in guest-kernel.ts.
//
// Strategies are called directly per access (they are the hot path); hooks fire on
// events only: TLB misses, walks, hidden faults, page-table writes, flushes, root
// switches and VM exits.

import type { Hooks } from '../../engine/hooks';
import type { PluginApi } from '../../plugin/define';
import type { Gauge } from '../../metrics/metrics';
import type { HostProfile } from '../datacenter/host-profile';
import { token } from '../../engine/tokens';
import { PhysicalMemory, WalkResult } from './paging';
import type { GuestKernel } from './guest-kernel';

// The guest kernel lives in guest-kernel.ts; it is re-exported here so that importers keep working.
export { GuestKernel, type GuestProcessSpace } from './guest-kernel';
import { Tlb, TwoLevelTlb } from './tlb';

/** Translation costs and counters of one strategy, in typed arrays for the hot path. */
export class MmuStats {
  accesses = 0;
  l1Hits = 0;
  l2Hits = 0;
  misses = 0;
  walkRefs = 0;
  walkCycles = 0;
  cycles = 0;
  exits = new Map<string, number>();
  mmodeEntries = 0;
  syncs = 0;
  hiddenFaults = 0;
  /** Histogram of references per walk (index = references). */
  readonly refsHistogram = new Float64Array(64);

  exit(cause: string): void {
    this.exits.set(cause, (this.exits.get(cause) ?? 0) + 1);
  }

  get totalExits(): number {
    let n = 0;
    for (const v of this.exits.values()) n += v;
    return n;
  }

  save(): Record<string, unknown> {
    return { ...(this as unknown as Record<string, unknown>), exits: [...this.exits], refsHistogram: this.refsHistogram.slice() };
  }

  load(s: Record<string, unknown>): void {
    const { exits, refsHistogram, ...rest } = s as { exits: Array<[string, number]>; refsHistogram: Float64Array };
    Object.assign(this, rest);
    this.exits = new Map(exits);
    this.refsHistogram.set(refsHistogram);
  }
}

/** Costs from a host profile, in cycles. */
export class CostModel {
  readonly l1: number;
  readonly l2: number;
  /** Average cycles of one page-walk memory reference. */
  readonly ref: number;
  readonly vmExit: number;
  readonly mmodeTrap: number;
  readonly softCheck: number;

  constructor(readonly profile: HostProfile) {
    const ghz = profile.cpu.frequency / 1e9;
    const m = profile.memory;
    this.l1 = profile.tlb.l1d.latencyCycles;
    this.l2 = profile.tlb.l2.latencyCycles;
    this.ref = (m.walkCacheHitRatio * m.cachedLatency + (1 - m.walkCacheHitRatio) * m.latency) * ghz;
    this.vmExit = profile.virtualization.vmExitCycles;
    this.mmodeTrap = profile.virtualization.machineModeTrapCycles;
    this.softCheck = profile.virtualization.softTlbCheckCycles;
  }
}

/** A memory-virtualization strategy (capability `mmu`). */
export interface MmuStrategy {
  readonly name: string;
  /** Counters since boot, or since the last `resetStats` (after a warm-up). */
  stats: MmuStats;
  /** Attaches a VM's guest kernel (called once per VM at boot). */
  attach(vm: GuestKernel): void;
  /** Cycles to translate one access to vpn of the VM's current process. */
  access(vm: GuestKernel, vpn: number): number;
  /**
   * The guest wrote page-table entries at these guest-physical addresses, changing the
   * translations of `vpns` in process p.
   */
  ptWrite(vm: GuestKernel, gpas: readonly number[], p: number, vpns: readonly number[]): number;
  /** The guest flushed vpn (or everything, vpn = -1) of an address space. */
  flush(vm: GuestKernel, asid: number, vpn: number): number;
  /** The guest switched to process p (a root-register write). */
  rootSwitch(vm: GuestKernel, p: number): number;
  /** The host frame an access to vpn reaches (for cross-strategy correctness checks). */
  resolve(vm: GuestKernel, vpn: number): number;
  /** Starts the counters afresh (to measure a steady state after a warm-up). */
  resetStats(): void;
  /** Everything the strategy keeps (TLBs, host tables, counters), for snapshots. */
  saveState(): unknown;
  /** Restores saveState()'s result, after the VMs' kernels have been restored. */
  loadState(state: unknown): void;
}
export const MmuStrategy = token<MmuStrategy>('MmuStrategy');

export interface MmuContext {
  readonly profile: HostProfile;
  readonly hooks: Hooks;
  /** Host physical frames. */
  readonly hostFrames: number;
  readonly pageWalkCache: boolean;
  readonly nestedTlb: boolean;
}

/** Shared machinery: TLBs, the cost model, the walk result, and the event hooks. */
export abstract class BaseMmu implements MmuStrategy {
  abstract readonly name: string;
  stats = new MmuStats();
  protected readonly cost: CostModel;
  protected readonly tlb: TwoLevelTlb;
  protected readonly walk = new WalkResult();
  protected readonly host: PhysicalMemory;
  protected readonly pwc: Tlb | null;

  constructor(protected readonly ctx: MmuContext) {
    this.cost = new CostModel(ctx.profile);
    this.tlb = new TwoLevelTlb(ctx.profile.tlb.l1d, ctx.profile.tlb.l2);
    this.host = new PhysicalMemory(ctx.hostFrames);
    this.pwc = ctx.pageWalkCache && ctx.profile.tlb.pwcEntries ? new Tlb(ctx.profile.tlb.pwcEntries * 4, 4) : null;
  }

  attach(_vm: GuestKernel): void {}

  protected tag(vm: GuestKernel, asid: number): number {
    return vm.vmid * 65536 + asid;
  }

  /** Charges a TLB probe; returns true on a hit. */
  protected probe(vm: GuestKernel, vpn: number): boolean {
    const s = this.stats;
    s.accesses++;
    const level = this.tlb.probe(vpn, vm.ctxTag);
    if (level === 1) {
      s.l1Hits++;
      s.cycles += this.cost.l1;
      return true;
    }
    if (level === 2) {
      s.l2Hits++;
      s.cycles += this.cost.l1 + this.cost.l2;
      return true;
    }
    s.misses++;
    s.cycles += this.cost.l1 + this.cost.l2;
    this.ctx.hooks.memory.tlbMiss.call({ vcpu: vm.vmid, va: vpn * 4096, asid: vm.processes[vm.current].asid, level: 2 });
    return false;
  }

  /** References a 1-D walk of `levels` makes after the page-walk cache (upper levels cached). */
  protected pwcRefs(vm: GuestKernel, vpn: number, levels: number): number {
    if (!this.pwc) return levels;
    // The cache holds the deepest non-leaf entry of a prefix: a hit skips the levels above the leaf.
    const key = Math.floor(vpn / 512);
    const ctx = this.tag(vm, vm.processes[vm.current].asid);
    if (this.pwc.lookup(key, ctx) >= 0) return 1;
    this.pwc.insert(key, ctx, 1);
    return levels;
  }

  protected chargeWalk(vm: GuestKernel, vpn: number, refs: number, extraCycles = 0): void {
    const s = this.stats;
    const cycles = refs * this.cost.ref + extraCycles;
    s.walkRefs += refs;
    s.walkCycles += cycles;
    s.cycles += cycles;
    s.refsHistogram[Math.min(63, refs)]++;
    this.ctx.hooks.memory.pageWalk.call({ vcpu: vm.vmid, va: vpn * 4096, references: refs, cycles });
  }

  protected vmExit(vm: GuestKernel, cause: string): number {
    this.stats.exit(cause);
    this.stats.cycles += this.cost.vmExit;
    this.ctx.hooks.memory.vmExit.call({ vcpu: vm.vmid, vm: vm.vmid, cause, cycles: this.cost.vmExit });
    return this.cost.vmExit;
  }

  resetStats(): void {
    this.stats = new MmuStats();
  }

  saveState(): unknown {
    return { stats: this.stats.save(), l1: this.tlb.l1.save(), l2: this.tlb.l2.save(), pwc: this.pwc?.save() ?? null, host: this.host.save(), extra: this.saveExtra() };
  }

  loadState(data: unknown): void {
    const s = data as { stats: Record<string, unknown>; l1: ReturnType<Tlb['save']>; l2: ReturnType<Tlb['save']>; pwc: ReturnType<Tlb['save']> | null; host: ReturnType<PhysicalMemory['save']>; extra: unknown };
    this.stats = new MmuStats();
    this.stats.load(s.stats);
    this.tlb.l1.load(s.l1);
    this.tlb.l2.load(s.l2);
    if (this.pwc && s.pwc) this.pwc.load(s.pwc);
    this.host.load(s.host);
    this.loadExtra(s.extra);
  }

  /** State of a particular strategy beyond the shared machinery. */
  protected saveExtra(): unknown {
    return null;
  }

  protected loadExtra(_extra: unknown): void {}

  /** The guest frame of vpn in the current process, or -1. */
  protected guestFrame(vm: GuestKernel, vpn: number): number {
    return vm.processes[vm.current].table.walk(vpn, this.walk).frame;
  }

  abstract access(vm: GuestKernel, vpn: number): number;
  abstract resolve(vm: GuestKernel, vpn: number): number;

  ptWrite(vm: GuestKernel, gpas: readonly number[], _p: number, _vpns: readonly number[]): number {
    for (const gpa of gpas) this.ctx.hooks.memory.ptWrite.call({ vm: vm.vmid, gpa, level: 0 });
    return 0;
  }

  flush(vm: GuestKernel, asid: number, vpn: number): number {
    this.tlb.flush(this.tag(vm, asid), vpn);
    this.pwc?.flush(this.tag(vm, asid));
    this.ctx.hooks.memory.tlbFlush.call({ vcpu: vm.vmid, va: vpn < 0 ? -1 : vpn * 4096, asid });
    return 0;
  }

  rootSwitch(vm: GuestKernel, p: number): number {
    const old = vm.current;
    vm.current = p;
    vm.ctxTag = this.tag(vm, vm.processes[p].asid);
    this.ctx.hooks.memory.rootSwitch.call({ vcpu: vm.vmid, oldRoot: vm.processes[old].table.root, newRoot: vm.processes[p].table.root });
    return 0;
  }
}

/** Registers an MMU strategy built from the scenario's first host profile: the shared body of the mmu.* plugins. */
export function registerMmu(
  api: PluginApi<{ readonly pageWalkCache?: boolean; readonly nestedTlb?: boolean; readonly [option: string]: unknown }>,
  make: (ctx: MmuContext) => MmuStrategy,
): void {
  api.provide(MmuStrategy, {
    useFactory: () => {
      const profile = api.sim.hostProfiles[0];
      if (!profile) throw new Error(`${api.id} needs at least one host`);
      return make({
        profile,
        hooks: api.hooks,
        hostFrames: Math.min(2 ** 26, Math.floor(profile.memory.size / 4096)),
        pageWalkCache: api.options.pageWalkCache ?? false,
        nestedTlb: api.options.nestedTlb ?? false,
      });
    },
  });
}

/** The mmu.* metrics of a strategy's counters, shared by the workloads that drive strategies. */
export class MmuMetrics {
  private readonly g: Record<string, Gauge>;
  private readonly exitGauges = new Map<string, Gauge>();

  constructor(api: { gauge(name: string, unit: string, description: string): Gauge }) {
    this.g = {
      l1: api.gauge('mmu.tlb.l1-hits', 'accesses', 'Accesses that hit the first-level TLB.'),
      l2: api.gauge('mmu.tlb.l2-hits', 'accesses', 'Accesses that hit the second-level TLB.'),
      misses: api.gauge('mmu.tlb.misses', 'accesses', 'Accesses that missed every TLB.'),
      missRate: api.gauge('mmu.tlb.miss-rate', 'ratio', 'TLB misses over accesses.'),
      refs: api.gauge('mmu.walk.references-per-miss', 'references', 'Page-walk memory references per TLB miss.'),
      walkCycles: api.gauge('mmu.walk.cycles', 'cycles', 'Cycles spent in page walks.'),
      translation: api.gauge('mmu.cycles.translation', 'cycles', 'Cycles spent translating (TLB, walks, exits, traps).'),
      perAccess: api.gauge('mmu.cycles-per-access', 'cycles', 'Compute and translation cycles per memory access: the workload’s speed.'),
      exits: api.gauge('mmu.exits', 'exits', 'VM exits caused by memory virtualization.'),
      mmode: api.gauge('mmu.mmode-entries', 'traps', 'Entries into the highest privilege mode (machine mode, exception entries).'),
      syncs: api.gauge('mmu.shadow.syncs', 'entries', 'Shadow entries synchronized with the guest tables.'),
      hidden: api.gauge('mmu.hidden-faults', 'faults', 'Shadow entries filled on hidden faults.'),
    };
    for (const cause of ['pt-write', 'root-switch', 'hidden-fault', 'segment-fault']) {
      this.exitGauges.set(cause, api.gauge(`mmu.exits.${cause}`, 'exits', `VM exits caused by ${cause.replace('-', ' ')}s.`));
    }
  }

  /** Sets every gauge from the counters; `computeCycles` are the cycles spent between accesses. */
  publish(s: MmuStats, computeCycles: number): void {
    const g = this.g;
    g.l1.set(s.l1Hits);
    g.l2.set(s.l2Hits);
    g.misses.set(s.misses);
    g.missRate.set(s.accesses ? s.misses / s.accesses : 0);
    let walks = 0;
    for (let i = 0; i < s.refsHistogram.length; i++) walks += s.refsHistogram[i];
    g.refs.set(walks ? s.walkRefs / walks : 0);
    g.walkCycles.set(s.walkCycles);
    g.translation.set(s.cycles);
    g.exits.set(s.totalExits);
    for (const [cause, gauge] of this.exitGauges) gauge.set(s.exits.get(cause) ?? 0);
    g.mmode.set(s.mmodeEntries);
    g.syncs.set(s.syncs);
    g.hidden.set(s.hiddenFaults);
    g.perAccess.set(s.accesses ? (computeCycles + s.cycles) / s.accesses : 0);
  }
}
