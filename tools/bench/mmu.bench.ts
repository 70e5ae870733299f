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

/** Accesses per second and misses per second of one strategy over `pages` pages. */
function measure(make: () => MmuStrategy, pages: number, accesses: number): { perSecond: number; missesPerSecond: number } {
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
  for (let i = 0; i < accesses; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s.access(k, vpns[x % pages]);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { perSecond: accesses / seconds, missesPerSecond: (s.stats.misses - misses0) / seconds };
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
  console.log('strategy        TLB hits (M accesses/s)   large working set (M accesses/s)   TLB misses (M/s)');
  let minHits = Infinity;
  for (const name of Object.keys(makers)) {
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench of ${name} failed: ${r.stderr}`);
    const { hits, misses } = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<'hits' | 'misses', { perSecond: number; missesPerSecond: number }>;
    minHits = Math.min(minHits, hits.perSecond);
    console.log(
      `${name.padEnd(14)}  ${(hits.perSecond / 1e6).toFixed(1).padStart(12)}              ${(misses.perSecond / 1e6).toFixed(2).padStart(12)}                      ${(misses.missesPerSecond / 1e6).toFixed(2).padStart(8)}`,
    );
  }
  console.log(`slowest strategy on TLB hits: ${(minHits / 1e6).toFixed(1)} M accesses/s (target 20, moonshot 100)`);
}
