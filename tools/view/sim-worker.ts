// The visualizer's simulation worker: builds the plugin catalog and host profiles from
// the bundled repository files, loads the scenario with the same loader as the CLI,
// runs the simulation tick by tick on request, and posts compact frames. It keeps a
// snapshot every 50 ticks so that the timeline can scrub backwards: seeking restores
// the nearest earlier snapshot into a fresh simulation and runs forward, which gives
// exactly the same state as the original run (the simulation is deterministic).
/// <reference types="vite/client" />

import {
  DatacenterToken,
  MigrationService,
  Host,
  MemoryActivity,
  MemWorkload,
  PluginCatalog,
  Simulation,
  validateManifest,
  Vm,
  VmState,
  type HostProfile,
  type SimSnapshot,
} from 'virtlab';
import { loadHostProfile, parseDocumentText, resolveScenario } from '../../core/scenario/loader';
import type { Frame, FromWorker, Layout, ToWorker } from './protocol';

const manifests = import.meta.glob('../../plugins/**/plugin.json', { eager: true, import: 'default' }) as Record<string, unknown>;
const entries = import.meta.glob('../../plugins/**/index.ts') as Record<string, () => Promise<unknown>>;
const hostFiles = import.meta.glob('../../hosts/*.host.yaml', { eager: true, query: '?raw', import: 'default' }) as Record<string, string>;

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

function catalog(): PluginCatalog {
  const c = new PluginCatalog();
  for (const [file, json] of Object.entries(manifests)) {
    const manifest = validateManifest(json, file);
    const entry = file.replace(/plugin\.json$/, manifest.entry ?? 'index.ts');
    c.add({ manifest, dir: file.replace(/\/plugin\.json$/, ''), load: () => entries[entry]() as never });
  }
  return c;
}

function profiles(): Map<string, HostProfile> {
  const out = new Map<string, HostProfile>();
  for (const [file, text] of Object.entries(hostFiles)) {
    const p = loadHostProfile(text, file.replace(/^.*\/hosts\//, 'hosts/'));
    out.set(p.id, p);
  }
  return out;
}

let make: (() => Promise<Simulation>) | undefined;
let sim: Simulation | undefined;
const snapshots = new Map<number, SimSnapshot>();
let events: string[] = [];
/** False when a plugin cannot be snapshotted: seeking back then re-runs from the start. */
let canSnapshot = true;

function keepSnapshot(s: Simulation): void {
  if (!canSnapshot || snapshots.has(s.tick)) return;
  try {
    snapshots.set(s.tick, s.snapshot());
  } catch {
    canSnapshot = false;
  }
}
let maxDirty = 1;

function observe(s: Simulation): void {
  // Only reads: the visualizer never writes simulation state.
  s.hooks.datacenter.vmPlaced.tap({ name: 'view', stage: 200 }, (e) => events.push(`${(e.timeNs / 1e9).toFixed(2)} s  VM ${e.vm} placed on host ${e.host}`));
  s.hooks.datacenter.placementFailed.tap({ name: 'view', stage: 200 }, (e) => events.push(`${(e.timeNs / 1e9).toFixed(2)} s  VM ${e.vm} has no host: ${e.reason}`));
  s.hooks.migration.start.tap({ name: 'view', stage: 200 }, (e) => events.push(`${(e.timeNs / 1e9).toFixed(2)} s  migration of VM ${e.vm} starts (${e.method})`));
  s.hooks.migration.methodSwitch.tap({ name: 'view', stage: 200 }, (e) => events.push(`${(e.timeNs / 1e9).toFixed(2)} s  VM ${e.vm}: ${e.to} — ${e.reason}`));
  s.hooks.migration.end.tap({ name: 'view', stage: 200 }, (e) =>
    events.push(`${(e.timeNs / 1e9).toFixed(2)} s  migration of VM ${e.vm} ${e.success ? 'done' : 'aborted'} after ${e.rounds} rounds`),
  );
}

function frame(s: Simulation, metric: 'cpu' | 'dirty'): Frame {
  const dc = s.services.get(DatacenterToken);
  const V = s.world.store(Vm);
  const H = s.world.store(Host);
  const hostIndex = new Map(dc.hosts.map((h, i) => [h, i]));
  const vmHost = new Int32Array(dc.vms.length);
  const vmValue = new Float32Array(dc.vms.length);
  const vmMigrating = new Uint8Array(dc.vms.length);
  const activity = s.services.tryGet(MemoryActivity);
  dc.vms.forEach((vm, i) => {
    vmHost[i] = V.host[vm] ? hostIndex.get(V.host[vm])! : -1;
    vmMigrating[i] = V.state[vm] === VmState.Migrating ? 1 : 0;
    if (metric === 'dirty' && activity && s.world.has(vm, MemWorkload)) {
      const d = activity.dirtyPages(vm);
      maxDirty = Math.max(maxDirty, d);
      vmValue[i] = d / maxDirty;
    } else vmValue[i] = Math.min(1, V.cpuDemand[vm]);
  });
  const vmRound = new Int16Array(dc.vms.length);
  const vmProgress = new Float32Array(dc.vms.length);
  const migrations = s.services.tryGet(MigrationService);
  if (migrations) {
    const vmIndex = new Map(dc.vms.map((vm, i) => [vm, i]));
    const sizes = s.world.store(Vm).memory;
    for (const m of migrations.all()) {
      if (m.state === 'done') continue;
      const i = vmIndex.get(m.vm)!;
      vmRound[i] = m.round + 1;
      vmProgress[i] = Math.min(1, m.bytesSent / Math.max(1, sizes[m.vm]));
    }
  }
  const hostLoad = Float32Array.from(dc.hosts.map((h) => H.cpuLoad[h]));
  const net = s.network;
  const racks = dc.hosts.reduce((n, h) => Math.max(n, H.rack[h] + 1), 0);
  const rackLinks = new Float32Array(racks);
  if (net.flows) {
    if (net.flows.flows().length) net.flows.rateOf(net.flows.flows()[0]); // brings the allocation up to date
    net.topology.kind.forEach((kind, l) => {
      if (kind === 'rack-up' || kind === 'rack-down') {
        const r = net.topology.owner[l];
        rackLinks[r] = Math.max(rackLinks[r], net.flows.allocated[l] / net.flows.capacity[l]);
      }
    });
  }
  const metrics = s.metrics
    .list()
    .filter((m) => m.kind !== 'histogram')
    .map((m) => [m.name, s.metrics.value(m.name) ?? 0, m.unit] as [string, number, string]);
  const out = { tick: s.tick, timeNs: s.timeNs, vmHost, vmValue, vmMigrating, vmRound, vmProgress, hostLoad, rackLinks, events, metrics, done: s.tick >= s.totalTicks };
  events = [];
  return out;
}

async function start(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const cat = catalog();
  const hostProfiles = profiles();
  make = async () => {
    const doc = parseDocumentText(msg.text, msg.file);
    const scenario = resolveScenario(doc, { catalog: cat, hostProfiles }, { set: msg.set });
    const s = new Simulation({ scenario, catalog: cat });
    observe(s);
    await s.boot();
    return s;
  };
  sim = await make();
  snapshots.clear();
  canSnapshot = true;
  keepSnapshot(sim);
  const dc = sim.services.get(DatacenterToken);
  const H = sim.world.store(Host);
  const layout: Layout = {
    racks: dc.hosts.reduce((n, h) => Math.max(n, H.rack[h] + 1), 0),
    hostRack: Int32Array.from(dc.hosts.map((h) => H.rack[h])),
    hostSlot: Int32Array.from(dc.hosts.map((h) => H.slot[h])),
    hostCores: Float32Array.from(dc.hosts.map((h) => H.cores[h])),
    vmNames: dc.vms.map((vm, i) => `${sim!.scenario.vms[sim!.world.store(Vm).group[vm]].name}-${i}`),
    plugins: sim.selectedPlugins.map((p) => p.id),
    durationNs: sim.scenario.duration,
    tickNs: sim.dtNs,
  };
  post({ type: 'layout', layout });
  post({ type: 'frame', frame: frame(sim, 'cpu') });
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  try {
    const msg = e.data;
    if (msg.type === 'start') await start(msg);
    else if (!sim || !make) return;
    else if (msg.type === 'run') {
      for (let i = 0; i < msg.ticks && sim.tick < sim.totalTicks; i++) {
        sim.step();
        if (sim.tick % 50 === 0) keepSnapshot(sim);
      }
      post({ type: 'frame', frame: frame(sim, msg.metric) });
    } else if (msg.type === 'seek') {
      const bases = [...snapshots.keys()].filter((t) => t <= msg.tick);
      const base = bases.length ? Math.max(...bases) : -1;
      if (base > sim.tick || msg.tick < sim.tick) {
        const fresh = await make();
        if (base > 0) fresh.restore(snapshots.get(base)!);
        sim = fresh;
      }
      while (sim.tick < Math.min(msg.tick, sim.totalTicks)) sim.step();
      events = [`${(sim.timeNs / 1e9).toFixed(2)} s  (timeline moved)`];
      post({ type: 'frame', frame: frame(sim, msg.metric) });
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
};
