// A packet-level TCP endpoint: the protocol model every personality runs, with its
// mechanisms switched by the personality's TcpFeatures. It implements the three-way
// handshake and option negotiation (MSS, window scaling, SACK-permitted,
// timestamps), sequence and acknowledgement numbers, a receive window that is
// advertised scaled and never shrinks its right edge, slow start and congestion
// avoidance (Reno, or CUBIC), fast retransmit with NewReno or SACK-based recovery,
// an RTO from RFC 6298 estimates with exponential backoff, delayed ACKs, Nagle and
// TCP_CORK, zero-window probes, and FIN/RST teardown.
//
// The endpoint knows no time source, device or cost: it is driven by its owner
// (the packet experiment or the conformance runner) through TcpEnv — `now()`,
// `send(segment)`, and `timer(kind, at)` whose expiry the owner reports back with
// `onTimer(kind)`. So the same protocol code is what the conformance scripts probe
// and what carries the workloads' bytes.

import { ACK, FIN, PSH, RST, SYN, type Segment, type TcpOptions } from './segment';
import type { TcpFeatures } from './personality';

export type TimerKind = 'rto' | 'delack' | 'persist';
export const TIMER_KINDS: readonly TimerKind[] = ['rto', 'delack', 'persist'];

export interface TcpEnv {
  /** Current time, ns. */
  now(): number;
  /** Puts a segment on the wire (the owner charges its costs). */
  send(seg: Segment): void;
  /** Arms (or with Infinity, cancels) the endpoint's one timer of this kind. */
  timer(kind: TimerKind, atNs: number): void;
}

export type TcpState = 'CLOSED' | 'LISTEN' | 'SYN_SENT' | 'SYN_RCVD' | 'ESTABLISHED' | 'FIN_WAIT_1' | 'FIN_WAIT_2' | 'CLOSE_WAIT' | 'CLOSING' | 'LAST_ACK' | 'TIME_WAIT';

export interface TcpCounters {
  segmentsOut: number;
  segmentsIn: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  sackRetransmits: number;
  dupAcksIn: number;
  zeroWindowProbes: number;
  delayedAcks: number;
  acksOut: number;
}

const MAX_RTO_NS = 120e9;
const CUBIC_C = 0.4;
const CUBIC_BETA = 0.7;
const RENO_BETA = 0.5;

export class TcpEndpoint {
  state: TcpState = 'CLOSED';
  readonly counters: TcpCounters = { segmentsOut: 0, segmentsIn: 0, retransmits: 0, fastRetransmits: 0, timeouts: 0, sackRetransmits: 0, dupAcksIn: 0, zeroWindowProbes: 0, delayedAcks: 0, acksOut: 0 };
  /** Application hooks: readable data, freed send space, connection up, connection gone. */
  onReadable: () => void = () => {};
  onWritable: () => void = () => {};
  onEstablished: () => void = () => {};
  onClosed: (reason: 'fin' | 'rst' | 'timeout') => void = () => {};

  // --- negotiated ---
  private mssEff = 536;
  private peerMss = 536;
  private sndShift = 0; // the peer's wscale: shift of windows we receive
  private rcvShift = 0; // ours: shift of windows we send
  private tsOk = false;
  private sackOk = false;
  private tsRecent = 0;
  // --- send side ---
  private iss = 0;
  sndUna = 0;
  sndNxt = 0;
  private sndMax = 0;
  private sndWnd = 0;
  private writeEnd = 0;
  private finQueued = false;
  private finSent = false;
  cwnd = 0;
  ssthresh = Infinity;
  private dupAcks = 0;
  private inRecovery = false;
  private recover = 0;
  /** SACKed ranges above sndUna, sorted and disjoint. */
  private scoreboard: Array<[number, number]> = [];
  /** Retransmissions already sent in this recovery, as the highest seq covered. */
  private retransHigh = 0;
  private srtt = 0;
  private rttvar = 0;
  private rto: number;
  private backoff = 0;
  private rtoArmed = false;
  private persistArmed = false;
  private probeBackoff = 0;
  /** Karn timing when timestamps are off: a segment's end seq and send time. */
  private timedSeq = -1;
  private timedAt = 0;
  private cubicWmax = 0;
  private cubicEpoch = -1;
  private cubicK = 0;
  noDelay: boolean;
  corked = false;
  // --- receive side ---
  private irs = 0;
  rcvNxt = 0;
  /** Sequence number up to which the application has read. */
  private readSeq = 0;
  private rcvAdvEnd = 0;
  private ooo: Array<[number, number]> = [];
  private unackedBytes = 0;
  private delackArmed = false;
  private peerFinSeq = -1;

  constructor(
    readonly features: TcpFeatures,
    private readonly env: TcpEnv,
    options: { iss?: number; mtu?: number } = {},
  ) {
    this.iss = options.iss ?? 0;
    const mtu = options.mtu ?? 1500;
    this.ownMss = Math.min(features.mss, mtu - 40);
    this.rto = features.initialRtoNs;
    this.noDelay = !features.nagle;
  }
  private readonly ownMss: number;

  /** Payload bytes per full segment on this connection. */
  get mss(): number {
    return this.mssEff;
  }
  /** Bytes the application may still write. */
  get sendSpace(): number {
    return Math.max(0, this.features.sendBuffer - (this.writeEnd - this.sndUna));
  }
  /** Bytes the application can read now. */
  get readable(): number {
    return this.rcvNxt - this.readSeq - (this.peerFinSeq >= 0 && this.rcvNxt > this.peerFinSeq ? 1 : 0);
  }
  /** Bytes written but not yet acknowledged. */
  get unacked(): number {
    return this.writeEnd - this.sndUna;
  }

  // ---------------------------------------------------------------- application
  listen(): void {
    this.state = 'LISTEN';
  }

  connect(): void {
    this.sndUna = this.iss;
    this.sndNxt = this.sndMax = this.iss + 1;
    this.writeEnd = this.iss + 1;
    this.state = 'SYN_SENT';
    this.synAt = this.env.now();
    this.emit(SYN, this.iss, 0, this.synWindow(), this.synOptions(true));
    this.armRto();
  }

  /** Queues up to `bytes` for sending; returns how many the send buffer took. */
  write(bytes: number): number {
    if (this.finQueued || !(this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT' || this.state === 'SYN_SENT' || this.state === 'SYN_RCVD')) return 0;
    const n = Math.min(bytes, this.sendSpace);
    this.writeEnd += n;
    if (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT') this.output();
    return n;
  }

  /** Consumes up to `max` readable bytes; returns how many. Reading may open the window. */
  read(max: number): number {
    const n = Math.min(max, this.readable);
    if (n <= 0) return 0;
    const before = this.windowToAdvertise();
    this.readSeq += n;
    // Window update when reading opens the window by at least an MSS from nearly closed (receiver SWS avoidance).
    const after = this.windowToAdvertise();
    if (before < this.mssEff && after >= Math.min(this.features.receiveBuffer / 2, this.mssEff * 2) && this.isSynchronized()) this.sendAck();
    return n;
  }

  setCork(on: boolean): void {
    if (!this.features.cork) return;
    this.corked = on;
    if (on) return;
    // Uncorking pushes what is queued at once, Nagle or not (Linux's TCP_NAGLE_PUSH).
    this.pushNow = true;
    try {
      this.output();
    } finally {
      this.pushNow = false;
    }
  }
  private pushNow = false;

  close(): void {
    if (this.state === 'LISTEN' || this.state === 'SYN_SENT' || this.state === 'CLOSED') {
      this.toClosed('fin');
      return;
    }
    this.finQueued = true;
    this.corked = false;
    this.output();
  }

  abort(): void {
    if (this.isSynchronized()) this.emit(RST | ACK, this.sndNxt, this.rcvNxt, 0, {});
    this.toClosed('rst');
  }

  // ---------------------------------------------------------------- segments in
  receive(seg: Segment): void {
    this.counters.segmentsIn++;
    switch (this.state) {
      case 'CLOSED':
        if (!(seg.flags & RST)) this.resetFor(seg);
        return;
      case 'LISTEN':
        if (seg.flags & RST) return;
        if (seg.flags & ACK) return this.resetFor(seg);
        if (seg.flags & SYN) return this.acceptSyn(seg);
        return;
      case 'SYN_SENT':
        return this.synSent(seg);
    }
    // Synchronized states (and SYN_RCVD): RFC 793 segment processing.
    if (seg.flags & RST) {
      if (seg.seq >= this.rcvNxt && seg.seq < this.rcvNxt + Math.max(1, this.windowToAdvertise())) this.toClosed('rst');
      return;
    }
    if (seg.flags & SYN) {
      // A SYN in a synchronized state: answer with an ACK (RFC 5961 challenge ACK).
      if (this.state !== 'SYN_RCVD' || seg.seq !== this.irs) this.sendAck();
      else this.emit(SYN | ACK, this.iss, this.rcvNxt, this.synWindow(), this.synOptions(false)); // a retransmitted SYN
      return;
    }
    if (!(seg.flags & ACK)) return;
    // An unacceptable segment — old (all of it before rcvNxt: a duplicate, or a
    // zero-window probe) or beyond the window — is answered with an ACK (RFC 793) and
    // only its acknowledgement is used.
    const wnd = Math.max(this.rcvAdvEnd - this.rcvNxt, 0);
    const occupies = seg.len + (seg.flags & FIN ? 1 : 0);
    const old = occupies === 0 ? seg.seq < this.rcvNxt : seg.seq + occupies <= this.rcvNxt;
    if (old || seg.seq > this.rcvNxt + wnd) {
      this.sendAck();
      this.processAck(seg);
      this.output();
      return;
    }
    if (this.tsOk && seg.opts.ts && seg.seq <= this.rcvNxt) this.tsRecent = seg.opts.ts[0];
    if (this.state === 'SYN_RCVD') {
      if (seg.ack !== this.iss + 1) return this.resetFor(seg);
      this.sndUna = seg.ack;
      this.sndWnd = seg.win << this.sndShift;
      this.state = 'ESTABLISHED';
      this.handshakeRtt();
      this.disarmRto();
      this.onEstablished();
    } else this.processAck(seg);
    if ((this.state as TcpState) === 'CLOSED') return;
    if (seg.len > 0 || seg.flags & FIN) this.processData(seg);
    this.output();
  }

  onTimer(kind: TimerKind): void {
    if (kind === 'delack') {
      this.delackArmed = false;
      if (this.unackedBytes > 0 || this.ackOwed) {
        this.counters.delayedAcks++;
        this.sendAck();
      }
    } else if (kind === 'rto') {
      this.rtoArmed = false;
      this.retransmitTimeout();
    } else {
      this.persistArmed = false;
      this.probe();
    }
  }

  // ---------------------------------------------------------------- handshake
  private synOptions(active: boolean): TcpOptions {
    const f = this.features;
    const o: TcpOptions = { mss: this.ownMss };
    if (f.sack && (active || this.sackOk)) o.sackOk = true;
    if (f.timestamps && (active || this.tsOk)) o.ts = [this.tsVal(), active ? 0 : this.tsRecent];
    if (f.windowScaling && (active || this.rcvShift > 0 || this.sndShiftOffered)) o.wscale = f.wscale;
    return o;
  }
  private sndShiftOffered = false;

  private synWindow(): number {
    return Math.min(this.features.receiveBuffer, 65535);
  }

  private acceptSyn(seg: Segment): void {
    this.irs = seg.seq;
    this.rcvNxt = this.readSeq = seg.seq + 1;
    this.negotiate(seg.opts);
    this.sndUna = this.iss;
    this.sndNxt = this.sndMax = this.writeEnd = this.iss + 1;
    this.sndWnd = seg.win; // unscaled in a SYN
    this.state = 'SYN_RCVD';
    this.rcvAdvEnd = this.rcvNxt + this.synWindow();
    this.synAt = this.env.now();
    this.emit(SYN | ACK, this.iss, this.rcvNxt, this.synWindow(), this.synOptions(false));
    this.armRto();
  }

  private negotiate(o: TcpOptions): void {
    const f = this.features;
    this.peerMss = o.mss ?? 536;
    this.sackOk = f.sack && !!o.sackOk;
    this.tsOk = f.timestamps && !!o.ts;
    if (o.ts) this.tsRecent = o.ts[0];
    this.sndShiftOffered = o.wscale !== undefined;
    if (f.windowScaling && o.wscale !== undefined) {
      this.sndShift = Math.min(14, o.wscale);
      this.rcvShift = f.wscale;
    } else {
      this.sndShift = this.rcvShift = 0;
    }
    this.mssEff = Math.min(this.ownMss, this.peerMss) - (this.tsOk ? 12 : 0);
    this.cwnd = f.initialWindow * this.mssEff;
  }

  private synSent(seg: Segment): void {
    if (seg.flags & ACK && seg.ack !== this.iss + 1) {
      if (!(seg.flags & RST)) this.emit(RST, seg.ack, 0, 0, {});
      return;
    }
    if (seg.flags & RST) {
      if (seg.flags & ACK) this.toClosed('rst');
      return;
    }
    if (!(seg.flags & SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = this.readSeq = seg.seq + 1;
    this.negotiate(seg.opts);
    this.rcvAdvEnd = this.rcvNxt + this.windowToAdvertise();
    if (seg.flags & ACK) {
      this.sndUna = seg.ack;
      this.sndWnd = seg.win;
      this.state = 'ESTABLISHED';
      this.handshakeRtt();
      this.disarmRto();
      this.sendAck();
      this.onEstablished();
      this.output();
    } else {
      this.state = 'SYN_RCVD'; // simultaneous open
      this.emit(SYN | ACK, this.iss, this.rcvNxt, this.synWindow(), this.synOptions(false));
    }
  }

  // ---------------------------------------------------------------- ACKs
  private processAck(seg: Segment): void {
    if (!(seg.flags & ACK)) return;
    const ack = seg.ack;
    if (ack > this.sndMax) {
      this.sendAck();
      return;
    }
    const oldWnd = this.sndWnd;
    if (ack >= this.sndUna) this.sndWnd = seg.win << this.sndShift;
    if (this.sackOk && seg.opts.sack) for (const [a, b] of seg.opts.sack) this.markSacked(a, b);
    if (ack > this.sndUna) {
      const acked = ack - this.sndUna;
      const flight = this.sndMax - this.sndUna;
      this.sampleRtt(seg, ack);
      this.sndUna = ack;
      if (this.sndNxt < ack) this.sndNxt = ack;
      while (this.scoreboard.length && this.scoreboard[0][1] <= ack) this.scoreboard.shift();
      if (this.scoreboard.length && this.scoreboard[0][0] < ack) this.scoreboard[0][0] = ack;
      this.dupAcks = 0;
      this.backoff = 0;
      if (this.inRecovery) {
        if (ack >= this.recover) {
          this.inRecovery = false;
          this.cwnd = Math.max(this.ssthresh, 2 * this.mssEff);
        } else {
          // Partial ACK (NewReno): the next hole is lost too.
          this.retransmitHole();
          if (!this.sackOk) this.cwnd = Math.max(this.mssEff, this.cwnd - acked + this.mssEff);
        }
      } else this.grow(acked, flight);
      if (this.finSent && ack === this.finSeq + 1) this.finAcked();
      if (this.sndUna >= this.sndMax) this.disarmRto();
      else this.armRto(true);
      this.onWritable();
    } else if (ack === this.sndUna && seg.len === 0 && !(seg.flags & FIN) && this.sndMax > this.sndUna && this.sndWnd === oldWnd) {
      this.counters.dupAcksIn++;
      this.dupAcks++;
      if (this.inRecovery) {
        if (!this.sackOk) this.cwnd += this.mssEff; // Reno window inflation
        this.retransmitHole();
      } else if (this.features.fastRetransmit && (this.dupAcks === 3 || (this.sackOk && this.sackedBytes() >= 3 * this.mssEff && this.dupAcks >= 1))) {
        this.enterRecovery();
      }
    }
    if (oldWnd === 0 && this.sndWnd > 0 && this.persistArmed) {
      this.env.timer('persist', Infinity);
      this.persistArmed = false;
      this.probeBackoff = 0;
    }
  }

  /** SYN or SYN-ACK sent, ns; −1 once retransmitted (Karn: no sample from it). */
  private synAt = -1;

  /** The first RTT sample, from the handshake (as Linux takes it from the SYN or SYN-ACK). */
  private handshakeRtt(): void {
    if (this.synAt < 0) return;
    this.measure(Math.max(1, this.env.now() - this.synAt));
  }

  private measure(sample: number): void {
    if (this.srtt === 0) {
      this.srtt = sample;
      this.rttvar = sample / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sample);
      this.srtt = 0.875 * this.srtt + 0.125 * sample;
    }
    this.rto = Math.min(MAX_RTO_NS, Math.max(this.features.minRtoNs, this.srtt + 4 * this.rttvar));
  }

  private sampleRtt(seg: Segment, ack: number): void {
    let sample = -1;
    if (this.tsOk && seg.opts.ts && seg.opts.ts[1] > 0) sample = (this.tsVal() - seg.opts.ts[1]) * 1e6;
    else if (this.timedSeq >= 0 && ack >= this.timedSeq) sample = this.env.now() - this.timedAt;
    if (this.timedSeq >= 0 && ack >= this.timedSeq) this.timedSeq = -1;
    if (sample < 0) return;
    // Timestamps have 1 ms granularity: a zero echo delta is a sub-millisecond RTT.
    this.measure(Math.max(sample, 1));
  }

  private grow(acked: number, flight: number): void {
    const mss = this.mssEff;
    // Only a window that limited the sender grows (RFC 7661; Linux's tcp_is_cwnd_limited):
    // an application- or buffer-limited sender would otherwise inflate it without bound.
    if (this.cwnd < this.ssthresh ? flight * 2 < this.cwnd : flight + 3 * mss < this.cwnd) return;
    if (this.cwnd < this.ssthresh) {
      // Slow start counts bytes acknowledged (RFC 3465), without a per-ACK limit as
      // Linux does, so that one ACK for a GRO-merged 64 KiB still doubles the window per RTT.
      this.cwnd += acked;
      return;
    }
    if (this.features.congestion === 'cubic' && this.cubicWmax > 0) {
      const now = this.env.now();
      if (this.cubicEpoch < 0) this.cubicEpoch = now;
      const t = (now - this.cubicEpoch) / 1e9 + this.srtt / 1e9;
      const target = (CUBIC_C * Math.pow(t - this.cubicK, 3) + this.cubicWmax / mss) * mss;
      // Towards the cubic curve by (target − cwnd)/cwnd segments per ACK (Linux's cnt),
      // or slowly when above it; never slower than Reno (the TCP-friendly region).
      const cubic = target > this.cwnd ? this.cwnd + ((target - this.cwnd) / this.cwnd) * mss : this.cwnd + (mss * mss) / (100 * this.cwnd);
      const reno = this.cwnd + (mss * acked) / this.cwnd;
      this.cwnd = Math.max(cubic, reno);
    } else {
      this.cwnd += (mss * acked) / this.cwnd;
    }
  }

  private onLoss(): void {
    const mss = this.mssEff;
    const flight = this.sndMax - this.sndUna;
    if (this.features.congestion === 'cubic') {
      this.cubicWmax = this.cwnd;
      this.ssthresh = Math.max(2 * mss, this.cwnd * CUBIC_BETA);
      this.cubicK = Math.cbrt(((this.cubicWmax / mss) * (1 - CUBIC_BETA)) / CUBIC_C);
      this.cubicEpoch = -1;
    } else {
      this.ssthresh = Math.max(2 * mss, flight * RENO_BETA);
    }
  }

  private enterRecovery(): void {
    this.counters.fastRetransmits++;
    this.onLoss();
    this.inRecovery = true;
    this.recover = this.sndMax;
    this.retransHigh = this.sndUna;
    this.cwnd = this.ssthresh + (this.sackOk ? 0 : 3 * this.mssEff);
    this.retransmitHole();
  }

  /** Retransmits the first unSACKed range above what this recovery already resent. */
  private retransmitHole(): void {
    let from = Math.max(this.sndUna, this.retransHigh);
    for (const [a, b] of this.scoreboard) if (from >= a && from < b) from = b;
    if (from >= this.recover || from >= this.sndMax) {
      if (this.sackOk) this.output();
      return;
    }
    let to = Math.min(from + this.mssEff, this.sndMax);
    for (const [a] of this.scoreboard) if (a > from) to = Math.min(to, a);
    // With SACK, keep the pipe (data in flight not SACKed) under cwnd.
    if (this.sackOk && this.pipe() > this.cwnd && from > this.sndUna) return;
    if (this.sackOk && from > this.sndUna) this.counters.sackRetransmits++;
    this.sendData(from, to - from, true);
    this.retransHigh = to;
  }

  private pipe(): number {
    return this.sndMax - this.sndUna - this.sackedBytes();
  }

  private markSacked(a: number, b: number): void {
    if (b <= this.sndUna || a >= b) return;
    a = Math.max(a, this.sndUna);
    const out: Array<[number, number]> = [];
    let placed = false;
    for (const r of this.scoreboard) {
      if (r[1] < a) out.push(r);
      else if (r[0] > b) {
        if (!placed) out.push([a, b]), (placed = true);
        out.push(r);
      } else {
        a = Math.min(a, r[0]);
        b = Math.max(b, r[1]);
      }
    }
    if (!placed) out.push([a, b]);
    this.scoreboard = out;
  }

  private sackedBytes(): number {
    let n = 0;
    for (const [a, b] of this.scoreboard) n += b - a;
    return n;
  }

  private retransmitTimeout(): void {
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RCVD') {
      this.counters.timeouts++;
      this.counters.retransmits++;
      this.synAt = -1;
      this.rto = Math.min(MAX_RTO_NS, this.rto * 2);
      this.emit(this.state === 'SYN_SENT' ? SYN : SYN | ACK, this.iss, this.state === 'SYN_SENT' ? 0 : this.rcvNxt, this.synWindow(), this.synOptions(this.state === 'SYN_SENT'));
      this.armRto();
      return;
    }
    if (this.sndUna >= this.sndMax) return;
    this.counters.timeouts++;
    this.onLoss();
    this.cwnd = this.mssEff; // RFC 5681 loss window
    this.inRecovery = false;
    this.dupAcks = 0;
    this.backoff++;
    this.rto = Math.min(MAX_RTO_NS, this.rto * 2);
    this.timedSeq = -1;
    // Go back: resend from the first unacknowledged byte (SACKed ranges are skipped).
    this.sndNxt = this.sndUna;
    if (this.finSent && this.sndUna <= this.finSeq) this.finSent = false;
    this.output(true);
    this.armRto();
  }

  private probe(): void {
    if (this.sndWnd > 0 || this.writeEnd <= this.sndNxt) return;
    this.counters.zeroWindowProbes++;
    // Linux's probe: an ACK with an old sequence number, which the receiver must answer.
    this.emit(ACK, this.sndUna - 1, this.rcvNxt, this.windowField(), this.tsOpts());
    this.probeBackoff++;
    this.armPersist();
  }

  private armPersist(): void {
    if (!this.features.zeroWindowProbe) return;
    this.persistArmed = true;
    this.env.timer('persist', this.env.now() + Math.min(MAX_RTO_NS, Math.max(this.rto, this.features.minRtoNs) * 2 ** this.probeBackoff));
  }

  private armRto(restart = false): void {
    if (this.rtoArmed && !restart) return;
    this.rtoArmed = true;
    this.env.timer('rto', this.env.now() + this.rto);
  }

  private disarmRto(): void {
    if (!this.rtoArmed) return;
    this.rtoArmed = false;
    this.env.timer('rto', Infinity);
  }

  // ---------------------------------------------------------------- data out
  private finSeq = -1;

  /** Sends what the windows, Nagle and the cork allow. */
  output(afterTimeout = false): void {
    if (!(this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT' || this.state === 'FIN_WAIT_1' || this.state === 'CLOSING' || this.state === 'LAST_ACK')) return;
    const mss = this.mssEff;
    const maxSeg = Math.max(mss, this.maxSegment);
    for (let guard = 0; guard < 100000; guard++) {
      // Skip ranges the receiver already holds (after a timeout's go-back).
      for (const [a, b] of this.scoreboard) if (this.sndNxt >= a && this.sndNxt < b) this.sndNxt = b;
      const avail = this.writeEnd - this.sndNxt;
      // SACKed bytes have left the network: they do not count against the congestion window.
      const limit = this.sndUna + Math.min(this.cwnd + (this.sackOk ? this.sackedBytes() : 0), this.sndWnd);
      const usable = limit - this.sndNxt;
      if (avail <= 0) {
        if (this.finQueued && !this.finSent) this.sendFin();
        return;
      }
      if (usable <= 0) {
        if (this.sndWnd === 0 && this.sndUna === this.sndNxt && !this.persistArmed) this.armPersist();
        return;
      }
      let len = Math.min(avail, usable, maxSeg);
      let stopHole = Infinity;
      for (const [a] of this.scoreboard) if (a > this.sndNxt) stopHole = Math.min(stopHole, a);
      len = Math.min(len, stopHole - this.sndNxt);
      if (len >= mss) len -= len % mss;
      else {
        // A sub-MSS segment: window-limited ones wait (sender SWS avoidance) unless nothing is in flight;
        // tail ones obey the cork and Nagle.
        const resend = this.sndNxt < this.sndMax;
        if (!resend) {
          if (len < avail && this.sndNxt > this.sndUna) return;
          if (len === avail && (this.corked || (!this.noDelay && !this.pushNow && this.sndNxt > this.sndUna && !this.finQueued))) return;
        }
      }
      this.sendData(this.sndNxt, len, this.sndNxt < this.sndMax || afterTimeout);
      this.sndNxt += len;
      if (this.sndNxt > this.sndMax) this.sndMax = this.sndNxt;
      this.armRto();
    }
  }

  /** Largest segment handed down at once: a GSO/TSO super-segment, or one MSS. */
  maxSegment = Infinity;

  private sendData(seq: number, len: number, retransmit: boolean): void {
    let flags = ACK;
    if (seq + len === this.writeEnd) flags |= PSH;
    let fin = false;
    if (this.finQueued && seq + len === this.writeEnd && !this.finSent && (this.finSeq < 0 || this.finSeq === seq + len)) {
      flags |= FIN;
      fin = true;
    }
    if (retransmit) this.counters.retransmits++;
    else if (this.timedSeq < 0 && !this.tsOk) {
      this.timedSeq = seq + len;
      this.timedAt = this.env.now();
    }
    this.emit(flags, seq, this.rcvNxt, this.windowField(), this.ackOpts(), len);
    if (fin) this.markFinSent(seq + len);
    this.ackSent();
  }

  private sendFin(): void {
    this.emit(FIN | ACK, this.writeEnd, this.rcvNxt, this.windowField(), this.ackOpts());
    this.markFinSent(this.writeEnd);
    this.ackSent();
    this.armRto();
  }

  private markFinSent(seq: number): void {
    this.finSent = true;
    this.finSeq = seq;
    if (this.sndNxt < seq + 1) this.sndNxt = seq + 1;
    if (this.sndMax < seq + 1) this.sndMax = seq + 1;
    if (this.state === 'ESTABLISHED') this.state = 'FIN_WAIT_1';
    else if (this.state === 'CLOSE_WAIT') this.state = 'LAST_ACK';
  }

  private finAcked(): void {
    if (this.state === 'FIN_WAIT_1') this.state = 'FIN_WAIT_2';
    else if (this.state === 'CLOSING') this.state = 'TIME_WAIT';
    else if (this.state === 'LAST_ACK') this.toClosed('fin');
  }

  // ---------------------------------------------------------------- data in
  private ackOwed = false;

  private processData(seg: Segment): void {
    let seq = seg.seq;
    let len = seg.len;
    const fin = (seg.flags & FIN) !== 0;
    if (seq < this.rcvNxt) {
      len -= this.rcvNxt - seq;
      seq = this.rcvNxt;
    }
    const room = Math.max(0, this.rcvAdvEnd - seq);
    const trimmed = len > room;
    if (trimmed) len = room;
    if (fin && !trimmed) this.peerFinSeq = seq + len;
    if (seq === this.rcvNxt) {
      const hadHoles = this.ooo.length > 0;
      this.rcvNxt += len;
      // Out-of-order data that is now contiguous.
      while (this.ooo.length && this.ooo[0][0] <= this.rcvNxt) {
        this.rcvNxt = Math.max(this.rcvNxt, this.ooo.shift()![1]);
      }
      if (this.peerFinSeq >= 0 && this.rcvNxt === this.peerFinSeq) this.peerFin();
      if (len > 0) this.onReadable();
      this.unackedBytes += len;
      if (hadHoles || fin || !this.features.delayedAck || this.unackedBytes >= 2 * this.mssEff || trimmed) this.sendAck();
      else if (len > 0) this.armDelack();
    } else {
      // A hole: keep the data and answer at once with a duplicate ACK (and SACK blocks).
      if (len > 0) this.addOoo(seq, seq + len);
      this.sendAck(seq, seq + len);
    }
  }

  private addOoo(a: number, b: number): void {
    const out: Array<[number, number]> = [];
    let placed = false;
    for (const r of this.ooo) {
      if (r[1] < a) out.push(r);
      else if (r[0] > b) {
        if (!placed) out.push([a, b]), (placed = true);
        out.push(r);
      } else {
        a = Math.min(a, r[0]);
        b = Math.max(b, r[1]);
      }
    }
    if (!placed) out.push([a, b]);
    out.sort((x, y) => x[0] - y[0]);
    this.ooo = out;
  }

  private peerFin(): void {
    this.rcvNxt += 1;
    if (this.state === 'ESTABLISHED') this.state = 'CLOSE_WAIT';
    else if (this.state === 'FIN_WAIT_1') this.state = this.finSent && this.sndUna > this.finSeq ? 'TIME_WAIT' : 'CLOSING';
    else if (this.state === 'FIN_WAIT_2') this.state = 'TIME_WAIT';
    this.onReadable();
  }

  private armDelack(): void {
    if (this.delackArmed) return;
    this.delackArmed = true;
    this.env.timer('delack', this.env.now() + this.features.delayedAckNs);
  }

  private ackSent(): void {
    this.unackedBytes = 0;
    this.ackOwed = false;
    if (this.delackArmed) {
      this.delackArmed = false;
      this.env.timer('delack', Infinity);
    }
  }

  /** An immediate ACK; `recent` is the block just received out of order (first SACK block). */
  sendAck(recentA = -1, recentB = -1): void {
    const o = this.ackOpts();
    if (this.sackOk && this.ooo.length) {
      const blocks: Array<[number, number]> = [];
      const first = recentA >= 0 ? this.ooo.find((r) => r[0] <= recentA && r[1] >= recentB) : undefined;
      if (first) blocks.push(first);
      for (const r of [...this.ooo].reverse()) if (r !== first && blocks.length < (this.tsOk ? 3 : 4)) blocks.push(r);
      o.sack = blocks.map(([a, b]) => [a, b] as const);
    }
    this.counters.acksOut++;
    this.emit(ACK, this.sndNxt, this.rcvNxt, this.windowField(), o);
    this.ackSent();
  }

  // ---------------------------------------------------------------- helpers
  private emit(flags: number, seq: number, ack: number, win: number, opts: TcpOptions, len = 0): void {
    this.counters.segmentsOut++;
    this.env.send({ flags, seq, ack: flags & ACK ? ack : 0, win, len, opts });
  }

  private tsVal(): number {
    return Math.floor(this.env.now() / 1e6) + 1;
  }

  private tsOpts(): TcpOptions {
    return this.tsOk ? { ts: [this.tsVal(), this.tsRecent] } : {};
  }

  private ackOpts(): TcpOptions {
    return this.tsOpts();
  }

  private windowToAdvertise(): number {
    const buffered = this.rcvNxt - this.readSeq;
    let ooo = 0;
    for (const [a, b] of this.ooo) ooo += b - a;
    return Math.max(0, this.features.receiveBuffer - buffered - ooo);
  }

  /** The window field: free space, scaled, and never moving the right edge left. */
  private windowField(): number {
    let wnd = this.windowToAdvertise();
    // Receiver SWS avoidance: do not advertise a sliver.
    if (wnd < Math.min(this.mssEff, this.features.receiveBuffer / 2)) wnd = 0;
    const field = Math.min(65535, Math.floor(wnd / 2 ** this.rcvShift));
    let end = this.rcvNxt + field * 2 ** this.rcvShift;
    if (end < this.rcvAdvEnd) {
      end = this.rcvAdvEnd;
      return Math.min(65535, Math.ceil((end - this.rcvNxt) / 2 ** this.rcvShift));
    }
    this.rcvAdvEnd = end;
    return field;
  }

  private isSynchronized(): boolean {
    return this.state !== 'CLOSED' && this.state !== 'LISTEN' && this.state !== 'SYN_SENT';
  }

  private resetFor(seg: Segment): void {
    if (seg.flags & ACK) this.emit(RST, seg.ack, 0, 0, {});
    else this.emit(RST | ACK, 0, seg.seq + seg.len + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0), 0, {});
  }

  private toClosed(reason: 'fin' | 'rst' | 'timeout'): void {
    const was = this.state;
    this.state = 'CLOSED';
    for (const k of TIMER_KINDS) this.env.timer(k, Infinity);
    this.rtoArmed = this.delackArmed = this.persistArmed = false;
    if (was !== 'CLOSED') this.onClosed(reason);
  }
}
