// workload.paging: a synthetic page-table workload per VM, run through the selected
// MMU strategy. Each VM gets a guest kernel with real page tables (guestLevels
// levels) in its guest-physical memory and `processes` processes. The strategy is
// attached before anything is mapped, and every mapping — the kernel's own data
// pages and the initial user pages too — is a page-table write it sees. User pages
// are demand-paged: the first touch of an mmap'd page is a guest page fault (each
// strategy charges what delivering it costs there), after which the kernel maps the
// page and the access is retried. The kernel flushes as the architecture requires:
// sfence.vma after changing or removing a valid entry (munmap, mprotect, fork's
// write-protection, copy on write, exit), never after filling an invalid one (a page
// mapped on its first touch). Everything the kernel does runs in supervisor mode:
// the strategy is told of each privilege change (kernel entry, SUM opened and
// closed for copies to and from user pages, return to user mode) as an event.
// Every tick, per VM: children whose time is up exit; context switches
// (root-register writes, and without ASIDs a flush of the address space left);
// munmap+mmap churn; mprotect; forks; then `accessesPerTick` accesses from the
// current process's pages, of which `writeFraction` are writes (a write to a page
// shared since a fork faults and copies it), with the tick's system calls spread
// among them. The strategy is called directly per access and charges its cycles;
// the plugin turns its counters into metrics, among them the cycles per access of
// the whole workload (compute plus translation).

import { CYCLE_CAUSES, definePlugin, DirectSegments, GuestKernel, MmuMetrics, MmuStrategy, PRIV_SUPERVISOR, PRIV_SUPERVISOR_SUM, PRIV_USER, Vm, ZipfSampler } from 'virtlab';
import type { Options } from './options';

/** The rates of a named mix; see README.md for the programs each one stands for. */
type Mix = Pick<Options, 'processes' | 'pagesPerProcess' | 'switchesPerTick' | 'churnPerTick' | 'churnPages' | 'forksPerTick' | 'childTicks' | 'mprotectPerTick' | 'syscallsPerTick'>;
export const MIXES: Record<Exclude<Options['mix'], 'custom'>, Mix> = {
  // make -j / configure / shell scripts: short-lived children sharing their parent copy-on-write, many open/stat/read calls.
  'fork-heavy': { processes: 4, pagesPerProcess: 512, switchesPerTick: 2, churnPerTick: 1, churnPages: 4, forksPerTick: 1, childTicks: 3, mprotectPerTick: 1, syscallsPerTick: 20 },
  // allocators returning memory to the kernel, garbage collectors, mmap'd file I/O.
  'mmap-heavy': { processes: 2, pagesPerProcess: 1024, switchesPerTick: 0.5, churnPerTick: 8, churnPages: 8, forksPerTick: 0, childTicks: 5, mprotectPerTick: 2, syscallsPerTick: 4 },
  // servers with many processes on few cores, pipes between processes (lmbench lat_ctx, prefork servers): a read and a write per switch.
  'switch-heavy': { processes: 8, pagesPerProcess: 256, switchesPerTick: 10, churnPerTick: 0.5, churnPages: 4, forksPerTick: 0, childTicks: 5, mprotectPerTick: 0, syscallsPerTick: 20 },
  // large working sets accessed at random (GUPS, graph analytics, mcf, canneal): almost no system calls.
  'tlb-miss-bound': { processes: 2, pagesPerProcess: 32768, switchesPerTick: 0.2, churnPerTick: 0, churnPages: 8, forksPerTick: 0, childTicks: 5, mprotectPerTick: 0, syscallsPerTick: 0.2 },
  // event-driven servers and I/O loops (nginx/memcached/redis serving small requests, dd bs=4k, lmbench lat_syscall): one process, a system call every few hundred accesses.
  'syscall-heavy': { processes: 2, pagesPerProcess: 1024, switchesPerTick: 0.5, churnPerTick: 0.5, churnPages: 4, forksPerTick: 0, childTicks: 5, mprotectPerTick: 0, syscallsPerTick: 60 },
};

/** Accesses a copy makes per page: one per 64-byte line. */
const LINES_PER_PAGE = 4096 / 64;

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
    syscalls: api.counter('mmu.syscalls', 'calls', 'System calls that touched kernel data and copied to or from user pages.'),
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
  /** The guest enters its kernel (a system call, a fault, an interrupt): every strategy is told. */
  const enterKernel = (k: GuestKernel) => strategy.privilege(k, PRIV_SUPERVISOR);
  const returnToUser = (k: GuestKernel) => strategy.privilege(k, PRIV_USER);
  /**
   * The first touch of the next mmap'd page of p, from user mode: the page is not
   * mapped, so the access is a guest page fault (delivered however the strategy
   * delivers it); the kernel's fault handler maps it (an invalid entry filled: no
   * flush), and the access is retried.
   */
  const touchNew = (k: GuestKernel, p: number) => {
    const vpn = k.reserveNext(p);
    const running = k.current === p;
    if (running) {
      strategy.access(k, vpn);
      m.accesses.add();
    }
    enterKernel(k);
    write(k, k.mapPage(p, vpn), p, [vpn]);
    returnToUser(k);
    m.firstTouches.add();
    if (running) {
      strategy.access(k, vpn);
      m.accesses.add();
    }
  };
  /** A context switch, in the kernel (the satp write needs supervisor mode). */
  const switchTo = (k: GuestKernel, p: number) => {
    const old = k.current;
    strategy.rootSwitch(k, p);
    m.switches.add();
    // Without ASIDs the TLB cannot tell address spaces apart: the one left is flushed.
    if (!o.asids && old !== p && k.processes[old].alive) flush(k, old, -1);
  };
  /**
   * A system call that moves data: kernel entry, accesses to kernel data, a copy to
   * or from user pages of the caller with user-memory access opened (SUM), return.
   * Returns the accesses it made.
   */
  const syscall = (k: GuestKernel): number => {
    const pages = k.processes[k.current].pages;
    const kernel = k.kernelPages;
    enterKernel(k);
    for (let a = 0; a < o.syscallKernelAccesses; a++) strategy.access(k, kernel[rng.int(kernel.length)]);
    let copied = 0;
    if (o.syscallCopyPages > 0 && pages.length) {
      strategy.privilege(k, PRIV_SUPERVISOR_SUM);
      for (let c = 0; c < o.syscallCopyPages; c++) {
        const vpn = pages[rng.int(pages.length)];
        for (let line = 0; line < LINES_PER_PAGE; line++) strategy.access(k, vpn);
        copied += LINES_PER_PAGE;
      }
      strategy.privilege(k, PRIV_SUPERVISOR);
    }
    returnToUser(k);
    m.syscalls.add();
    return o.syscallKernelAccesses + copied;
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
    // The kernel boots in supervisor mode in the first address space and maps its data
    // pages in the kernel half, which every later address space shares (one root entry).
    strategy.privilege(k, PRIV_SUPERVISOR);
    k.spawn();
    const kernel = k.mapKernel(o.kernelPages);
    write(k, kernel.written, 0, kernel.vpns);
    // Each process starts by touching its pages, as a program initializing its memory:
    // each first touch faults, and the kernel maps the page (an invalid entry filled, no flush).
    for (let p = 0; p < o.processes; p++) {
      if (p > 0) {
        const shared: number[] = [];
        k.spawn(shared);
        write(k, shared, p, []);
        strategy.rootSwitch(k, p);
      }
      returnToUser(k);
      for (let n = 0; n < o.pagesPerProcess; n++) touchNew(k, p);
      enterKernel(k);
    }
    if (o.processes > 1) strategy.rootSwitch(k, 0);
    returnToUser(k);
  };

  api.addSystem({
    name: `${api.id}/run`,
    phase: 'memory',
    run(sim) {
      // Counters restart after the warm-up, so metrics describe the steady state.
      const V = sim.world.store(Vm);
      for (let i = 0; i < vms.length; i++) if (!kernels[i] && V.host[vms[i]]) start(i);
      if (sim.tick === o.warmupTicks && o.warmupTicks > 0) strategy.resetStats();
      // Children whose time is up exit (in the kernel): every page unmapped, the address space flushed.
      for (const c of children.filter((x) => x.exitAt <= sim.tick)) {
        const k = kernels[c.vm]!;
        enterKernel(k);
        if (k.current === c.p) switchTo(k, k.alive().find((x) => x !== c.p)!);
        const gone = k.exit(c.p);
        write(k, gone.map(([, a]) => a), c.p, gone.map(([v]) => v));
        flush(k, c.p, -1);
        returnToUser(k);
        m.processExits.add();
      }
      children = children.filter((x) => x.exitAt > sim.tick);
      for (const k of kernels) {
        if (!k) continue;
        for (let n = rng.poisson(o.switchesPerTick); n > 0; n--) {
          const live = k.alive().filter((p) => p !== k.current);
          if (!live.length) continue;
          enterKernel(k);
          switchTo(k, live[rng.int(live.length)]);
          returnToUser(k);
        }
        for (let n = rng.poisson(o.churnPerTick); n > 0; n--) {
          const p = k.current;
          enterKernel(k);
          const gone = k.munmap(p, o.churnPages);
          for (const [vpn, addr] of gone) write(k, [addr], p, [vpn]);
          // Valid entries were removed: flush them, or the whole space above the ceiling.
          if (gone.length > o.flushCeiling) flush(k, p, -1);
          else for (const [vpn] of gone) flush(k, p, vpn);
          returnToUser(k);
          // mmap reserves the new pages; each faults in on its first touch.
          for (let i = 0; i < o.churnPages; i++) touchNew(k, p);
        }
        for (let n = rng.poisson(o.mprotectPerTick); n > 0; n--) {
          const p = k.current;
          const mapped = k.processes[p].pages;
          if (!mapped.length) break;
          const vpn = mapped[rng.int(mapped.length)];
          enterKernel(k);
          const addr = k.protect(p, vpn, rng.int(2) ? 2 : 0);
          if (addr >= 0) {
            write(k, [addr], p, [vpn]);
            flush(k, p, vpn);
          }
          returnToUser(k);
        }
        for (let n = rng.poisson(o.forksPerTick); n > 0; n--) {
          const p = k.current;
          enterKernel(k);
          const { child, written, parentVpns } = k.fork(p);
          write(k, written, p, parentVpns);
          // The parent's entries lost write permission: its whole address space is flushed.
          flush(k, p, -1);
          returnToUser(k);
          m.forks.add();
          children.push({ vm: kernels.indexOf(k), p: child, exitAt: sim.tick + o.childTicks });
        }
        const p = k.current;
        const pages = k.processes[p].pages;
        if (!pages.length) continue;
        // The tick's system calls, spread evenly among its accesses.
        const calls = o.syscallsPerTick > 0 ? rng.poisson(o.syscallsPerTick) : 0;
        const every = Math.ceil(o.accessesPerTick / (calls + 1));
        let done = 0;
        for (let a = 0; a < o.accessesPerTick; a++) {
          if (done < calls && a > 0 && a % every === 0) {
            m.accesses.add(syscall(k));
            done++;
          }
          const idx = zipf ? Math.min(pages.length, zipf.sample(rng)) - 1 : rng.int(pages.length);
          const vpn = pages[idx];
          if (k.isCow(p, vpn) && rng.next() < o.writeFraction) {
            // A write to a shared page faults: the kernel copies it, rewrites a valid entry, and flushes it.
            enterKernel(k);
            write(k, [k.writeFault(p, vpn)], p, [vpn]);
            flush(k, p, vpn);
            returnToUser(k);
            m.cowFaults.add();
          }
          strategy.access(k, vpn);
        }
        for (; done < calls; done++) m.accesses.add(syscall(k));
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
