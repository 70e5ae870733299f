// MMU benchmark (`npm run bench:mmu`): simulated memory accesses per second through
// the TLB and walk model of each strategy, for TLB hits (a working set within the L1
// TLB's reach) and for misses (a working set far beyond the L2's), measured in this
// run. Target: at least 20 million TLB-hit accesses per second.

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

const profile = loadHostProfile(readFileSync('hosts/x86-64-server.host.yaml', 'utf8'), 'hosts/x86-64-server.host.yaml');
const ctx: MmuContext = { profile, hooks: createHooks(), hostFrames: 1 << 24, pageWalkCache: false, nestedTlb: false };
const makers: Array<[string, () => MmuStrategy]> = [
  ['native', () => new NativeMmu(ctx)],
  ['nested-paging', () => new NestedMmu(ctx)],
  ['shadow-paging', () => new ShadowMmu(ctx)],
  ['ssp', () => new SspMmu(ctx, 8)],
  ['compromis', () => new CompromisMmu(ctx)],
  ['softmmu', () => new SoftMmu(ctx)],
  ['btmmu', () => new BtMmu(ctx)],
];

function measure(make: () => MmuStrategy, pages: number, accesses: number): number {
  const s = make();
  const k = new GuestKernel(1, pages + 4096, 4);
  k.spawn();
  k.mmap(0, pages);
  s.attach(k);
  const vpns = k.processes[0].pages;
  // Warm up (fills TLBs and shadow tables), then measure a pseudo-random sequence.
  let x = 12345;
  for (let i = 0; i < Math.min(accesses, 200000); i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s.access(k, vpns[x % pages]);
  }
  const t0 = performance.now();
  for (let i = 0; i < accesses; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s.access(k, vpns[x % pages]);
  }
  return accesses / ((performance.now() - t0) / 1000);
}

console.log('strategy        TLB hits (M accesses/s)   TLB misses (M accesses/s)');
let minHits = Infinity;
for (const [name, make] of makers) {
  const hits = measure(make, 32, 5_000_000);
  const misses = measure(make, 200_000, 500_000);
  minHits = Math.min(minHits, hits);
  console.log(`${name.padEnd(14)}  ${(hits / 1e6).toFixed(1).padStart(12)}              ${(misses / 1e6).toFixed(2).padStart(12)}`);
}
console.log(`slowest strategy on TLB hits: ${(minHits / 1e6).toFixed(1)} M accesses/s (target 20)`);
