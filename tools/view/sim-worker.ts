// The visualizer's simulation worker: builds the plugin catalog and host profiles from
// the bundled repository files, loads the scenario with the same loader as the CLI,
// runs the simulation tick by tick on request, and posts compact frames. Frames are
// typed arrays filled from the world's component stores and transferred to the page,
// which hands them back for reuse, so a frame costs no allocation once the pool is
// warm. Link utilization is measured from the bytes each link carried between two
// frames, which only reads the flow model. It keeps a snapshot every 50 ticks so that
// the timeline can scrub backwards: seeking restores the nearest earlier snapshot into
// a fresh simulation and runs forward, which gives exactly the same state as the
// original run (the simulation is deterministic). For the same reason a second copy run
// ahead in idle time (the scout) finds the timeline's markers before the run on screen
// reaches them.
/// <reference types="vite/client" />

import {
  DatacenterToken,
  estimateWork,
  HostGpu,
  NetworkToken,
  MigrationService,
  Host,
  MemoryActivity,
  MemWorkload,
  Nic,
  OPTION_FRAGMENTS,
  loadHostProfiles,
  loadScenario,
  PluginCatalog,
  Simulation,
  simulationNames,
  Vm,
  VmState,
  type HostProfile,
  type SimSnapshot,
  wssEstimators,
  type WssEstimator,
} from 'virtlab';
import { checkExpectations } from '../../core/scenario/expectations';
import { LINK_KIND_BY_NAME, LinkKind, Mig, MIG_MAX_LINKS, MigPhase, MIGRATION_STRIDE, NIC_STRIDE, NicField, transferables, type Frame, type FrameBuffers, type FromWorker, type Layout, type Mark, type MethodSwitch, type Metric, type Scale, type ToWorker } from './protocol';

const manifests = import.meta.glob('../../plugins/**/plugin.json', { eager: true, import: 'default' }) as Record<string, unknown>;
const entries = import.meta.glob('../../plugins/**/index.ts') as Record<string, () => Promise<unknown>>;
const hostFiles = import.meta.glob('../../hosts/*.host.yaml', { eager: true, query: '?raw', import: 'default' }) as Record<string, string>;

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

/** The bundled plugins, through the same catalog code as the CLI's. */
function catalog(): PluginCatalog {
  return PluginCatalog.from(
    Object.entries(manifests).map(([file, json]) => ({
      file,
      json,
      loader: (entry: string) => (entries[entry] ? () => entries[entry]() as never : undefined),
    })),
    OPTION_FRAGMENTS,
  );
}

/** The bundled host profiles, through the same loader as the CLI's. */
function profiles(): Map<string, HostProfile> {
  return loadHostProfiles(Object.entries(hostFiles).map(([file, text]) => [file.replace(/^.*\/hosts\//, 'hosts/'), text] as const));
}

const PHASES: Record<string, number> = { round: MigPhase.PRECOPY, 'stop-and-copy': MigPhase.STOP_AND_COPY, postcopy: MigPhase.POSTCOPY };

let make: ((scouting?: boolean) => Promise<Simulation>) | undefined;
let sim: Simulation | undefined;
const snapshots = new Map<number, SimSnapshot>();
let events: string[] = [];
let switches: MethodSwitch[] = [];
let marks: Mark[] = [];
/** Whether the expectations' results were sent (once, at the end of the run). */
let expected = false;
/** False when a plugin cannot be snapshotted: seeking back then re-runs from the start. */
let canSnapshot = true;

/** What the frames of the current scenario are built from; the same for every re-made simulation. */
interface Index {
  /** Host entity → host index, VM entity → VM index (−1 elsewhere). */
  hostOf: Int32Array;
  vmOf: Int32Array;
  vms: number;
  hosts: number;
  links: number;
  /** Per VM: its host in the previous frame, to tell the page when placements change. */
  prevHost: Int32Array;
  prevLinkBytes: Float64Array;
  prevTimeNs: number;
  lastUtil: Float32Array;
  maxDirty: number;
  /** Migration id → the links of its path (fixed for its lifetime). */
  paths: Map<number, number[]>;
  pool: Array<{ -readonly [K in keyof FrameBuffers]: FrameBuffers[K] }>;
}
let index: Index | undefined;

function keepSnapshot(s: Simulation): void {
  if (!canSnapshot || snapshots.has(s.tick)) return;
  try {
    snapshots.set(s.tick, s.snapshot());
  } catch {
    canSnapshot = false;
  }
}

const at = (timeNs: number) => `${(timeNs / 1e9).toFixed(2)} s`;
/** VM and host entities as the page names them: the VM's group and number (app-0), the host's rack and slot (rack0/host1). */
let vmNames: string[] = [];
let hostNames: string[] = [];
const vmName = (vm: number) => (index && index.vmOf[vm] >= 0 ? vmNames[index.vmOf[vm]] : String(vm));
const hostName = (h: number) => (index && index.hostOf[h] >= 0 ? hostNames[index.hostOf[h]] : String(h));
const vmIndex = (vm: number) => (index ? index.vmOf[vm] : -1);

/**
 * Taps the hooks the page shows. The simulation on screen logs events, marks and
 * switches; the scout (see runScout) only marks, into scoutMarks. Both simulations make
 * the same entities in the same order, so one index names them for both.
 */
function observe(s: Simulation, scout = false): void {
  // Only reads: the visualizer never writes simulation state.
  const log = (line: string) => (scout ? undefined : events.push(line));
  const mark = (m: Mark) => (scout ? scoutMarks : marks).push(m);
  s.hooks.datacenter.vmPlaced.tap({ name: 'view', stage: 200 }, (e) => log(`${at(e.timeNs)}  VM ${vmName(e.vm)} placed on host ${hostName(e.host)}`));
  s.hooks.datacenter.placementFailed.tap({ name: 'view', stage: 200 }, (e) => {
    log(`${at(e.timeNs)}  VM ${vmName(e.vm)} has no host: ${e.reason}`);
    mark({ timeNs: e.timeNs, kind: 'fault', text: `${vmName(e.vm)} has no host`, vm: vmIndex(e.vm) });
  });
  s.hooks.migration.start.tap({ name: 'view', stage: 200 }, (e) => {
    log(`${at(e.timeNs)}  migration of VM ${vmName(e.vm)} from ${hostName(e.src)} to ${hostName(e.dst)} starts (${e.method})`);
    mark({ timeNs: e.timeNs, kind: 'migration', text: `${vmName(e.vm)}: ${hostName(e.src)} → ${hostName(e.dst)} (${e.method})`, vm: vmIndex(e.vm) });
  });
  s.hooks.migration.methodSwitch.tap({ name: 'view', stage: 200 }, (e) => {
    log(`${at(e.timeNs)}  VM ${vmName(e.vm)}: ${e.to} — ${e.reason}`);
    mark({ timeNs: e.timeNs, kind: 'switch', text: `${vmName(e.vm)}: → ${e.to} (${e.reason})`, vm: vmIndex(e.vm) });
    if (index && !scout) switches.push({ vm: index.vmOf[e.vm], to: e.to, reason: e.reason, timeNs: e.timeNs });
  });
  s.hooks.migration.end.tap({ name: 'view', stage: 200 }, (e) => {
    log(`${at(e.timeNs)}  migration of VM ${vmName(e.vm)} ${e.success ? 'done' : 'aborted'} after ${e.rounds} rounds`);
    const how = e.success ? `done in ${(e.totalNs / 1e9).toFixed(1)} s, ${e.rounds} rounds, downtime ${(e.downtimeNs / 1e6).toFixed(0)} ms` : `aborted after ${e.rounds} rounds`;
    mark({ timeNs: e.timeNs, kind: e.success ? 'migration-end' : 'fault', text: `${vmName(e.vm)}: migration ${how}`, vm: vmIndex(e.vm) });
  });
}

/** The expectations' results at the end of a run, as marks. */
function expectationMarks(s: Simulation): Mark[] {
  return checkExpectations(s.scenario.expect, s.metrics).map((r) => ({ timeNs: s.timeNs, kind: r.ok ? 'expect-pass' : 'expect-fail', text: `${r.ok ? 'pass' : 'FAIL'}: ${r.text}${r.value === undefined ? '' : ` (${r.value.toPrecision(4)})`}`, vm: -1 }));
}

/**
 * The scout: a second simulation of the same scenario, run to its end in the worker's
 * idle time (slices of SCOUT_SLICE_MS between the page's requests), whose marks are
 * posted as it finds them, so that the timeline shows every migration, switch, failure
 * and expectation result from the start rather than as the run on screen reaches them.
 * The simulation is deterministic, so the scout's marks are the ones the run on screen
 * will meet; its snapshots serve seeks ahead of the run on screen too. It runs only for
 * scenarios of at most SCOUT_WORK entity-ticks (a second run of a large one would take
 * the CPU the page draws with); above that, marks appear as the run reaches them.
 */
const SCOUT_WORK = 5e6;
const SCOUT_SLICE_MS = 8;
let scout: Simulation | undefined;
let scoutMarks: Mark[] = [];

function runScout(s: Simulation): void {
  if (scout !== s) return; // a new start replaced it
  const until = performance.now() + SCOUT_SLICE_MS;
  while (s.tick < s.totalTicks && performance.now() < until) {
    s.step();
    if (s.tick % 50 === 0) keepSnapshot(s);
  }
  const complete = s.tick >= s.totalTicks;
  if (complete) scoutMarks.push(...expectationMarks(s));
  if (scoutMarks.length || complete) post({ type: 'marks', marks: scoutMarks, throughNs: s.timeNs, complete });
  scoutMarks = [];
  if (complete) scout = undefined;
  else setTimeout(() => runScout(s), 0);
}

function buildIndex(s: Simulation): Index {
  const dc = s.services.get(DatacenterToken);
  const maxEid = [...dc.hosts, ...dc.vms].reduce((m, e) => Math.max(m, e), 0) + 1;
  const hostOf = new Int32Array(maxEid).fill(-1);
  const vmOf = new Int32Array(maxEid).fill(-1);
  dc.hosts.forEach((h, i) => (hostOf[h] = i));
  dc.vms.forEach((v, i) => (vmOf[v] = i));
  const links = s.services.get(NetworkToken).topology.capacity.length;
  return {
    hostOf,
    vmOf,
    vms: dc.vms.length,
    hosts: dc.hosts.length,
    links,
    prevHost: new Int32Array(dc.vms.length).fill(-2),
    prevLinkBytes: Float64Array.from(s.services.get(NetworkToken).flows.linkBytes),
    prevTimeNs: s.timeNs,
    lastUtil: new Float32Array(links),
    maxDirty: 1,
    paths: new Map(),
    pool: [],
  };
}

/** Frame arrays from the pool, or new ones while the page still holds all of them. */
function take(ix: Index, migrations: number): Index['pool'][number] {
  const b = ix.pool.pop() ?? {
    vmHost: new Int32Array(ix.vms),
    vmValue: new Float32Array(ix.vms),
    vmMigrating: new Uint8Array(ix.vms),
    hostLoad: new Float32Array(ix.hosts),
    hostNic: new Float32Array(ix.hosts * NIC_STRIDE),
    hostGpu: new Float32Array(ix.hosts),
    linkUtil: new Float32Array(ix.links),
    migrations: new Float64Array(MIGRATION_STRIDE * 4),
  };
  if (b.migrations.length < migrations * MIGRATION_STRIDE) b.migrations = new Float64Array(Math.max(migrations, 2 * (b.migrations.length / MIGRATION_STRIDE)) * MIGRATION_STRIDE);
  return b;
}

/** The estimator a VM is coloured by: the first loaded one that is not the truth (wss.prl, wss.pml, wss.sampling …). */
function vmEstimator(s: Simulation): WssEstimator | null {
  const reg = wssEstimators(s);
  const id = reg.ids().find((x) => x !== 'wss.truth') ?? reg.ids()[0];
  return id ? reg.get(id)! : null;
}

function frame(s: Simulation, metric: Metric, ticksRun: number, stepMs: number, withMetrics: boolean): Frame {
  const t0 = performance.now();
  const ix = index!;
  const dc = s.services.get(DatacenterToken);
  const V = s.world.store(Vm);
  const H = s.world.store(Host);
  const migrations = s.services.tryGet(MigrationService);
  const records = migrations ? migrations.all() : [];
  let active = 0;
  for (const m of records) if (m.state !== 'done') active++;
  const b = take(ix, active);

  let placementChanged = false;
  const activity = metric === 'dirty' ? s.services.tryGet(MemoryActivity) : undefined;
  const wss = metric === 'wss' || metric === 'wss-error' ? vmEstimator(s) : null;
  const truth = metric === 'wss-error' ? wssEstimators(s).get('wss.truth') : undefined;
  for (let i = 0; i < ix.vms; i++) {
    const vm = dc.vms[i];
    const h = V.host[vm] ? ix.hostOf[V.host[vm]] : -1;
    b.vmHost[i] = h;
    if (h !== ix.prevHost[i]) {
      placementChanged = true;
      ix.prevHost[i] = h;
    }
    b.vmMigrating[i] = V.state[vm] === VmState.Migrating ? 1 : 0;
    if (activity && s.world.has(vm, MemWorkload)) {
      const d = activity.dirtyPages(vm);
      if (d > ix.maxDirty) ix.maxDirty = d;
      b.vmValue[i] = d / ix.maxDirty;
    } else if (wss) {
      const est = wss.estimate(vm);
      const t = truth?.estimate(vm) ?? NaN;
      // The estimate over the VM's memory, or its error over the truth (0 before the first interval).
      const v = truth ? Math.abs(est - t) / Math.max(1, t) : est / V.memory[vm];
      b.vmValue[i] = Number.isFinite(v) ? Math.min(1, v) : 0;
    } else b.vmValue[i] = Math.min(1, V.cpuDemand[vm]);
  }
  for (let j = 0; j < ix.hosts; j++) b.hostLoad[j] = H.cpuLoad[dc.hosts[j]];
  // NIC queues and packet rates of hosts that run packet-level experiments.
  const N = s.world.store(Nic);
  for (let j = 0; j < ix.hosts; j++) {
    const h = dc.hosts[j];
    const has = s.world.has(h, Nic);
    b.hostNic[j * NIC_STRIDE + NicField.TX_QUEUE] = has ? N.txQueue[h] : NaN;
    b.hostNic[j * NIC_STRIDE + NicField.RX_RING] = has ? N.rxRing[h] : NaN;
    b.hostNic[j * NIC_STRIDE + NicField.FRAMES_PER_S] = has ? N.framesPerS[h] : NaN;
  }
  const G = s.world.store(HostGpu);
  for (let j = 0; j < ix.hosts; j++) b.hostGpu[j] = s.world.has(dc.hosts[j], HostGpu) ? G.busy[dc.hosts[j]] : -1;

  // Utilization over the interval since the previous frame, from the bytes each link carried.
  const flows = s.services.get(NetworkToken).flows;
  const dt = s.timeNs - ix.prevTimeNs;
  if (dt > 0) {
    for (let l = 0; l < ix.links; l++) {
      const bytes = flows.linkBytes[l];
      ix.lastUtil[l] = ((bytes - ix.prevLinkBytes[l]) * 8e9) / (dt * flows.capacity[l]);
      ix.prevLinkBytes[l] = bytes;
    }
    ix.prevTimeNs = s.timeNs;
  }
  b.linkUtil.set(ix.lastUtil);

  let k = 0;
  if (migrations) {
    const memory = V.memory;
    for (const m of records) {
      if (m.state === 'done') continue;
      const o = k++ * MIGRATION_STRIDE;
      let path = ix.paths.get(m.id);
      if (!path) ix.paths.set(m.id, (path = s.services.get(NetworkToken).topology.path(ix.hostOf[m.src], ix.hostOf[m.dst])));
      b.migrations[o + Mig.ID] = m.id;
      b.migrations[o + Mig.VM] = ix.vmOf[m.vm];
      b.migrations[o + Mig.SRC] = ix.hostOf[m.src];
      b.migrations[o + Mig.DST] = ix.hostOf[m.dst];
      b.migrations[o + Mig.ROUND] = m.round + 1;
      // A finished flow's slot may already carry another flow: only a live one is read.
      b.migrations[o + Mig.TRIP] = !m.flowDone && m.flow >= 0 && flows.isAlive(m.flow) ? Math.min(1, flows.sentOf(m.flow) / Math.max(1, m.roundBytes)) : 1;
      b.migrations[o + Mig.SENT] = Math.min(1, m.bytesSent / Math.max(1, memory[m.vm]));
      b.migrations[o + Mig.PHASE] = PHASES[m.state] ?? MigPhase.PRECOPY;
      for (let n = 0; n < MIG_MAX_LINKS; n++) b.migrations[o + Mig.LINKS + n] = n < path.length ? path[n] : -1;
    }
  }

  const scale: Scale =
    metric === 'dirty'
      ? { max: activity ? ix.maxDirty : 0, unit: 'pages', label: 'dirty pages (top: the most any VM had so far)' }
      : metric === 'wss'
        ? { max: 100, unit: '% of its memory', label: 'estimated working set' }
        : metric === 'wss-error'
          ? { max: 100, unit: '% of the truth', label: 'working-set estimate error' }
          : { max: 100, unit: '% of its vCPUs', label: 'CPU demand' };
  // The expectations' results, once, when the run is over.
  if (s.tick >= s.totalTicks && !expected) {
    expected = true;
    marks.push(...expectationMarks(s));
  }
  // Gauges (dc.vms.running …) hold what their models set on sampling ticks: before the
  // scenario's first one they hold no sample, and are sent as NaN (shown as —), not 0.
  const sampled = s.timeNs >= s.scenario.record.every || s.tick >= s.totalTicks;
  const metrics = withMetrics
    ? s.metrics
        .list()
        .filter((m) => m.kind !== 'histogram')
        .map((m) => [m.name, m.kind === 'gauge' && !sampled ? NaN : (s.metrics.value(m.name) ?? 0), m.unit] as [string, number, string])
    : undefined;
  const out: Frame = {
    ...b,
    tick: s.tick,
    timeNs: s.timeNs,
    migrationCount: k,
    placementChanged,
    switches,
    events,
    marks,
    scale,
    metrics,
    stepMs,
    buildMs: performance.now() - t0,
    ticksRun,
    done: s.tick >= s.totalTicks,
  };
  events = [];
  switches = [];
  marks = [];
  return out;
}

function send(f: Frame): void {
  post({ type: 'frame', frame: f }, transferables(f));
}

async function start(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const cat = catalog();
  const hostProfiles = profiles();
  make = async (scouting = false) => {
    // A scenario's text or a results folder's config.json: the loader takes either.
    const scenario = loadScenario(msg.text, msg.file, { catalog: cat, hostProfiles }, { set: msg.set });
    const s = new Simulation({ scenario, catalog: cat });
    observe(s, scouting);
    await s.boot();
    // The frames read these stores, which defines them in the world; a simulation made to
    // restore a snapshot defines them too, or the snapshot would not fit it.
    s.world.store(Vm);
    s.world.store(Host);
    s.world.store(Nic);
    s.world.store(HostGpu);
    return s;
  };
  sim = await make();
  snapshots.clear();
  canSnapshot = true;
  keepSnapshot(sim);
  index = buildIndex(sim);
  const dc = sim.services.get(DatacenterToken);
  // The names the summary, events log and report use too: app-0 … db-0, rack0/host1.
  const names = simulationNames(sim);
  const groupOf = sim.world.store(Vm).group;
  const H = sim.world.store(Host);
  vmNames = dc.vms.map((vm) => names.vm(vm));
  hostNames = dc.hosts.map((h) => names.host(h));
  const workloadOf = (g: number) => {
    const w = sim!.scenario.vms[g].workload;
    if (!w) return 'idle';
    return Object.entries(w)
      .map(([k, v]) => (k === 'kind' ? String(v) : `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`))
      .join(', ');
  };
  expected = false;
  const topology = sim.services.get(NetworkToken).topology;
  const layout: Layout = {
    racks: dc.hosts.reduce((n, h) => Math.max(n, H.rack[h] + 1), 0),
    hostRack: Int32Array.from(dc.hosts.map((h) => H.rack[h])),
    hostSlot: Int32Array.from(dc.hosts.map((h) => H.slot[h])),
    hostCores: Float32Array.from(dc.hosts.map((h) => H.cores[h])),
    linkKind: Uint8Array.from(topology.kind.map((k) => LINK_KIND_BY_NAME[k] ?? LinkKind.NIC_UP)),
    linkOwner: Int32Array.from(topology.owner),
    vmNames,
    vmWorkload: dc.vms.map((vm) => workloadOf(groupOf[vm])),
    hostNames,
    series: [...sim.scenario.record.series],
    plugins: sim.selectedPlugins.map((p) => p.id),
    durationNs: sim.scenario.duration,
    tickNs: sim.dtNs,
    sampleNs: sim.scenario.record.every,
    runsAhead: estimateWork(sim.scenario).work <= SCOUT_WORK,
  };
  post({ type: 'layout', layout });
  send(frame(sim, 'cpu', 0, 0, true));
  scoutMarks = [];
  scout = estimateWork(sim.scenario).work <= SCOUT_WORK ? await make(true) : undefined;
  if (scout) setTimeout(() => runScout(scout!), 0);
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  try {
    const msg = e.data;
    if (msg.type === 'start') await start(msg);
    else if (!sim || !make || !index) return;
    else if (msg.type === 'recycle') {
      // Arrays of an earlier scenario (a different size) are dropped.
      const b = msg.buffers;
      if (b.vmHost.length === index.vms && b.hostLoad.length === index.hosts && b.linkUtil.length === index.links) index.pool.push({ ...b });
    } else if (msg.type === 'run') {
      const t0 = performance.now();
      const before = sim.tick;
      for (let i = 0; i < msg.ticks && sim.tick < sim.totalTicks; i++) {
        sim.step();
        if (sim.tick % 50 === 0) keepSnapshot(sim);
      }
      send(frame(sim, msg.metric, sim.tick - before, performance.now() - t0, msg.metrics));
    } else if (msg.type === 'seek') {
      const bases = [...snapshots.keys()].filter((t) => t <= msg.tick);
      const base = bases.length ? Math.max(...bases) : -1;
      if (base > sim.tick || msg.tick < sim.tick) {
        const fresh = await make();
        if (base > 0) fresh.restore(snapshots.get(base)!);
        sim = fresh;
      }
      while (sim.tick < Math.min(msg.tick, sim.totalTicks)) sim.step();
      // Utilization restarts from the new position; earlier switches are not replayed.
      index.prevLinkBytes.set(sim.services.get(NetworkToken).flows.linkBytes);
      index.prevTimeNs = sim.timeNs;
      index.lastUtil.fill(0);
      events = [`${at(sim.timeNs)}  (timeline moved)`];
      switches = [];
      // Hooks fired again while running forward to the target; the page keeps the marks it has.
      marks = [];
      expected = sim.tick >= sim.totalTicks;
      send(frame(sim, msg.metric, 0, 0, true));
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
};
