// workload.paging: a synthetic page-table workload per VM, run through the selected
// MMU strategy. Each VM gets a guest kernel with real page tables (guestLevels
// levels) in its guest-physical memory and `processes` processes. Every tick, per VM:
// context switches (root-register writes); churn events that munmap pages — each
// followed by the flush of that page the architecture requires — and mmap new ones;
// then `accessesPerTick` memory accesses drawn from the current process's pages. The
// strategy is called directly per access and charges its cycles; the plugin turns
// its counters into metrics, among them the cycles per access of the whole workload
// (compute plus translation), from which speedups between strategies follow.

import { CYCLE_CAUSES, definePlugin, GuestKernel, MmuMetrics, MmuStrategy, Vm, ZipfSampler } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const o = api.options;
  const rng = api.rng();
  const kernels: GuestKernel[] = [];
  let strategy: MmuStrategy;
  const zipf = o.distribution === 'zipf' ? new ZipfSampler(o.pagesPerProcess, o.zipfExponent) : null;
  const mmuMetrics = new MmuMetrics(api);
  const m = {
    accesses: api.counter('mmu.accesses', 'accesses', 'Memory accesses translated.'),
    ptWrites: api.counter('mmu.pt-writes', 'entries', 'Guest page-table entries written.'),
    flushes: api.counter('mmu.flushes', 'flushes', 'Guest TLB flushes.'),
    switches: api.counter('mmu.root-switches', 'switches', 'Guest context switches.'),
    forks: api.counter('mmu.forks', 'processes', 'Processes forked.'),
    processExits: api.counter('mmu.process-exits', 'processes', 'Processes that exited.'),
  };
  /** Forked children and the tick at which they exit. */
  let children: Array<{ vm: number; p: number; exitAt: number }> = [];

  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    strategy = sim.services.get(MmuStrategy);
    const V = sim.world.store(Vm);
    sim.world.query([Vm]).forEach((vm, i) => {
      const frames = Math.min(1 << 20, Math.floor(V.memory[vm] / 4096));
      const k = new GuestKernel(i + 1, frames, o.guestLevels);
      for (let p = 0; p < o.processes; p++) {
        k.spawn();
        k.mmap(p, o.pagesPerProcess);
      }
      strategy.attach(k);
      kernels.push(k);
    });
  });

  api.addSystem({
    name: `${api.id}/run`,
    phase: 'memory',
    run(sim) {
      // Counters restart after the warm-up, so metrics describe the steady state.
      if (sim.tick === o.warmupTicks && o.warmupTicks > 0) strategy.resetStats();
      // Children whose time is up exit: every page unmapped, the address space flushed.
      for (const c of children.filter((x) => x.exitAt <= sim.tick)) {
        const k = kernels[c.vm];
        const gone = k.exit(c.p);
        strategy.ptWrite(k, gone.map(([, a]) => a), c.p, gone.map(([v]) => v));
        strategy.flush(k, k.processes[c.p].asid, -1);
        m.processExits.add();
        if (k.current === c.p) strategy.rootSwitch(k, 0);
      }
      children = children.filter((x) => x.exitAt > sim.tick);
      for (const k of kernels) {
        for (let n = rng.poisson(o.switchesPerTick); n > 0; n--) {
          const live = k.alive();
          strategy.rootSwitch(k, live[rng.int(live.length)]);
          m.switches.add();
        }
        for (let n = rng.poisson(o.churnPerTick); n > 0; n--) {
          const p = k.current;
          const asid = k.processes[p].asid;
          for (const [vpn, addr] of k.munmap(p, o.churnPages)) {
            strategy.ptWrite(k, [addr], p, [vpn]);
            m.ptWrites.add();
            // Unmapping requires a flush of the page before its frame is reused.
            strategy.flush(k, asid, vpn);
            m.flushes.add();
          }
          const before = k.processes[p].pages.length;
          const written = k.mmap(p, o.churnPages);
          strategy.ptWrite(k, written, p, k.processes[p].pages.slice(before));
          m.ptWrites.add(written.length);
        }
        for (let n = rng.poisson(o.mprotectPerTick); n > 0; n--) {
          const p = k.current;
          const mapped = k.processes[p].pages;
          if (!mapped.length) break;
          const vpn = mapped[rng.int(mapped.length)];
          const addr = k.protect(p, vpn, rng.int(2) ? 2 : 0);
          if (addr < 0) continue;
          strategy.ptWrite(k, [addr], p, [vpn]);
          strategy.flush(k, k.processes[p].asid, vpn);
          m.ptWrites.add();
          m.flushes.add();
        }
        for (let n = rng.poisson(o.forksPerTick); n > 0; n--) {
          const p = k.current;
          const { child, written, parentVpns } = k.fork(p);
          strategy.ptWrite(k, written, p, parentVpns);
          // The parent's entries lost write permission: its whole address space is flushed.
          strategy.flush(k, k.processes[p].asid, -1);
          m.ptWrites.add(written.length);
          m.flushes.add();
          m.forks.add();
          children.push({ vm: kernels.indexOf(k), p: child, exitAt: sim.tick + o.childTicks });
        }
        const pages = k.processes[k.current].pages;
        if (!pages.length) continue;
        for (let a = 0; a < o.accessesPerTick; a++) {
          const idx = zipf ? Math.min(pages.length, zipf.sample(rng)) - 1 : rng.int(pages.length);
          strategy.access(k, pages[idx]);
        }
        m.accesses.add(o.accessesPerTick);
      }
    },
  });

  // Guest page tables, the strategy's TLBs and host tables, and the children to reap.
  api.persist('kernels', {
    save: () => ({ kernels: kernels.map((k) => k.save()), strategy: strategy.saveState(), children }),
    load: (d) => {
      const s = d as { kernels: unknown[]; strategy: unknown; children: typeof children };
      kernels.forEach((k, i) => k.load(s.kernels[i]));
      strategy.loadState(s.strategy);
      children = s.children.map((c) => ({ ...c }));
    },
  });

  api.hooks.lifecycle.finish.tapPromise(api.id, async (f) => {
    const s = strategy.stats;
    const refs: Record<string, number> = {};
    s.refsHistogram.forEach((n, i) => n && (refs[i] = n));
    const cyclesByCause = Object.fromEntries(CYCLE_CAUSES.map((c) => [c, s.cyclesOf(c)]));
    f.addFile('mmu.json', JSON.stringify({ strategy: strategy.name, referencesPerWalk: refs, exitsByCause: Object.fromEntries([...s.exits].sort()), cyclesByCause }, null, 2) + '\n');
    for (const line of MmuMetrics.summary(s, m.accesses.value, o.warmupTicks > 0)) f.addSummaryLine(line);
  });

  api.addSystem({
    name: `${api.id}/metrics`,
    phase: 'metrics',
    run(sim) {
      if (sim.sampling) mmuMetrics.publish(strategy.stats, strategy.stats.accesses * o.cyclesPerAccess);
    },
  });
});
