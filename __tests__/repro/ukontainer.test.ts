// µKontainer reproduction: the paper's trends must come out of the model's counted
// calls, segments, frames and device writes — LKL's short-message goodput above
// native Linux's with the advantage shrinking as messages grow; its conformance equal
// to Linux's; and the other personalities ranked as their costs and features say.
//
// Mutations that must break these tests (each checked once):
// - socket calls cost nothing (`this.callNs = 0` in PacketExperiment's constructor):
//   "is above native Linux for short messages", "has an advantage that shrinks",
//   "grows when system calls get dearer" and the ranking fail;
// - no TSO batching in LKL (`tso: false` in plugins/kernel/lkl/plugin.json): "keeps up
//   with native Linux for large messages" and "has an advantage that shrinks" fail;
// - a feature removed from LKL (`sack: false` in plugins/kernel/lkl/plugin.json):
//   "passes exactly what host Linux passes" fails;
// - gVisor's system-call interception free (`callNs: 0` in plugins/kernel/gvisor):
//   "ranks the call-bound personalities by their per-call costs" fails.
import { httpPoint, rrPoint, streamCurve } from '../../tools/repro/ukontainer';
import { loadPersonalities, runSuite, suiteDir, type SuiteResult } from '../../tools/node/conformance';

const SIZES = [1, 64, 1024, 65536];
const curves = new Map<string, number[]>();
const ratio = (k: string, i: number) => curves.get(k)![i] / curves.get('kernel.host-linux')![i];

beforeAll(async () => {
  for (const k of ['kernel.host-linux', 'kernel.lkl', 'kernel.graphene', 'kernel.gvisor', 'kernel.rump', 'kernel.lwip']) curves.set(k, await streamCurve(k, SIZES));
}, 600_000);

describe('µKontainer goodput against native Linux (TCP_STREAM, 1 B to 64 KiB)', () => {
  it('is above native Linux for short messages', () => {
    expect(ratio('kernel.lkl', 0)).toBeGreaterThan(1.3);
    expect(ratio('kernel.lkl', 1)).toBeGreaterThan(1.2);
  });

  it('has an advantage that shrinks as messages grow', () => {
    const adv = SIZES.map((_, i) => ratio('kernel.lkl', i));
    for (let i = 1; i < adv.length; i++) expect(adv[i]).toBeLessThan(adv[i - 1]);
    expect(Math.abs(adv[adv.length - 1] - 1)).toBeLessThan(0.1);
  });

  it('keeps up with native Linux for large messages (super-segments, one device write each)', () => {
    expect(ratio('kernel.lkl', 3)).toBeGreaterThan(0.9);
  });

  it('grows when system calls get dearer, and vanishes when they cost what a function call does', async () => {
    const base = ratio('kernel.lkl', 1);
    const [dear] = await streamCurve('kernel.host-linux', [64], { callNs: 500 });
    const [cheap] = await streamCurve('kernel.host-linux', [64], { callNs: 20 });
    const lkl = curves.get('kernel.lkl')![1];
    expect(lkl / dear).toBeGreaterThan(base);
    expect(Math.abs(lkl / cheap - 1)).toBeLessThan(0.1);
  }, 120_000);
});

describe('the other personalities', () => {
  it('ranks the call-bound personalities by their per-call costs', () => {
    const g = (k: string) => curves.get(k)![1];
    expect(g('kernel.lkl')).toBeGreaterThan(g('kernel.host-linux'));
    expect(g('kernel.host-linux')).toBeGreaterThan(g('kernel.graphene'));
    expect(g('kernel.graphene')).toBeGreaterThan(g('kernel.gvisor'));
  });

  it('leaves the stacks without segmentation offload far below line rate for large messages', () => {
    for (const k of ['kernel.rump', 'kernel.lwip', 'kernel.gvisor']) expect(ratio(k, 3)).toBeLessThan(0.5);
    expect(ratio('kernel.graphene', 3)).toBeGreaterThan(0.9);
  });

  it('orders request/response latency by the boundary crossings each packet pays', async () => {
    const lat = new Map<string, number>();
    for (const k of ['kernel.host-linux', 'kernel.kata', 'kernel.gvisor']) lat.set(k, (await rrPoint(k)).latencyMeanNs);
    expect(lat.get('kernel.host-linux')!).toBeLessThan(lat.get('kernel.kata')!);
    expect(lat.get('kernel.kata')!).toBeLessThan(lat.get('kernel.gvisor')!);
    const http = await httpPoint('kernel.gvisor');
    expect(http.transactionsPerS).toBeGreaterThan(0);
    expect(http.transactionsPerS).toBeLessThan((await httpPoint('kernel.host-linux')).transactionsPerS);
  }, 120_000);
});

describe('conformance (scenarios/conformance/tcp)', () => {
  let suite: SuiteResult;
  beforeAll(async () => {
    suite = runSuite(suiteDir('tcp'), await loadPersonalities());
  });
  const passes = (id: string) => suite.scripts.filter((_, i) => suite.results[i][suite.personalities.indexOf(id)].pass);

  it('passes exactly what host Linux passes', () => {
    expect(passes('kernel.lkl')).toEqual(passes('kernel.host-linux'));
    expect(passes('kernel.host-linux')).toHaveLength(suite.scripts.length);
  });

  it('differs for the other library OSs where their stacks lack a feature', () => {
    const fails = (id: string) => suite.scripts.filter((s) => !passes(id).includes(s));
    expect(fails('kernel.gvisor')).toEqual(expect.arrayContaining(['sack-blocks', 'delayed-ack']));
    expect(fails('kernel.rump')).toEqual(expect.arrayContaining(['cork', 'rto-backoff']));
    expect(fails('kernel.lwip')).toEqual(expect.arrayContaining(['window-scaling', 'timestamps', 'sack-blocks']));
    // Graphene and Kata run a Linux stack (the host's, the guest's).
    expect(passes('kernel.graphene')).toEqual(passes('kernel.host-linux'));
    expect(passes('kernel.kata')).toEqual(passes('kernel.host-linux'));
  });
});
