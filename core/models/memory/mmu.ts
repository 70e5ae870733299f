// Memory virtualization, the shared part: the MmuStrategy contract, the cost model
// from the host profile, and BaseMmu, the TLBs, walker and counters that every
// strategy charges (TLB hits and misses, walk references, VM exits by cause,
// machine-mode entries, shadow syncs, and the translation cycles split by cause). The
// strategies themselves live in their plugins (plugins/mmu/<id>/); the walker with its
// page-walk cache, nested TLB and data-cache lines is in walker.ts; the shadow tables
// that several of them share are in shadow.ts; the guest kernel is in guest-kernel.ts.
//
// Strategies are called directly per access (they are the hot path); hooks fire on
// events only: TLB misses, walks, hidden faults, page-table writes, flushes, root
// switches, privilege changes and VM exits.

import type { Hooks } from '../../engine/hooks';
import type { PluginApi } from '../../plugin/define';
import type { Gauge } from '../../metrics/metrics';
import type { HostProfile } from '../datacenter/host-profile';
import { token } from '../../engine/tokens';
import { PhysicalMemory, WalkResult, type GuestTable } from './paging';
import type { GuestKernel, GuestPrivilege } from './guest-kernel';

// The guest kernel lives in guest-kernel.ts; it is re-exported here so that importers keep working.
export { GuestKernel, PRIV_USER, PRIV_SUPERVISOR, PRIV_SUPERVISOR_SUM, type GuestPrivilege, type GuestProcessSpace } from './guest-kernel';
import { Tlb, TwoLevelTlb } from './tlb';
import { PageWalkCache, Walker, type WalkCounters } from './walker';

/** The causes translation cycles are split into (metrics mmu.cycles.<cause>). */
export const CYCLE_CAUSES = ['lookup', 'walk', 'exit', 'trap', 'sync', 'hidden', 'fault', 'flush', 'switch'] as const;
export type CycleCause = (typeof CYCLE_CAUSES)[number];

/**
 * Translation costs and counters of one strategy. `cycles` is the sum of the
 * per-cause counters: lookup (TLB probes, software-TLB checks), walk (hardware walks
 * and software miss helpers), exit (VM exits), trap (machine-mode and exception
 * entries, translator calls into the host kernel), sync (shadow entries
 * resynchronized), hidden (shadow entries filled on hidden faults), fault (guest
 * page faults: the guest's exception entry, and what the strategy adds to deliver
 * it), flush (emptying software TLBs), switch (a translator's own work to switch
 * roots or privilege: register writes, helper and kernel-module calls). Every access is
 * an L1 hit, an L2 hit or a miss: accesses = l1Hits + l2Hits + misses.
 */
export class MmuStats implements WalkCounters {
  accesses = 0;
  l1Hits = 0;
  l2Hits = 0;
  misses = 0;
  /** References of hardware walks (and of software miss helpers). */
  walkRefs = 0;
  walks = 0;
  /** References of software walks done off the miss path (hidden-fault fills, shadow syncs). */
  softRefs = 0;
  cycles = 0;
  lookupCycles = 0;
  walkCycles = 0;
  exitCycles = 0;
  trapCycles = 0;
  syncCycles = 0;
  hiddenCycles = 0;
  faultCycles = 0;
  flushCycles = 0;
  switchCycles = 0;
  /** Guest privilege changes the strategy was told of. */
  privilegeSwitches = 0;
  exits = new Map<string, number>();
  mmodeEntries = 0;
  syncs = 0;
  hiddenFaults = 0;
  guestFaults = 0;
  pwcHits = 0;
  pwcMisses = 0;
  ntlbHits = 0;
  ntlbMisses = 0;
  lineHits = 0;
  lineMisses = 0;
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

  /** Cycles of one cause. */
  cyclesOf(cause: CycleCause): number {
    return (this as unknown as Record<string, number>)[`${cause}Cycles`];
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

/** Costs from a host profile, in cycles (a walk reference's cost comes from the Walker's data cache). */
export class CostModel {
  readonly l1: number;
  readonly l2: number;
  readonly vmExit: number;
  readonly mmodeTrap: number;
  readonly softCheck: number;
  readonly softHelper: number;
  readonly softStep: number;
  readonly softFlushPerEntry: number;
  readonly translatorFault: number;
  readonly hostSignal: number;
  readonly exceptionEntry: number;
  readonly hostSyscall: number;
  readonly rootWrite: number;
  readonly pageFaultEntry: number;

  constructor(readonly profile: HostProfile) {
    const v = profile.virtualization;
    this.l1 = profile.tlb.l1d.latencyCycles;
    this.l2 = profile.tlb.l2.latencyCycles;
    this.vmExit = v.vmExitCycles;
    this.mmodeTrap = v.machineModeTrapCycles;
    this.softCheck = v.softTlbCheckCycles;
    this.softHelper = v.softTlbHelperCycles;
    this.softStep = v.softWalkStepCycles;
    this.softFlushPerEntry = v.softTlbFlushCyclesPerEntry;
    this.translatorFault = v.translatorFaultCycles;
    this.hostSignal = v.hostSignalCycles;
    this.exceptionEntry = v.exceptionEntryCycles;
    this.hostSyscall = v.hostSyscallCycles;
    this.rootWrite = v.rootRegisterWriteCycles;
    this.pageFaultEntry = v.pageFaultEntryCycles;
  }
}

/** A memory-virtualization strategy (capability `mmu`). */
export interface MmuStrategy {
  readonly name: string;
  /** Counters since boot, or since the last `resetStats` (after a warm-up). */
  stats: MmuStats;
  /** Attaches a VM's guest kernel (called once per VM at boot). */
  attach(vm: GuestKernel): void;
  /**
   * Cycles to translate one access to vpn of the VM's current process. `write` tells
   * strategies that keep dirty bits (nested paging's EPT D bit) that it is a store.
   */
  access(vm: GuestKernel, vpn: number, write?: boolean): number;
  /**
   * The guest wrote page-table entries at these guest-physical addresses, changing the
   * translations of `vpns` in process p.
   */
  ptWrite(vm: GuestKernel, gpas: readonly number[], p: number, vpns: readonly number[]): number;
  /**
   * Optional, for strategies that write-protect guest page-table pages: the page of the
   * guest table of process p that maps [vpn, vpn + 512^(level+1)) (level 0: a leaf
   * table) is no longer write-protected (its writes no longer trap, as KVM unshadows a
   * page written repeatedly with no walk through it), so what was derived from it must
   * go. Returns the cycles charged.
   */
  unprotect?(vm: GuestKernel, p: number, vpn: number, level: number): number;
  /** The guest flushed vpn (or everything, vpn = -1) of an address space (or of every one, asid = -1). */
  flush(vm: GuestKernel, asid: number, vpn: number): number;
  /** The guest switched to process p (a root-register write). */
  rootSwitch(vm: GuestKernel, p: number): number;
  /**
   * The guest changed privilege: a trap into its kernel (a system call, a fault, an
   * interrupt), the return to user mode, or the kernel opening or closing its access
   * to user memory (RISC-V sstatus.SUM). An event, not a per-access argument.
   */
  privilege(vm: GuestKernel, mode: GuestPrivilege): number;
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

/**
 * Shared machinery: TLBs, the page walker with its page-walk cache and data cache,
 * the cost model, and the event hooks. Every cycle charged goes through `charge`,
 * under one cause, so the per-cause counters always add up to the total.
 */
export abstract class BaseMmu implements MmuStrategy {
  abstract readonly name: string;
  stats = new MmuStats();
  protected readonly cost: CostModel;
  protected readonly tlb: TwoLevelTlb;
  protected readonly walk = new WalkResult();
  protected readonly host: PhysicalMemory;
  protected readonly pwc: PageWalkCache | null;
  protected readonly walker: Walker;
  /** The TLB tag of the last probe, for the fill that follows its miss. */
  protected lastTag = 0;

  constructor(protected readonly ctx: MmuContext) {
    const t = ctx.profile.tlb;
    this.cost = new CostModel(ctx.profile);
    this.tlb = new TwoLevelTlb(t.l1d, t.l2);
    this.host = new PhysicalMemory(ctx.hostFrames);
    this.pwc = ctx.pageWalkCache && t.pwcEntries ? new PageWalkCache(t.pwcEntries * 4, t.pwcWays) : null;
    this.walker = new Walker(ctx.profile, this.pwc);
  }

  attach(_vm: GuestKernel): void {}

  protected tag(vm: GuestKernel, asid: number): number {
    return vm.vmid * 65536 + asid;
  }

  /** Adds cycles under one cause. */
  protected charge(cause: CycleCause, cycles: number): number {
    const s = this.stats;
    s.cycles += cycles;
    switch (cause) {
      case 'lookup':
        s.lookupCycles += cycles;
        break;
      case 'walk':
        s.walkCycles += cycles;
        break;
      case 'exit':
        s.exitCycles += cycles;
        break;
      case 'trap':
        s.trapCycles += cycles;
        break;
      case 'sync':
        s.syncCycles += cycles;
        break;
      case 'hidden':
        s.hiddenCycles += cycles;
        break;
      case 'fault':
        s.faultCycles += cycles;
        break;
      case 'flush':
        s.flushCycles += cycles;
        break;
      case 'switch':
        s.switchCycles += cycles;
        break;
    }
    return cycles;
  }

  /**
   * Charges a TLB probe; returns true on a hit. Kernel pages are global (tagged apart
   * from every ASID); `tag` lets a strategy tag its host TLB otherwise.
   */
  protected probe(vm: GuestKernel, vpn: number, tag = vpn >= vm.kernelBase ? vm.kernelTag : vm.ctxTag): boolean {
    const s = this.stats;
    s.accesses++;
    this.lastTag = tag;
    const level = this.tlb.probe(vpn, tag);
    if (level === 1) {
      s.l1Hits++;
      s.cycles += this.cost.l1;
      s.lookupCycles += this.cost.l1;
      return true;
    }
    const c = this.cost.l1 + this.cost.l2;
    s.cycles += c;
    s.lookupCycles += c;
    if (level === 2) {
      s.l2Hits++;
      return true;
    }
    s.misses++;
    this.ctx.hooks.memory.tlbMiss.call({ vcpu: vm.vmid, va: vpn * 4096, asid: vm.processes[vm.current].asid, level: 2 });
    return false;
  }

  /**
   * The hardware walk of a 1-D table (the guest's own, or a shadow table) for vpn of
   * the current process, through the page-walk cache and the data cache; `hostOffset`
   * places the table's memory in host-physical memory. Leaves the walk in `out` and
   * returns its references; the caller charges them with `chargeWalk`.
   */
  protected walk1d(vm: GuestKernel, table: GuestTable, vpn: number, hostOffset: number, out: WalkResult): number {
    this.walker.walk1d(table, vpn, vm.ctxTag, hostOffset, out, this.stats);
    return this.walker.refs;
  }

  /** Counts one walk of `refs` references costing `cycles` (plus `extraCycles` of walk work). */
  protected chargeWalk(vm: GuestKernel, vpn: number, refs: number, cycles: number, extraCycles = 0): void {
    const s = this.stats;
    const total = cycles + extraCycles;
    s.walkRefs += refs;
    s.walks++;
    this.charge('walk', total);
    s.refsHistogram[Math.min(63, refs)]++;
    this.ctx.hooks.memory.pageWalk.call({ vcpu: vm.vmid, va: vpn * 4096, references: refs, cycles: total });
  }

  /**
   * A software walk of the guest table of process p for vpn (a hypervisor or a kernel
   * module reading guest entries): every level read through the data cache, plus the
   * per-level bookkeeping. Returns its cycles; the references count as softRefs.
   */
  protected softGuestWalk(vm: GuestKernel, p: number, vpn: number, hostOffset: number, out: WalkResult): number {
    this.walker.softWalk(vm.processes[p].table, vpn, hostOffset, out, this.stats);
    this.stats.softRefs += this.walker.refs;
    return this.walker.cycles + this.walker.refs * this.cost.softStep;
  }

  /**
   * A guest page fault (the guest has no mapping, or forbids the access at the
   * current privilege): counted, announced, and delivered. By default the hardware
   * raises it in the guest without an exit, and the guest pays its exception entry;
   * strategies that must bounce it (a hypervisor, a translator) override
   * `deliverGuestFault`.
   */
  protected guestFault(vm: GuestKernel, vpn: number): void {
    this.stats.guestFaults++;
    this.ctx.hooks.memory.pageFault.call({ vcpu: vm.vmid, va: vpn * 4096, access: 'read', kind: 'guest' });
    this.deliverGuestFault(vm);
  }

  /** The cycles of delivering a guest fault to the guest kernel (its exception entry and return). */
  protected deliverGuestFault(_vm: GuestKernel): void {
    this.charge('fault', this.cost.pageFaultEntry);
  }

  protected vmExit(vm: GuestKernel, cause: string): number {
    this.stats.exit(cause);
    this.charge('exit', this.cost.vmExit);
    this.ctx.hooks.memory.vmExit.call({ vcpu: vm.vmid, vm: vm.vmid, cause, cycles: this.cost.vmExit });
    return this.cost.vmExit;
  }

  /** An entry into machine mode (or a dedicated exception handler) and back. */
  protected trap(cycles: number): number {
    this.stats.mmodeEntries++;
    return this.charge('trap', cycles);
  }

  resetStats(): void {
    this.stats = new MmuStats();
  }

  saveState(): unknown {
    return {
      stats: this.stats.save(),
      l1: this.tlb.l1.save(),
      l2: this.tlb.l2.save(),
      pwc: this.pwc?.tlb.save() ?? null,
      lines: this.walker.lines.tlb.save(),
      host: this.host.save(),
      extra: this.saveExtra(),
    };
  }

  loadState(data: unknown): void {
    type T = ReturnType<Tlb['save']>;
    const s = data as { stats: Record<string, unknown>; l1: T; l2: T; pwc: T | null; lines: T; host: ReturnType<PhysicalMemory['save']>; extra: unknown };
    this.stats = new MmuStats();
    this.stats.load(s.stats);
    this.tlb.l1.load(s.l1);
    this.tlb.l2.load(s.l2);
    if (this.pwc && s.pwc) this.pwc.tlb.load(s.pwc);
    this.walker.lines.tlb.load(s.lines);
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
    if (asid < 0) {
      // Every address space of the VM, and its global (kernel) entries.
      for (const tag of [vm.kernelTag, ...vm.processes.map((p) => this.tag(vm, p.asid))]) {
        this.tlb.flush(tag, vpn);
        this.pwc?.flush(tag);
      }
    } else {
      this.tlb.flush(this.tag(vm, asid), vpn);
      this.pwc?.flush(this.tag(vm, asid));
    }
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

  /**
   * Records the privilege change and announces it. A hardware MMU needs nothing
   * more: its TLB entries carry the user bit and kernel entries are global, so
   * neither a trap into the kernel nor the return flushes or switches anything.
   */
  privilege(vm: GuestKernel, mode: GuestPrivilege): number {
    const from = vm.privilege;
    if (from === mode) return 0;
    vm.privilege = mode;
    this.stats.privilegeSwitches++;
    this.ctx.hooks.memory.privilegeSwitch.call({ vcpu: vm.vmid, from, to: mode });
    return 0;
  }
}

/** Where a VM's guest-physical memory sits in host-physical memory for strategies that do not model it (bytes). */
export function guestMemoryOffset(vm: GuestKernel): number {
  return vm.vmid * 2 ** 40;
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

const CAUSE_DESCRIPTIONS: Record<CycleCause, string> = {
  lookup: 'Translation cycles in TLB lookups and software-TLB checks.',
  walk: 'Translation cycles in page walks (hardware walks and software miss helpers).',
  exit: 'Translation cycles in VM exits.',
  trap: 'Translation cycles in machine-mode traps, exception entries and translator calls into the host kernel.',
  sync: 'Translation cycles resynchronizing shadow entries with the guest tables.',
  hidden: 'Translation cycles filling shadow entries on hidden faults (beyond the exit).',
  fault: 'Translation cycles delivering guest page faults: the guest kernel’s exception entry, or the bounce through a hypervisor or a translator.',
  flush: 'Translation cycles emptying software TLBs.',
  switch: 'Translation cycles a translator spends switching page-table roots or guest privilege (register writes, helper and kernel-module calls).',
};

/** The mmu.* metrics of a strategy's counters, shared by the workloads that drive strategies. */
export class MmuMetrics {
  private readonly g: Record<string, Gauge>;
  private readonly exitGauges = new Map<string, Gauge>();
  private readonly causeGauges = new Map<CycleCause, Gauge>();

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
      translated: api.gauge('mmu.tlb.accesses', 'accesses', 'Accesses the strategy translated since its counters started: L1 hits + L2 hits + misses.'),
      guestFaults: api.gauge('mmu.guest-faults', 'faults', 'Guest page faults (first touches of unmapped pages, and accesses the privilege forbids), however the strategy delivers them.'),
      privilegeSwitches: api.gauge('mmu.privilege-switches', 'switches', 'Guest privilege changes (kernel entries and returns, user-memory access opened or closed).'),
      pwcHits: api.gauge('mmu.pwc.hits', 'lookups', 'Walks that the page-walk cache let start below the root.'),
      pwcMisses: api.gauge('mmu.pwc.misses', 'lookups', 'Walks that found no upper-level entry in the page-walk cache.'),
      ntlbHits: api.gauge('mmu.nested-tlb.hits', 'lookups', 'Guest-physical frames found in the nested TLB during 2-D walks.'),
      ntlbMisses: api.gauge('mmu.nested-tlb.misses', 'lookups', 'Guest-physical frames that needed a host-table walk.'),
      lineMisses: api.gauge('mmu.walk.dram-references', 'references', 'Walk references that missed the data cache and went to DRAM.'),
    };
    for (const cause of CYCLE_CAUSES) {
      this.causeGauges.set(cause, api.gauge(`mmu.cycles.${cause}`, 'cycles', CAUSE_DESCRIPTIONS[cause]));
    }
    for (const cause of ['pt-write', 'root-switch', 'hidden-fault', 'guest-fault', 'segment-fault']) {
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
    g.refs.set(s.walks ? s.walkRefs / s.walks : 0);
    g.walkCycles.set(s.walkCycles);
    g.translation.set(s.cycles);
    g.exits.set(s.totalExits);
    for (const [cause, gauge] of this.exitGauges) gauge.set(s.exits.get(cause) ?? 0);
    g.mmode.set(s.mmodeEntries);
    g.syncs.set(s.syncs);
    g.hidden.set(s.hiddenFaults);
    g.perAccess.set(s.accesses ? (computeCycles + s.cycles) / s.accesses : 0);
    g.translated.set(s.accesses);
    g.guestFaults.set(s.guestFaults);
    g.privilegeSwitches.set(s.privilegeSwitches);
    g.pwcHits.set(s.pwcHits);
    g.pwcMisses.set(s.pwcMisses);
    g.ntlbHits.set(s.ntlbHits);
    g.ntlbMisses.set(s.ntlbMisses);
    g.lineMisses.set(s.lineMisses);
    for (const [cause, gauge] of this.causeGauges) gauge.set(s.cyclesOf(cause));
  }

  /**
   * Summary lines: translation cycles by cause, and how the accesses reconcile with
   * the hits and misses. `issued` is the workload's count of accesses since boot;
   * it exceeds the strategy's when the counters restarted after a warm-up.
   */
  static summary(s: MmuStats, issued: number, warmedUp: boolean): string[] {
    const total = s.cycles || 1;
    const parts = CYCLE_CAUSES.filter((c) => s.cyclesOf(c) > 0).map((c) => `${c} ${((100 * s.cyclesOf(c)) / total).toFixed(1)}%`);
    const lines = [`MMU translation cycles ${Math.round(s.cycles)}: ${parts.join(', ') || 'none'}`];
    const sum = s.l1Hits + s.l2Hits + s.misses;
    lines.push(
      `MMU accesses ${s.accesses} = ${s.l1Hits} L1 hits + ${s.l2Hits} L2 hits + ${s.misses} misses` +
        (sum !== s.accesses ? ' (MISMATCH)' : '') +
        (issued !== s.accesses ? `; ${issued} issued in all${warmedUp ? ', the counters restarted after the warm-up' : ''}` : ''),
    );
    return lines;
  }
}
