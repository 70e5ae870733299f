// PML and PRL reproduction (Bitchebe et al.): the trends of the paper must come out of
// the simulated logs. A VM that reads its 400 MB working set and then writes it: the
// PML estimate stays near zero through the read phase, PRL tracks the working set in
// both phases, sampling swings; the same holds when the working set moves to 200 MB.
// Naive PML-based estimation slows a write-intensive VM, more as the interval shrinks,
// while PRL stops no vCPU. PML shortens migration against write-protection, more for a
// larger VM (write protection re-arms every page each round). Overcommitment driven by
// PRL saves memory with less slowdown than driven by PML or by sampling.
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
//   reverse-map re-arming …" fails.
import { wssRun, prlVariant, migrationRun, slowdownRun, writeHeavy, overcommitVariant, overcommitRun } from '../../tools/repro/pml';
import { scenarioFile } from '../../tools/node/testing';

const MB = 1e6;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
jest.setTimeout(600_000);

describe('working-set estimation of a VM that reads, then writes its working set', () => {
  for (const ws of [400, 200]) {
    describe(`${ws} MB working set`, () => {
      let pml: Awaited<ReturnType<typeof wssRun>>['phases'];
      let prl: Awaited<ReturnType<typeof wssRun>>['phases'];
      beforeAll(async () => {
        const base = scenarioFile('scenarios/repro/pml-prl-wss.scenario.yaml').workload('analytics', { workingSet: `${ws}MB` });
        pml = (await wssRun(base, 20e9)).phases;
        prl = (await wssRun(prlVariant(base), 20e9)).phases;
      });

      it('has the truth near the working set in both phases', () => {
        for (const phase of ['read', 'write'] as const) expect(Math.abs(mean(pml['wss.truth'][phase]) / MB - ws)).toBeLessThan(ws * 0.05);
      });

      it('keeps the PML estimate near zero through the read phase, and near the truth once it writes', () => {
        expect(mean(pml['wss.pml'].read)).toBeLessThan(0.02 * ws * MB);
        expect(mean(pml['wss.pml'].write) / mean(pml['wss.truth'].write)).toBeGreaterThan(0.95);
      });

      it('PRL tracks the working set in both phases', () => {
        for (const phase of ['read', 'write'] as const) {
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
  const run = async (memory: string) => {
    const s = scenarioFile('scenarios/repro/pml-prl-migration.scenario.yaml').vm('vm', { memory }).workload('vm', { writesPerSecond: 50000 });
    return { pml: await migrationRun(s), wp: await migrationRun(s.swapPlugin('dirty-log.pml', 'dirty-log.write-protect')) };
  };
  let small: Awaited<ReturnType<typeof run>>;
  let large: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    small = await run('2GiB');
    large = await run('8GiB');
  });
  const gain = (r: typeof small) => 1 - r.pml.timeMs! / r.wp.timeMs!;

  it('takes a VM exit per first write with write-protection, one per 512 with PML', () => {
    expect(small.wp.exits).toBeGreaterThan(100 * small.pml.exits);
    expect(small.pml.exits).toBeGreaterThan(0);
  });

  it('shortens the migration, and the gain grows with the VM’s memory', () => {
    expect(small.pml.timeMs).not.toBeNull();
    expect(gain(small)).toBeGreaterThan(0);
    expect(gain(large)).toBeGreaterThan(gain(small) * 1.5);
    expect(large.wp.dirtyLogMs).toBeGreaterThan(large.pml.dirtyLogMs);
  });

  // The write rate: write-protection faults that fall inside a re-arming pass wait for
  // its chunk and stretch it; PML's rare log-full drains barely meet it. (The migration
  // time's gain does not grow with the write rate in the model: the waits slow the
  // guest, which then dirties fewer pages; see plugins/dirty-log/write-protect/README.md.)
  it('write-protection faults meet the re-arming pass, more at a higher write rate', async () => {
    const at = (w: number) => scenarioFile('scenarios/repro/pml-prl-migration.scenario.yaml').workload('vm', { writesPerSecond: w });
    const slow = await migrationRun(at(10000).swapPlugin('dirty-log.pml', 'dirty-log.write-protect'));
    const fast = await migrationRun(at(100000).swapPlugin('dirty-log.pml', 'dirty-log.write-protect'));
    expect(slow.lockWaitNs).toBeGreaterThan(0);
    expect(fast.lockWaitNs).toBeGreaterThan(2 * slow.lockWaitNs);
    expect(fast.passStretchNs).toBeGreaterThan(4 * slow.passStretchNs);
    expect(small.pml.lockWaitNs).toBeLessThan(small.wp.lockWaitNs / 10);
  });

  it('with KVM’s reverse-map re-arming, write protection re-arms only the dirtied pages, as PML does', async () => {
    const s = scenarioFile('scenarios/repro/pml-prl-migration.scenario.yaml').vm('vm', { memory: '8GiB' }).workload('vm', { writesPerSecond: 50000 });
    const kvm = await migrationRun(s.swapPlugin('dirty-log.pml', 'dirty-log.write-protect').pluginOptions('dirty-log.write-protect', { rearm: 'dirtied-pages' }));
    // Both pay the first arming, a pass over all memory; after that only the dirtied pages.
    expect(kvm.dirtyLogMs).toBeLessThan(large.wp.dirtyLogMs / 2);
    expect(kvm.dirtyLogMs).toBeLessThan(large.pml.dirtyLogMs * 1.1);
  });
});

describe('memory overcommitment driven by each estimator', () => {
  let free: Awaited<ReturnType<typeof overcommitRun>>;
  const r: Record<string, Awaited<ReturnType<typeof overcommitRun>>> = {};
  beforeAll(async () => {
    free = await overcommitRun(overcommitVariant('none'));
    for (const e of ['wss.prl', 'wss.pml', 'wss.sampling'] as const) r[e] = await overcommitRun(overcommitVariant(e));
  });
  const slowdown = (e: string) => 1 - r[e].progress / free.progress;

  it('PRL-driven overcommitment saves memory with less slowdown than PML- or sampling-driven', () => {
    expect(r['wss.prl'].savedBytes).toBeGreaterThan(2 ** 30);
    expect(slowdown('wss.prl')).toBeLessThan(slowdown('wss.pml'));
    expect(slowdown('wss.prl')).toBeLessThan(slowdown('wss.sampling'));
    expect(r['wss.prl'].swapIns).toBeLessThan(r['wss.pml'].swapIns);
  });
});
