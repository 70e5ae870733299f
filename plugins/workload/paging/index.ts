// workload.paging: a synthetic page-table workload per VM, run through the selected
// MMU strategy. Each VM gets a guest kernel with real page tables (guestLevels
// levels) in its guest-physical memory and `processes` processes. The strategy is
// attached before anything is mapped, and every mapping — the initial ones too — is a
// page-table write it sees. The kernel flushes as the architecture requires:
// sfence.vma after changing or removing a valid entry (munmap, mprotect, fork's
// write-protection, copy on write, exit), never after filling an invalid one (a page
// mapped on its first touch). Every tick, per VM: children whose time is up exit;
// context switches (root-register writes, and without ASIDs a flush of the address
// space left); munmap+mmap churn; mprotect; forks; then `accessesPerTick` accesses
// from the current process's pages, of which `writeFraction` are writes (a write to
// a page shared since a fork faults and copies it). The strategy is called directly
// per access and charges its cycles; the plugin turns its counters into metrics,
// among them the cycles per access of the whole workload (compute plus translation).

import { CYCLE_CAUSES, definePlugin, DirectSegments, GuestKernel, MmuMetrics, MmuStrategy, Vm, ZipfSampler } from 'virtlab';
import type { Options } from './options';

/** The rates of a named mix; see README.md for the programs each one stands for. */
type Mix = Pick<Options, 'processes' | 'pagesPerProcess' | 'switchesPerTick' | 'churnPerTick' | 'churnPages' | 'forksPerTick' | 'childTicks' | 'mprotectPerTick'>;
export const MIXES: Record<Exclude<Options['mix'], 'custom'>, Mix> = {
  // make -j / configure / shell scripts: short-lived children sharing their parent copy-on-write.
  'fork-heavy': { processes: 4, pagesPerProcess: 512, switchesPerTick: 2, churnPerTick: 1, churnPages: 4, forksPerTick: 1, childTicks: 3, mprotectPerTick: 1 },
  // allocators returning memory to the kernel, garbage collectors, mmap'd file I/O.
  'mmap-heavy': { processes: 2, pagesPerProcess: 1024, switchesPerTick: 0.5, churnPerTick: 8, churnPages: 8, forksPerTick: 0, childTicks: 5, mprotectPerTick: 2 },
  // servers with many processes on few cores, pipes between processes (lmbench lat_ctx, prefork servers).
  'switch-heavy': { processes: 8, pagesPerProcess: 256, switchesPerTick: 10, churnPerTick: 0.5, churnPages: 4, forksPerTick: 0, childTicks: 5, mprotectPerTick: 0 },
  // large working sets accessed at random (GUPS, graph analytics, mcf, canneal).
  'tlb-miss-bound': { processes: 2, pagesPerProcess: 32768, switchesPerTick: 0.2, churnPerTick: 0, churnPages: 8, forksPerTick: 0, childTicks: 5, mprotectPerTick: 0 },
};

export default definePlugin<Options>((api) => {
  const o: Options = api.options.mix === 'custom' ? api.options : { ...api.options, ...MIXES[api.options.mix] };
  const rng = api.rng();
  /** Guest kernels by VM index; empty until the VM is placed. */
  let kernels: Array<GuestKernel | undefined> = [];
  let strategy: MmuStrategy;
  const zipf = o.distribution === 'zipf' ? new ZipfSampler(o.pagesPerProcess, o.zipfExponent) : null;
  const mmuMetrics = new MmuMetrics(api);
  const m = {
    accesses: api.counter('mmu.accesses', 'accesses', 'Memory accesses translated.'),
    ptWrites: api.counter('mmu.pt-writes', 'entries', 'Guest page-table entries written.'),
    flushes: api.counter('mmu.flushes', 'flushes', 'Guest TLB flushes (sfence.vma).'),
    switches: api.counter('mmu.root-switches', 'switches', 'Guest context switches.'),
    forks: api.counter('mmu.forks', 'processes', 'Processes forked.'),
    processExits: api.counter('mmu.process-exits', 'processes', 'Processes that exited.'),
    cowFaults: api.counter('mmu.cow-faults', 'faults', 'Writes to pages shared copy-on-write since a fork.'),
    firstTouches: api.counter('mmu.first-touch-faults', 'faults', 'Guest page faults that mapped an mmap’d page on its first touch.'),
  };
  /** Forked children and the tick at which they exit. */
  let children: Array<{ vm: number; p: number; exitAt: number }> = [];

  /** The guest writes entries: the strategy sees them (write-protection traps them, or not). */
  const write = (k: GuestKernel, gpas: number[], p: number, vpns: number[]) => {
    strategy.ptWrite(k, gpas, p, vpns);
    m.ptWrites.add(gpas.length);
  };
  /** sfence.vma for one page (vpn) or the whole address space (-1) of process p. */
  const flush = (k: GuestKernel, p: number, vpn: number) => {
    strategy.flush(k, k.processes[p].asid, vpn);
    m.flushes.add();
  };
  /** Maps one new page of p on its first touch: an invalid entry is filled, so no flush. */
  const touchNew = (k: GuestKernel, p: number) => {
    const { vpn, written } = k.mapNext(p);
    write(k, written, p, [vpn]);
    m.firstTouches.add();
    if (k.current === p) {
      strategy.access(k, vpn);
      m.accesses.add();
    }
  };
  const switchTo = (k: GuestKernel, p: number) => {
    const old = k.current;
    strategy.rootSwitch(k, p);
    m.switches.add();
    // Without ASIDs the TLB cannot tell address spaces apart: the one left is flushed.
    if (!o.asids && old !== p && k.processes[old].alive) flush(k, old, -1);
  };

  /** VM entities, in order; a VM's kernel starts when the VM is placed on a host. */
  let vms: number[] = [];
  const frames = (vm: number) => Math.min(1 << 20, Math.floor(api.sim.world.store(Vm).memory[vm] / 4096));
  const makeKernel = (i: number) => new GuestKernel(i + 1, frames(vms[i]), o.guestLevels);
  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    strategy = sim.services.get(MmuStrategy);
    vms = sim.world.query([Vm]).slice();
    vms.forEach((vm, i) => {
      if (o.processes * o.pagesPerProcess > frames(vm)) throw new Error(`workload.paging: ${o.processes} processes × ${o.pagesPerProcess} pages exceed VM ${i + 1}'s ${frames(vm)} guest frames`);
    });
  });
  /** Boots the guest kernel of VM i on its host: the strategy attaches before the first mapping, so it sees every one. */
  const start = (i: number) => {
    const k = makeKernel(i);
    k.segment = api.sim.services.tryGet(DirectSegments)?.segmentOf(vms[i]) ?? null;
    strategy.attach(k);
    kernels[i] = k;
    // Each process starts by touching its pages: each is mapped on its first touch (an
    // invalid entry filled, no flush) and then accessed, as a program initializing its memory.
    for (let p = 0; p < o.processes; p++) {
      k.spawn();
      if (p > 0) strategy.rootSwitch(k, p);
      for (let n = 0; n < o.pagesPerProcess; n++) touchNew(k, p);
    }
    if (o.processes > 1) strategy.rootSwitch(k, 0);
  };

  api.addSystem({
    name: `${api.id}/run`,
    phase: 'memory',
    run(sim) {
      // Counters restart after the warm-up, so metrics describe the steady state.
      const V = sim.world.store(Vm);
      for (let i = 0; i < vms.length; i++) if (!kernels[i] && V.host[vms[i]]) start(i);
      if (sim.tick === o.warmupTicks && o.warmupTicks > 0) strategy.resetStats();
      // Children whose time is up exit: every page unmapped, the address space flushed.
      for (const c of children.filter((x) => x.exitAt <= sim.tick)) {
        const k = kernels[c.vm]!;
        if (k.current === c.p) switchTo(k, k.alive().find((x) => x !== c.p)!);
        const gone = k.exit(c.p);
        write(k, gone.map(([, a]) => a), c.p, gone.map(([v]) => v));
        flush(k, c.p, -1);
        m.processExits.add();
      }
      children = children.filter((x) => x.exitAt > sim.tick);
      for (const k of kernels) {
        if (!k) continue;
        for (let n = rng.poisson(o.switchesPerTick); n > 0; n--) {
          const live = k.alive().filter((p) => p !== k.current);
          if (live.length) switchTo(k, live[rng.int(live.length)]);
        }
        for (let n = rng.poisson(o.churnPerTick); n > 0; n--) {
          const p = k.current;
          const gone = k.munmap(p, o.churnPages);
          for (const [vpn, addr] of gone) write(k, [addr], p, [vpn]);
          // Valid entries were removed: flush them, or the whole space above the ceiling.
          if (gone.length > o.flushCeiling) flush(k, p, -1);
          else for (const [vpn] of gone) flush(k, p, vpn);
          for (let i = 0; i < o.churnPages; i++) touchNew(k, p);
        }
        for (let n = rng.poisson(o.mprotectPerTick); n > 0; n--) {
          const p = k.current;
          const mapped = k.processes[p].pages;
          if (!mapped.length) break;
          const vpn = mapped[rng.int(mapped.length)];
          const addr = k.protect(p, vpn, rng.int(2) ? 2 : 0);
          if (addr < 0) continue;
          write(k, [addr], p, [vpn]);
          flush(k, p, vpn);
        }
        for (let n = rng.poisson(o.forksPerTick); n > 0; n--) {
          const p = k.current;
          const { child, written, parentVpns } = k.fork(p);
          write(k, written, p, parentVpns);
          // The parent's entries lost write permission: its whole address space is flushed.
          flush(k, p, -1);
          m.forks.add();
          children.push({ vm: kernels.indexOf(k), p: child, exitAt: sim.tick + o.childTicks });
        }
        const p = k.current;
        const pages = k.processes[p].pages;
        if (!pages.length) continue;
        for (let a = 0; a < o.accessesPerTick; a++) {
          const idx = zipf ? Math.min(pages.length, zipf.sample(rng)) - 1 : rng.int(pages.length);
          const vpn = pages[idx];
          if (k.isCow(p, vpn) && rng.next() < o.writeFraction) {
            // A write to a shared page: copied, a valid entry rewritten, and flushed.
            write(k, [k.writeFault(p, vpn)], p, [vpn]);
            flush(k, p, vpn);
            m.cowFaults.add();
          }
          strategy.access(k, vpn);
        }
        m.accesses.add(o.accessesPerTick);
      }
    },
  });

  // Guest page tables, the strategy's TLBs and host tables, and the children to reap.
  api.persist('kernels', {
    save: () => ({ kernels: kernels.map((k) => k?.save() ?? null), strategy: strategy.saveState(), children }),
    load: (d) => {
      const s = d as { kernels: unknown[]; strategy: unknown; children: typeof children };
      kernels = s.kernels.map((saved, i) => {
        if (saved === null) return undefined;
        const k = makeKernel(i);
        k.load(saved);
        // Attached again as at its start; the strategy's own state is restored below.
        strategy.attach(k);
        return k;
      });
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
