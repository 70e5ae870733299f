// Walks counted from the tables and the caches: every strategy's references per TLB
// miss come out of the entries its walker reads (a 2-D walk of 4+4 levels makes 24
// cold, 35 for 5+5, fewer with a warm page-walk cache and nested TLB, counted from
// those structures), the translation cycles add up by cause, accesses reconcile with
// hits plus misses, and the costs of translators and shadow schemes come from the
// host profile. Each test names in a comment the mutation of the mechanism that must
// break it; each was checked once to do so.
import { readFileSync } from 'node:fs';
import { CYCLE_CAUSES, GuestKernel, PRIV_SUPERVISOR_SUM, PRIV_USER, createHooks, type HostProfile, type MmuContext, type MmuStats, type MmuStrategy } from '../../../../core/index.test-exports';
import { loadHostProfile } from '../../../../core/scenario/loader';
import { BtMmu } from '../../../../plugins/mmu/btmmu/btmmu';
import { CompromisMmu } from '../../../../plugins/mmu/compromis/compromis';
import { NativeMmu } from '../../../../plugins/mmu/native/native';
import { NestedMmu } from '../../../../plugins/mmu/nested-paging/nested-paging';
import { ShadowMmu } from '../../../../plugins/mmu/shadow-paging/shadow-paging';
import { SoftMmu } from '../../../../plugins/mmu/softmmu/softmmu';
import { SspMmu } from '../../../../plugins/mmu/ssp/ssp';

const host = (id: string): HostProfile => loadHostProfile(readFileSync(`hosts/${id}.host.yaml`, 'utf8'), `hosts/${id}.host.yaml`);
const x86 = host('x86-64-server');
const ctx = (profile: HostProfile, over: Partial<MmuContext> = {}): MmuContext => ({ profile, hooks: createHooks(), hostFrames: 1 << 22, pageWalkCache: false, nestedTlb: false, ...over });
const withProfile = (p: HostProfile, v: Partial<HostProfile['virtualization']>): HostProfile => ({ ...p, virtualization: { ...p.virtualization, ...v } });

/** A VM with one process of `pages` mapped pages, attached to s. */
function vmWith(s: MmuStrategy, levels: 3 | 4 | 5, pages: number, processes = 1): GuestKernel {
  const k = new GuestKernel(1, pages * processes + 4096, levels);
  for (let p = 0; p < processes; p++) {
    k.spawn();
    k.mmap(p, pages);
  }
  s.attach(k);
  return k;
}

const refsOfLastWalk = (before: number, s: MmuStats) => s.walkRefs - before;

describe('nested paging walks the EPT', () => {
  // Mutations that must break it: walking a fixed count instead of the table (the
  // count (n+1)(m+1)−1 charged whatever the guest table holds: the walk that stops at
  // an invalid root entry), or skipping the EPT walk of the guest entries or of the
  // final guest-physical address.
  it('makes 24 references for a cold 4+4 walk and 35 for 5+5, counted from the entries read', () => {
    const n4 = new NestedMmu(ctx(x86));
    const k4 = vmWith(n4, 4, 8);
    n4.access(k4, k4.processes[0].pages[0]);
    expect(n4.stats.walkRefs).toBe(24);
    const x5 = host('x86-64-5level-server');
    const n5 = new NestedMmu(ctx(x5));
    const k5 = vmWith(n5, 5, 8);
    n5.access(k5, k5.processes[0].pages[0]);
    expect(n5.stats.walkRefs).toBe(35);
    // A 4-level guest on a 5-level host: 4 + 5·5 = 29, from the same walker.
    const m = new NestedMmu(ctx(x5));
    const km = vmWith(m, 4, 8);
    m.access(km, km.processes[0].pages[0]);
    expect(m.stats.walkRefs).toBe(29);
    // A walk that meets an invalid guest root entry stops there: the EPT walk of the
    // root's frame and the root entry itself, 4 + 1, and no final address.
    const before = n4.stats.walkRefs;
    n4.access(k4, 2 ** 35);
    expect(n4.stats.walkRefs - before).toBe(5);
    expect(n4.stats.guestFaults).toBe(1);
  });

  // Mutation that must break it: a page-walk cache or nested TLB that never hits
  // (lookups always missing), or one that skips references without a lookup.
  it('walks fewer references with a warm page-walk cache and nested TLB, counted from their hits', () => {
    const n = new NestedMmu(ctx(x86, { pageWalkCache: true, nestedTlb: true }));
    const k = vmWith(n, 4, 8);
    const [a, b] = k.processes[0].pages;
    n.access(k, a);
    // Even the first walk is shorter: the guest's table pages and data page are
    // adjacent guest frames, so after the first EPT walk (4 references) each later
    // one starts at the EPT leaf (host-side page-walk cache hit, 1 reference):
    // (4+1) + 3·(1+1) + 1 = 12.
    expect(n.stats.walkRefs).toBe(12);
    expect(n.stats.pwcHits).toBe(4);
    expect(n.stats.pwcMisses).toBe(2);
    expect(n.stats.ntlbHits).toBe(0);
    const before = n.stats.walkRefs;
    n.access(k, b);
    // The guest side starts at its leaf (page-walk cache hit); the leaf table's guest
    // frame is in the nested TLB (1 reference: the guest leaf entry); the data frame's
    // host walk starts at the EPT leaf (host-side page-walk cache hit): 1 more.
    expect(refsOfLastWalk(before, n.stats)).toBe(2);
    expect(n.stats.pwcHits).toBe(4 + 2);
    expect(n.stats.ntlbHits).toBe(1);
    expect(n.stats.ntlbMisses).toBe(5 + 1);
  });

  // Mutation that must break it: a guest flush that leaves the page-walk cache warm.
  it('walks cold again after the guest flushes its address space, except for the host dimension', () => {
    const n = new NestedMmu(ctx(x86, { pageWalkCache: true, nestedTlb: true }));
    const k = vmWith(n, 4, 8);
    const [a] = k.processes[0].pages;
    n.access(k, a);
    n.flush(k, k.processes[0].asid, -1);
    const before = n.stats.walkRefs;
    n.access(k, a);
    // Guest side: 4 entries, each frame now in the nested TLB; the data frame too: 4 references.
    expect(refsOfLastWalk(before, n.stats)).toBe(4);
  });
});

describe('native, Compromis and shadow walks are counted, not charged', () => {
  // Mutation that must break it: charging vm.levels per miss instead of the walk made.
  it('reads as many entries as the guest table has levels cold, one with a warm page-walk cache', () => {
    for (const make of [(c: MmuContext) => new NativeMmu(c), (c: MmuContext) => new CompromisMmu(c)]) {
      const s = make(ctx(x86, { pageWalkCache: true }));
      const k = vmWith(s, 3, 8);
      s.access(k, k.processes[0].pages[0]);
      expect(s.stats.walkRefs).toBe(3);
      s.access(k, k.processes[0].pages[1]);
      expect(s.stats.walkRefs).toBe(4);
      expect(s.stats.pwcHits).toBe(1);
    }
  });

  // Mutation that must break it: a hidden fault that costs nothing beyond its exit, or no retried walk.
  it('counts the faulting and the retried shadow walk of a hidden fault, and the fill as hidden-fault cycles', () => {
    const s = new ShadowMmu(ctx(x86));
    const k = vmWith(s, 4, 8);
    s.access(k, k.processes[0].pages[0]);
    // The empty shadow table: the root entry is invalid (1 reference), then the retried walk reads 4.
    expect(s.stats.walkRefs).toBe(5);
    expect(s.stats.hiddenFaults).toBe(1);
    expect(s.stats.hiddenCycles).toBeGreaterThan(0);
    expect(s.stats.exitCycles).toBe(x86.virtualization.vmExitCycles);
  });
});

describe('cycles by cause', () => {
  const all = (c: MmuContext): MmuStrategy[] => [new NativeMmu(c), new NestedMmu(c), new ShadowMmu(c), new SspMmu(c, 2), new CompromisMmu(c), new SoftMmu(c), new BtMmu(c)];

  // Mutation that must break it: any cycles added to the total outside `charge` (a cause forgotten).
  it('add up to the translation cycles, and accesses are L1 hits + L2 hits + misses, for every strategy', () => {
    for (const s of all(ctx(x86, { pageWalkCache: true, nestedTlb: true }))) {
      const k = vmWith(s, 4, 3000, 3);
      let x = 7;
      for (let i = 0; i < 20000; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        if (i % 1000 === 0) s.rootSwitch(k, (i / 1000) % 3);
        if (i % 700 === 0) {
          const p = k.current;
          for (const [vpn, addr] of k.munmap(p, 2)) {
            s.ptWrite(k, [addr], p, [vpn]);
            s.flush(k, k.processes[p].asid, vpn);
          }
        }
        if (i % 500 === 0) {
          // A system call's copy from a user page, and a first touch that faults.
          s.privilege(k, PRIV_SUPERVISOR_SUM);
          s.access(k, k.processes[k.current].pages[x % 100]);
          s.privilege(k, PRIV_USER);
          s.access(k, 2 ** 30 + i);
        }
        const pages = k.processes[k.current].pages;
        s.access(k, pages[x % pages.length]);
      }
      const st = s.stats;
      let sum = 0;
      for (const c of CYCLE_CAUSES) sum += st.cyclesOf(c);
      expect({ name: s.name, sum: Math.round(sum) }).toEqual({ name: s.name, sum: Math.round(st.cycles) });
      expect(st.l1Hits + st.l2Hits + st.misses).toBe(st.accesses);
      expect(st.accesses).toBe(20000 + 2 * 40);
      expect(st.guestFaults).toBe(40);
      expect(st.walkCycles).toBeGreaterThan(0);
    }
  });
});

describe('translator costs come from the host profile', () => {
  // Mutation that must break it: a free TLB flush (SoftMMU's root switch emptying its table at no cost).
  it('charges SoftMMU the emptying of its software TLB on every root switch and flush, as QEMU does', () => {
    const s = new SoftMmu(ctx(x86), 1024);
    const k = vmWith(s, 4, 16, 2);
    s.access(k, k.processes[0].pages[0]);
    const missesBefore = s.stats.misses;
    s.rootSwitch(k, 1);
    s.rootSwitch(k, 0);
    const v = x86.virtualization;
    // Only the user table was used (QEMU's dirty mask): each switch empties one table, the second one none.
    expect(s.stats.flushCycles).toBe(2 * v.softTlbHelperCycles + 1024 * v.softTlbFlushCyclesPerEntry);
    expect(s.stats.switchCycles).toBe(2 * v.softTlbHelperCycles);
    // The table was emptied: the same page misses again.
    s.access(k, k.processes[0].pages[0]);
    expect(s.stats.misses).toBe(missesBefore + 1);
    // sfence.vma of one page empties everything too (helper_tlb_flush ignores its operands).
    s.access(k, k.processes[0].pages[1]);
    s.flush(k, k.processes[0].asid, k.processes[0].pages[5]);
    s.access(k, k.processes[0].pages[1]);
    expect(s.stats.misses).toBe(missesBefore + 3);
  });

  // Mutation that must break it: BTMMU root switches or flushes that cost nothing, or
  // costs taken from constants in code instead of the profile.
  it('charges BTMMU its root switches, flush syncs and exception entries from the profile', () => {
    const cheap = new BtMmu(ctx(withProfile(x86, { hostSyscallCycles: 100, exceptionEntryCycles: 10 })));
    const dear = new BtMmu(ctx(withProfile(x86, { hostSyscallCycles: 1000, exceptionEntryCycles: 100 })));
    for (const s of [cheap, dear]) {
      const k = vmWith(s, 4, 16, 2);
      s.access(k, k.processes[0].pages[0]);
      s.rootSwitch(k, 1);
      s.flush(k, k.processes[1].asid, k.processes[1].pages[0]);
    }
    // The exception entry of the miss and the flush's module call are traps; the root switch is a module call and a root-register write.
    expect(cheap.stats.trapCycles).toBe(10 + 100);
    expect(dear.stats.trapCycles).toBe(100 + 1000);
    expect(cheap.stats.switchCycles).toBe(100 + x86.virtualization.rootRegisterWriteCycles);
    expect(dear.stats.switchCycles).toBe(1000 + x86.virtualization.rootRegisterWriteCycles);
    expect(dear.stats.syncCycles).toBeGreaterThan(0);
    expect(dear.stats.hiddenCycles).toBeGreaterThan(0);
  });

  // Mutation that must break it: a guest fault that is not bounced to the translator at a cost.
  it('bounces a guest page fault to the translator at the profile’s cost', () => {
    const soft = new SoftMmu(ctx(x86));
    const bt = new BtMmu(ctx(x86));
    for (const s of [soft, bt]) {
      const k = vmWith(s, 4, 16);
      s.access(k, 0x9999);
      expect(s.stats.guestFaults).toBe(1);
    }
    expect(soft.stats.faultCycles).toBe(x86.virtualization.translatorFaultCycles);
    // BTMMU: the module's walk of the guest table that finds no mapping, then the signal and the translator's raise.
    const bounce = x86.virtualization.hostSignalCycles + x86.virtualization.translatorFaultCycles;
    expect(bt.stats.faultCycles).toBeGreaterThan(bounce);
    expect(bt.stats.faultCycles).toBeLessThan(bounce + 1000);
  });
});

describe('a run reports its translation cycles by cause', () => {
  // Mutation that must break it: publishing hits or misses from another counter than
  // the strategy's (accesses that no longer reconcile), or a summary without the split.
  it('reconciles mmu.accesses with hits plus misses, and prints the split in the summary', async () => {
    const { runText, scenarioFile } = await import('../../../../tools/node/testing');
    const s = scenarioFile('scenarios/repro/ssp-vs-shadow.scenario.yaml').duration('2ms').pluginOptions('workload.paging', { warmupTicks: 0 });
    const { sim, result } = await runText(s);
    const v = (m: string) => sim.metrics.value(m)!;
    expect(v('mmu.tlb.l1-hits') + v('mmu.tlb.l2-hits') + v('mmu.tlb.misses')).toBe(v('mmu.accesses'));
    expect(v('mmu.tlb.accesses')).toBe(v('mmu.accesses'));
    let sum = 0;
    for (const c of CYCLE_CAUSES) sum += v(`mmu.cycles.${c}`);
    expect(sum).toBeCloseTo(v('mmu.cycles.translation'), 3);
    expect(v('mmu.cycles.trap')).toBeGreaterThan(0);
    expect(result.summary).toMatch(/MMU translation cycles \d+: lookup [\d.]+%, walk [\d.]+%/);
    expect(result.summary).toMatch(/MMU accesses \d+ = \d+ L1 hits \+ \d+ L2 hits \+ \d+ misses/);
  });
});
