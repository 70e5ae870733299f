// MMU benchmark (`npm run bench:mmu`): simulated memory accesses per second through
// the TLB and walk model of each strategy, for TLB hits (a working set within the L1
// TLB's reach) and for misses (a working set far beyond the L2's, every walk going
// through the strategy's real walker and caches), measured in this run. Each
// strategy runs in its own Node process, as it does in a simulation (one strategy
// per run), so one strategy's classes do not slow another's call sites. Prints the
// accesses per second and the TLB misses per second. Target: at least 20 million
// TLB-hit accesses per second for every strategy (moonshot: 100 million).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { GuestKernel, type MmuContext, type MmuStrategy } from 'virtlab';
import { BtMmu } from '../../plugins/mmu/btmmu/btmmu';
import { CompromisMmu } from '../../plugins/mmu/compromis/compromis';
import { NativeMmu } from '../../plugins/mmu/native/native';
import { NestedMmu } from '../../plugins/mmu/nested-paging/nested-paging';
import { ShadowMmu } from '../../plugins/mmu/shadow-paging/shadow-paging';
import { SoftMmu } from '../../plugins/mmu/softmmu/softmmu';
import { SspMmu } from '../../plugins/mmu/ssp/ssp';
import { createHooks } from '../../core/hooks';
import { loadHostProfile } from '../../core/scenario/loader';

const makers: Record<string, (ctx: MmuContext) => MmuStrategy> = {
  native: (c) => new NativeMmu(c),
  'nested-paging': (c) => new NestedMmu(c),
  'shadow-paging': (c) => new ShadowMmu(c),
  ssp: (c) => new SspMmu(c, 8),
  compromis: (c) => new CompromisMmu(c),
  softmmu: (c) => new SoftMmu(c),
  btmmu: (c) => new BtMmu(c),
};

/**
 * Accesses per second and misses per second of one strategy over `pages` pages, per
 * second of this process's CPU time (user + system), so that the figure holds on a
 * machine shared with other work; `wallPerSecond` is the same rate by the wall clock.
 */
function measure(make: () => MmuStrategy, pages: number, accesses: number): { perSecond: number; missesPerSecond: number; wallPerSecond: number } {
  const s = make();
  const k = new GuestKernel(1, pages + 4096, 4);
  k.spawn();
  k.mmap(0, pages);
  s.attach(k);
  const vpns = k.processes[0].pages;
  // Warm up (fills TLBs and shadow tables, lets the JIT settle), then measure a pseudo-random sequence.
  let x = 12345;
  for (let i = 0; i < Math.min(accesses, 200000); i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s.access(k, vpns[x % pages]);
  }
  const misses0 = s.stats.misses;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < accesses; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s.access(k, vpns[x % pages]);
  }
  const cpu = process.cpuUsage(c0);
  const seconds = (cpu.user + cpu.system) / 1e6;
  const wall = (performance.now() - t0) / 1000;
  return { perSecond: accesses / seconds, missesPerSecond: (s.stats.misses - misses0) / seconds, wallPerSecond: accesses / wall };
}

const only = process.argv[2];
if (only) {
  // A child: measure one strategy and print its figures as JSON.
  const profile = loadHostProfile(readFileSync('hosts/x86-64-server.host.yaml', 'utf8'), 'hosts/x86-64-server.host.yaml');
  const ctx: MmuContext = { profile, hooks: createHooks(), hostFrames: 1 << 24, pageWalkCache: false, nestedTlb: false };
  const make = () => makers[only](ctx);
  const hits = measure(make, 32, 5_000_000);
  const misses = measure(make, 200_000, 300_000);
  console.log(JSON.stringify({ hits, misses }));
} else {
  console.log('Rates per second of CPU time of the measuring process (wall-clock rate in brackets).');
  console.log('strategy        TLB hits (M accesses/s)    large working set (M accesses/s)   TLB misses (M/s)');
  let minHits = Infinity;
  for (const name of Object.keys(makers)) {
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench of ${name} failed: ${r.stderr}`);
    const { hits, misses } = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<'hits' | 'misses', { perSecond: number; missesPerSecond: number; wallPerSecond: number }>;
    minHits = Math.min(minHits, hits.perSecond);
    const m = (n: number, d: number) => (n / 1e6).toFixed(d);
    console.log(
      `${name.padEnd(14)}  ${m(hits.perSecond, 1).padStart(8)} [${m(hits.wallPerSecond, 1).padStart(5)}]          ${m(misses.perSecond, 2).padStart(8)} [${m(misses.wallPerSecond, 2)}]                ${m(misses.missesPerSecond, 2).padStart(8)}`,
    );
  }
  console.log(`slowest strategy on TLB hits: ${(minHits / 1e6).toFixed(1)} M accesses/s (target 20, moonshot 100)`);
}
