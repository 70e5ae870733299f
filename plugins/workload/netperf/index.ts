// workload.netperf: runs the packet-level workloads of VM groups — `kind: tcp-stream`
// (netperf TCP_STREAM), `kind: tcp-rr` (netperf TCP_RR) and `kind: http` (nginx with
// wrk) — as PacketExperiments (core/models/netstack/experiment.ts). When a VM of such
// a group runs, an experiment starts between its host (the client container) and its
// server's host, through the container group's netstack personality (NetstackToken:
// the selected kernel.* plugin), both hosts' NICs as their profiles size them, and
// the datacenter's links: packets get the rate the flows leave them, and their bytes
// count in the links' utilization.
//
// Each experiment has its own event queue. In the network phase the system runs
// every experiment's events up to the end of the step, at their own instants, so the
// results do not depend on the tick; groups without these workloads start nothing
// and cost nothing. The system's next event is the earliest experiment end.

import { DatacenterToken, definePlugin, Host, NetstackToken, Nic, NetworkToken, PacketExperiment, Vm, VmState, type ExperimentResults, type NicSpec, type PacketWorkload, type SimContext } from 'virtlab';
import type { Options } from './options';

const KINDS = new Set(['tcp-stream', 'tcp-rr', 'http']);

interface LinkImpairments {
  loss: number;
  reorder: number;
  reorderDelay: number;
  delay: number;
  jitter: number;
}

interface Run {
  readonly group: string;
  readonly kind: string;
  readonly vm: number;
  readonly client: number;
  readonly server: number;
  readonly exp: PacketExperiment;
  readonly endNs: number;
  readonly messageSize?: number;
  results?: ExperimentResults;
}

export default definePlugin<Options>((api) => {
  const runs: Run[] = [];
  const started = new Set<number>();
  const goodput = api.gauge('netperf.goodput', 'bit/s', 'Goodput of the tcp-stream experiments (bytes the servers read over the measured interval), summed.');
  const tps = api.gauge('netperf.transactions-per-s', 'transactions/s', 'Transactions per second of the tcp-rr and http experiments, summed.');
  const latency = api.gauge('netperf.latency.mean', 'ns', 'Mean transaction latency of the tcp-rr and http experiments.');
  const calls = api.counter('netperf.calls', 'calls', 'Socket calls made by the experiments, both sides.');
  const frames = api.gauge('nic.frames-per-s', 'frames/s', 'Frames the NICs of hosts running packet experiments sent per second, since the previous sample.');
  const txRing = api.gauge('nic.tx-ring', 'descriptors', 'Transmit descriptors in use, summed over the NICs of hosts running packet experiments, at the sample.');
  const rxRing = api.gauge('nic.rx-ring', 'frames', 'Frames waiting in receive rings, summed over those NICs, at the sample.');
  let framesBefore = 0;
  let sampledAt = 0;

  const nicOf = (sim: SimContext, host: number): NicSpec => {
    const p = sim.hostProfiles[sim.world.store(Host).profile[host]].nic;
    return { bandwidth: p.bandwidth, queues: p.queues, ringEntries: p.ringEntries, mtu: p.mtu, tso: p.tso, gsoMaxBytes: p.gsoMaxBytes, checksum: p.checksum, gro: p.gro };
  };

  const serverHost = (sim: SimContext, vm: number, w: Record<string, unknown>, groupName: string): number => {
    const V = sim.world.store(Vm);
    const hosts = sim.services.get(DatacenterToken).hosts;
    if (typeof w.server === 'string') {
      const g = sim.scenario.vms.findIndex((x) => x.name === w.server);
      if (g < 0) throw new Error(`VM group '${groupName}': workload.server names no VM group '${w.server}' (groups: ${sim.scenario.vms.map((x) => x.name).join(', ')})`);
      const mine = sim.world.query([Vm]).filter((v) => V.group[v] === V.group[vm]);
      const theirs = sim.world.query([Vm]).filter((v) => V.group[v] === g);
      const peer = theirs[mine.indexOf(vm) % Math.max(1, theirs.length)];
      return peer !== undefined && V.state[peer] === VmState.Running ? V.host[peer] : -1;
    }
    if (hosts.length < 2) throw new Error(`VM group '${groupName}': a ${String(w.kind)} workload needs a second host for its server (the datacenter has ${hosts.length}); add hosts or name a server group`);
    return hosts[(hosts.indexOf(V.host[vm]) + 1) % hosts.length];
  };

  const workloadOf = (w: Record<string, unknown>): PacketWorkload => {
    if (w.kind === 'tcp-stream') return { kind: 'stream', messageBytes: w.messageSize as number, recvBytes: w.recvSize as number };
    if (w.kind === 'tcp-rr') return { kind: 'rr', requestBytes: w.requestSize as number, responseBytes: w.responseSize as number, connections: w.connections as number };
    return { kind: 'http', requestBytes: w.requestSize as number, responseBytes: w.responseSize as number, connections: w.connections as number, serverWorkNs: w.serverWork as number, callsPerRequest: w.callsPerRequest as number };
  };

  const startNew = (sim: SimContext) => {
    const V = sim.world.store(Vm);
    for (const vm of sim.world.query([Vm])) {
      if (started.has(vm) || V.state[vm] !== VmState.Running) continue;
      const group = sim.scenario.vms[V.group[vm]];
      const w = group.workload as Record<string, unknown> | undefined;
      if (!w || !KINDS.has(w.kind as string)) continue;
      const server = serverHost(sim, vm, w, group.name);
      if (server < 0) continue; // its server is not placed yet
      started.add(vm);
      const client = V.host[vm];
      const net = sim.services.get(NetworkToken);
      const link = w.link as LinkImpairments;
      const path = (a: number, b: number) => {
        const links = net.linksBetween(a, b);
        return {
          latencyNs: net.latency(a, b) + link.delay,
          rateBps: () => net.packetRate(links),
          loss: link.loss,
          reorder: link.reorder,
          reorderDelayNs: link.reorderDelay,
          jitterNs: link.jitter,
          onBytes: (bytes: number) => net.addLinkBytes(links, bytes),
        };
      };
      const exp = new PacketExperiment({
        personality: sim.services.get(NetstackToken),
        nics: [nicOf(sim, client), nicOf(sim, server)],
        paths: [path(client, server), path(server, client)],
        workload: workloadOf(w),
        startNs: sim.timeNs,
        warmupNs: w.warmup as number,
        rng: api.rng(`vm-${vm}`),
      });
      const endNs = typeof w.duration === 'number' ? sim.timeNs + w.duration : Infinity;
      runs.push({ group: group.name, kind: w.kind as string, vm, client, server, exp, endNs, messageSize: w.kind === 'tcp-stream' ? (w.messageSize as number) : undefined });
      for (const h of [client, server]) if (!sim.world.has(h, Nic)) sim.world.add(h, Nic);
      if (api.hooks.packets.experimentStarted.taps.length) api.hooks.packets.experimentStarted.call(eventOf(runs[runs.length - 1], sim.timeNs));
    }
  };

  const eventOf = (r: Run, timeNs: number) => ({ vm: r.vm, client: r.client, server: r.server, kind: r.kind, personality: api.sim.services.get(NetstackToken).id, timeNs });
  /** Takes a run's results once, when it ends, and tells the hook. */
  const end = (r: Run, timeNs: number) => {
    r.results = r.exp.results();
    if (api.hooks.packets.experimentFinished.taps.length) api.hooks.packets.experimentFinished.call({ ...eventOf(r, timeNs), results: r.results });
  };

  const sample = (sim: SimContext) => {
    let g = 0;
    let t = 0;
    let lat = 0;
    let latN = 0;
    let f = 0;
    let tx = 0;
    let rx = 0;
    for (const r of runs) {
      const res = r.results ?? r.exp.results();
      if (r.kind === 'tcp-stream') g += res.goodputBps;
      else {
        t += res.transactionsPerS;
        if (res.transactions) (lat += res.latencyMeanNs * res.transactions), (latN += res.transactions);
      }
      for (const side of [0, 1] as const) {
        const n = r.exp.nicState(side);
        f += n.framesOut;
        tx += n.txRing + n.txWaiting;
        rx += n.rxRing;
      }
    }
    goodput.set(g);
    tps.set(t);
    latency.set(latN ? lat / latN : 0);
    const dt = sim.timeNs - sampledAt;
    if (dt > 0) {
      frames.set(((f - framesBefore) * 1e9) / dt);
      framesBefore = f;
      sampledAt = sim.timeNs;
    }
    txRing.set(tx);
    rxRing.set(rx);
  };

  /** The Nic component of every host with an experiment: queues now, frame rate over the step. */
  const updateNics = (sim: SimContext) => {
    const N = sim.world.store(Nic);
    const totals = new Map<number, { tx: number; rx: number; frames: number }>();
    for (const r of runs) {
      for (const side of [0, 1] as const) {
        const h = side === 0 ? r.client : r.server;
        const n = r.exp.nicState(side);
        const t = totals.get(h) ?? { tx: 0, rx: 0, frames: 0 };
        t.tx += n.txRing + n.txWaiting;
        t.rx += n.rxRing;
        t.frames += n.framesOut + n.framesIn;
        totals.set(h, t);
      }
    }
    for (const [h, t] of totals) {
      N.framesPerS[h] = sim.stepNs > 0 ? ((t.frames - N.frames[h]) * 1e9) / sim.stepNs : 0;
      N.frames[h] = t.frames;
      N.txQueue[h] = t.tx;
      N.rxRing[h] = t.rx;
    }
  };

  api.addSystem({
    name: `${api.id}/packets`,
    phase: 'network',
    run(sim) {
      startNew(sim);
      const until = sim.timeNs + sim.stepNs;
      for (const r of runs) {
        if (r.results) continue;
        r.exp.advanceTo(Math.min(until, r.endNs));
        if (until >= r.endNs) end(r, r.endNs);
      }
      if (runs.length) updateNics(sim);
      if (sim.sampling && runs.length) sample(sim);
    },
    nextEventNs: () => {
      let next = Infinity;
      for (const r of runs) if (!r.results && r.endNs < next) next = r.endNs;
      return next;
    },
  });

  // An experiment's pending events are closures over its endpoints: they are not
  // saved, so a run is checkpointed only before its first experiment starts.
  api.persist('experiments', {
    save: () => {
      if (runs.length) throw new Error(`${api.id}: a simulation with packet experiments in progress cannot be checkpointed (their event queues are not saved); checkpoint before the first one starts`);
      return { started: 0 };
    },
    load: () => {},
  });

  api.hooks.lifecycle.finish.tapPromise(api.id, async (f) => {
    if (!runs.length) return;
    for (const r of runs) if (!r.results) end(r, f.sim.timeNs);
    sample(f.sim);
    let n = 0;
    for (const r of runs) n += r.results!.calls;
    calls.add(n);
    const personality = f.sim.services.get(NetstackToken).id;
    const rows = runs.map((r) => ({ group: r.group, kind: r.kind, vm: r.vm, client: r.client, server: r.server, personality, ...(r.messageSize === undefined ? {} : { messageSize: r.messageSize }), ...r.results! }));
    f.addFile('netperf.json', JSON.stringify(rows, null, 2) + '\n');
    for (const r of rows) {
      const what = r.kind === 'tcp-stream' ? `${(r.goodputBps / 1e9).toFixed(3)} Gbit/s goodput` : `${r.transactionsPerS.toFixed(0)} transactions/s, mean latency ${(r.latencyMeanNs / 1e3).toFixed(1)} µs`;
      f.addSummaryLine(`${r.group} (${r.kind}, ${personality}): ${what}; ${r.retransmits} retransmissions, ${r.framesOut} frames`);
    }
  });
});
