// The packet-level TCP model and its experiment: protocol behaviour between two
// endpoints, recovery from injected loss and reordering (with and without SACK),
// determinism from the seeded streams, results that do not depend on the tick, and
// the conformance script format's errors.
//
// Mutations that must break these tests (each checked once):
// - the sender ignoring SACK blocks (processAck not calling markSacked): "recovers
//   from loss with SACK retransmissions" and "delivers every byte in order" fail;
// - the receiver not keeping out-of-order data (processData dropping it instead of
//   addOoo): "recovers from loss", "delivers every byte in order through loss and
//   reordering" (the stream stalls into timeouts) and the determinism tests fail.
import { PacketExperiment, Rng, TcpEndpoint, type NetstackPersonality, type NicSpec, type PathSpec, type Segment, scenario } from 'virtlab';
import { parseScript, ScriptError } from '../../../../core/models/netstack/conformance';
import { loadPersonalities } from '../../../../tools/node/conformance';
import { runText } from '../../../../tools/node/testing';

let linux: NetstackPersonality;
let lwip: NetstackPersonality;
beforeAll(async () => {
  [linux, lwip] = await loadPersonalities(['kernel.host-linux', 'kernel.lwip']);
});

const nic: NicSpec = { bandwidth: 25e9, queues: 8, ringEntries: 1024, mtu: 1500, tso: true, gsoMaxBytes: 65536, checksum: true, gro: true };
const path = (impair: Partial<PathSpec> = {}): PathSpec => ({ latencyNs: 5000, rateBps: () => 25e9, loss: 0, reorder: 0, reorderDelayNs: 20000, jitterNs: 0, ...impair });

function stream(p: NetstackPersonality, impair: Partial<PathSpec> = {}, seed = 1, until = 12e6) {
  const e = new PacketExperiment({ personality: p, nics: [nic, nic], paths: [path(impair), path()], workload: { kind: 'stream', messageBytes: 16384, recvBytes: 131072 }, startNs: 0, warmupNs: 2e6, rng: new Rng(seed, 'test') });
  e.advanceTo(until);
  return { e, r: e.results() };
}

describe('two TCP endpoints', () => {
  it('complete the handshake and negotiate MSS, timestamps, SACK and window scaling', () => {
    let now = 0;
    const wire: Array<{ to: 0 | 1; seg: Segment }> = [];
    const mk = (me: 0 | 1) => new TcpEndpoint(linux.features, { now: () => now, send: (seg) => wire.push({ to: me === 0 ? 1 : 0, seg }), timer: () => {} });
    const eps = [mk(0), mk(1)];
    eps[1].listen();
    eps[0].connect();
    for (let i = 0; i < 10 && wire.length; i++) {
      const { to, seg } = wire.shift()!;
      now += 1e6;
      eps[to].receive(seg);
    }
    expect(eps.map((e) => e.state)).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    expect(eps[0].mss).toBe(1460 - 12);
    eps[0].write(5000);
    while (wire.length) eps[wire[0].to].receive(wire.shift()!.seg);
    expect(eps[1].readable).toBe(5000);
  });

  it('without timestamps on one side, the segment size is the full MSS', () => {
    const wire: Array<{ to: number; seg: Segment }> = [];
    const a = new TcpEndpoint(linux.features, { now: () => 0, send: (seg) => wire.push({ to: 1, seg }), timer: () => {} });
    const b = new TcpEndpoint(lwip.features, { now: () => 0, send: (seg) => wire.push({ to: 0, seg }), timer: () => {} });
    b.listen();
    a.connect();
    while (wire.length) {
      const { to, seg } = wire.shift()!;
      (to === 1 ? b : a).receive(seg);
    }
    expect(a.state).toBe('ESTABLISHED');
    expect(a.mss).toBe(1460);
  });
});

describe('congestion control', () => {
  /** A sender with IW 10 that sees three duplicate ACKs for its first segment. */
  function afterThreeDupAcks(congestion: 'reno' | 'cubic') {
    const sent: Segment[] = [];
    const ep = new TcpEndpoint({ ...linux.features, congestion, timestamps: false, sack: false, windowScaling: false }, { now: () => 0, send: (s) => sent.push(s), timer: () => {} });
    ep.connect();
    ep.receive({ flags: 1 | 2, seq: 0, ack: 1, win: 65535, len: 0, opts: { mss: 1460 } });
    ep.write(10 * 1460);
    const flight = ep.sndNxt - ep.sndUna;
    sent.length = 0;
    for (let i = 0; i < 3; i++) ep.receive({ flags: 2, seq: 1, ack: 1, win: 65535, len: 0, opts: {} });
    return { ep, flight, sent };
  }

  it('cuts the window by half with Reno and to 0.7 with CUBIC, and retransmits the hole', () => {
    const reno = afterThreeDupAcks('reno');
    const cubic = afterThreeDupAcks('cubic');
    expect(reno.flight).toBe(10 * 1460);
    expect(reno.ep.ssthresh).toBe(0.5 * reno.flight);
    expect(cubic.ep.ssthresh).toBeCloseTo(0.7 * 10 * 1460);
    for (const r of [reno, cubic]) {
      expect(r.ep.counters.fastRetransmits).toBe(1);
      expect(r.sent[0]).toMatchObject({ seq: 1, len: 1460 });
    }
  });
});

describe('the packet experiment', () => {
  it('runs a stream at close to line rate without impairments', () => {
    const { r } = stream(linux);
    expect(r.retransmits).toBe(0);
    expect(r.goodputBps).toBeGreaterThan(0.85 * 25e9);
    expect(r.goodputBps).toBeLessThan(25e9);
  });

  it('recovers from loss with SACK retransmissions and no stall', () => {
    const clean = stream(linux).r;
    const { e, r } = stream(linux, { loss: 0.002 });
    expect(r.linkLosses).toBeGreaterThan(0);
    expect(r.fastRetransmits).toBeGreaterThan(0);
    const sender = (e as unknown as { sides: Array<{ eps: TcpEndpoint[] }> }).sides[0].eps[0];
    expect(sender.counters.sackRetransmits).toBeGreaterThan(0);
    expect(r.goodputBps).toBeGreaterThan(0.05 * clean.goodputBps);
    expect(r.goodputBps).toBeLessThan(clean.goodputBps);
  });

  it('delivers every byte in order through loss and reordering, with and without SACK', () => {
    for (const p of [linux, lwip]) {
      const { e, r } = stream(p, { loss: 0.003, reorder: 0.01 });
      const sides = (e as unknown as { sides: Array<{ eps: TcpEndpoint[] }> }).sides;
      const [snd, rcv] = [sides[0].eps[0], sides[1].eps[0]];
      // Everything the receiver acknowledged is contiguous from the start: rcvNxt is
      // where the sender's acknowledged bytes end, and the application read up to it.
      expect(rcv.rcvNxt).toBeGreaterThanOrEqual(snd.sndUna);
      expect(r.retransmits).toBeGreaterThan(0);
      expect(r.bytes).toBeGreaterThan(0);
      expect(r.timeouts).toBeLessThan(3);
    }
  });

  it('drops frames a full receive ring cannot take, and recovers from the drops', () => {
    const clean = stream(linux).r;
    const small: NicSpec = { ...nic, ringEntries: 16 };
    const e = new PacketExperiment({ personality: linux, nics: [nic, small], paths: [path(), path()], workload: { kind: 'stream', messageBytes: 65536, recvBytes: 131072 }, startNs: 0, warmupNs: 2e6, rng: new Rng(1, 'test') });
    e.advanceTo(12e6);
    const r = e.results();
    expect(r.rxDrops).toBeGreaterThan(0);
    expect(r.retransmits).toBeGreaterThan(0);
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.goodputBps).toBeLessThan(clean.goodputBps);
  });

  it('is deterministic for a seed, and the seed matters under loss', () => {
    const a = stream(linux, { loss: 0.002 }, 7).r;
    const b = stream(linux, { loss: 0.002 }, 7).r;
    const c = stream(linux, { loss: 0.002 }, 8).r;
    expect(b).toEqual(a);
    expect(c.linkLosses === a.linkLosses && c.bytes === a.bytes).toBe(false);
  });

  it('gives the same results whether run in one go or in many small steps', () => {
    const one = stream(linux, { loss: 0.001 }).r;
    const e = new PacketExperiment({ personality: linux, nics: [nic, nic], paths: [path({ loss: 0.001 }), path()], workload: { kind: 'stream', messageBytes: 16384, recvBytes: 131072 }, startNs: 0, warmupNs: 2e6, rng: new Rng(1, 'test') });
    for (let t = 0; t <= 12e6; t += 123457) e.advanceTo(t);
    e.advanceTo(12e6);
    expect(e.results()).toEqual(one);
  });
});

describe('workload.netperf in a scenario', () => {
  const sc = (tick: string) =>
    scenario('netperf-tick')
      .seed(3)
      .tick(tick)
      .duration('8ms')
      .preset('headless')
      .hosts({ profile: 'x86-64-server', racks: 1, perRack: 2 })
      .vms(
        { name: 'rr', vcpus: 1, memory: '1GiB', workload: { kind: 'tcp-rr', connections: 2 } as { kind: string } },
        { name: 'stream', vcpus: 1, memory: '1GiB', workload: { kind: 'tcp-stream', messageSize: 1024, link: { loss: 0.001, reorder: 0.01 } } as { kind: string } },
      )
      .plugin('kernel.lkl')
      .plugin('workload.netperf')
      .noExpectations();

  it('gives results that do not depend on the tick', async () => {
    const a = await runText(sc('1ms'));
    const b = await runText(sc('250us'));
    expect(b.result.files.get('netperf.json')).toBe(a.result.files.get('netperf.json'));
    const rows = JSON.parse(a.result.files.get('netperf.json')!);
    expect(rows[0].transactions).toBeGreaterThan(10);
    expect(rows[1].bytes).toBeGreaterThan(0);
    expect(rows[1].linkLosses).toBeGreaterThan(0);
  });

  it('shares the links with the datacenter flows: flows on the path slow the packets down', async () => {
    const run = async (flows: number) => {
      let b = scenario('netperf-flows')
        .seed(5)
        .tick('1ms')
        .duration('8ms')
        .preset('headless')
        .hosts({ profile: 'x86-64-server', racks: 2, perRack: 1 })
        .vms({ name: 'stream', vcpus: 1, memory: '1GiB', workload: { kind: 'tcp-stream', messageSize: 65536 } as { kind: string } })
        .plugin('kernel.host-linux')
        .plugin('workload.netperf')
        .noExpectations();
      if (flows) b = b.plugin('network.background', { steadyFlows: flows, steadyRate: '20Gbit/s', crossRackOnly: true });
      const { result } = await runText(b);
      return JSON.parse(result.files.get('netperf.json')!)[0].goodputBps as number;
    };
    const alone = await run(0);
    const shared = await run(6);
    expect(alone).toBeGreaterThan(20e9);
    expect(shared).toBeLessThan(0.8 * alone);
    expect(shared).toBeGreaterThan(0);
  });

  it('starts no experiment for groups without packet workloads', async () => {
    const { result } = await runText(
      scenario('netperf-none')
        .duration('5ms')
        .tick('1ms')
        .preset('headless')
        .hosts({ profile: 'x86-64-server', racks: 1, perRack: 2 })
        .vms({ name: 'mem', vcpus: 1, memory: '1GiB', workload: { kind: 'synthetic', writesPerSecond: 100 } as { kind: string } })
        .plugin('kernel.lkl')
        .plugin('workload.netperf')
        .noExpectations(),
    );
    expect(result.files.has('netperf.json')).toBe(false);
  });
});

describe('conformance scripts', () => {
  it('refuse malformed lines with the file and line', () => {
    expect(() => parseScript('0 listen\nfoo bar\n', 'x.pkt')).toThrow(/x\.pkt:2: a line starts with a time/);
    expect(() => parseScript('0 < S 0:10(5) win 1\n', 'x.pkt')).toThrow(/x\.pkt:1: 0:10 spans 10 bytes, not 5/);
    expect(() => parseScript('0 < S 0:0(0) win *\n', 'x.pkt')).toThrow(/'\*' only in expected packets/);
    expect(() => parseScript('0 dance\n', 'x.pkt')).toThrow(ScriptError);
  });
});
