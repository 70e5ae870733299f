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
// its pages are pushed in the background; accesses to pages not yet there stall for a
// network round trip, which slows the VM down in proportion to what is missing.
//
// Migration traffic is a flow like any other, so it competes with other flows on the
// links. Add-ons change what a round costs: XBZRLE (delta-encoding re-dirtied pages
// that hit its cache), multithreaded compression (fewer bytes, bounded by the
// threads' throughput and charged to the source's idle cores), auto-converge
// (throttling the guest when it dirties faster than the migration sends). A
// controller (AdaMig) may switch method and retune these at the end of each round;
// every decision is logged with its reason.

import type { SimContext } from '../../engine/context';
import type { SystemDef } from '../../engine/schedule';
import type { PluginApi } from '../../plugin/define';
import type { Counter, Histogram } from '../../metrics/metrics';
import { token } from '../../engine/tokens';
import { Host, Vm, VmState } from '../datacenter/components';
import { DatacenterToken } from '../datacenter/datacenter';
import { MemoryActivity } from '../datacenter/workload';
import { NetworkToken } from '../network/network';

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
}

export interface Tuning {
  compression: { enabled: boolean; threads: number; ratio: number; threadBytesPerSecond: number };
  xbzrle: { enabled: boolean; cacheBytes: number; deltaRatio: number };
  autoConverge: { enabled: boolean; initial: number; increment: number; trigger: number };
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
  throttle: number;
  /** Source cores this migration keeps busy compressing. */
  compressionCores: number;
  slowdownSum: number;
  slowdownTicks: number;
  success: boolean | null;
  downtimeNs: number;
  endNs: number;
  tuning: Tuning;
  rounds: RoundStats[];
  decisions: Decision[];
}

/** What a controller sees at the end of a round, and may change. */
export interface RoundContext {
  readonly sim: SimContext;
  readonly migration: Readonly<MigrationRecord>;
  readonly last: RoundStats;
  /** Bytes the next round would send with the current tuning. */
  readonly nextBytes: number;
  /** Whether the remainder would fit in the downtime limit now. */
  readonly converged: boolean;
  readonly params: MigrationParams;
  /** Idle cores of the source host. */
  readonly idleCores: number;
  setTuning(change: (t: Tuning) => void, action: string, reason: string): void;
  switchToPostcopy(reason: string): void;
}

/** A migration controller (capability `migration.controller`), e.g. AdaMig. */
export interface MigrationController {
  onRound(ctx: RoundContext): void;
}
export const MigrationController = token<MigrationController>('MigrationController');

const DEFAULT_TUNING: Tuning = {
  compression: { enabled: false, threads: 8, ratio: 0.5, threadBytesPerSecond: 100e6 },
  xbzrle: { enabled: false, cacheBytes: 64 * 2 ** 20, deltaRatio: 0.25 },
  autoConverge: { enabled: false, initial: 0.2, increment: 0.1, trigger: 0.5 },
};

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
  };
  tuning: Tuning = structuredClone(DEFAULT_TUNING);

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
      failed: m.counter('migration.failed', 'migrations', 'Migrations aborted without moving the VM.', owner),
      time: m.histogram('migration.time', 'ms', 'Total time of completed migrations.', {}, owner),
      downtime: m.histogram('migration.downtime', 'ms', 'Downtime of completed migrations.', {}, owner),
      bytes: m.counter('migration.bytes', 'bytes', 'Bytes sent by migrations.', owner),
      rounds: m.histogram('migration.rounds', 'rounds', 'Rounds of completed and failed migrations.', { buckets: 'exact', max: 64 }, owner),
    };
    sim.hooks.network.flowFinished.tap({ name: owner, stage: 0 }, (e) => {
      const r = this.records.find((x) => x.flow === e.flow && x.state !== 'done');
      if (r) {
        r.flowDone = true;
        r.flowDoneAtNs = e.timeNs;
      }
    });
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
    const now = this.sim.timeNs;
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
      throttle: 0,
      compressionCores: 0,
      slowdownSum: 0,
      slowdownTicks: 0,
      success: null,
      downtimeNs: 0,
      endNs: -1,
      tuning: structuredClone(this.tuning),
      rounds: [],
      decisions: [],
    };
    this.records.push(r);
    V.state[vm] = VmState.Migrating;
    this.metrics.started.add();
    this.sim.hooks.migration.start.call(this.event(r, now));
    if (r.method === 'postcopy') this.startPostcopy(r, this.totalPages(vm), 'post-copy from the start');
    else this.startRound(r, this.firstRoundPages(vm));
    return r.id;
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

  /** Bytes to send `pages` data pages in round `round` with the tuning. */
  private bytesFor(r: MigrationRecord, pages: number, round: number): number {
    const page = this.params.pageSize;
    let perPage = page;
    const x = r.tuning.xbzrle;
    if (x.enabled && round > 0 && pages > 0) {
      const hit = Math.min(1, x.cacheBytes / (pages * page));
      perPage = page * (hit * x.deltaRatio + (1 - hit));
    }
    if (r.tuning.compression.enabled) perPage *= r.tuning.compression.ratio;
    return pages * perPage;
  }

  /** The flow's cap: the bandwidth cap, and the compressors' throughput if they compress. */
  private capFor(r: MigrationRecord): number {
    let cap = this.params.bandwidthCap;
    const c = r.tuning.compression;
    if (c.enabled) cap = Math.min(cap, c.threads * c.threadBytesPerSecond * c.ratio * 8);
    return cap;
  }

  /** Charges the compression threads to the source host's cores while they run. */
  private chargeCompression(r: MigrationRecord): void {
    const H = this.sim.world.store(Host);
    const want = r.state !== 'done' && r.tuning.compression.enabled ? r.tuning.compression.threads : 0;
    H.serviceCores[r.src] += want - r.compressionCores;
    r.compressionCores = want;
  }

  private startRound(r: MigrationRecord, pages: { data: number; zero: number }): void {
    this.chargeCompression(r);
    const net = this.sim.services.get(NetworkToken);
    r.roundStartNs = this.sim.timeNs;
    r.roundPages = pages.data;
    r.roundBytes = this.bytesFor(r, pages.data, r.round) + pages.zero * this.params.zeroPageBytes;
    this.activity().resetDirty(r.vm);
    r.flowDone = false;
    r.flow = net.start(r.src, r.dst, Math.max(1, r.roundBytes), this.capFor(r), `migration-${r.id}`);
  }

  private startPostcopy(r: MigrationRecord, pages: number, reason: string): void {
    const D = this.sim.services.get(DatacenterToken);
    const net = this.sim.services.get(NetworkToken);
    r.method = 'postcopy';
    r.state = 'postcopy';
    r.switchedAtNs = this.sim.timeNs;
    // The switch itself: the device state and the CPU cross the network once.
    r.downtimeNs = net.latency(r.src, r.dst) * 2 + 1e6;
    D.place(r.vm, r.dst);
    this.sim.world.store(Vm).state[r.vm] = VmState.Migrating;
    r.postcopyPages = pages;
    r.postcopyTotal = Math.max(1, pages);
    r.roundBytes = pages * this.params.pageSize;
    r.flowDone = false;
    r.flow = net.start(r.src, r.dst, Math.max(1, r.roundBytes), this.params.bandwidthCap, `migration-${r.id}`);
    r.decisions.push({ timeNs: this.sim.timeNs, round: r.round, action: 'switch to post-copy', reason });
  }

  systems(owner: string): SystemDef[] {
    return [{ name: `${owner}/migrate`, phase: 'migration', run: () => this.step(), writes: [Vm] }];
  }

  private step(): void {
    for (const r of this.records) {
      if (r.state === 'done') continue;
      if (r.state === 'postcopy') this.postcopyTick(r);
      if (!r.flowDone) continue;
      if (r.state === 'round') this.endRound(r);
      else if (r.state === 'stop-and-copy') this.finish(r, true, r.flowDoneAtNs + this.sim.services.get(NetworkToken).latency(r.src, r.dst) - r.pausedAtNs);
      else if (r.state === 'postcopy') this.finish(r, true, r.downtimeNs);
    }
  }

  private postcopyTick(r: MigrationRecord): void {
    const net = this.sim.services.get(NetworkToken);
    const sent = net.flows.isAlive(r.flow) ? net.flows.sentOf(r.flow) : r.roundBytes;
    r.postcopyPages = Math.max(0, r.postcopyTotal - sent / this.params.pageSize);
    // Accesses to missing pages stall for a round trip each.
    const act = this.activity();
    const missing = r.postcopyPages / r.postcopyTotal;
    const rate = act.readRate(r.vm) + act.writeRate(r.vm);
    const rtt = (2 * net.latency(r.src, r.dst)) / 1e9;
    const speed = 1 / (1 + missing * Math.min(1, act.workingSetPages(r.vm) / r.postcopyTotal) * rate * rtt);
    this.sim.world.store(Vm).speed[r.vm] = speed * (1 - r.throttle);
    r.slowdownSum += 1 - speed;
    r.slowdownTicks++;
  }

  private endRound(r: MigrationRecord): void {
    // Rounds end when their last byte arrives, not at the tick boundary.
    const now = r.flowDoneAtNs;
    const act = this.activity();
    const duration = Math.max(1, now - r.roundStartNs);
    const dirtied = Math.min(this.totalPages(r.vm), act.dirtyPages(r.vm));
    const stats: RoundStats = { round: r.round, bytes: r.roundBytes, pages: r.roundPages, durationNs: duration, dirtiedPages: dirtied, bandwidth: (r.roundBytes * 8 * 1e9) / duration };
    r.rounds.push(stats);
    r.bytesSent += r.roundBytes;
    this.metrics.bytes.add(r.roundBytes);
    const remainingPages = dirtied;
    this.sim.hooks.migration.round.call({
      ...this.event(r, now),
      round: r.round,
      bytesSent: r.bytesSent,
      pagesRemaining: remainingPages,
      dirtyRatePagesPerS: (dirtied * 1e9) / duration,
      bandwidthBitsPerS: stats.bandwidth,
    });
    // Auto-converge: throttle the guest while it dirties faster than we send.
    const ac = r.tuning.autoConverge;
    if (ac.enabled && dirtied * this.params.pageSize > ac.trigger * r.roundBytes) {
      r.throttle = r.throttle === 0 ? ac.initial : Math.min(0.99, r.throttle + ac.increment);
      this.sim.world.store(Vm).speed[r.vm] = 1 - r.throttle;
      r.decisions.push({ timeNs: now, round: r.round, action: `throttle to ${Math.round(r.throttle * 100)}%`, reason: 'dirtied more than half of what the round sent' });
    }
    r.round++;
    const bw = Math.min(stats.bandwidth, this.capFor(r));
    const nextBytes = this.bytesFor(r, remainingPages, r.round);
    const converged = (nextBytes * 8 * 1e9) / bw <= this.params.downtimeLimit;
    const controller = this.sim.services.tryGet(MigrationController);
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
        setTuning: (change, action, reason) => {
          const before = JSON.stringify(r.tuning);
          change(r.tuning);
          if (JSON.stringify(r.tuning) !== before) {
            r.decisions.push({ timeNs: now, round: r.round, action, reason });
            this.sim.hooks.migration.methodSwitch.call({ ...this.event(r, now), from: 'precopy', to: action, reason });
          }
        },
        switchToPostcopy: (reason) => {
          switched = true;
          this.sim.hooks.migration.methodSwitch.call({ ...this.event(r, now), from: 'precopy', to: 'postcopy', reason });
          this.startPostcopy(r, remainingPages, reason);
        },
      });
      if (switched) return;
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
      r.roundBytes = recomputed;
      r.flowDone = false;
      r.flow = this.sim.services.get(NetworkToken).start(r.src, r.dst, Math.max(1, recomputed), this.capFor(r), `migration-${r.id}`);
      return;
    }
    this.startRound(r, { data: remainingPages, zero: 0 });
  }

  /** The fields every migration hook event carries. */
  private event(r: MigrationRecord, timeNs: number) {
    return { migration: r.id, vm: r.vm, src: r.src, dst: r.dst, timeNs, method: r.method };
  }

  private timedOut(r: MigrationRecord, now: number): boolean {
    return r.round >= this.params.maxRounds || now - r.startNs >= this.params.deadline;
  }

  private timeoutReason(r: MigrationRecord, now: number): string {
    return r.round >= this.params.maxRounds ? `no convergence after ${r.round} rounds` : `no convergence within the ${Math.round(this.params.deadline / 1e9)} s deadline (${Math.round((now - r.startNs) / 1e9)} s)`;
  }

  private finish(r: MigrationRecord, success: boolean, downtimeNs: number): void {
    const now = r.flowDoneAtNs >= 0 && r.state !== 'round' ? r.flowDoneAtNs : this.sim.timeNs + this.sim.dtNs;
    const V = this.sim.world.store(Vm);
    if (r.state === 'stop-and-copy' || r.state === 'postcopy') {
      r.bytesSent += r.roundBytes;
      this.metrics.bytes.add(r.roundBytes);
    }
    r.state = 'done';
    this.chargeCompression(r);
    r.success = success;
    r.downtimeNs = downtimeNs;
    r.endNs = now;
    V.speed[r.vm] = 1;
    V.state[r.vm] = VmState.Running;
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
      slowdown: r.slowdownTicks ? r.slowdownSum / r.slowdownTicks : 0,
      decisions: r.decisions,
    }));
  }

  save(): unknown {
    return { records: structuredClone(this.records), tuning: structuredClone(this.tuning) };
  }

  load(s: unknown): void {
    const d = s as { records: MigrationRecord[]; tuning: Tuning };
    this.records = structuredClone(d.records);
    this.tuning = structuredClone(d.tuning);
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
    const all = engine.summary();
    f.addFile('migrations.json', JSON.stringify(all, null, 2) + '\n');
    if (!all.length) return;
    const ok = all.filter((m) => m.success).length;
    f.addSummaryLine(`- migrations: ${ok} of ${all.length} succeeded (${method})`);
    for (const m of all.slice(0, 50)) {
      const decisions = (m.decisions as Decision[]).map((d) => `${d.action} (${d.reason})`).join('; ');
      f.addSummaryLine(
        `  - VM ${m.vm}: ${m.success === null ? 'in progress' : m.success ? 'done' : 'aborted'}, ${m.rounds} rounds, ` +
          `${m.timeMs === null ? '—' : `${Math.round(m.timeMs as number)} ms`}, downtime ${Math.round(m.downtimeMs as number)} ms${decisions ? `; ${decisions}` : ''}`,
      );
    }
  });
}
