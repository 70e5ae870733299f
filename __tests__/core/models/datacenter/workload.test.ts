// The synthetic workload model: its aggregate distinct-page formula agrees with
// exact per-page tracking, for each distribution and across phases.
import { Distribution } from '../../../../core/models/datacenter/components';
import { DistinctPages, PageBitmaps, ZipfSampler } from '../../../../core/models/datacenter/workload';
import { Rng } from '../../../../core/engine/rng';
import { MemoryActivity } from '../../../../core/models/datacenter/workload';
import { Vm } from '../../../../core/models/datacenter/components';
import { scenario as newScenario, type ScenarioBuilder } from '../../../../core/scenario/builder';
import { runText } from '../../../../tools/node/testing';

describe('DistinctPages', () => {
  const d = new DistinctPages();

  it('matches exact counting for uniform draws', () => {
    const rng = new Rng(1);
    const bits = new PageBitmaps(10000);
    for (let i = 0; i < 15000; i++) bits.write(rng.int(10000));
    const expected = d.distinct(Distribution.Uniform, 10000, 1, 15000);
    expect(Math.abs(bits.dirtyCount - expected) / expected).toBeLessThan(0.01);
  });

  it('matches exact counting for Zipf draws within 2%', () => {
    for (const s of [0.8, 1, 1.3]) {
      const rng = new Rng(2);
      const z = new ZipfSampler(100000, s);
      const bits = new PageBitmaps(100000);
      for (let i = 0; i < 200000; i++) bits.write(z.sample(rng) - 1);
      const expected = d.distinct(Distribution.Zipf, 100000, s, 200000);
      expect(Math.abs(bits.dirtyCount - expected) / expected).toBeLessThan(0.02);
    }
  });

  it('is exact for sequential sweeps and saturates at the working set', () => {
    expect(d.distinct(Distribution.Sequential, 100, 1, 40)).toBe(40);
    expect(d.distinct(Distribution.Sequential, 100, 1, 400)).toBe(100);
    expect(d.distinct(Distribution.Uniform, 100, 1, 1e9)).toBeCloseTo(100, 6);
  });

  // Mutation that must break it: a saturation threshold above −56·ln 2 (say −30),
  // where expm1 is not yet exactly −1, would change the sum in its last bits.
  it('gives, for Zipf, bit for bit the sum of every bucket evaluated in full', () => {
    const fresh = new DistinctPages();
    for (const [pages, s] of [[262144, 0.9], [1000, 1.2]]) {
      const b = (fresh as unknown as { buckets(p: number, s: number): { sizes: Float64Array; logMiss: Float64Array } }).buckets(pages, s);
      for (let n = 1; n < 1e9; n *= 1.37) {
        let full = 0;
        for (let i = 0; i < b.sizes.length; i++) full += b.sizes[i] * -Math.expm1(n * b.logMiss[i]);
        expect(fresh.distinct(Distribution.Zipf, pages, s, n)).toBe(full);
      }
    }
  });

  it('inverts: drawsFor gives the draws that produce a distinct count', () => {
    for (const dist of [Distribution.Uniform, Distribution.Zipf]) {
      const n = d.drawsFor(dist, 50000, 1, 12345);
      expect(d.distinct(dist, 50000, 1, n)).toBeCloseTo(12345, 0);
    }
  });
});

describe('ZipfSampler', () => {
  it('draws rank 1 about as often as the Zipf law says', () => {
    const rng = new Rng(3);
    const z = new ZipfSampler(1000, 1);
    let ones = 0;
    for (let i = 0; i < 100000; i++) if (z.sample(rng) === 1) ones++;
    let h = 0;
    for (let k = 1; k <= 1000; k++) h += 1 / k;
    expect(ones / 100000).toBeCloseTo(1 / h, 2);
  });
});

describe('the workload.synthetic plugin', () => {
  const sequential = { duration: '4s', distribution: 'sequential', readsPerSecond: 10000 };
  const zipf = { distribution: 'zipf', zipfExponent: 1.1, writesPerSecond: 20000, readsPerSecond: 5000 };
  const withPhases = (phases: object[]) => (detail: boolean) =>
    newScenario('wl')
      .tick('100ms')
      .duration('10s')
      .hosts({ profile: 'x86-64-server' })
      .vms({ count: 2, memory: '512MiB', workload: { kind: 'synthetic', phases } })
      .plugin('workload.synthetic', { detailAll: detail });
  const scenario = withPhases([sequential, zipf]);

  const agreement = async (text: (detail: boolean) => ScenarioBuilder) => {
    const agg = await runText(text(false));
    const exact = await runText(text(true));
    return ['workload.dirty-pages', 'workload.accessed-pages'].map((name) => {
      const e = exact.sim.metrics.value(name)!;
      expect(e).toBeGreaterThan(0);
      return Math.abs(agg.sim.metrics.value(name)! - e) / e;
    });
  };

  it('estimates the dirty and accessed pages that exact tracking counts, within 3% in one phase', async () => {
    const onePhase = withPhases([zipf]);
    for (const err of await agreement(onePhase)) expect(err).toBeLessThan(0.03);
  });

  it('stays within 10% across a change of distribution, where the carried-over log is approximated', async () => {
    for (const err of await agreement(scenario)) expect(err).toBeLessThan(0.1);
  });

  // Mutation that must break it: a step's means overwriting the pending ones instead of
  // adding to them (dropping `pendingOldWrites[vm] += pendingStepWrites[vm]`), or the
  // latest step's writes left out of a VM's count when it is drawn.
  it('draws the counts of a VM in aggregate mode when observed, with the law of draws made every step', async () => {
    const { sim } = await runText(
      newScenario('deferred')
        .tick('100ms')
        .duration('60s')
        .hosts({ profile: 'x86-64-server' })
        .vms({ count: 8, memory: '1GiB', workload: { kind: 'synthetic', distribution: 'uniform', writesPerSecond: 1000, readsPerSecond: 3000 } }),
    );
    // Poisson totals: six standard deviations (sqrt of the mean) either side.
    for (const [name, mean] of [['workload.writes', 8 * 1000 * 60], ['workload.reads', 8 * 3000 * 60]] as const) {
      expect(Math.abs(sim.metrics.value(name)! - mean)).toBeLessThan(6 * Math.sqrt(mean));
    }
  });

  it('dirties nothing in a read-only phase and resets its logs on request', async () => {
    const { sim } = await runText(scenario(false).duration('3s'));
    const act = sim.services.get(MemoryActivity);
    const vm = sim.world.query([Vm])[0];
    expect(act.dirtyPages(vm)).toBe(0);
    expect(act.accessedPages(vm) / 30000).toBeCloseTo(1, 1);
    act.resetAccessed(vm);
    expect(act.accessedPages(vm)).toBe(0);
  });
});
