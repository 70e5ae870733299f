// A packet-level experiment between two hosts: TCP connections whose segments go
// socket → stack → NIC → link → NIC → stack → socket, each step charged to the core
// that pays it, on a per-experiment event queue (events.ts).
//
// Each side has an application core (the process: socket calls, and the stack
// itself for a library OS, or the kernel's stack in system-call and softirq context
// for host Linux) and a host core (the host kernel's forwarding of frames between a
// container's device and the NIC: tap, bridge, vhost; idle for host Linux). A NIC
// has a transmit ring of descriptors, a line rate, TSO (cutting super-segments into
// MSS frames), checksum offload, a receive ring that drops when full, and GRO. The
// link carries frames with the path's latency at the rate the datacenter's flows
// leave free, and injects loss, reordering and delay from a seeded stream.
//
// Workloads, after netperf and wrk: a TCP_STREAM of fixed-size send() calls, a
// request/response (TCP_RR) ping-pong, and an HTTP-like load of many keep-alive
// connections against one server. Every figure the experiment reports is counted
// from these events: bytes the receiving application read, transactions completed,
// calls made, frames and segments moved, core time spent.

import type { Rng } from '../../engine/rng';
import { EventQueue } from './events';
import type { NetstackPersonality } from './personality';
import { ETHERNET_OVERHEAD, FIN, headerBytes, PSH, type Segment } from './segment';
import { TcpEndpoint, type TimerKind } from './tcp';

/** The NIC of a host, from its profile (`nic:`). */
export interface NicSpec {
  /** Line rate, bit/s. */
  readonly bandwidth: number;
  /** Queue pairs, each with its transmit and receive ring (connection c uses queue c mod queues). */
  readonly queues: number;
  /** Descriptors per transmit and receive ring. */
  readonly ringEntries: number;
  /** Bytes of an IP packet on the wire at most. */
  readonly mtu: number;
  /** Segmentation offload in hardware. */
  readonly tso: boolean;
  /** Largest super-segment the NIC accepts, bytes. */
  readonly gsoMaxBytes: number;
  readonly checksum: boolean;
  readonly gro: boolean;
}

/** One direction of the path between the hosts. */
export interface PathSpec {
  /** One-way latency, ns. */
  readonly latencyNs: number;
  /** Rate the link leaves to packets now, bit/s (line rate minus what flows take). */
  readonly rateBps: () => number;
  /** Probability that a frame is lost. */
  readonly loss: number;
  /** Probability that a frame is held back by `reorderDelayNs` (reordering). */
  readonly reorder: number;
  readonly reorderDelayNs: number;
  /** Extra delay per frame, uniform in [0, jitterNs). */
  readonly jitterNs: number;
  /** Called with the wire bytes of each frame sent (link accounting). */
  readonly onBytes?: (bytes: number) => void;
}

export type WorkloadSpec =
  | { readonly kind: 'stream'; readonly messageBytes: number; readonly recvBytes: number }
  | { readonly kind: 'rr'; readonly requestBytes: number; readonly responseBytes: number; readonly connections: number }
  | { readonly kind: 'http'; readonly requestBytes: number; readonly responseBytes: number; readonly connections: number; readonly serverWorkNs: number; readonly callsPerRequest: number };

export interface ExperimentSpec {
  readonly personality: NetstackPersonality;
  readonly nics: readonly [NicSpec, NicSpec];
  /** paths[0]: client → server; paths[1]: server → client. */
  readonly paths: readonly [PathSpec, PathSpec];
  readonly workload: WorkloadSpec;
  readonly startNs: number;
  /** Measurements start this long after the start (slow start and cold caches left out), ns. */
  readonly warmupNs: number;
  readonly rng: Rng;
}

export interface ExperimentResults {
  /** Application bytes read by the receiving side in the measured interval, bytes. */
  bytes: number;
  /** Measured interval, ns. */
  intervalNs: number;
  goodputBps: number;
  transactions: number;
  transactionsPerS: number;
  latencyMeanNs: number;
  latencyP99Ns: number;
  calls: number;
  deviceWrites: number;
  framesOut: number;
  framesIn: number;
  segmentsOut: number;
  segmentsIn: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  rxDrops: number;
  linkLosses: number;
  txQueuePeak: number;
  /** Busy fraction of the application cores, client and server. */
  coreBusy: [number, number];
  events: number;
}

/** A core: work runs one item at a time in arrival order. */
class Core {
  busyUntil = 0;
  busyNs = 0;
  constructor(private readonly q: EventQueue) {}
  exec(costNs: number, then: () => void): void {
    const start = Math.max(this.q.now, this.busyUntil);
    this.busyUntil = start + costNs;
    this.busyNs += costNs;
    this.q.at(this.busyUntil, then);
  }
}

/** A piece of a segment as frames arriving together. */
interface Piece {
  seg: Segment;
  conn: number;
  frames: number;
}

class Side {
  readonly app: Core;
  readonly host: Core;
  readonly eps: TcpEndpoint[] = [];
  /**
   * NIC transmit, per queue pair (a connection hashes onto queue conn mod queues):
   * descriptors in use and the segments waiting behind a full ring; and when the
   * wire, which the queues share, is free.
   */
  readonly txRing: number[];
  readonly txWait: Piece[][];
  wireFree = 0;
  txQueuePeak = 0;
  /** NIC receive: frames waiting for a poll, in arrival order, and their count per queue's ring. */
  rxRing: Piece[] = [];
  readonly rxFrames: number[];
  pollScheduled = false;
  calls = 0;
  deviceWrites = 0;
  framesOut = 0;
  framesIn = 0;
  rxDrops = 0;
  constructor(
    q: EventQueue,
    readonly nic: NicSpec,
  ) {
    this.app = new Core(q);
    this.host = new Core(q);
    this.txRing = new Array<number>(nic.queues).fill(0);
    this.txWait = Array.from({ length: nic.queues }, () => []);
    this.rxFrames = new Array<number>(nic.queues).fill(0);
  }
}

export class PacketExperiment {
  readonly q = new EventQueue();
  private readonly sides: [Side, Side];
  private readonly p: NetstackPersonality;
  private readonly callNs: number;
  private bytesRead = 0;
  private transactions = 0;
  private latencies: number[] = [];
  private linkLosses = 0;
  private measureFrom: number;
  private measuredAt = -1;
  private bytesAtStart = 0;
  private txAtStart = 0;
  private busyAtStart: [number, number] = [0, 0];
  private segmentSize: number;

  constructor(readonly spec: ExperimentSpec) {
    this.p = spec.personality;
    this.q.now = spec.startNs;
    this.sides = [new Side(this.q, spec.nics[0]), new Side(this.q, spec.nics[1])];
    this.callNs = this.p.costs.callNs;
    this.measureFrom = spec.startNs + spec.warmupNs;
    const o = this.p.offloads;
    // Super-segments only when the stack hands them down and the path takes them (TSO in
    // the NIC, or GSO in the host before it), bounded by what the NIC accepts.
    this.segmentSize = o.tso ? Math.min(o.gsoMaxBytes, Math.max(...spec.nics.map((n) => n.gsoMaxBytes))) : 0;
    const conns = spec.workload.kind === 'stream' ? 1 : spec.workload.connections;
    for (let c = 0; c < conns; c++) this.connect(c);
    this.q.at(this.measureFrom, () => this.startMeasuring());
  }

  // ------------------------------------------------------------------ setup
  private connect(c: number): void {
    const [cs, ss] = this.sides;
    const mk = (side: number) => {
      const s = this.sides[side];
      const gen: Record<TimerKind, number> = { rto: 0, delack: 0, persist: 0 };
      const ep: TcpEndpoint = new TcpEndpoint(
        this.p.features,
        {
          now: () => this.q.now,
          send: (seg) => this.transmit(side, c, seg),
          timer: (kind, at) => {
            const g = ++gen[kind];
            if (Number.isFinite(at)) this.q.at(at, () => gen[kind] === g && ep.onTimer(kind));
          },
        },
        { iss: side === 0 ? 1000 + c * 7919 : 5000 + c * 104729, mtu: s.nic.mtu },
      );
      ep.maxSegment = this.segmentSize;
      s.eps[c] = ep;
      return ep;
    };
    const client = mk(0);
    const server = mk(1);
    server.listen();
    const w = this.spec.workload;
    if (w.kind === 'stream') this.stream(client, server, w.messageBytes, w.recvBytes);
    else if (w.kind === 'rr') this.requestResponse(client, server, w.requestBytes, w.responseBytes, 0, 2);
    else this.requestResponse(client, server, w.requestBytes, w.responseBytes, w.serverWorkNs, w.callsPerRequest);
    // The client's connect() is a socket call too.
    cs.calls++;
    cs.app.exec(this.callNs + this.p.costs.callStackNs, () => client.connect());
    void ss;
  }

  /** Cost of `calls` socket calls moving `bytes` across the boundary. */
  private callCost(calls: number, bytes: number): number {
    const c = this.p.costs;
    return calls * (this.callNs + c.callStackNs) + bytes * c.copyNsPerByte;
  }

  private stream(client: TcpEndpoint, server: TcpEndpoint, msg: number, recvSize: number): void {
    const [cs, ss] = this.sides;
    let writing = false;
    /** Bytes of the current send() call the buffer has not taken yet: the call is blocked. */
    let left = 0;
    // netperf's send loop: send() one message after another. A blocking send() copies
    // what the buffer takes and waits for ACKs to free room for the rest.
    const sendLoop = () => {
      if (writing || client.state !== 'ESTABLISHED') return;
      if (left > 0) {
        left -= client.write(left);
        if (left > 0) return;
      }
      const space = client.sendSpace;
      if (space <= 0) return;
      // The calls run back to back; they are simulated in runs of up to 64 calls or
      // 64 KiB, whichever is less (no more than the buffer takes), after each of which
      // the stack pushes what was written.
      const calls = Math.max(1, Math.min(64, Math.floor(65536 / msg), Math.floor(space / msg)));
      writing = true;
      cs.calls += calls;
      cs.app.exec(this.callCost(calls, calls * msg), () => {
        writing = false;
        left = calls * msg - client.write(calls * msg);
        sendLoop();
      });
    };
    client.onEstablished = sendLoop;
    client.onWritable = sendLoop;
    this.reader(ss, server, recvSize, (n) => (this.bytesRead += n));
  }

  /** netserver's / a server's receive loop: recv() while data is there. */
  private reader(side: Side, ep: TcpEndpoint, recvSize: number, got: (n: number) => void): void {
    let reading = false;
    const loop = () => {
      if (reading) return;
      const n = Math.min(ep.readable, recvSize);
      if (n <= 0) return;
      reading = true;
      side.calls++;
      side.app.exec(this.callCost(1, n), () => {
        reading = false;
        got(ep.read(n));
        loop();
      });
    };
    ep.onReadable = loop;
  }

  private requestResponse(client: TcpEndpoint, server: TcpEndpoint, req: number, resp: number, workNs: number, callsPerRequest: number): void {
    const [cs, ss] = this.sides;
    let sentAt = 0;
    let got = 0;
    let served = 0;
    const request = () => {
      cs.calls++;
      cs.app.exec(this.callCost(1, req), () => {
        sentAt = this.q.now;
        client.write(req);
      });
    };
    client.onEstablished = request;
    // Server: read the request, work, answer (extra calls: epoll_wait, a second write, …).
    this.reader(ss, server, 65536, (n) => {
      served += n;
      while (served >= req) {
        served -= req;
        const extra = Math.max(0, callsPerRequest - 2);
        ss.calls += 1 + extra;
        ss.app.exec(workNs + this.callCost(1 + extra, resp), () => server.write(resp));
      }
    });
    this.reader(cs, client, 65536, (n) => {
      got += n;
      while (got >= resp) {
        got -= resp;
        if (this.measuredAt >= 0) {
          this.transactions++;
          this.latencies.push(this.q.now - sentAt);
          this.bytesRead += resp;
        }
        request();
      }
    });
  }

  // ------------------------------------------------------------------ transmit path
  /** A segment leaves the stack of `side`: stack and device costs, then the NIC. */
  private transmit(sideIdx: number, conn: number, seg: Segment): void {
    const s = this.sides[sideIdx];
    const c = this.p.costs;
    const o = this.p.offloads;
    const mss = s.eps[conn]?.mss ?? 1460;
    const frames = Math.max(1, Math.ceil(seg.len / mss));
    // Stack work once per (super-)segment; software checksum per byte without offload;
    // one device write hands the whole segment (and its frames) to the device; a
    // super-segment that the NIC cannot cut is cut in software (GSO), per frame.
    const cost = c.txSegmentNs + (o.checksum && s.nic.checksum ? 0 : seg.len * c.checksumNsPerByte) + c.deviceWriteNs + seg.len * c.deviceCopyNsPerByte + (s.nic.tso ? 0 : (frames - 1) * c.frameNs);
    s.deviceWrites++;
    s.app.exec(cost, () => {
      const toNic = () => this.nicEnqueue(sideIdx, { seg, conn, frames });
      if (c.hostForwardNs > 0) s.host.exec(frames * c.hostForwardNs, toNic);
      else toNic();
    });
  }

  private nicEnqueue(sideIdx: number, piece: Piece): void {
    const s = this.sides[sideIdx];
    // With hardware TSO a super-segment is one descriptor; otherwise one per frame.
    const desc = s.nic.tso ? 1 : piece.frames;
    const qi = piece.conn % s.nic.queues;
    if (s.txRing[qi] + desc > s.nic.ringEntries || s.txWait[qi].length) {
      s.txWait[qi].push(piece);
      s.txQueuePeak = Math.max(s.txQueuePeak, s.txWait[qi].length);
      return;
    }
    s.txRing[qi] += desc;
    this.wire(sideIdx, piece, desc);
  }

  /** Serializes a segment's frames at the path's rate and sends them down the link. */
  private wire(sideIdx: number, piece: Piece, desc: number): void {
    const s = this.sides[sideIdx];
    const path = this.spec.paths[sideIdx];
    const rate = Math.min(s.nic.bandwidth, path.rateBps());
    const peer = 1 - sideIdx;
    const seg = piece.seg;
    const mss = s.eps[piece.conn]?.mss ?? 1460;
    const hdr = headerBytes(seg);
    let t = Math.max(this.q.now, s.wireFree);
    // Frames go one after another; runs of consecutive frames that arrive in order
    // travel together as one piece (they arrive back to back).
    let runStart = seg.seq;
    let runFrames = 0;
    let runArrive = 0;
    const flush = (end: number, last: boolean) => {
      if (runFrames === 0) return;
      const part: Segment = { ...seg, seq: runStart, len: end - runStart, flags: last ? seg.flags : seg.flags & ~(FIN | PSH) };
      const f = runFrames;
      this.q.at(runArrive, () => this.nicReceive(peer, { seg: part, conn: piece.conn, frames: f }));
      runFrames = 0;
    };
    const n = piece.frames;
    for (let i = 0; i < n; i++) {
      const a = seg.seq + i * mss;
      const b = i === n - 1 ? seg.seq + seg.len : a + mss;
      const bytes = b - a + hdr + ETHERNET_OVERHEAD;
      t += (bytes * 8e9) / rate;
      s.framesOut++;
      path.onBytes?.(bytes);
      const rnd = path.loss > 0 || path.reorder > 0 || path.jitterNs > 0;
      const u = rnd ? this.spec.rng.next() : 1;
      if (u < path.loss) {
        this.linkLosses++;
        flush(a, false);
        runStart = b;
        continue;
      }
      let arrive = t + path.latencyNs + (path.jitterNs > 0 ? this.spec.rng.next() * path.jitterNs : 0);
      const held = path.reorder > 0 && u < path.loss + path.reorder;
      if (held) {
        flush(a, false);
        arrive += path.reorderDelayNs;
        const part: Segment = { ...seg, seq: a, len: b - a, flags: i === n - 1 ? seg.flags : seg.flags & ~(FIN | PSH) };
        this.q.at(arrive, () => this.nicReceive(peer, { seg: part, conn: piece.conn, frames: 1 }));
        runStart = b;
        continue;
      }
      if (runFrames === 0) runStart = a;
      runFrames++;
      runArrive = Math.max(runArrive, arrive);
    }
    flush(seg.seq + seg.len, true);
    s.wireFree = t;
    // The descriptors come back when the last frame is on the wire.
    const qi = piece.conn % s.nic.queues;
    this.q.at(t, () => {
      s.txRing[qi] -= desc;
      const waiting = s.txWait[qi];
      while (waiting.length) {
        const next = waiting[0];
        const d = s.nic.tso ? 1 : next.frames;
        if (s.txRing[qi] + d > s.nic.ringEntries) break;
        waiting.shift();
        s.txRing[qi] += d;
        this.wire(sideIdx, next, d);
      }
    });
  }

  // ------------------------------------------------------------------ receive path
  private nicReceive(sideIdx: number, piece: Piece): void {
    const s = this.sides[sideIdx];
    const qi = piece.conn % s.nic.queues;
    // The ring takes frames while it has free descriptors; the rest of the run is dropped.
    const free = s.nic.ringEntries - s.rxFrames[qi];
    if (free <= 0) {
      s.rxDrops += piece.frames;
      return;
    }
    if (free < piece.frames) {
      const mss = s.eps[piece.conn]?.mss ?? 1460;
      s.rxDrops += piece.frames - free;
      piece = { conn: piece.conn, frames: free, seg: { ...piece.seg, len: Math.min(piece.seg.len, free * mss), flags: piece.seg.flags & ~(FIN | PSH) } };
    }
    s.rxFrames[qi] += piece.frames;
    s.framesIn += piece.frames;
    const c = this.p.costs;
    // A container's frames first cross the host (bridge, tap, vhost) on the host core.
    if (c.hostForwardNs > 0) s.host.exec(piece.frames * c.hostForwardNs, () => this.toRing(s, sideIdx, piece));
    else this.toRing(s, sideIdx, piece);
  }

  private toRing(s: Side, sideIdx: number, piece: Piece): void {
    s.rxRing.push(piece);
    if (s.pollScheduled) return;
    s.pollScheduled = true;
    // The poll runs when the core gets to it: frames that arrive meanwhile join it.
    this.q.at(Math.max(this.q.now, s.app.busyUntil), () => this.poll(sideIdx));
  }

  /** One NAPI-style poll: up to 64 frames, merged by GRO, then handed to TCP. */
  private poll(sideIdx: number): void {
    const s = this.sides[sideIdx];
    s.pollScheduled = false;
    const c = this.p.costs;
    const gro = this.p.offloads.gro && s.nic.gro;
    const batch: Piece[] = [];
    let frames = 0;
    while (s.rxRing.length && frames < 64) {
      const p = s.rxRing.shift()!;
      frames += p.frames;
      s.rxFrames[p.conn % s.nic.queues] -= p.frames;
      batch.push(p);
    }
    // GRO: consecutive in-order pieces of a connection become one segment (≤ 64 KiB);
    // without it every frame is its own segment for the stack.
    const segs: Piece[] = [];
    for (const p of batch) {
      const prev = segs[segs.length - 1];
      const mss = s.eps[p.conn]?.mss ?? 1460;
      if (gro) {
        if (prev && prev.conn === p.conn && prev.seg.seq + prev.seg.len === p.seg.seq && p.seg.len > 0 && prev.seg.len > 0 && prev.seg.len + p.seg.len <= 65536 && !(prev.seg.flags & FIN) && prev.seg.ack <= p.seg.ack) {
          prev.seg = { ...p.seg, seq: prev.seg.seq, len: prev.seg.len + p.seg.len };
          prev.frames += p.frames;
        } else segs.push({ ...p, seg: { ...p.seg } });
      } else if (p.frames > 1) {
        for (let i = 0; i < p.frames; i++) {
          const a = p.seg.seq + i * mss;
          const b = i === p.frames - 1 ? p.seg.seq + p.seg.len : a + mss;
          segs.push({ conn: p.conn, frames: 1, seg: { ...p.seg, seq: a, len: b - a, flags: i === p.frames - 1 ? p.seg.flags : p.seg.flags & ~(FIN | PSH) } });
        }
      } else segs.push(p);
    }
    let bytes = 0;
    for (const p of segs) bytes += p.seg.len;
    const cost = c.deviceReadNs + frames * c.frameNs + segs.length * c.rxSegmentNs + bytes * c.deviceCopyNsPerByte + (this.p.offloads.checksum && s.nic.checksum ? 0 : bytes * c.checksumNsPerByte);
    s.app.exec(cost, () => {
      for (const p of segs) s.eps[p.conn].receive(p.seg);
      if (s.rxRing.length && !s.pollScheduled) {
        s.pollScheduled = true;
        this.q.at(Math.max(this.q.now, s.app.busyUntil), () => this.poll(sideIdx));
      }
    });
  }

  // ------------------------------------------------------------------ measurement
  private startMeasuring(): void {
    this.measuredAt = this.q.now;
    this.bytesAtStart = this.bytesRead;
    this.txAtStart = this.transactions;
    this.busyAtStart = [this.sides[0].app.busyNs, this.sides[1].app.busyNs];
  }

  /** Time of the next event, ns. */
  nextEventNs(): number {
    return this.q.peek();
  }

  /** Runs every event up to `untilNs`. */
  advanceTo(untilNs: number): void {
    this.q.runUntil(untilNs);
  }

  results(): ExperimentResults {
    const now = this.q.now;
    const interval = this.measuredAt >= 0 ? now - this.measuredAt : 0;
    const bytes = this.measuredAt >= 0 ? this.bytesRead - this.bytesAtStart : 0;
    const tx = this.measuredAt >= 0 ? this.transactions - this.txAtStart : 0;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const sum = (f: (e: TcpEndpoint) => number) => this.sides.reduce((a, s) => a + s.eps.reduce((b, e) => b + f(e), 0), 0);
    // Core time is charged when work is queued; only what falls inside the interval counts.
    const busy = (i: number) => (interval > 0 ? Math.min(1, (Math.min(this.sides[i].app.busyNs - this.busyAtStart[i], interval) - Math.max(0, this.sides[i].app.busyUntil - now)) / interval) : 0);
    return {
      bytes,
      intervalNs: interval,
      goodputBps: interval > 0 ? (bytes * 8e9) / interval : 0,
      transactions: tx,
      transactionsPerS: interval > 0 ? (tx * 1e9) / interval : 0,
      latencyMeanNs: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0,
      latencyP99Ns: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : 0,
      calls: this.sides[0].calls + this.sides[1].calls,
      deviceWrites: this.sides[0].deviceWrites + this.sides[1].deviceWrites,
      framesOut: this.sides[0].framesOut + this.sides[1].framesOut,
      framesIn: this.sides[0].framesIn + this.sides[1].framesIn,
      segmentsOut: sum((e) => e.counters.segmentsOut),
      segmentsIn: sum((e) => e.counters.segmentsIn),
      retransmits: sum((e) => e.counters.retransmits),
      fastRetransmits: sum((e) => e.counters.fastRetransmits),
      timeouts: sum((e) => e.counters.timeouts),
      rxDrops: this.sides[0].rxDrops + this.sides[1].rxDrops,
      linkLosses: this.linkLosses,
      txQueuePeak: Math.max(this.sides[0].txQueuePeak, this.sides[1].txQueuePeak),
      coreBusy: [busy(0), busy(1)],
      events: this.q.processed,
    };
  }

  /** NIC state of one side for the visualizer: transmit descriptors in use, frames waiting in the receive ring, frames moved so far. */
  nicState(side: 0 | 1): { txRing: number; txWaiting: number; rxRing: number; framesOut: number; framesIn: number } {
    const s = this.sides[side];
    const sum = (a: readonly number[]) => a.reduce((x, y) => x + y, 0);
    return { txRing: sum(s.txRing), txWaiting: sum(s.txWait.map((w) => w.length)), rxRing: sum(s.rxFrames), framesOut: s.framesOut, framesIn: s.framesIn };
  }
}
