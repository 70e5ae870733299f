// The live-migration engine: moves a running VM between hosts over the modelled
// network, as QEMU does and SimGrid models it.
//
// Pre-copy: round 0 sends the VM's memory (pages it never touched go as zero-page
// markers); each later round sends the pages dirtied during the previous one, read
// from the VM's dirty log (the MemoryActivity service) and reset at every round start.
// After each round the bandwidth is re-measured; when the remainder fits in the
// downtime limit, the VM pauses and the rest is sent (stop-and-copy). A round limit
// or a deadline ends a non-converging migration: abort (the VM stays) or force the
// stop. Post-copy: the VM switches to the destination at once and runs there while
// its pages are pushed in the background. An access to a page of the working set that
// is not there yet is a remote fault: the guest stalls for a network round trip plus
// the page's transfer at the rate the migration flow gets now (so contention makes
// faults dearer), and the page is then there. The guest's progress (Vm.speed, which
// scales the workload) is what is left of each interval after the stalls.
//
// Failures (fail(), e.g. from plugins/fault/inject): while the VM still runs on the
// source (pre-copy rounds, or paused in the stop-and-copy) a failed destination or link
// aborts the migration and the VM runs on at the source. Once post-copy has switched,
// the VM's state is split between the hosts, and losing either loses the VM
// (VmState.Lost, counted in migration.lost). That is the risk post-copy buys speed with.
//
// Migration traffic is a flow like any other, so it competes with other flows on the
// links. Add-ons (addons.ts), registered by plugins, change what a transfer costs — the
// bytes per page, the rate cap, the cores busy on the hosts — and the VM's speed:
// the add-on plugins of plugins/migration/ are such. A controller plugin may switch
// method and switch or retune add-ons at the end of each round;
// every decision is logged with its reason.
//
// Timing is event-accurate: a round ends at the instant its flow's last byte leaves
// (hooks.network.flowFinished fires then, inside the network's step), the dirty log is
// read and reset at that instant (MemoryActivity.dirtyPagesAt/resetDirtyAt), and the
// next round's flow starts at once, so several short rounds may fall within one tick
// and the results do not depend on the tick. A migration ends when the stop-and-copy's
// last byte arrives (one network latency after it left).
//
// Where the dirty pages come from: with a `dirty-log` provider selected (write
// protection, PML or PRL: plugins/dirty-log), each round reads the pages that provider
// logged and re-arms it, and the hypervisor time of that harvest and re-arming is
// spent by the migration thread before the round's pages go out (carried by the
// round's flow as the bytes it could have sent meanwhile, at the round's rate cap).
// The exits the logging causes slow the guest through its access stream. Without a
// provider, the workload model's own dirty log is read and reset.
//
// `rules: simgrid` reproduces the assumptions of SimGrid 3.32's pre-copy model
// (Hirofuchi et al.) for comparisons with it (tools/simgrid): every page is sent in
// full in the first round (no zero-page markers) and there is no round limit; with a
// sequential writer over 0.9 of RAM and a 30 ms downtime limit, the rounds are then
// SimGrid's byte model.

import type { SimContext } from '../../engine/context';
import type { SystemDef } from '../../engine/schedule';
import type { PluginApi } from '../../plugin/define';
import type { Counter, Histogram } from '../../metrics/metrics';
import { token } from '../../engine/tokens';
import { Host, Vm, VmState } from '../datacenter/components';
import { DatacenterToken } from '../datacenter/datacenter';
import { simulationNames } from '../datacenter/names';
import { formatValue } from '../../units/format';
import { MemoryActivity } from '../datacenter/workload';
import { DirtyLog } from '../memory/dirty-log';
import { NetworkToken } from '../network/network';
import { postcopySegment, POSTCOPY_SPEED_STEP } from './postcopy-faults';
import { MigrationAddons, type AddonControls, type AddonSlot, type MigrationAddon, type TransferPlan } from './addons';

export interface MigrationParams {
  /** bit/s */
  readonly bandwidthCap: number;
  /** ns */
  readonly downtimeLimit: number;
  readonly maxRounds: number;
  /** ns after the start */
  readonly deadline: number;
  readonly onTimeout: 'abort' | 'force';
  /** bytes */
  readonly pageSize: number;
  /** Bytes sent for a page that was never written (a zero-page marker). */
  readonly zeroPageBytes: number;
  /** 'qemu' (default) or 'simgrid': SimGrid 3.32's pre-copy assumptions (see the header). */
  readonly rules?: 'qemu' | 'simgrid';
}

export interface Decision {
  readonly timeNs: number;
  readonly round: number;
  readonly action: string;
  readonly reason: string;
}

export interface RoundStats {
  readonly round: number;
  readonly bytes: number;
  readonly pages: number;
  readonly durationNs: number;
  /** Pages dirtied during the round. */
  readonly dirtiedPages: number;
  /** bit/s measured over the round. */
  readonly bandwidth: number;
}

export interface MigrationRecord {
  readonly id: number;
  readonly vm: number;
  readonly src: number;
  readonly dst: number;
  method: 'precopy' | 'postcopy';
  state: 'round' | 'stop-and-copy' | 'postcopy' | 'done';
  round: number;
  flow: number;
  flowDone: boolean;
  /** Simulated time at which the current flow delivered its last byte, ns. */
  flowDoneAtNs: number;
  startNs: number;
  roundStartNs: number;
  roundBytes: number;
  roundPages: number;
  pausedAtNs: number;
  switchedAtNs: number;
  bytesSent: number;
  /** Pages still to send in post-copy. */
  postcopyPages: number;
  postcopyTotal: number;
  /** Product of the enabled add-ons' speed factors, last applied to the VM. */
  speedFactor: number;
  /** The migration's client of the dirty-log provider (-1: none), and the hypervisor time its harvests and re-arms took, ns. */
  dirtyClient: number;
  dirtyLogNs: number;
  /** Cores the add-ons keep busy, as charged to the source and destination hosts. */
  srcCores: number;
  dstCores: number;
  /** Post-copy: time since the switch that the fault model has accounted for, up to this instant, ns. */
  postcopyClockNs: number;
  /** Post-copy: pages of the working set not yet at the destination (fractional: an expectation). */
  missingWsPages: number;
  /** Post-copy: remote faults so far, and the guest time they cost, ns. */
  faults: number;
  slowdownNs: number;
  /** Post-copy: time spent in post-copy, ns. */
  postcopyNs: number;
  success: boolean | null;
  /** The VM was lost: a failure hit it in post-copy. */
  lost: boolean;
  /** Why the migration failed, when it did. */
  failure: string | null;
  downtimeNs: number;
  endNs: number;
  /** The registered add-ons, in the order they apply: on or off, and their state. */
  addons: AddonSlot[];
  rounds: RoundStats[];
  decisions: Decision[];
}

/** What a controller sees at the end of a round, and may change. */
export interface RoundContext {
  readonly sim: SimContext;
  readonly migration: Readonly<MigrationRecord>;
  readonly last: RoundStats;
  /** Bytes the next round would send with the add-ons as they are. */
  readonly nextBytes: number;
  /** Whether the remainder would fit in the downtime limit now. */
  readonly converged: boolean;
  readonly params: MigrationParams;
  /** Idle cores of the source host. */
  readonly idleCores: number;
  /** Switches and retunes this migration's add-ons; each change is logged with its reason. */
  readonly addons: AddonControls;
  switchToPostcopy(reason: string): void;
}

/** A migration controller (capability `migration.controller`), e.g. AdaMig. */
export interface MigrationController {
  onRound(ctx: RoundContext): void;
}
export const MigrationController = token<MigrationController>('MigrationController');

export class MigrationEngine {
  private records: MigrationRecord[] = [];
  private metrics!: {
    started: Counter;
    succeeded: Counter;
    failed: Counter;
    time: Histogram;
    downtime: Histogram;
    bytes: Counter;
    rounds: Histogram;
    lost: Counter;
    faults: Counter;
    postcopyTime: Histogram;
    slowdown: Histogram;
  };
  /** The page list of each running migration's current transfer (derived, never saved: see pageList). */
  private readonly pageLists = new Map<number, { round: number; pages: Uint32Array }>();
  /** The add-ons that plugins registered (see addons.ts). */
  readonly addons = new MigrationAddons();

  constructor(
    private readonly sim: SimContext,
    readonly method: 'precopy' | 'postcopy',
    readonly params: MigrationParams,
    owner: string,
  ) {
    const m = sim.metrics;
    this.metrics = {
      started: m.counter('migration.started', 'migrations', 'Live migrations started.', owner),
      succeeded: m.counter('migration.succeeded', 'migrations', 'Migrations that completed.', owner),
      failed: m.counter('migration.failed', 'migrations', 'Migrations that did not complete: aborted (the VM stays on its source) or lost in post-copy.', owner),
      time: m.histogram('migration.time', 'ms', 'Total time of completed migrations.', {}, owner),
      downtime: m.histogram('migration.downtime', 'ms', 'Downtime of completed migrations.', {}, owner),
      bytes: m.counter('migration.bytes', 'bytes', 'Bytes sent by migrations.', owner),
      rounds: m.histogram('migration.rounds', 'rounds', 'Rounds of completed and failed migrations.', { buckets: 'exact', max: 64 }, owner),
      lost: m.counter('migration.lost', 'VMs', 'VMs lost because their host or link failed while they were in post-copy.', owner),
      faults: m.counter('migration.postcopy.faults', 'faults', 'Remote page faults of VMs in post-copy (expected value).', owner),
      postcopyTime: m.histogram('migration.postcopy.time', 'ms', 'Time migrations spent in post-copy (after the switch).', {}, owner),
      slowdown: m.histogram('migration.postcopy.slowdown', 'ratio', 'Share of the guest’s progress lost to remote faults while in post-copy, per migration that switched.', {}, owner),
    };
    // A transfer's end is handled at its instant, inside the network's step, so the
    // next round's flow starts then.
    sim.hooks.network.flowFinished.tap({ name: owner, stage: 0 }, (e) => {
      const r = this.byFlow(e.flow);
      if (!r) return;
      r.flowDone = true;
      r.flowDoneAtNs = e.timeNs;
      this.transferDone(r);
    });
  }

  /** The unfinished migration whose current transfer is `flow` (most recent first: ids are reused). */
  private byFlow(flow: number): MigrationRecord | undefined {
    for (let i = this.active.length - 1; i >= 0; i--) {
      const r = this.active[i];
      if (r.flow === flow && r.state !== 'done') return r;
    }
    return undefined;
  }

  /** Unfinished migrations (a view of `records`, rebuilt when one ends or is restored). */
  private active: MigrationRecord[] = [];

  /** The current instant: inside the network's step, the instant being processed. */
  private nowNs(): number {
    return this.sim.services.get(NetworkToken).nowNs;
  }

  /** Every migration so far (for results and tests). */
  all(): readonly MigrationRecord[] {
    return this.records;
  }

  /** Starts migrating a running VM to another host; returns the migration id. */
  request(vm: number, dst: number): number {
    const V = this.sim.world.store(Vm);
    if (V.state[vm] !== VmState.Running) throw new Error(`VM ${vm} is not running; only running VMs migrate`);
    const src = V.host[vm];
    if (src === dst) throw new Error(`VM ${vm} is already on host ${dst}`);
    const now = this.nowNs();
    const r: MigrationRecord = {
      id: this.records.length,
      vm,
      src,
      dst,
      method: this.method,
      state: 'round',
      round: 0,
      flow: -1,
      flowDone: false,
      flowDoneAtNs: -1,
      startNs: now,
      roundStartNs: now,
      roundBytes: 0,
      roundPages: 0,
      pausedAtNs: -1,
      switchedAtNs: -1,
      bytesSent: 0,
      postcopyPages: 0,
      postcopyTotal: 0,
      speedFactor: 1,
      dirtyClient: -1,
      dirtyLogNs: 0,
      srcCores: 0,
      dstCores: 0,
      postcopyClockNs: -1,
      missingWsPages: 0,
      faults: 0,
      slowdownNs: 0,
      postcopyNs: 0,
      success: null,
      lost: false,
      failure: null,
      downtimeNs: 0,
      endNs: -1,
      addons: this.addons.slotsForNewMigration(`migration ${this.records.length}`),
      rounds: [],
      decisions: [],
    };
    this.records.push(r);
    this.active.push(r);
    V.state[vm] = VmState.Migrating;
    this.metrics.started.add();
    this.sim.hooks.migration.start.call(this.event(r, now));
    if (r.method === 'postcopy') this.startPostcopy(r, this.totalPages(vm), 'post-copy from the start');
    else this.startRound(r, this.firstRoundPages(vm));
    return r.id;
  }

  /** The dirty-log provider, if one is selected (looked up once: services are bound before migrations run). */
  private dirtyLogCache: DirtyLog | null | undefined;
  private dirtyLog(): DirtyLog | null {
    if (this.dirtyLogCache === undefined) this.dirtyLogCache = this.sim.services.tryGet(DirtyLog) ?? null;
    return this.dirtyLogCache;
  }

  private activity(): MemoryActivity {
    return this.sim.services.get(MemoryActivity);
  }

  private totalPages(vm: number): number {
    return Math.ceil(this.sim.world.store(Vm).memory[vm] / this.params.pageSize);
  }

  /** Round 0 sends every page; pages outside the working set are zero pages. */
  private firstRoundPages(vm: number): { data: number; zero: number } {
    const total = this.totalPages(vm);
    const wss = Math.min(total, this.activity().workingSetPages(vm));
    return { data: wss, zero: total - wss };
  }

  /**
   * Bytes to send `pages` data pages in a transfer, as the enabled add-ons encode them;
   * `commit` when the transfer starts now (add-ons may then record what they send).
   */
  private bytesFor(r: MigrationRecord, pages: number, round: number, commit = false): number {
    const list = this.addons.list();
    let perPage = this.params.pageSize;
    if (list.length) {
      const plan = this.planFor(r, pages, round, commit);
      for (let i = 0; i < list.length; i++) {
        const a = list[i];
        if (a.pageBytes && r.addons[i].enabled) perPage = a.pageBytes(r.addons[i].state, perPage, plan);
      }
    }
    return pages * perPage;
  }

  /** What add-ons see of a transfer of `pages` data pages in round `round`. */
  private planFor(r: MigrationRecord, pages: number, round: number, commit: boolean): TransferPlan {
    return {
      migration: r.id,
      round,
      pages,
      pageSize: this.params.pageSize,
      vm: r.vm,
      src: r.src,
      dst: r.dst,
      commit,
      pageList: () => this.pageList(r, round),
    };
  }

  /** The pages a transfer of round `round` sends, computed once per round (see TransferPlan.pageList). */
  private pageList(r: MigrationRecord, round: number): Uint32Array {
    const have = this.pageLists.get(r.id);
    if (have && have.round === round) return have.pages;
    let pages: Uint32Array;
    if (round === 0) {
      pages = new Uint32Array(Math.min(this.totalPages(r.vm), this.activity().workingSetPages(r.vm)));
      for (let i = 0; i < pages.length; i++) pages[i] = i;
    } else {
      const log = this.dirtyLog();
      pages = log && r.dirtyClient >= 0 ? log.dirtyPageList(r.dirtyClient) : this.activity().dirtyPageList(r.vm);
    }
    this.pageLists.set(r.id, { round, pages });
    return pages;
  }

  /** The flow's cap: the bandwidth cap, as the enabled add-ons bound it. */
  private capFor(r: MigrationRecord): number {
    const list = this.addons.list();
    let cap = this.params.bandwidthCap;
    let plan: TransferPlan | undefined;
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (a.rateCap && r.addons[i].enabled) cap = a.rateCap(r.addons[i].state, cap, (plan ??= this.planFor(r, r.roundPages, r.round, false)));
    }
    return cap;
  }

  /** Charges the enabled add-ons' cores to the hosts while the migration runs. */
  private chargeCores(r: MigrationRecord): void {
    let src = 0;
    let dst = 0;
    if (r.state !== 'done') {
      const list = this.addons.list();
      for (let i = 0; i < list.length; i++) {
        const a = list[i];
        if (!a.cores || !r.addons[i].enabled) continue;
        const c = a.cores(r.addons[i].state);
        src += c.src;
        dst += c.dst;
      }
    }
    const H = this.sim.world.store(Host);
    if (src !== r.srcCores) H.serviceCores[r.src] += src - r.srcCores;
    if (dst !== r.dstCores) H.serviceCores[r.dst] += dst - r.dstCores;
    r.srcCores = src;
    r.dstCores = dst;
  }

  /** Applies the product of the enabled add-ons' speed factors to the VM when it changed. */
  private applySpeed(r: MigrationRecord): void {
    const list = this.addons.list();
    let factor = 1;
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (a.speed && r.addons[i].enabled) factor *= a.speed(r.addons[i].state);
    }
    if (factor === r.speedFactor) return;
    r.speedFactor = factor;
    this.sim.world.store(Vm).speed[r.vm] = factor;
  }

  /** The add-on controls of a migration; decisions are logged at `timeNs`. */
  private controls(r: MigrationRecord, timeNs: number): AddonControls {
    const slot = (id: string) => r.addons[this.addons.indexOf(id)];
    const change = (id: string, edit: (s: AddonSlot) => void, action: string, reason: string) => {
      const s = slot(id);
      const before = JSON.stringify(s);
      edit(s);
      if (JSON.stringify(s) === before) return;
      r.decisions.push({ timeNs, round: r.round, action, reason });
      this.sim.hooks.migration.methodSwitch.call({ ...this.event(r, timeNs), from: r.method, to: action, reason });
    };
    return {
      ids: this.addons.ids(),
      has: (id) => this.addons.has(id),
      isEnabled: (id) => slot(id).enabled,
      state: <S extends object>(id: string) => slot(id).state as S,
      enable: <S extends object>(id: string, action: string, reason: string, tune?: (s: S) => void) =>
        change(id, (s) => {
          tune?.(s.state as S);
          s.enabled = true;
        }, action, reason),
      disable: (id, action, reason) => change(id, (s) => (s.enabled = false), action, reason),
      retune: <S extends object>(id: string, tune: (s: S) => void, action: string, reason: string) => change(id, (s) => tune(s.state as S), action, reason),
    };
  }

  /**
   * Add-on controls of a running migration for controllers that act outside the end of
   * a round (a trigger, an operator's policy); decisions are logged at the current time.
   */
  addonControls(migration: number): AddonControls {
    const r = this.records[migration];
    if (!r) throw new Error(`no migration ${migration} (there are ${this.records.length})`);
    return this.controls(r, this.sim.timeNs);
  }

  private startRound(r: MigrationRecord, pages: { data: number; zero: number }): void {
    this.chargeCores(r);
    const net = this.sim.services.get(NetworkToken);
    const now = net.nowNs;
    r.roundStartNs = now;
    r.roundPages = pages.data;
    const zeroBytes = this.params.rules === 'simgrid' ? this.params.pageSize : this.params.zeroPageBytes;
    r.roundBytes = this.bytesFor(r, pages.data, r.round, true) + pages.zero * zeroBytes;
    const log = this.dirtyLog();
    if (log) {
      if (r.dirtyClient < 0) r.dirtyClient = log.open(r.vm, `migration-${r.id}`);
      const ns = log.rearm(r.dirtyClient, now);
      r.dirtyLogNs += ns;
      const cap = this.capFor(r);
      if (Number.isFinite(cap)) r.roundBytes += (ns * cap) / 8e9;
    } else {
      const act = this.activity();
      if (act.resetDirtyAt) act.resetDirtyAt(r.vm, now);
      else act.resetDirty(r.vm);
    }
    r.flowDone = false;
    r.flow = net.start(r.src, r.dst, Math.max(1, r.roundBytes), this.capFor(r), `migration-${r.id}`, { inStep: this.roundEndsInStep() });
  }

  /**
   * Whether a round's end only starts the next round or the stop-and-copy, which the
   * network's step handles at its instant: then the engine need not stop there. A
   * controller or an add-on that changes the VM's speed acts at round ends, and the
   * workload must see that speed from then on, so their rounds end steps.
   */
  private roundEndsInStep(): boolean {
    if (this.controller()) return false;
    const list = this.addons.list();
    for (let i = 0; i < list.length; i++) if (list[i].speed) return false;
    return true;
  }

  /** The controller, if any, looked up once: services are all bound when migrations run. */
  private controllerCache: MigrationController | null | undefined;
  private controller(): MigrationController | undefined {
    if (this.controllerCache === undefined) this.controllerCache = this.sim.services.tryGet(MigrationController) ?? null;
    return this.controllerCache ?? undefined;
  }

  private startPostcopy(r: MigrationRecord, pages: number, reason: string): void {
    const D = this.sim.services.get(DatacenterToken);
    const net = this.sim.services.get(NetworkToken);
    r.method = 'postcopy';
    r.state = 'postcopy';
    r.switchedAtNs = net.nowNs;
    // The switch itself: the device state and the CPU cross the network once.
    r.downtimeNs = net.latency(r.src, r.dst) * 2 + 1e6;
    D.place(r.vm, r.dst);
    this.sim.world.store(Vm).state[r.vm] = VmState.Migrating;
    r.postcopyPages = pages;
    r.postcopyTotal = Math.max(1, pages);
    r.postcopyClockNs = this.sim.timeNs;
    // The working set's pages are among those still to send, in the same proportion.
    r.missingWsPages = Math.min(pages, this.activity().workingSetPages(r.vm));
    r.roundBytes = pages * this.params.pageSize;
    r.flowDone = false;
    r.flow = net.start(r.src, r.dst, Math.max(1, r.roundBytes), this.params.bandwidthCap, `migration-${r.id}`);
    r.decisions.push({ timeNs: r.switchedAtNs, round: r.round, action: 'switch to post-copy', reason });
  }

  /**
   * The migration system. Pre-copy acts only at transfer ends, which the network
   * reports at their instants. Post-copy's fault model is integrated exactly between
   * any two instants (postcopyAccount), so it needs no tick; its next event is the
   * instant at which the guest's speed will have risen by POSTCOPY_SPEED_STEP, so that
   * the workload, which reads the speed at the start of a step, sees it change in
   * steps that do not depend on the tick.
   */
  systems(owner: string): SystemDef[] {
    return [
      {
        name: `${owner}/migrate`,
        phase: 'migration',
        run: () => this.step(),
        writes: [Vm],
        nextEventNs: (sim) => {
          let next = Infinity;
          for (const r of this.active) if (r.state === 'postcopy') next = Math.min(next, this.postcopyNextNs(r, sim.timeNs));
          return next;
        },
      },
    ];
  }

  private step(): void {
    // The network has advanced its flows to the end of the step.
    const end = this.sim.timeNs + this.sim.stepNs;
    for (const r of this.active) if (r.state === 'postcopy') this.postcopyAccount(r, end, end);
  }

  /** A transfer delivered its last byte (at r.flowDoneAtNs): end the round or the migration. */
  private transferDone(r: MigrationRecord): void {
    if (r.state === 'round') this.endRound(r);
    else if (r.state === 'stop-and-copy') this.finish(r, true, r.flowDoneAtNs + this.sim.services.get(NetworkToken).latency(r.src, r.dst) - r.pausedAtNs);
    else if (r.state === 'postcopy') {
      // Post-copy is accounted up to the push's last byte, at its instant.
      this.postcopyAccount(r, r.flowDoneAtNs, r.flowDoneAtNs);
      this.finish(r, true, r.downtimeNs);
    }
  }

  /** The stall of one remote fault, s: a round trip plus one page at `bps`. */
  private faultStallS(r: MigrationRecord, bps: number): number {
    const net = this.sim.services.get(NetworkToken);
    return (2 * net.latency(r.src, r.dst) + (this.params.pageSize * 8 * 1e9) / (bps > 0 ? bps : this.params.bandwidthCap)) / 1e9;
  }

  /** The post-copy model's coefficients now: working-set pages, accesses per second. */
  private postcopyInputs(r: MigrationRecord): { ws: number; accesses: number } {
    const act = this.activity();
    return { ws: Math.max(1, Math.min(act.workingSetPages(r.vm), r.postcopyTotal)), accesses: (act.readRate(r.vm) + act.writeRate(r.vm)) * r.speedFactor };
  }

  /**
   * Accounts post-copy from where it was last accounted to `toNs`, exactly: the
   * background push brings pages in, and the guest's accesses fault on working-set
   * pages that are still missing; each fault stalls the guest for a round trip plus
   * one page at the push's rate. Accesses are taken as spread evenly over the working
   * set, so with m pages of the ws missing, the guest's speed is
   *   s = 1 / (1 + a·stall·m/ws)          (a: accesses per second)
   * and faults arrive at a·s·m/ws per second, each bringing its page over:
   *   dm/dt = −(a/ws)·m / (1 + (a·stall/ws)·m),
   * while m can never exceed the working set's share of the pages the push has not
   * sent (ws·P/T, falling linearly at the push's rate). postcopySegment solves this in
   * closed form, so the result does not depend on how often it is called.
   * `netNs` is the instant the network's flows stand at (the push's bytes sent).
   */
  private postcopyAccount(r: MigrationRecord, toNs: number, netNs: number): void {
    const from = Math.max(r.postcopyClockNs, r.switchedAtNs);
    if (!(toNs > from)) return;
    const net = this.sim.services.get(NetworkToken);
    const dtS = (toNs - from) / 1e9;
    const alive = net.flows.isAlive(r.flow);
    const flowRate = alive ? net.flows.rateOf(r.flow) : 0;
    const sent = alive ? net.flows.sentOf(r.flow) + (flowRate * (toNs - netNs)) / 8e9 : r.roundBytes;
    const pagesBefore = r.postcopyPages;
    r.postcopyPages = Math.max(0, r.postcopyTotal - sent / this.params.pageSize);
    r.postcopyClockNs = toNs;
    const { ws, accesses } = this.postcopyInputs(r);
    // The push's rate over the interval (its bytes over its time) sets the stall.
    const pushedBps = ((pagesBefore - r.postcopyPages) * this.params.pageSize * 8) / dtS;
    const stall = this.faultStallS(r, pushedBps > 0 ? pushedBps : flowRate);
    const seg = postcopySegment(r.missingWsPages, (ws * pagesBefore) / r.postcopyTotal, (ws * r.postcopyPages) / r.postcopyTotal, dtS, accesses / ws, (accesses * stall) / ws);
    r.missingWsPages = seg.missing;
    r.faults += seg.faults;
    this.metrics.faults.add(seg.faults);
    r.postcopyNs += dtS * 1e9;
    r.slowdownNs += seg.slowS * 1e9;
    this.sim.world.store(Vm).speed[r.vm] = r.speedFactor / (1 + ((accesses * stall) / ws) * r.missingWsPages);
  }

  /**
   * The next instant at which post-copy must act (see systems): when the guest's speed
   * will have risen by POSTCOPY_SPEED_STEP at the current rates, or Infinity once it is
   * within that step of full speed.
   */
  private postcopyNextNs(r: MigrationRecord, nowNs: number): number {
    const net = this.sim.services.get(NetworkToken);
    const { ws, accesses } = this.postcopyInputs(r);
    const alive = net.flows.isAlive(r.flow);
    const flowRate = alive ? net.flows.rateOf(r.flow) : 0;
    const A = accesses / ws;
    const B = (accesses * this.faultStallS(r, flowRate)) / ws;
    const m = r.missingWsPages;
    if (!(m > 0) || !(B > 0)) return Infinity;
    const speed = 1 / (1 + B * m);
    if (speed + POSTCOPY_SPEED_STEP >= 1) return Infinity;
    const target = (1 / (speed + POSTCOPY_SPEED_STEP) - 1) / B;
    // Whichever brings the missing pages down first: faults, or the push's share.
    const byFaults = A > 0 ? (Math.log(m / target) + B * (m - target)) / A : Infinity;
    const u = (ws * flowRate) / 8 / this.params.pageSize / r.postcopyTotal;
    const cap = (ws * r.postcopyPages) / r.postcopyTotal;
    const byPush = u > 0 ? (cap - target) / u : Infinity;
    const s = Math.max(0, Math.min(byFaults, byPush));
    return Math.max(r.postcopyClockNs, nowNs) + s * 1e9;
  }

  /**
   * Fails a running migration at `atNs` (now by default) because its destination host
   * or the network between the hosts failed: a VM still on the source (pre-copy) stays
   * there and keeps running, and the migration is aborted; a VM in post-copy is lost.
   * Returns what happened to the VM, or null if the migration had already ended.
   */
  fail(migration: number, cause: 'destination' | 'link', atNs = this.sim.timeNs): 'aborted' | 'lost' | null {
    const r = this.records[migration];
    if (!r) throw new Error(`no migration ${migration} (there are ${this.records.length})`);
    if (r.state === 'done') return null;
    const net = this.sim.services.get(NetworkToken);
    // Post-copy ran until the failure: account for it up to that instant first.
    if (r.state === 'postcopy') this.postcopyAccount(r, atNs, net.nowNs);
    if (net.flows.isAlive(r.flow)) {
      r.bytesSent += net.flows.sentOf(r.flow);
      this.metrics.bytes.add(net.flows.sentOf(r.flow));
      net.flows.stop(r.flow);
    }
    const what = cause === 'destination' ? `destination host ${r.dst} failed` : `the network between hosts ${r.src} and ${r.dst} failed`;
    r.failure = what;
    if (r.state === 'postcopy') {
      r.decisions.push({ timeNs: atNs, round: r.round, action: 'VM lost', reason: `${what} in post-copy: the VM's memory was split between the hosts` });
      r.lost = true;
      this.finish(r, false, 0, atNs);
      return 'lost';
    }
    r.decisions.push({ timeNs: atNs, round: r.round, action: 'abort', reason: `${what}; the VM keeps running on the source` });
    this.finish(r, false, 0, atNs);
    return 'aborted';
  }

  private endRound(r: MigrationRecord): void {
    // Rounds end when their last byte arrives, not at the tick boundary.
    const now = r.flowDoneAtNs;
    const act = this.activity();
    const duration = Math.max(1, now - r.roundStartNs);
    const log = this.dirtyLog();
    const logged = log && r.dirtyClient >= 0 ? log.dirtyPages(r.dirtyClient) : act.dirtyPagesAt ? act.dirtyPagesAt(r.vm, now) : act.dirtyPages(r.vm);
    const dirtied = Math.min(this.totalPages(r.vm), logged);
    const stats: RoundStats = { round: r.round, bytes: r.roundBytes, pages: r.roundPages, durationNs: duration, dirtiedPages: dirtied, bandwidth: (r.roundBytes * 8 * 1e9) / duration };
    r.rounds.push(stats);
    r.bytesSent += r.roundBytes;
    this.metrics.bytes.add(r.roundBytes);
    const remainingPages = dirtied;
    if (this.sim.hooks.migration.round.taps.length) this.sim.hooks.migration.round.call({
      ...this.event(r, now),
      round: r.round,
      bytesSent: r.bytesSent,
      pagesRemaining: remainingPages,
      dirtyRatePagesPerS: (dirtied * 1e9) / duration,
      bandwidthBitsPerS: stats.bandwidth,
    });
    this.addonsRoundEnd(r, stats, now);
    r.round++;
    const bw = Math.min(stats.bandwidth, this.capFor(r));
    const nextBytes = this.bytesFor(r, remainingPages, r.round);
    const converged = (nextBytes * 8 * 1e9) / bw <= this.params.downtimeLimit;
    const controller = this.controller();
    if (controller && !converged) {
      const H = this.sim.world.store(Host);
      // cpuLoad already includes the cores charged to running compressions.
      const idle = Math.max(0, H.cores[r.src] - H.cpuLoad[r.src] * H.cores[r.src]);
      let switched = false;
      controller.onRound({
        sim: this.sim,
        migration: r,
        last: stats,
        nextBytes,
        converged,
        params: this.params,
        idleCores: idle,
        addons: this.controls(r, now),
        switchToPostcopy: (reason) => {
          switched = true;
          this.sim.hooks.migration.methodSwitch.call({ ...this.event(r, now), from: 'precopy', to: 'postcopy', reason });
          this.startPostcopy(r, remainingPages, reason);
        },
      });
      if (switched) return;
      this.applySpeed(r);
    }
    const recomputed = this.bytesFor(r, remainingPages, r.round);
    const fits = (recomputed * 8 * 1e9) / Math.min(stats.bandwidth, this.capFor(r)) <= this.params.downtimeLimit;
    if (fits || this.timedOut(r, now)) {
      if (!fits && this.params.onTimeout === 'abort') {
        r.decisions.push({ timeNs: now, round: r.round, action: 'abort', reason: this.timeoutReason(r, now) });
        this.finish(r, false, 0);
        return;
      }
      if (!fits) r.decisions.push({ timeNs: now, round: r.round, action: 'force stop-and-copy', reason: this.timeoutReason(r, now) });
      // Stop-and-copy: pause the VM and send the rest.
      r.state = 'stop-and-copy';
      r.pausedAtNs = now;
      this.sim.world.store(Vm).speed[r.vm] = 0;
      r.roundPages = remainingPages;
      r.roundBytes = this.bytesFor(r, remainingPages, r.round, true);
      r.flowDone = false;
      r.flow = this.sim.services.get(NetworkToken).start(r.src, r.dst, Math.max(1, r.roundBytes), this.capFor(r), `migration-${r.id}`);
      return;
    }
    this.startRound(r, { data: remainingPages, zero: 0 });
  }

  /** Lets the enabled add-ons react to the end of a round, then applies their speed. */
  private addonsRoundEnd(r: MigrationRecord, stats: RoundStats, now: number): void {
    const list = this.addons.list();
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (!a.roundEnd || !r.addons[i].enabled) continue;
      a.roundEnd(r.addons[i].state, {
        migration: r.id,
        vm: r.vm,
        round: r.round,
        stats,
        params: this.params,
        timeNs: now,
        log: (action, reason) => r.decisions.push({ timeNs: now, round: r.round, action, reason }),
      });
    }
    this.applySpeed(r);
  }

  /** The fields every migration hook event carries. */
  private event(r: MigrationRecord, timeNs: number) {
    return { migration: r.id, vm: r.vm, src: r.src, dst: r.dst, timeNs, method: r.method };
  }

  private timedOut(r: MigrationRecord, now: number): boolean {
    if (this.params.rules === 'simgrid') return now - r.startNs >= this.params.deadline;
    return r.round >= this.params.maxRounds || now - r.startNs >= this.params.deadline;
  }

  private timeoutReason(r: MigrationRecord, now: number): string {
    return r.round >= this.params.maxRounds ? `no convergence after ${r.round} rounds` : `no convergence within the ${Math.round(this.params.deadline / 1e9)} s deadline (${Math.round((now - r.startNs) / 1e9)} s)`;
  }

  private finish(r: MigrationRecord, success: boolean, downtimeNs: number, atNs?: number): void {
    // A completed transfer ends when its last byte arrives; an abort at the round's end;
    // a failure (fail()) at the instant it happened.
    const arrival = r.state === 'stop-and-copy' ? this.sim.services.get(NetworkToken).latency(r.src, r.dst) : 0;
    const now = atNs ?? (r.flowDoneAtNs >= 0 ? r.flowDoneAtNs + arrival : this.nowNs());
    const V = this.sim.world.store(Vm);
    if (r.switchedAtNs >= 0) {
      this.metrics.postcopyTime.record(r.postcopyNs / 1e6);
      this.metrics.slowdown.record(r.postcopyNs ? r.slowdownNs / r.postcopyNs : 0);
    }
    if (atNs === undefined && (r.state === 'stop-and-copy' || r.state === 'postcopy')) {
      r.bytesSent += r.roundBytes;
      this.metrics.bytes.add(r.roundBytes);
    }
    r.state = 'done';
    if (r.dirtyClient >= 0) {
      this.dirtyLog()?.close(r.dirtyClient);
      r.dirtyClient = -1;
    }
    this.pageLists.delete(r.id);
    this.active = this.active.filter((x) => x !== r);
    this.chargeCores(r);
    r.success = success;
    r.downtimeNs = downtimeNs;
    r.endNs = now;
    V.speed[r.vm] = 1;
    V.state[r.vm] = VmState.Running;
    if (r.lost) {
      // Neither host holds the whole VM any more.
      this.sim.services.get(DatacenterToken).release(r.vm);
      V.state[r.vm] = VmState.Lost;
      V.speed[r.vm] = 0;
      this.metrics.lost.add();
    }
    if (success) {
      if (V.host[r.vm] !== r.dst) this.sim.services.get(DatacenterToken).place(r.vm, r.dst);
      V.state[r.vm] = VmState.Running;
      this.metrics.succeeded.add();
      this.metrics.time.record((now - r.startNs) / 1e6);
      this.metrics.downtime.record(downtimeNs / 1e6);
    } else this.metrics.failed.add();
    this.metrics.rounds.record(r.rounds.length);
    this.sim.hooks.migration.end.call({
      ...this.event(r, now),
      success,
      totalNs: now - r.startNs,
      downtimeNs,
      bytesSent: r.bytesSent,
      rounds: r.rounds.length,
    });
  }

  /** One line of results per migration. */
  summary(): Array<Record<string, unknown>> {
    return this.records.map((r) => ({
      id: r.id,
      vm: r.vm,
      src: r.src,
      dst: r.dst,
      method: r.method,
      success: r.success,
      timeMs: r.endNs >= 0 ? (r.endNs - r.startNs) / 1e6 : null,
      downtimeMs: r.downtimeNs / 1e6,
      bytesSent: r.bytesSent,
      rounds: r.rounds.length,
      lost: r.lost,
      failure: r.failure,
      postcopyMs: r.postcopyNs / 1e6,
      faults: r.faults,
      slowdown: r.postcopyNs ? r.slowdownNs / r.postcopyNs : 0,
      guestLostMs: r.slowdownNs / 1e6,
      dirtyLogMs: r.dirtyLogNs / 1e6,
      decisions: r.decisions,
    }));
  }

  save(): unknown {
    return { records: structuredClone(this.records) };
  }

  load(s: unknown): void {
    const d = s as { records: MigrationRecord[] };
    for (const r of d.records) this.addons.checkRestored(r.id, r.addons);
    this.records = structuredClone(d.records);
    this.active = this.records.filter((r) => r.state !== 'done');
    if (this.records.length) this.addons.seal('the restored migrations');
  }
}

export const MigrationService = token<MigrationEngine>('MigrationService');

/** Registers a migration engine in a given method: the shared body of the method plugins. */
export function registerMigrationMethod(api: PluginApi<Omit<MigrationParams, 'bandwidthCap'> & { bandwidth: number }>, method: 'precopy' | 'postcopy'): void {
  const o = api.options;
  const engine = new MigrationEngine(api.sim, method, { ...o, bandwidthCap: o.bandwidth }, api.id);
  api.provide(MigrationService, { useValue: engine });
  for (const s of engine.systems(api.id)) api.addSystem(s);
  api.persist('migrations', { save: () => engine.save(), load: (d) => engine.load(d) });
  api.hooks.lifecycle.finish.tapPromise(api.id, async (f) => {
    const names = simulationNames(api.sim);
    const all: Array<Record<string, unknown>> = engine.summary().map((m) => ({ ...m, vmName: names.vm(m.vm as number), srcName: names.host(m.src as number), dstName: names.host(m.dst as number) }));
    f.addFile('migrations.json', JSON.stringify(all, null, 2) + '\n');
    if (!all.length) return;
    const ok = all.filter((m) => m.success).length;
    f.addSummaryLine(`- migrations: ${ok} of ${all.length} succeeded (${method})`);
    for (const m of all.slice(0, 50)) {
      const decisions = (m.decisions as Decision[]).map((d) => `${d.action} (${d.reason})`).join('; ');
      f.addSummaryLine(
        `  - ${m.vmName} (${m.srcName} → ${m.dstName}): ${m.success === null ? 'in progress' : m.success ? 'done' : m.lost ? 'lost' : 'aborted'}, ${m.rounds} rounds, ` +
          `${m.timeMs === null ? '—' : formatValue(m.timeMs as number, 'ms')}, downtime ${formatValue(m.downtimeMs as number, 'ms')}${decisions ? `; ${decisions}` : ''}`,
      );
    }
  });
}

/**
 * Registers a migration add-on (see addons.ts) with the simulation's migration engine
 * at boot, under the plugin's id; `enabled: false` leaves it off until a controller
 * turns it on. The shared body of the add-on plugins, and the way for a user's plugin.
 */
export function registerMigrationAddon<S extends object>(api: PluginApi<unknown>, addon: MigrationAddon<S> | ((sim: SimContext) => MigrationAddon<S>), options: { enabled?: boolean } = {}): void {
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const engine = sim.services.tryGet(MigrationService);
    if (!engine) throw new Error(`plugin '${api.id}' registers a migration add-on, but no migration method (migration.precopy or migration.postcopy) is selected`);
    engine.addons.register(typeof addon === 'function' ? addon(sim) : addon, { owner: api.id, enabled: options.enabled });
  });
}
