// The network of a simulation: the datacenter topology built from the hosts and the
// scenario's oversubscription, and the flows on it. The `network` plugin
// (plugins/network/flows) builds it and provides it as a service (token
// `NetworkToken`): migrations and traffic generators start flows through it, and the
// plugin's system in the network phase advances them every tick (`step`), which fires
// hooks.network.flowFinished when a flow delivers its last byte. The hook fires at
// that instant, inside the step: a handler that starts a flow (a migration's next
// round) starts it then, and `nowNs` is that instant. The network is event-driven:
// its next event is the next completion, at the current rates, of a flow whose end
// matters outside the network. A flow started with `inStep: true` is one whose end is
// fully handled inside the step by its flowFinished handler (a migration round that
// only starts the next round), so the engine need not stop there. A flow may also be
// started at a given instant of the current step (`startAt`: an arrival of a traffic
// generator), so that when it starts does not depend on the tick.

import type { SimContext } from '../../engine/context';
import type { Gauge, Counter, Peak } from '../../metrics/metrics';
import { token } from '../../engine/tokens';
import { Host } from '../datacenter/components';
import { FlowNetwork, type FlowSnapshot } from './flows';
import { Topology } from './topology';

export class Network {
  topology!: Topology;
  flows!: FlowNetwork;
  /** Host entity → index in the topology. */
  private readonly index = new Map<number, number>();
  private hostEids: number[] = [];
  private meta: Array<{ src: number; dst: number; bytes: number; tag: string; inStep?: boolean }> = [];
  private gauges!: { maxUtil: Peak; flows: Gauge };
  private bytes!: Counter;
  /** Offset of the current instant from the start of the step, while a step runs. */
  private offsetNs = 0;

  constructor(private readonly sim: SimContext) {}

  /** Builds the topology from the hosts (in lifecycle.populate, after the datacenter spawned them). */
  build(hosts: readonly number[]): void {
    const H = this.sim.world.store(Host);
    this.hostEids = [...hosts];
    hosts.forEach((h, i) => this.index.set(h, i));
    this.topology = new Topology(
      hosts.map((h) => {
        const p = this.sim.hostProfiles[H.profile[h]];
        return { rack: H.rack[h], bandwidth: p.nic.bandwidth, latency: p.nic.latency };
      }),
      this.sim.scenario.topology.oversubscription,
    );
    this.flows = new FlowNetwork(this.topology.capacity);
    const m = this.sim.metrics;
    this.gauges = {
      maxUtil: m.peak('net.links.utilization.max', 'ratio', 'Highest allocated rate over capacity among all links, over the run (each series row: since the previous row).'),
      flows: m.gauge('net.flows', 'count', 'Flows in progress.'),
    };
    this.bytes = m.counter('net.bytes', 'bytes', 'Bytes delivered by finished flows.');
  }

  /** Starts a flow between two host entities; returns its id. `bytes` may be Infinity. */
  start(srcHost: number, dstHost: number, bytes: number, capBps = Infinity, tag = '', options: { inStep?: boolean } = {}): number {
    const a = this.index.get(srcHost);
    const b = this.index.get(dstHost);
    if (a === undefined || b === undefined) throw new Error(`flow between unknown hosts ${srcHost} and ${dstHost}`);
    const id = this.flows.start(this.route(a, b), bytes, capBps, tag);
    this.meta[id] = options.inStep ? { src: srcHost, dst: dstHost, bytes, tag, inStep: true } : { src: srcHost, dst: dstHost, bytes, tag };
    if (this.sim.hooks.network.flowStarted.taps.length) this.sim.hooks.network.flowStarted.call({ flow: id, src: srcHost, dst: dstHost, bytes, timeNs: this.nowNs, tag });
    return id;
  }

  /** Flows to start at instants of the current step (startAt), by offset from the step's start, ns. */
  private timedStarts: Array<{ offsetNs: number; src: number; dst: number; bytes: number; capBps: number; tag: string }> = [];

  /**
   * Starts a flow at `atNs`, an instant of the step now running (from its start,
   * included, to its end, excluded): call it before this step's network advance (in
   * the network phase, before network.flows/advance). The flow starts at that instant.
   */
  startAt(atNs: number, srcHost: number, dstHost: number, bytes: number, capBps = Infinity, tag = ''): void {
    const offsetNs = atNs - this.sim.timeNs;
    if (!(offsetNs >= 0 && offsetNs < this.sim.stepNs)) throw new Error(`startAt: ${atNs} ns is outside the current step [${this.sim.timeNs}, ${this.sim.timeNs + this.sim.stepNs}) ns`);
    if (this.index.get(srcHost) === undefined || this.index.get(dstHost) === undefined) throw new Error(`flow between unknown hosts ${srcHost} and ${dstHost}`);
    let i = this.timedStarts.length;
    while (i > 0 && this.timedStarts[i - 1].offsetNs > offsetNs) i--;
    this.timedStarts.splice(i, 0, { offsetNs, src: srcHost, dst: dstHost, bytes, capBps, tag });
  }

  /** Routes between topology indexes, computed once each (frozen: flows share them). */
  private readonly routes = new Map<number, readonly number[]>();
  private route(a: number, b: number): readonly number[] {
    const k = a * this.hostEids.length + b;
    let r = this.routes.get(k);
    if (!r) this.routes.set(k, (r = Object.freeze(this.topology.path(a, b))));
    return r;
  }

  /** The directed links from one host entity to another (packet-level traffic rides them too). */
  linksBetween(srcHost: number, dstHost: number): readonly number[] {
    return this.route(this.index.get(srcHost)!, this.index.get(dstHost)!);
  }

  /**
   * The rate a packet-level connection gets on these links now, bit/s: on each link,
   * what the flows leave free, or an equal share beside them (one more flow in the
   * max-min allocation) when they fill it; the tightest link decides.
   */
  packetRate(links: readonly number[]): number {
    let rate = Infinity;
    for (const l of links) {
      const cap = this.flows.capacity[l];
      const share = Math.max(cap - this.flows.allocated[l], cap / (this.flows.flowsOn(l) + 1));
      if (share < rate) rate = share;
    }
    return rate;
  }

  /** Counts packet bytes on links, so link utilization includes packet traffic. */
  addLinkBytes(links: readonly number[], bytes: number): void {
    for (const l of links) this.flows.linkBytes[l] += bytes;
  }

  /** One-way latency between two host entities, ns. */
  latency(srcHost: number, dstHost: number): number {
    return this.topology.latency(this.index.get(srcHost)!, this.index.get(dstHost)!);
  }

  /** The current simulated instant, ns: inside a step, the instant being processed. */
  get nowNs(): number {
    return this.sim.timeNs + this.offsetNs;
  }

  /** Absolute time of the next flow completion at the current rates, ns (Infinity: none). */
  nextEventNs(): number {
    return this.flows ? this.sim.timeNs + this.flows.nextCompletionNs(this.endsOutside) : Infinity;
  }

  private readonly endsOutside = (flow: number) => !this.meta[flow]?.inStep;

  /**
   * Advances the flows by one step and updates the gauges on sampling steps (a
   * network-phase system). flowFinished fires at each completion instant.
   */
  step(): void {
    if (!this.flows) return;
    // The step runs in pieces between the instants at which flows start (startAt).
    let base = 0;
    const finished = (flow: number, atNs: number) => {
      const m = this.meta[flow];
      this.bytes.add(Number.isFinite(m.bytes) ? m.bytes : 0);
      this.offsetNs = base + atNs;
      try {
        if (this.sim.hooks.network.flowFinished.taps.length) this.sim.hooks.network.flowFinished.call({ flow, src: m.src, dst: m.dst, bytes: m.bytes, timeNs: this.sim.timeNs + base + atNs, tag: m.tag });
      } finally {
        this.offsetNs = 0;
      }
    };
    while (this.timedStarts.length) {
      const t = this.timedStarts.shift()!;
      if (t.offsetNs > base) this.flows.advance(t.offsetNs - base, finished);
      base = t.offsetNs;
      this.offsetNs = base;
      try {
        this.start(t.src, t.dst, t.bytes, t.capBps, t.tag);
      } finally {
        this.offsetNs = 0;
      }
    }
    this.flows.advance(this.sim.stepNs - base, finished);
    // Every allocation counts towards the maximum, not only those seen on sampling ticks.
    this.gauges.maxUtil.observe(this.flows.takePeakUtilization());
    if (this.sim.sampling) {
      this.gauges.flows.set(this.flows.flows().length);
    }
  }

  save(): { flows: FlowSnapshot; meta: Array<{ src: number; dst: number; bytes: number; tag: string; inStep?: boolean }> } {
    return { flows: this.flows.snapshot(), meta: this.meta.map((m) => ({ ...m })) };
  }

  load(s: ReturnType<Network['save']>): void {
    this.flows.restore(s.flows);
    this.meta = s.meta.map((m) => ({ ...m }));
  }
}

export const NetworkToken = token<Network>('Network');
