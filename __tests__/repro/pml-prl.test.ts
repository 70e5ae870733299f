// PML and PRL reproduction (Bitchebe et al.): the trends of the paper must come out of
// the simulated logs. A VM that reads its 400 MB working set and then writes it: the
// PML estimate stays near zero through the read phase, PRL tracks the working set in
// both phases, sampling swings; the same holds when the working set moves to 200 MB.
// Naive PML-based estimation slows a write-intensive VM, more as the interval shrinks,
// while PRL stops no vCPU. PML shortens migration against write-protection, more for a
// larger VM (write protection re-arms every page each round) and more at a higher write
// rate (the guests have idle CPU that absorbs write protection's exits, so they dirty
// as much with either; the longer re-arming of each round lets more pages be dirtied
// before it ends, and at a high rate that costs rounds). Overcommitment driven by PRL
// saves memory and frees hosts by consolidation with less slowdown than driven by PML
// or by sampling.
//
// Mutations that must break these tests (each checked once):
// - PRL ignores reads (plugins/dirty-log/common.ts onBatch: `logs` as for PML, on D 0→1
//   only): "PRL tracks the working set in both phases" and "PRL-driven overcommitment"
//   fail;
// - a PML log-full that does not stop the vCPU (the log-full branch charging no
//   stallCycles): "naive PML estimation slows a write-intensive VM" fails;
// - a PRL log-full that stops the vCPU (the PRL branch charging the exit like PML):
//   "PRL stops no vCPU" fails;
// - write protection re-armed on the logged pages only (rearm without the whole-memory
//   pass): "the gain grows with the VM's memory" fails;
// - no lock between the vCPUs and the re-arming pass (plugins/dirty-log/common.ts
//   onBatch: `lock` returning at once): "write-protection faults meet the re-arming
//   pass, more at a higher write rate" fails;
// - rearm: dirtied-pages still re-protecting every page (common.ts rearm): "with KVM's
//   reverse-map re-arming …" fails;
// - stalls not absorbed by idle vCPU time (plugins/workload/synthetic/index.ts: every
//   stalled ns is progress lost, as for cpu 1): "the gain grows with the write rate"
//   fails (write protection's exits slow the guest, which dirties less: a gain of 0.8%
//   at 10k writes/s, -4.6% at 100k);
// - consolidation that moves no VM (memory.overcommit consolidate() returning before
//   it requests the migrations): "consolidation frees hosts" fails (no host freed);
// - hosts that give their VMs more memory than they have (memory.overcommit: no share
//   of the host's room when the targets exceed it): "PML packs too tightly" fails (no
//   swap-in for want of room).
import { wssRun, prlVariant, migrationRun, slowdownRun, writeHeavy, overcommitVariant, overcommitRun } from '../../tools/repro/pml';
import { scenarioFile } from '../../tools/node/testing';

const MB = 1e6;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
jest.setTimeout(600_000);

// The phases are shorter than the scenario's (8 s of reads, then writes, 16 s in all) to
// keep the suite cheap: every interval but the first of each phase is asserted on.
const READ_S = 8;
describe('working-set estimation of a VM that reads, then writes its working set', () => {
  for (const ws of [400, 200]) {
    describe(`${ws} MB working set`, () => {
      let pml: Awaited<ReturnType<typeof wssRun>>['phases'];
      let prl: Awaited<ReturnType<typeof wssRun>>['phases'];
      beforeAll(async () => {
        const base = scenarioFile('scenarios/repro/pml-prl-wss.scenario.yaml')
          .workload('analytics', {
            workingSet: `${ws}MB`,
            phases: [
              { duration: `${READ_S}s`, distribution: 'uniform', readsPerSecond: 600000, writesPerSecond: 0, cpu: 0.6 },
              { distribution: 'uniform', readsPerSecond: 0, writesPerSecond: 600000, cpu: 0.8 },
            ],
          })
          .duration(`${2 * READ_S}s`)
          .noExpectations()
          .record({ series: [] });
        pml = (await wssRun(base, READ_S * 1e9)).phases;
        prl = (await wssRun(prlVariant(base), READ_S * 1e9)).phases;
      });

      it('has the truth near the working set in both phases', () => {
        for (const phase of ['read', 'write'] as const) {
          expect(pml['wss.truth'][phase].length).toBeGreaterThanOrEqual(READ_S - 2);
          expect(Math.abs(mean(pml['wss.truth'][phase]) / MB - ws)).toBeLessThan(ws * 0.05);
        }
      });

      it('keeps the PML estimate near zero through the read phase, and near the truth once it writes', () => {
        expect(mean(pml['wss.pml'].read)).toBeLessThan(0.02 * ws * MB);
        expect(mean(pml['wss.pml'].write) / mean(pml['wss.truth'].write)).toBeGreaterThan(0.95);
      });

      it('PRL tracks the working set in both phases', () => {
        for (const phase of ['read', 'write'] as const) {
          expect(prl['wss.prl'][phase].length).toBeGreaterThanOrEqual(READ_S - 2);
          for (const est of prl['wss.prl'][phase]) expect(Math.abs(est / MB - ws)).toBeLessThan(ws * 0.05);
        }
      });

      it('sampling swings around the working set', () => {
        const all = [...pml['wss.sampling'].read, ...pml['wss.sampling'].write];
        expect(Math.max(...all) - Math.min(...all)).toBeGreaterThan(0.2 * ws * MB);
        expect(Math.abs(mean(all) / MB - ws)).toBeLessThan(ws * 0.15);
      });
    });
  }
});

describe('estimation disturbs a write-intensive VM', () => {
  let free: number;
  const slow: Record<string, { pml: number; prl: number }> = {};
  beforeAll(async () => {
    free = await slowdownRun(writeHeavy('dirty-log.pml', [], '1s'));
    for (const interval of ['1s', '100ms', '10ms']) {
      slow[interval] = {
        pml: 1 - (await slowdownRun(writeHeavy('dirty-log.pml', ['wss.pml'], interval))) / free,
        prl: 1 - (await slowdownRun(writeHeavy('dirty-log.prl', ['wss.prl'], interval))) / free,
      };
    }
  });

  it('naive PML estimation slows a write-intensive VM, more as the interval shrinks', () => {
    expect(slow['100ms'].pml).toBeGreaterThan(slow['1s'].pml);
    expect(slow['10ms'].pml).toBeGreaterThan(slow['100ms'].pml);
    expect(slow['10ms'].pml).toBeGreaterThan(0.05);
  });

  it('PRL stops no vCPU: its slowdown is the INVEPTs alone, well below PML’s', () => {
    for (const interval of ['1s', '100ms', '10ms']) expect(slow[interval].prl).toBeLessThan(Math.max(0.005, slow[interval].pml / 10));
  });
});

describe('live migration: PML against write-protection', () => {
  type Pair = { pml: Awaited<ReturnType<typeof migrationRun>>; wp: Awaited<ReturnType<typeof migrationRun>> };
  // The migration starts at 2 s and ends before 16 s in every case (asserted): the runs stop at 20 s.
  const at = (memory: string, writes: number) => scenarioFile('scenarios/repro/pml-prl-migration.scenario.yaml').vm('vm', { memory }).workload('vm', { writesPerSecond: writes }).duration('20s').noExpectations().record({ series: [] });
  const run = async (memory: string, writes: number): Promise<Pair> => {
    const s = at(memory, writes);
    return { pml: await migrationRun(s), wp: await migrationRun(s.swapPlugin('dirty-log.pml', 'dirty-log.write-protect')) };
  };
  const r: Record<string, Pair> = {};
  const cases = [
    ['2GiB', 10000],
    ['2GiB', 100000],
    ['4GiB', 10000],
    ['4GiB', 100000],
  ] as const;
  beforeAll(async () => {
    for (const [m, w] of cases) r[`${m}@${w}`] = await run(m, w);
  });
  const gain = (p: Pair) => 1 - p.pml.timeMs! / p.wp.timeMs!;

  it('completes every migration', () => {
    for (const [m, w] of cases) for (const k of ['pml', 'wp'] as const) expect(r[`${m}@${w}`][k].timeMs).not.toBeNull();
  });

  it('takes a VM exit per first write with write-protection, one per 512 with PML', () => {
    const p = r['2GiB@100000'];
    expect(p.wp.exits).toBeGreaterThan(100 * p.pml.exits);
    expect(p.pml.exits).toBeGreaterThan(0);
  });

  it('shortens the migration, and the gain grows with the VM’s memory', () => {
    for (const w of [10000, 100000]) {
      const small = r[`2GiB@${w}`];
      const large = r[`4GiB@${w}`];
      expect(gain(small)).toBeGreaterThan(0);
      expect(gain(large)).toBeGreaterThan(gain(small) * 1.2);
      expect(large.wp.dirtyLogMs).toBeGreaterThan(large.pml.dirtyLogMs);
    }
  });

  // The guests' idle CPU absorbs write protection's exits: both guests dirty as much,
  // and write protection's longer re-arming (and harvest) of each round lets more pages
  // be dirtied before the round ends; at a high write rate that costs whole rounds.
  it('the gain grows with the write rate, for either VM size', () => {
    for (const m of ['2GiB', '4GiB']) {
      const slow = r[`${m}@10000`];
      const fast = r[`${m}@100000`];
      expect(gain(fast)).toBeGreaterThan(2 * gain(slow));
      expect(fast.wp.rounds).toBeGreaterThan(fast.pml.rounds);
      for (const p of [slow, fast]) expect(Math.abs(p.wp.writes / p.pml.writes - 1)).toBeLessThan(0.02);
    }
  });

  it('write-protection faults meet the re-arming pass, more at a higher write rate', () => {
    const slow = r['2GiB@10000'].wp;
    const fast = r['2GiB@100000'].wp;
    expect(slow.lockWaitNs).toBeGreaterThan(0);
    expect(fast.lockWaitNs).toBeGreaterThan(2 * slow.lockWaitNs);
    expect(fast.passStretchNs).toBeGreaterThan(4 * slow.passStretchNs);
    expect(r['2GiB@100000'].pml.lockWaitNs).toBeLessThan(fast.lockWaitNs / 10);
  });

  it('with KVM’s reverse-map re-arming, write protection re-arms only the dirtied pages, as PML does', async () => {
    const large = r['4GiB@10000'];
    const kvm = await migrationRun(at('4GiB', 10000).swapPlugin('dirty-log.pml', 'dirty-log.write-protect').pluginOptions('dirty-log.write-protect', { rearm: 'dirtied-pages' }));
    // Both pay the first arming, a pass over all memory; after that only the dirtied pages.
    expect(kvm.dirtyLogMs).toBeLessThan(large.wp.dirtyLogMs / 2);
    expect(kvm.dirtyLogMs).toBeLessThan(large.pml.dirtyLogMs * 1.1);
  });
});

describe('memory overcommitment and consolidation driven by each estimator', () => {
  let free: Awaited<ReturnType<typeof overcommitRun>>;
  const r: Record<string, Awaited<ReturnType<typeof overcommitRun>>> = {};
  beforeAll(async () => {
    free = await overcommitRun(overcommitVariant('none'));
    for (const e of ['wss.prl', 'wss.pml', 'wss.sampling'] as const) r[e] = await overcommitRun(overcommitVariant(e));
  });
  const slowdown = (e: string) => 1 - r[e].progress / free.progress;

  it('PRL-driven overcommitment saves memory with less slowdown than PML- or sampling-driven', () => {
    expect(r['wss.prl'].savedBytes).toBeGreaterThan(2 ** 30);
    expect(slowdown('wss.prl')).toBeLessThan(0.01);
    expect(slowdown('wss.prl')).toBeLessThan(slowdown('wss.pml'));
    expect(slowdown('wss.prl')).toBeLessThan(slowdown('wss.sampling'));
    expect(r['wss.prl'].swapIns).toBeLessThan(r['wss.pml'].swapIns);
  });

  it('consolidation frees hosts by live migration', () => {
    // Six VMs, two to a host; at their PRL-sized targets four fit on a host.
    expect(r['wss.prl'].hostsFreed).toBe(1);
    expect(r['wss.prl'].migrations).toBeGreaterThanOrEqual(2);
    expect(r['wss.prl'].meanHosts).toBeLessThan(2.5);
  });

  it('PML packs too tightly: blind to the reads, it frees more hosts, and its hosts lack room once the VMs write', () => {
    expect(r['wss.pml'].hostsFreed).toBeGreaterThan(r['wss.prl'].hostsFreed);
    expect(r['wss.pml'].cappedBytes).toBeGreaterThan(0);
    // Its VMs swap because their host has no room left, not only because the estimate was low.
    expect(r['wss.pml'].hostShortSwapIns).toBeGreaterThan(0.1 * r['wss.pml'].swapIns);
    expect(r['wss.prl'].hostShortSwapIns).toBe(0);
    expect(slowdown('wss.pml')).toBeGreaterThan(0.1);
  });
});
