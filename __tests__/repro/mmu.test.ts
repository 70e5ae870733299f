// Memory virtualization: the three reproductions assert trends that come out of the
// model (references per miss from the table formats, speedups growing with the miss
// rate, exit reductions growing with page-table churn, speedups growing with access
// density), and every strategy translates every access to the page the guest mapped.
import { readFileSync } from 'node:fs';
import { GuestKernel, createHooks, type MmuContext, type MmuStrategy, type ScenarioBuilder } from '../../core/index.test-exports';
import { BtMmu } from '../../plugins/mmu/btmmu/btmmu';
import { CompromisMmu } from '../../plugins/mmu/compromis/compromis';
import { NativeMmu } from '../../plugins/mmu/native/native';
import { NestedMmu } from '../../plugins/mmu/nested-paging/nested-paging';
import { ShadowMmu } from '../../plugins/mmu/shadow-paging/shadow-paging';
import { SoftMmu } from '../../plugins/mmu/softmmu/softmmu';
import { SspMmu } from '../../plugins/mmu/ssp/ssp';
import { runText, scenarioFile } from '../../tools/node/testing';

const scenario = (file: string) => scenarioFile(`scenarios/repro/${file}.scenario.yaml`);
/** The same scenario under another MMU strategy, in the listed one's place. */
const swap = (s: ScenarioBuilder, mmu: string) => s.swapPlugin(s.pluginIds().find((id) => id.startsWith('mmu.'))!, mmu);
const paging = (s: ScenarioBuilder, options: Record<string, unknown>) => s.pluginOptions('workload.paging', options);
async function value(s: ScenarioBuilder, metric: string): Promise<number> {
  const { sim } = await runText(s);
  return sim.metrics.value(metric)!;
}

describe('compromis-vs-ept', () => {
  const base = scenario('compromis-vs-ept').duration('8ms');

  it('walks 24 references per miss under nested paging and 4 with a direct segment (4+4 levels)', async () => {
    expect(await value(swap(base, 'mmu.nested-paging'), 'mmu.walk.references-per-miss')).toBe(24);
    expect(await value(base, 'mmu.walk.references-per-miss')).toBe(4);
  });

  it('walks 35 against 5 with 5-level tables on both sides', async () => {
    const five = paging(base.host(0, { profile: 'x86-64-5level-server' }), { guestLevels: 5 });
    expect(await value(swap(five, 'mmu.nested-paging'), 'mmu.walk.references-per-miss')).toBe(35);
    expect(await value(five, 'mmu.walk.references-per-miss')).toBe(5);
  });

  it('walks fewer references with page-walk caches and a nested TLB', async () => {
    const cached = base.swapPlugin('mmu.compromis', 'mmu.nested-paging', { pageWalkCache: true, nestedTlb: true });
    expect(await value(cached, 'mmu.walk.references-per-miss')).toBeLessThan(24);
  });

  it('gains more over nested and shadow paging as the TLB miss rate grows', async () => {
    const speedups: Array<{ miss: number; ept: number; shadow: number }> = [];
    for (const pages of [256, 4096, 65536]) {
      const t = paging(base, { warmupTicks: 3, pagesPerProcess: pages });
      const c = await value(t, 'mmu.cycles-per-access');
      speedups.push({
        miss: await value(t, 'mmu.tlb.miss-rate'),
        ept: (await value(swap(t, 'mmu.nested-paging'), 'mmu.cycles-per-access')) / c,
        shadow: (await value(swap(t, 'mmu.shadow-paging'), 'mmu.cycles-per-access')) / c,
      });
    }
    for (let i = 1; i < speedups.length; i++) {
      expect(speedups[i].miss).toBeGreaterThan(speedups[i - 1].miss);
      expect(speedups[i].ept).toBeGreaterThan(speedups[i - 1].ept);
    }
    expect(speedups[2].shadow).toBeGreaterThan(speedups[0].shadow);
    expect(speedups[2].ept).toBeGreaterThan(2);
  });
});

describe('ssp-vs-shadow', () => {
  const base = scenario('ssp-vs-shadow').duration('40ms');

  it('saves more VM exits the more the guest churns its page tables, about half of them', async () => {
    const saved: number[] = [];
    for (const churn of [0.5, 2, 8]) {
      const t = paging(base, { churnPerTick: churn, switchesPerTick: 0 });
      const shadow = await value(swap(t, 'mmu.shadow-paging'), 'mmu.exits');
      const ssp = await value(t, 'mmu.exits');
      saved.push(shadow - ssp);
      // Shadow paging exits on the unmap write and the map write of a churned page; SSP
      // only on the hidden fault of the new mapping: half.
      expect(1 - ssp / shadow).toBeGreaterThan(0.3);
      expect(1 - ssp / shadow).toBeLessThan(0.7);
    }
    expect(saved[1]).toBeGreaterThan(saved[0]);
    expect(saved[2]).toBeGreaterThan(saved[1]);
  });

  it('takes no exit for page-table writes and traps flushes to machine mode instead', async () => {
    expect(await value(base, 'mmu.exits.pt-write')).toBe(0);
    expect(await value(swap(base, 'mmu.shadow-paging'), 'mmu.exits.pt-write')).toBeGreaterThan(0);
    expect(await value(base, 'mmu.mmode-entries')).toBeGreaterThan(0);
  });

  it('avoids root-switch exits with its root buffer', async () => {
    const withBuffer = await value(base, 'mmu.exits.root-switch');
    const without = await value(base.plugin('mmu.ssp', { rootBuffer: 0 }), 'mmu.exits.root-switch');
    expect(withBuffer).toBeLessThan(without);
  });
});

describe('btmmu-vs-softmmu', () => {
  const base = scenario('btmmu-vs-softmmu').duration('15ms');

  it('gains more over SoftMMU as the guest accesses memory more densely', async () => {
    const gains: number[] = [];
    for (const cpa of [40, 8, 1]) {
      const t = paging(base, { cyclesPerAccess: cpa });
      gains.push((await value(swap(t, 'mmu.softmmu'), 'mmu.cycles-per-access')) / (await value(t, 'mmu.cycles-per-access')));
    }
    expect(gains[0]).toBeGreaterThan(1);
    expect(gains[1]).toBeGreaterThan(gains[0]);
    expect(gains[2]).toBeGreaterThan(gains[1]);
  });
});

describe('every strategy', () => {
  const ctx = async (): Promise<MmuContext> => {
    const { sim } = await runText(paging(scenario('compromis-vs-ept').duration('1ms'), { pagesPerProcess: 16 }));
    return { profile: sim.hostProfiles[0], hooks: createHooks(), hostFrames: 1 << 22, pageWalkCache: false, nestedTlb: false };
  };

  it('translates every access to the page the guest mapped, one host page per guest page', async () => {
    const c = await ctx();
    const strategies: MmuStrategy[] = [new NativeMmu(c), new NestedMmu(c), new ShadowMmu(c), new SspMmu(c, 4), new CompromisMmu(c), new SoftMmu(c), new BtMmu(c)];
    for (const s of strategies) {
      const k = new GuestKernel(1, 4096, 4);
      for (let p = 0; p < 2; p++) {
        k.spawn();
        k.mmap(p, 200);
      }
      s.attach(k);
      const seen = new Map<number, string>();
      for (let p = 0; p < 2; p++) {
        s.rootSwitch(k, p);
        for (const vpn of k.processes[p].pages) {
          s.access(k, vpn);
          const f = s.resolve(k, vpn);
          expect(f).toBeGreaterThanOrEqual(0);
          const owner = `${p}:${vpn}`;
          expect(seen.get(f) ?? owner).toBe(owner);
          seen.set(f, owner);
        }
      }
      expect(seen.size).toBe(400);
    }
  });

  it('under SSP, a guest that omits the required flush sees the old translation, as the architecture allows', async () => {
    const c = await ctx();
    const ssp = new SspMmu(c, 4);
    const native = new NativeMmu(c);
    for (const s of [ssp, native]) {
      const k = new GuestKernel(1, 4096, 3);
      k.spawn();
      k.mmap(0, 8);
      s.attach(k);
      const vpn = k.processes[0].pages[3];
      s.access(k, vpn);
      const before = s.resolve(k, vpn);
      const gpa = k.remap(0, vpn);
      s.ptWrite(k, [gpa], 0, [vpn]);
      const stale = s.resolve(k, vpn);
      s.flush(k, k.processes[0].asid, vpn);
      const after = s.resolve(k, vpn);
      if (s === ssp) {
        expect(stale).toBe(before); // no flush yet: the shadow entry is stale
        expect(after).not.toBe(before); // the flush resynchronized it
      } else expect(stale).not.toBe(before); // the hardware walks the guest table itself
    }
  });
});

describe('checkpoints', () => {
  it.each(['mmu.shadow-paging', 'mmu.ssp', 'mmu.nested-paging', 'mmu.compromis', 'mmu.softmmu', 'mmu.btmmu'])(
    'resume a paging workload under %s exactly, with forks and churn',
    async (mmu) => {
      const { bootText } = await import('../../tools/node/testing');
      const text = paging(swap(scenario('ssp-vs-shadow'), mmu).duration('30ms'), { warmupTicks: 5, forksPerTick: 0.3, mprotectPerTick: 1 });
      const whole = await bootText(text);
      whole.run();
      const a = await whole.finish();
      const first = await bootText(text);
      first.runUntil(12e6);
      const resumed = await bootText(text);
      resumed.restore(first.snapshot());
      resumed.run();
      const b = await resumed.finish();
      expect(b.metricsJson).toBe(a.metricsJson);
    },
  );
});
