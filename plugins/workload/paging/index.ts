// workload.paging: a synthetic page-table workload per VM, run through the selected
// MMU strategy. Each VM gets a guest kernel with real page tables (guestLevels
// levels) in its guest-physical memory and `processes` processes. Every tick, per VM:
// context switches (root-register writes); churn events that munmap pages — each
// followed by the flush of that page the architecture requires — and mmap new ones;
// then `accessesPerTick` memory accesses drawn from the current process's pages. The
// strategy is called directly per access and charges its cycles; the plugin turns
// its counters into metrics, among them the cycles per access of the whole workload
// (compute plus translation), from which speedups between strategies follow.

import { definePlugin, GuestKernel, MmuStrategy, Vm, ZipfSampler, type MmuStats } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const o = api.options;
  const rng = api.rng();
  const kernels: GuestKernel[] = [];
  let strategy: MmuStrategy;
  const zipf = o.distribution === 'zipf' ? new ZipfSampler(o.pagesPerProcess, o.zipfExponent) : null;
  const m = {
    accesses: api.counter('mmu.accesses', 'accesses', 'Memory accesses translated.'),
    l1: api.gauge('mmu.tlb.l1-hits', 'accesses', 'Accesses that hit the first-level TLB.'),
    l2: api.gauge('mmu.tlb.l2-hits', 'accesses', 'Accesses that hit the second-level TLB.'),
    misses: api.gauge('mmu.tlb.misses', 'accesses', 'Accesses that missed every TLB.'),
    missRate: api.gauge('mmu.tlb.miss-rate', 'ratio', 'TLB misses over accesses.'),
    refs: api.gauge('mmu.walk.references-per-miss', 'references', 'Page-walk memory references per TLB miss.'),
    walkCycles: api.gauge('mmu.walk.cycles', 'cycles', 'Cycles spent in page walks.'),
    translation: api.gauge('mmu.cycles.translation', 'cycles', 'Cycles spent translating (TLB, walks, exits, traps).'),
    perAccess: api.gauge('mmu.cycles-per-access', 'cycles', 'Compute and translation cycles per memory access: the workload’s speed.'),
    exits: api.gauge('mmu.exits', 'exits', 'VM exits caused by memory virtualization.'),
    mmode: api.gauge('mmu.mmode-entries', 'traps', 'Entries into the highest privilege mode (machine mode, exception entries).'),
    syncs: api.gauge('mmu.shadow.syncs', 'entries', 'Shadow entries synchronized with the guest tables.'),
    hidden: api.gauge('mmu.hidden-faults', 'faults', 'Shadow entries filled on hidden faults.'),
    ptWrites: api.counter('mmu.pt-writes', 'entries', 'Guest page-table entries written.'),
    flushes: api.counter('mmu.flushes', 'flushes', 'Guest TLB flushes.'),
    switches: api.counter('mmu.root-switches', 'switches', 'Guest context switches.'),
  };
  const exitGauges = new Map<string, ReturnType<typeof api.gauge>>();
  for (const cause of ['pt-write', 'root-switch', 'hidden-fault', 'segment-fault']) {
    exitGauges.set(cause, api.gauge(`mmu.exits.${cause}`, 'exits', `VM exits caused by ${cause.replace('-', ' ')}s.`));
  }

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
      for (const k of kernels) {
        for (let n = rng.poisson(o.switchesPerTick); n > 0; n--) {
          strategy.rootSwitch(k, rng.int(k.processes.length));
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
        const pages = k.processes[k.current].pages;
        for (let a = 0; a < o.accessesPerTick; a++) {
          const idx = zipf ? Math.min(pages.length, zipf.sample(rng)) - 1 : rng.int(pages.length);
          strategy.access(k, pages[idx]);
        }
        m.accesses.add(o.accessesPerTick);
      }
    },
  });

  const publish = (s: MmuStats) => {
    m.l1.set(s.l1Hits);
    m.l2.set(s.l2Hits);
    m.misses.set(s.misses);
    m.missRate.set(s.accesses ? s.misses / s.accesses : 0);
    let walks = 0;
    for (let i = 0; i < s.refsHistogram.length; i++) walks += s.refsHistogram[i];
    m.refs.set(walks ? s.walkRefs / walks : 0);
    m.walkCycles.set(s.walkCycles);
    m.translation.set(s.cycles);
    m.exits.set(s.totalExits);
    for (const [cause, g] of exitGauges) g.set(s.exits.get(cause) ?? 0);
    m.mmode.set(s.mmodeEntries);
    m.syncs.set(s.syncs);
    m.hidden.set(s.hiddenFaults);
    m.perAccess.set(s.accesses ? (s.accesses * o.cyclesPerAccess + s.cycles) / s.accesses : 0);
  };
  api.addSystem({
    name: `${api.id}/metrics`,
    phase: 'metrics',
    run(sim) {
      if (sim.sampling) publish(strategy.stats);
    },
  });
});
