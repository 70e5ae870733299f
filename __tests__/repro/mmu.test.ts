// Memory virtualization: the three reproductions, from warm runs. Each test names the
// mutation of the mechanism that must break it ("Breaks if: …"); each was checked
// once to break under it. Trends that follow algebraically from a cost formula (a
// speedup (c+S)/(c+B) "growing" as c shrinks) are not tested: what is tested moves
// because of what each strategy walks, traps or keeps.
import { GuestKernel, WalkResult, createHooks, identityBacking, type MmuContext, type MmuStrategy, type ScenarioBuilder } from '../../core/index.test-exports';
import { BtMmu } from '../../plugins/mmu/btmmu/btmmu';
import { CompromisMmu } from '../../plugins/mmu/compromis/compromis';
import { NativeMmu } from '../../plugins/mmu/native/native';
import { NestedMmu } from '../../plugins/mmu/nested-paging/nested-paging';
import { ShadowMmu } from '../../plugins/mmu/shadow-paging/shadow-paging';
import { SoftMmu } from '../../plugins/mmu/softmmu/softmmu';
import { SspMmu } from '../../plugins/mmu/ssp/ssp';
import { Rng } from '../../core/engine/rng';
import { runText, scenarioFile } from '../../tools/node/testing';

const scenario = (file: string) => scenarioFile(`scenarios/repro/${file}.scenario.yaml`);
/** The same scenario under another MMU strategy, in the listed one's place. */
const swap = (s: ScenarioBuilder, mmu: string) => s.swapPlugin(s.pluginIds().find((id) => id.startsWith('mmu.'))!, mmu);
const paging = (s: ScenarioBuilder, options: Record<string, unknown>) => s.pluginOptions('workload.paging', options);
async function value(s: ScenarioBuilder, metric: string): Promise<number> {
  const { sim } = await runText(s);
  return sim.metrics.value(metric)!;
}
/** The share of shadow paging's VM exits that SSP avoids on the same workload. */
async function sspReduction(s: ScenarioBuilder): Promise<number> {
  return 1 - (await value(s, 'mmu.exits')) / (await value(swap(s, 'mmu.shadow-paging'), 'mmu.exits'));
}

describe('compromis-vs-ept', () => {
  const base = paging(scenario('compromis-vs-ept').duration('8ms'), { warmupTicks: 3 });

  // Breaks if: nested paging charges a fixed count instead of walking the host table for each guest entry, or a direct segment walks a host table.
  it('walks 24 references per miss under nested paging and 4 with a direct segment (4+4 levels)', async () => {
    expect(await value(swap(base, 'mmu.nested-paging'), 'mmu.walk.references-per-miss')).toBe(24);
    expect(await value(base, 'mmu.walk.references-per-miss')).toBe(4);
  });

  // Breaks if: the walk length does not follow the levels of the tables walked.
  it('walks 35 against 5 with 5-level tables on both sides', async () => {
    const five = paging(base.host(0, { profile: 'x86-64-5level-server' }), { guestLevels: 5 });
    expect(await value(swap(five, 'mmu.nested-paging'), 'mmu.walk.references-per-miss')).toBe(35);
    expect(await value(five, 'mmu.walk.references-per-miss')).toBe(5);
  });

  // Breaks if: neither the page-walk cache nor the nested TLB ever hits.
  it('walks fewer references with page-walk caches and a nested TLB', async () => {
    const cached = base.swapPlugin('mmu.compromis', 'mmu.nested-paging', { pageWalkCache: true, nestedTlb: true });
    expect(await value(cached, 'mmu.walk.references-per-miss')).toBeLessThan(24);
  });

  // Breaks if: the initial mappings are made behind the strategy's back (no page-table
  // write), so that shadow tables start cold and hidden faults outlive the warm-up.
  it('costs what warm shadow paging costs when nothing changes the page tables', async () => {
    const quiet = paging(base, { switchesPerTick: 0, pagesPerProcess: 16384 });
    const shadow = await value(swap(quiet, 'mmu.shadow-paging'), 'mmu.cycles-per-access');
    expect(shadow / (await value(quiet, 'mmu.cycles-per-access'))).toBeCloseTo(1, 2);
    expect(await value(swap(quiet, 'mmu.shadow-paging'), 'mmu.exits')).toBe(0);
  });

  // Breaks if: shadow paging stops trapping page-table writes (write protection gone).
  it('gains over shadow paging when the guest changes its page tables, from shadow paging’s exits', async () => {
    const churn = paging(base, { mix: 'mmap-heavy' });
    const speedup = (await value(swap(churn, 'mmu.shadow-paging'), 'mmu.cycles-per-access')) / (await value(churn, 'mmu.cycles-per-access'));
    expect(speedup).toBeGreaterThan(1.1);
    expect(await value(swap(churn, 'mmu.shadow-paging'), 'mmu.exits.pt-write')).toBeGreaterThan(0);
  });

  // Breaks if: CompromisMmu allocates a segment of its own instead of taking the one the placement made.
  it('translates into the segment the placement made', async () => {
    const c = await ctx();
    const mmu = new CompromisMmu(c);
    const k = new GuestKernel(1, 1024, 4);
    k.segment = { host: 1, base: 300_000, frames: 1024 };
    mmu.attach(k);
    k.spawn();
    k.mmap(0, 4);
    for (const vpn of k.processes[0].pages) expect(mmu.resolve(k, vpn)).toBe(300_000 + k.processes[0].table.walk(vpn, new WalkResult()).frame);
  });
});

describe('compromis-fragmentation', () => {
  const trace = scenario('compromis-fragmentation').duration('2h');

  // Breaks if: placement.contiguous does not defragment (a VM that fits no region just waits).
  it('puts more VMs in one segment with defragmentation, at the cost of live migrations', async () => {
    const withDefrag = await runText(trace);
    const without = await runText(trace.plugin('placement.contiguous', { defragment: false }));
    const m = (r: typeof withDefrag, name: string) => r.sim.metrics.value(name)!;
    // The trace does fragment memory: without defragmentation, VMs miss a single region.
    expect(m(without, 'placement.contiguous.vms-in-one-segment')).toBeLessThan(0.97);
    expect(m(withDefrag, 'placement.contiguous.vms-in-one-segment')).toBeGreaterThan(m(without, 'placement.contiguous.vms-in-one-segment') + 0.03);
    expect(m(withDefrag, 'placement.contiguous.defrag-migrations')).toBeGreaterThan(0);
    expect(m(withDefrag, 'migration.succeeded')).toBeGreaterThan(0);
    expect(m(without, 'migration.started')).toBe(0);
  });
});

describe('ssp-vs-shadow', () => {
  // The scenario's warm-up (20 ticks) lets SSP fault in every process's pages: it fills its shadows lazily.
  const base = scenario('ssp-vs-shadow').duration('40ms');

  // Breaks if: SSP traps page-table writes as shadow paging does.
  it('takes no exit for page-table writes and traps flushes to machine mode instead', async () => {
    expect(await value(base, 'mmu.exits.pt-write')).toBe(0);
    expect(await value(swap(base, 'mmu.shadow-paging'), 'mmu.exits.pt-write')).toBeGreaterThan(0);
    expect(await value(base, 'mmu.mmode-entries')).toBeGreaterThan(0);
  });

  // Breaks if: the root buffer never hits (every satp write exits).
  it('avoids root-switch exits with its root buffer', async () => {
    const withBuffer = await value(base, 'mmu.exits.root-switch');
    const without = await value(base.plugin('mmu.ssp', { rootBuffer: 0 }), 'mmu.exits.root-switch');
    expect(withBuffer).toBeLessThan(without);
  });

  // Breaks if: the root buffer never hits — then SSP exits on switches as shadow paging
  // does, and more switches dilute its saving instead of adding to it.
  it('saves a larger share of exits the more the guest switches processes', async () => {
    const r: number[] = [];
    for (const switches of [0, 2, 8]) r.push(await sspReduction(paging(base, { churnPerTick: 1, switchesPerTick: switches })));
    expect(r[1]).toBeGreaterThan(r[0] + 0.02);
    expect(r[2]).toBeGreaterThan(r[1] + 0.02);
  });

  // Breaks if: SSP resynchronizes shadow entries when the guest writes them (it would
  // take no hidden fault for a page filled without a flush, and save everything at any churn).
  it('saves a smaller share when switches are diluted by munmap/mmap churn, whose new pages it must fault in', async () => {
    const r: number[] = [];
    for (const churn of [0.5, 8]) r.push(await sspReduction(paging(base, { churnPerTick: churn, switchesPerTick: 4 })));
    expect(r[1]).toBeLessThan(r[0] - 0.05);
    // Each churned page costs shadow paging three exits (the unmap's write, the first
    // touch's guest fault, the map's write) and SSP two (the fault, then a hidden
    // fault): the share tends to a third, not to nothing.
    expect(r[1]).toBeGreaterThan(0.25);
  });

  // Breaks if: SSP keeps the shadow table at a full flush (a free TLB flush).
  it('loses its advantage when the guest has no ASIDs and flushes its whole address space at every switch', async () => {
    const mix = paging(base, { mix: 'switch-heavy' });
    const withAsids = await sspReduction(mix);
    const without = await sspReduction(paging(mix, { asids: false }));
    expect(withAsids).toBeGreaterThan(0.5);
    expect(without).toBeLessThan(withAsids - 0.3);
  });

  // Breaks if: SSP's flush syncs nothing (a stale shadow entry survives the flush).
  it('gives a guest that flushes as the architecture requires the translations of its own tables', async () => {
    const c = await ctx();
    const ssp = new SspMmu(c, 4);
    const k = new GuestKernel(1, 8192, 3);
    ssp.attach(k);
    const rng = new Rng(7);
    const mapped = () => k.processes[k.current].pages;
    for (let p = 0; p < 3; p++) {
      k.spawn();
      for (let i = 0; i < 64; i++) {
        const { vpn, written } = k.mapNext(p);
        ssp.ptWrite(k, written, p, [vpn]);
      }
    }
    const check = () => {
      for (const vpn of mapped()) {
        ssp.access(k, vpn);
        const g = k.processes[k.current].table.walk(vpn, new WalkResult()).frame;
        expect(ssp.resolve(k, vpn)).toBe(identityBacking(k, g));
      }
    };
    for (let step = 0; step < 400; step++) {
      const p = k.current;
      const asid = k.processes[p].asid;
      const pages = mapped();
      switch (rng.int(4)) {
        case 0: {
          // munmap a page (a valid entry removed: flush), then map a new one (no flush).
          for (const [vpn, addr] of k.munmap(p, 1)) {
            ssp.ptWrite(k, [addr], p, [vpn]);
            ssp.flush(k, asid, vpn);
          }
          const { vpn, written } = k.mapNext(p);
          ssp.ptWrite(k, written, p, [vpn]);
          break;
        }
        case 1: {
          // A page moves to another frame (a valid entry changed: flush).
          const vpn = pages[rng.int(pages.length)];
          ssp.ptWrite(k, [k.remap(p, vpn)], p, [vpn]);
          ssp.flush(k, asid, vpn);
          break;
        }
        case 2: {
          const vpn = pages[rng.int(pages.length)];
          const addr = k.protect(p, vpn, rng.int(2) ? 2 : 0);
          ssp.ptWrite(k, [addr], p, [vpn]);
          ssp.flush(k, asid, vpn);
          break;
        }
        default:
          ssp.rootSwitch(k, rng.int(3));
      }
      check();
    }
  });
});

describe('btmmu-vs-softmmu', () => {
  const base = paging(scenario('btmmu-vs-softmmu').duration('15ms'), { warmupTicks: 5 });

  // Breaks if: SoftMMU keeps its software TLB across a context switch (its untagged TLB
  // is what each switch empties; BTMMU's host TLB is tagged).
  it('gains more over SoftMMU the more the guest switches processes', async () => {
    const gains: number[] = [];
    for (const switches of [0, 8]) {
      const t = paging(base, { switchesPerTick: switches });
      gains.push((await value(swap(t, 'mmu.softmmu'), 'mmu.cycles-per-access')) / (await value(t, 'mmu.cycles-per-access')));
    }
    expect(gains[1]).toBeGreaterThan(gains[0] * 1.05);
  });

  // Breaks if: a guest privilege change is free under BTMMU (no module call and host
  // root write to switch between its user and supervisor shadow tables); SoftMMU
  // only selects another MMU index's table.
  it('gains less over SoftMMU the more system calls the guest makes, and pays for it in root switches', async () => {
    const gains: number[] = [];
    const switchCycles: number[] = [];
    for (const syscalls of [0, 50]) {
      const t = paging(base, { switchesPerTick: 0, syscallsPerTick: syscalls });
      const { sim } = await runText(t);
      const bt = (m: string) => sim.metrics.value(m)!;
      gains.push((await value(swap(t, 'mmu.softmmu'), 'mmu.cycles-per-access')) / bt('mmu.cycles-per-access'));
      switchCycles.push(bt('mmu.cycles.switch') / bt('mmu.tlb.accesses'));
    }
    expect(gains[1]).toBeLessThan(gains[0] - 0.15);
    expect(switchCycles[1]).toBeGreaterThan(switchCycles[0] + 1);
  });
});

async function ctx(): Promise<MmuContext> {
  const { sim } = await runText(paging(scenario('compromis-vs-ept').duration('1ms'), { pagesPerProcess: 16 }));
  return { profile: sim.hostProfiles[0], hooks: createHooks(), hostFrames: 1 << 22, pageWalkCache: false, nestedTlb: false };
}

describe('every strategy', () => {
  // Breaks if: any strategy translates a page to another process's frame, or to none.
  it('translates every access to the page the guest mapped, one host page per guest page', async () => {
    const c = await ctx();
    const strategies: MmuStrategy[] = [new NativeMmu(c), new NestedMmu(c), new ShadowMmu(c), new SspMmu(c, 4), new CompromisMmu(c), new SoftMmu(c), new BtMmu(c)];
    for (const s of strategies) {
      const k = new GuestKernel(1, 4096, 4);
      s.attach(k);
      for (let p = 0; p < 2; p++) {
        k.spawn();
        for (let i = 0; i < 200; i++) {
          const { vpn, written } = k.mapNext(p);
          s.ptWrite(k, written, p, [vpn]);
        }
      }
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

  // Breaks if: the first touch of a page is free (the kernel maps an mmap'd page before
  // the access reaches the strategy, so no guest fault is ever taken), or a guest fault
  // under a shadow scheme takes no exit.
  it('takes a guest page fault on the first touch of every mmap’d page, under every strategy', async () => {
    const churn = paging(scenario('ssp-vs-shadow').duration('12ms'), { warmupTicks: 4, mix: 'mmap-heavy' });
    for (const mmu of ['mmu.native', 'mmu.nested-paging', 'mmu.shadow-paging', 'mmu.ssp', 'mmu.compromis', 'mmu.softmmu', 'mmu.btmmu']) {
      const { sim } = await runText(swap(churn, mmu));
      const v = (m: string) => sim.metrics.value(m)!;
      expect({ mmu, faults: v('mmu.guest-faults') > 0, fault: v('mmu.cycles.fault') > 0 }).toEqual({ mmu, faults: true, fault: true });
      if (mmu === 'mmu.shadow-paging' || mmu === 'mmu.ssp') expect(v('mmu.exits.guest-fault')).toBe(v('mmu.guest-faults'));
      else expect(v('mmu.exits.guest-fault')).toBe(0);
    }
  });

  // Breaks if: SSP syncs at page-table writes (then the stale entry would not be seen) or syncs nothing at a flush.
  it('under SSP, a guest that omits the required flush sees the old translation, as the architecture allows', async () => {
    const c = await ctx();
    const ssp = new SspMmu(c, 4);
    const native = new NativeMmu(c);
    for (const s of [ssp, native]) {
      const k = new GuestKernel(1, 4096, 3);
      s.attach(k);
      k.spawn();
      k.mmap(0, 8);
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

  // Breaks if: a copy-on-write fault does not give the writer its own frame, or exit frees frames another process still maps.
  it('forks copy-on-write: a write copies the page, the other process keeps the original', () => {
    const k = new GuestKernel(1, 1024, 3);
    k.spawn();
    k.mmap(0, 4);
    const vpn = k.processes[0].pages[1];
    const w = new WalkResult();
    const original = k.processes[0].table.walk(vpn, w).frame;
    const { child } = k.fork(0);
    expect(k.isCow(child, vpn)).toBe(true);
    k.writeFault(child, vpn);
    expect(k.processes[child].table.walk(vpn, w).frame).not.toBe(original);
    expect(k.processes[0].table.walk(vpn, w).frame).toBe(original);
    k.exit(child);
    // The parent's frame survived the child's exit: a new page gets another frame.
    const { vpn: fresh } = k.mapNext(0);
    expect(k.processes[0].table.walk(fresh, w).frame).not.toBe(original);
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
