// The Simulation: boots a scenario's plugins into a fresh world, runs fixed-length
// ticks through the phases, and produces the run's results. It also takes and
// restores snapshots: a run checkpointed at tick k and resumed in a freshly booted
// simulation of the same scenario gives results identical to an uninterrupted run.
//
// Lifecycle: `await Simulation.create({ scenario, catalog })` boots; `step()` runs one
// tick; `runUntil(ns)` and `run()` run many; `await finish()` returns the results.
//
// It sits at the root of core/, above the engine, the registry and the models: it
// joins the engine's clock and schedule, the plugins the registry selects, and the
// hooks record composed from every model's group (hooks.ts). It builds no model
// itself: the datacenter and the network are plugins (plugins/datacenter/racks,
// plugins/network/flows) that populate the world in lifecycle.populate.

import { SimWorld, type WorldSnapshot } from './ecs/world';
import { Metrics, type MetricsSnapshot } from './metrics/metrics';
import { formatQuantity } from './units/units';
import { formatMetric, formatNumber, groupThousands, type MetricRecord } from './units/format';
import type { HostProfile } from './models/datacenter/host-profile';
import { ServiceContainer, type Binding } from './plugin/container';
import { isPluginModule, type PluginApi, type StateParticipant } from './plugin/define';
import type { PluginCatalog, SelectedPlugin } from './plugin/registry';
import { RegistryError, selectPlugins } from './plugin/registry';
import { closest } from './plugin/manifest';
import type { ServiceToken } from './engine/tokens';
import type { Scenario } from './scenario/types';
import type { SimContext } from './engine/context';
import { checkExpectations, type ExpectationResult } from './scenario/expectations';
import { sealAfterBoot, type FinishContext, type Hooks, type TickInfo } from './engine/hooks';
import { createHooks } from './hooks';
import { RngStreams } from './engine/rng';
import { Schedule, ticksToNextEvent, type ScheduledSystem, type SystemDef } from './engine/schedule';
import { ENGINE_VERSION } from './engine/version';
import { RunProfiler, type ProfileEntry } from './engine/profile';

export interface SimulationOptions {
  readonly scenario: Scenario;
  readonly catalog: PluginCatalog;
  /** Data files for guests (guest path → bytes), loaded by the runner. */
  readonly files?: ReadonlyMap<string, Uint8Array>;
  /**
   * Told each step of boot and the plugin it runs (`register`, then the plugin's taps of
   * lifecycle.populate, boot and bootAsync; `booted` at the end), so that a runner can
   * name the plugin that hangs boot. See `bootPhase`.
   */
  readonly onBootPhase?: (phase: BootPhase) => void;
  /**
   * A clock (any unit; the CLI gives milliseconds) with which to time every system and
   * every plugin's hook handler: see profile(). Core reads no clock of its own, and
   * without one the run is not timed at all.
   */
  readonly profileClock?: () => number;
}

/** The step of boot under way: what runs, and for which plugin. */
export interface BootPhase {
  readonly step: 'select' | 'register' | 'populate' | 'boot' | 'bootAsync' | 'booted';
  readonly plugin?: string;
}

export interface RunResult {
  /** Effective configuration: every plugin and option value, defaults included. */
  readonly config: Record<string, unknown>;
  /** metrics.json contents as an object. */
  readonly metrics: Record<string, unknown>;
  /** metrics.json exactly as written (stable key order). */
  readonly metricsJson: string;
  readonly configJson: string;
  readonly timeseriesCsv: string;
  readonly summary: string;
  /** Extra files added by plugins' finish handlers. */
  readonly files: ReadonlyMap<string, string>;
  readonly expectations: readonly ExpectationResult[];
  readonly simulatedNs: number;
  readonly ticks: number;
}

export interface SimSnapshot {
  readonly engine: string;
  readonly scenario: string;
  readonly seed: number;
  readonly plugins: string[];
  readonly tick: number;
  readonly nextSampleNs: number;
  readonly world: WorldSnapshot;
  readonly metrics: MetricsSnapshot;
  readonly rng: ReturnType<RngStreams['save']>;
  readonly participants: Record<string, unknown>;
}

export class SimulationError extends Error {}

export class Simulation implements SimContext {
  /**
   * The world of entities, made at its first use: a simulation whose plugins keep no
   * entities (that of `virtlab exec`) then never loads the ECS library.
   */
  get world(): SimWorld {
    return (this.worldValue ??= new SimWorld());
  }
  private worldValue?: SimWorld;
  readonly hooks: Hooks = createHooks();
  readonly metrics = new Metrics();
  readonly rng: RngStreams;
  readonly scenario: Scenario;
  readonly hostProfiles: readonly HostProfile[];
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly dtNs: number;
  private readonly container = new ServiceContainer();
  readonly services = {
    get: <T>(t: ServiceToken<T>) => this.container.get(t),
    tryGet: <T>(t: ServiceToken<T>) => this.container.tryGet(t),
  };
  private readonly schedule = new Schedule();
  private readonly catalog: PluginCatalog;
  private readonly participants = new Map<string, StateParticipant>();
  private plugins: SelectedPlugin[] = [];
  private systems: readonly ScheduledSystem[] = [];
  private runs: Array<(sim: SimContext, tick: TickInfo) => void> = [];
  private booted = false;
  private finished = false;
  private tickIndex = 0;
  private nextSampleNs: number;
  private samplingNow = false;
  private phase: BootPhase = { step: 'select' };
  private readonly onBootPhase?: (phase: BootPhase) => void;
  private readonly profiler?: RunProfiler;
  private readonly tickInfo = { tick: 0, timeNs: 0, dtNs: 0, stepNs: 0 };
  /** Ticks the current step spans (1 unless the run advances to the next event). */
  private stepTicks = 1;
  /** Whether steps may span several ticks: `advance: event` and every system event-driven. */
  private eventAdvance = false;

  /** Creates and boots a simulation. */
  static async create(options: SimulationOptions): Promise<Simulation> {
    const sim = new Simulation(options);
    await sim.boot();
    return sim;
  }

  constructor(options: SimulationOptions) {
    this.scenario = options.scenario;
    this.catalog = options.catalog;
    this.files = options.files ?? new Map();
    this.rng = new RngStreams(this.scenario.seed);
    this.dtNs = this.scenario.tick;
    this.tickInfo.dtNs = this.dtNs;
    this.tickInfo.stepNs = this.dtNs;
    this.hostProfiles = this.scenario.hosts.map((g) => g.profile);
    this.nextSampleNs = this.scenario.record.every;
    this.onBootPhase = options.onBootPhase;
    sealAfterBoot(this.hooks, () => this.booted);
    if (options.profileClock) {
      this.profiler = new RunProfiler(options.profileClock);
      this.profiler.watchHooks(this.hooks);
    }
  }

  /** Time per system and per hook handler, when the simulation was given a profileClock. */
  profile(): ProfileEntry[] | undefined {
    return this.profiler?.entries();
  }

  get tick(): number {
    return this.tickIndex;
  }
  get timeNs(): number {
    return this.tickIndex * this.dtNs;
  }
  get stepNs(): number {
    return this.stepTicks * this.dtNs;
  }
  /** Whether this run advances straight to the next event (see core/engine/schedule.ts). */
  get advancesByEvent(): boolean {
    return this.eventAdvance;
  }
  get sampling(): boolean {
    return this.samplingNow;
  }
  /** The step of boot under way, and its plugin (a plugin's taps are named by its id). */
  get bootPhase(): BootPhase {
    return this.phase;
  }
  private enter(step: BootPhase['step'], plugin?: string): void {
    this.phase = { step, plugin };
    this.onBootPhase?.(this.phase);
  }
  /** Number of ticks that cover the scenario's duration. */
  get totalTicks(): number {
    return Math.ceil(this.scenario.duration / this.dtNs);
  }
  /** The selected plugins, in application order. */
  get selectedPlugins(): readonly SelectedPlugin[] {
    return this.plugins;
  }
  /** The systems in run order. */
  get systemOrder(): readonly ScheduledSystem[] {
    return this.systems;
  }

  /**
   * Selects and applies the plugins, checks that they cover what the scenario
   * declares, builds the schedule, and fires lifecycle.populate (the world's models
   * spawn their entities), then lifecycle.boot and bootAsync.
   */
  async boot(): Promise<void> {
    if (this.booted) throw new SimulationError('the simulation is already booted');
    const sc = this.scenario;
    this.plugins = selectPlugins(this.catalog, { preset: sc.preset, without: sc.without, plugins: sc.plugins });
    for (const p of this.plugins) {
      this.enter('register', p.id);
      await this.apply(p);
    }
    this.enter('select');
    this.checkScenarioProviders();
    this.systems = this.schedule.build();
    this.runs = this.systems.map((s) => s.run);
    // Plugins tap under their id, so each tap that runs names the plugin booting.
    const lc = this.hooks.lifecycle;
    for (const step of ['populate', 'boot', 'bootAsync'] as const) lc[step].intercept({ tap: (t) => this.enter(step, t.name) });
    lc.populate.call(this);
    lc.boot.call(this);
    await lc.bootAsync.promise(this);
    const unknown = sc.record.series.findIndex((n) => this.metrics.value(n) === undefined);
    if (unknown >= 0) {
      // A scenario's mistake, told at the line that names the metric.
      const name = sc.record.series[unknown];
      const near = closest(name, this.metrics.list().map((m) => m.name));
      throw new SimulationError(`${sc.record.where?.[unknown] ?? sc.file}: record.series.${unknown}: unknown metric '${name}'${near ? ` (did you mean '${near}'?)` : ''}; known metrics: ${this.metrics.list().map((m) => m.name).join(', ')}`);
    }
    this.metrics.recordSeries(sc.record.series);
    // Handlers of the per-tick hooks expect every tick, so they keep the run tick by tick.
    const tickHooks = this.hooks.lifecycle.beforeTick.taps.length + this.hooks.lifecycle.afterTick.taps.length;
    this.eventAdvance = sc.advance === 'event' && tickHooks === 0 && this.systems.every((s) => s.nextEventNs !== undefined);
    this.enter('booted');
    this.booted = true;
  }

  private async apply(p: SelectedPlugin): Promise<void> {
    let mod: unknown;
    try {
      mod = await p.entry.load();
    } catch (e) {
      const err = new RegistryError(`plugin '${p.id}' failed to load from ${p.entry.dir}: ${(e as Error).message}`, p.id);
      (err as { cause?: unknown }).cause = e;
      throw err;
    }
    const m = (mod as { default?: unknown })?.default ?? mod;
    if (!isPluginModule(m)) {
      throw new RegistryError(`the entry module of plugin '${p.id}' (${p.entry.dir}) does not export default definePlugin(...)`, p.id);
    }
    const api: PluginApi<Record<string, unknown>> = {
      id: p.id,
      options: p.options,
      hooks: this.hooks,
      sim: this,
      addSystem: (def: SystemDef) => this.schedule.add(def, p.id),
      provide: <T>(t: ServiceToken<T>, b: Binding<T>) => this.container.provide(t, b, p.id),
      persist: (key, participant) => {
        const k = `${p.id}/${key}`;
        if (this.participants.has(k)) throw new SimulationError(`plugin '${p.id}' persists '${key}' twice`);
        this.participants.set(k, participant);
      },
      counter: (name, unit, d) => this.metrics.counter(name, unit, d, p.id),
      gauge: (name, unit, d) => this.metrics.gauge(name, unit, d, p.id),
      histogram: (name, unit, d, o) => this.metrics.histogram(name, unit, d, o, p.id),
      rng: (name) => this.rng.stream(name ? `${p.id}/${name}` : p.id),
    };
    try {
      (m as unknown as { register: (api: PluginApi<Record<string, unknown>>) => void }).register(api);
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      const err = new RegistryError(`plugin '${p.id}' failed to register: ${(e as Error).message}`, p.id);
      (err as { cause?: unknown }).cause = e;
      throw err;
    }
  }

  /** Refuses a scenario whose hosts, VMs or workloads no selected plugin can run, naming the capability. */
  private checkScenarioProviders(): void {
    if ((this.scenario.hosts.length || this.scenario.vms.length) && !this.plugins.some((p) => p.manifest.provides.includes('datacenter'))) {
      throw new RegistryError(
        `the scenario declares hosts or VMs, but no selected plugin provides datacenter (preset '${this.scenario.preset}')`,
        undefined,
        `add one of: ${this.catalog.providersOf('datacenter').join(', ') || '(none installed)'}, or use the default or headless preset`,
      );
    }
    if (this.scenario.vms.length && !this.plugins.some((p) => p.manifest.provides.includes('placement'))) {
      throw new RegistryError(
        'the scenario declares VMs, but no selected plugin provides placement',
        undefined,
        `add one of: ${this.catalog.providersOf('placement').join(', ') || '(none installed)'}`,
      );
    }
    for (const g of this.scenario.vms) {
      if (!g.workload) continue;
      const cap = `workload.${g.workload.kind}`;
      if (!this.plugins.some((p) => p.manifest.provides.includes(cap))) {
        const providers = this.catalog.providersOf(cap);
        throw new RegistryError(
          `VM group '${g.name}' has a '${g.workload.kind}' workload, but no selected plugin provides '${cap}'`,
          undefined,
          providers.length ? `add one of: ${providers.join(', ')}` : `no installed plugin runs '${g.workload.kind}' workloads`,
        );
      }
    }
  }

  /**
   * Runs one step: beforeTick, every system in order, afterTick, sampling. A step is
   * one tick, or under event advance the ticks up to the next event (at most up to
   * tick `untilTick`).
   */
  step(untilTick = this.totalTicks): void {
    if (!this.booted) throw new SimulationError('boot the simulation before stepping it');
    if (this.finished) throw new SimulationError('the simulation has finished');
    const info = this.tickInfo;
    info.tick = this.tickIndex;
    info.timeNs = this.tickIndex * this.dtNs;
    const lastTick = Math.min(untilTick, this.totalTicks);
    this.stepTicks = this.eventAdvance && lastTick > this.tickIndex + 1 ? ticksToNextEvent(this.systems, this, Math.min(this.nextSampleNs, lastTick * this.dtNs), lastTick - this.tickIndex) : 1;
    info.stepNs = this.stepTicks * this.dtNs;
    const end = info.timeNs + info.stepNs;
    this.samplingNow = end >= this.nextSampleNs || this.tickIndex + this.stepTicks === this.totalTicks;
    this.hooks.lifecycle.beforeTick.call(info);
    if (this.profiler) this.profiler.runSystems(this.systems, this, info);
    else {
      const runs = this.runs;
      for (let i = 0; i < runs.length; i++) runs[i](this, info);
    }
    this.hooks.lifecycle.afterTick.call(info);
    this.tickIndex += this.stepTicks;
    this.stepTicks = 1;
    if (this.samplingNow) {
      this.metrics.sample(end);
      // The first sample time after `end`, in one step (never one step per interval).
      const every = this.scenario.record.every;
      if (this.nextSampleNs <= end) this.nextSampleNs += Math.floor((end - this.nextSampleNs) / every + 1) * every;
    }
    this.samplingNow = false;
  }

  /**
   * Runs ticks until simulated time reaches `timeNs` (or the scenario's end).
   * `onProgress(done, total)` is called every `progressEvery` ticks.
   */
  runUntil(timeNs: number, onProgress?: (doneTicks: number, totalTicks: number) => void, progressEvery = 1000): void {
    const lastTick = Math.min(this.totalTicks, Math.ceil(timeNs / this.dtNs));
    while (this.tickIndex < lastTick) {
      const before = this.tickIndex;
      this.step(lastTick);
      if (onProgress && Math.floor(this.tickIndex / progressEvery) > Math.floor(before / progressEvery)) onProgress(this.tickIndex, this.totalTicks);
    }
  }

  /** Runs to the end of the scenario's duration. */
  run(onProgress?: (doneTicks: number, totalTicks: number) => void, progressEvery?: number): void {
    this.runUntil(this.scenario.duration, onProgress, progressEvery);
  }

  /** Fires the finish hooks and assembles the results (the runner writes them). */
  async finish(): Promise<RunResult> {
    if (this.finished) throw new SimulationError('finish() was already called');
    const files = new Map<string, string>();
    const extraSummary: string[] = [];
    const ctx: FinishContext = {
      sim: this,
      addFile: (name, contents) => {
        if (files.has(name) || ['config.json', 'metrics.json', 'timeseries.csv', 'summary.md'].includes(name)) {
          throw new SimulationError(`results file '${name}' is written twice`);
        }
        files.set(name, contents);
      },
      addSummaryLine: (line) => extraSummary.push(line),
    };
    await this.hooks.lifecycle.finish.promise(ctx);
    this.finished = true;
    const config = this.effectiveConfig();
    const metricsBody = {
      scenario: this.scenario.name,
      seed: this.scenario.seed,
      simulatedNs: this.timeNs,
      ticks: this.tickIndex,
      metrics: this.metrics.toJSON(),
    };
    const expectations = checkExpectations(this.scenario.expect, this.metrics);
    const metricsJson = JSON.stringify(metricsBody, null, 2) + '\n';
    const configJson = JSON.stringify(config, null, 2) + '\n';
    return {
      config,
      metrics: metricsBody,
      metricsJson,
      configJson,
      timeseriesCsv: this.metrics.seriesCsv(),
      summary: this.summary(expectations, extraSummary),
      files,
      expectations,
      simulatedNs: this.timeNs,
      ticks: this.tickIndex,
    };
  }

  /** Every plugin with its version and every option value, and the scenario as resolved. */
  effectiveConfig(): Record<string, unknown> {
    const sc = this.scenario;
    return {
      virtlab: ENGINE_VERSION,
      scenario: {
        name: sc.name,
        file: sc.file,
        description: sc.description,
        seed: sc.seed,
        tickNs: sc.tick,
        // Written only when it is not the default, so tick-by-tick runs keep their config.json.
        ...(sc.advance !== 'tick' ? { advance: sc.advance } : {}),
        durationNs: sc.duration,
        preset: sc.preset,
        without: sc.without,
        // Where its relative paths (plugin folders, guest programs, files) start, so
        // that config.json can be run again as a scenario.
        dir: sc.dir,
        pluginPaths: sc.pluginPaths,
        files: sc.files,
        topology: sc.topology,
        hosts: sc.hosts.map((g) => ({ name: g.name, racks: g.racks, perRack: g.perRack, profile: g.profile })),
        vms: sc.vms,
        record: { every: sc.record.every, series: sc.record.series },
        expect: sc.expect.map(({ metric, min, max }) => ({ metric, min, max })),
      },
      plugins: this.plugins.map((p) => ({ id: p.id, version: p.manifest.version, source: p.source, options: p.options })),
      systems: this.systems.map((s) => ({ name: s.name, phase: s.phase, owner: s.owner })),
    };
  }

  private summary(expectations: readonly ExpectationResult[], extra: string[]): string {
    const sc = this.scenario;
    const lines = [
      `# ${sc.name}`,
      '',
      sc.description,
      '',
      `- seed ${sc.seed}, ${groupThousands(this.tickIndex)} ticks of ${formatQuantity(sc.tick, 'ns')} (${formatQuantity(this.timeNs, 'ns')} simulated)`,
      `- plugins: ${this.plugins.map((p) => `${p.id}@${p.manifest.version}`).join(', ') || 'none'}`,
      '',
      '| metric | value | what it measures |',
      '|---|---:|---|',
    ];
    const json = this.metrics.toJSON() as Record<string, MetricRecord>;
    for (const info of this.metrics.list()) {
      lines.push(`| ${info.name} | ${formatMetric(json[info.name]).replace(/\|/g, '\\|')} | ${info.description.replace(/\|/g, '\\|')} |`);
    }
    if (expectations.length) {
      lines.push('', '| expectation | value | result |', '|---|---:|---|');
      for (const e of expectations) lines.push(`| ${e.text} | ${e.value === undefined ? '—' : formatNumber(e.value)} | ${e.ok ? 'pass' : 'FAIL'} |`);
    }
    if (extra.length) lines.push('', ...extra);
    return lines.join('\n') + '\n';
  }

  /** A deep copy of every piece of state that changes during a run. */
  snapshot(): SimSnapshot {
    if (!this.booted) throw new SimulationError('boot the simulation before taking a snapshot');
    const participants: Record<string, unknown> = {};
    for (const [k, p] of this.participants) participants[k] = structuredClone(p.save());
    return structuredClone({
      engine: ENGINE_VERSION,
      scenario: this.scenario.name,
      seed: this.scenario.seed,
      plugins: this.plugins.map((p) => p.id),
      tick: this.tickIndex,
      nextSampleNs: this.nextSampleNs,
      world: this.world.snapshot(),
      metrics: this.metrics.snapshot(),
      rng: this.rng.save(),
      participants,
    });
  }

  /** Restores a snapshot taken from a simulation of the same scenario and plugins. */
  restore(snap: SimSnapshot): void {
    if (!this.booted) throw new SimulationError('boot the simulation before restoring a snapshot into it');
    const plugins = this.plugins.map((p) => p.id).join(',');
    if (snap.scenario !== this.scenario.name || snap.seed !== this.scenario.seed || snap.plugins.join(',') !== plugins) {
      throw new SimulationError(
        `the snapshot is of scenario '${snap.scenario}' (seed ${snap.seed}, plugins ${snap.plugins.join(', ')}); ` +
          `this simulation runs '${this.scenario.name}' (seed ${this.scenario.seed}, plugins ${plugins})`,
      );
    }
    this.world.restore(snap.world);
    this.metrics.restore(snap.metrics);
    this.rng.load(snap.rng);
    this.tickIndex = snap.tick;
    this.nextSampleNs = snap.nextSampleNs;
    for (const [k, p] of this.participants) {
      if (!(k in snap.participants)) throw new SimulationError(`the snapshot has no state for '${k}'`);
      p.load(structuredClone(snap.participants[k]));
    }
  }
}

