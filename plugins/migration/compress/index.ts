// migration.compress: multithreaded compression of migrated pages as a migration add-on.
// QEMU's compress capability (8 compression threads and 2 decompression threads by
// default, zlib level 1) compresses each page before sending it. The model:
//   - bytes: the pages a transfer sends (TransferPlan.pageList) each compress by the
//     ratio of what they hold — their class among the VM's page classes (zero, code,
//     data, random; declared on the VM's workload), each class at `classRatios` — so the
//     ratio comes from the VM's contents, and random data does not compress;
//   - rate: the threads compress at most threads × throughput input bytes per second,
//     and only on cores the source host has free: the VMs placed there and other host
//     services keep theirs, so a busy source compresses slower. The flow's cap is at
//     most usableThreads × throughput × ratio × 8 bit/s;
//   - cores: the compression threads are charged to the source host, and the
//     decompression threads to the destination, from the first round until the end.
// A controller (migration.adamig) can switch and retune it per migration; when the
// scenario does not select this plugin, AdaMig registers the add-on itself, off, with
// this plugin's default options.

import { definePlugin, Host, MemoryActivity, pageClassOf, registerMigrationAddon, Vm, type MigrationAddon, type SimContext } from 'virtlab';
import manifest from './plugin.json';
import type { Options } from './options';

/** The add-on's id, under which controllers find it. */
export const COMPRESS = 'migration.compress';

/** Per-migration state of the compression add-on. */
export interface CompressState {
  /** Compression threads on the source. */
  threads: number;
  /** Decompression threads on the destination. */
  decompressThreads: number;
  /** Compressed size over original size, by page class: zero, code, data, random. */
  classRatios: [number, number, number, number];
  /** Input bytes one thread compresses per second. */
  threadBytesPerSecond: number;
}

/** The state the plugin's own defaults give (what AdaMig uses when the scenario does not configure the plugin). */
export function compressStateFrom(o: Options): CompressState {
  const c = o.classRatios;
  return { threads: o.threads, decompressThreads: o.decompressThreads, classRatios: [c.zero, c.code, c.data, c.random], threadBytesPerSecond: o.threadThroughput };
}

/** The manifest's defaults as options. */
export function defaultCompressOptions(): Options {
  const p = manifest.options.properties;
  return { threads: p.threads.default, decompressThreads: p.decompressThreads.default, threadThroughput: p.threadThroughput.default, classRatios: p.classRatios.default };
}

/** Mean compressed size over original size of a list of pages of a VM. */
export function listRatio(sim: SimContext, s: CompressState, vm: number, pages: Uint32Array): number {
  if (!pages.length) return s.classRatios[2];
  const shares = sim.services.get(MemoryActivity).pageClasses(vm);
  let sum = 0;
  for (let i = 0; i < pages.length; i++) sum += s.classRatios[pageClassOf(shares, vm, pages[i])];
  return sum / pages.length;
}

/** Compression threads the source host can run now: cores not used by its VMs or by other host services. */
export function usableThreads(sim: SimContext, s: CompressState, src: number): number {
  const H = sim.world.store(Host);
  const V = sim.world.store(Vm);
  let vmCores = 0;
  for (const vm of sim.world.query([Vm])) if (V.host[vm] === src) vmCores += V.vcpus[vm] * V.cpuDemand[vm];
  // serviceCores holds these threads once they are charged; other services keep the rest.
  const others = Math.max(0, H.serviceCores[src] - s.threads);
  return Math.max(0, Math.min(s.threads, H.cores[src] - vmCores - others));
}

export function compressAddon(sim: SimContext, initial: CompressState): MigrationAddon<CompressState> {
  return {
    id: COMPRESS,
    initial,
    pageBytes: (s, bytes, plan) => bytes * listRatio(sim, s, plan.vm, plan.pageList()),
    rateCap: (s, cap, plan) => {
      // Threads that cannot run compress nothing; keep a trickle so that a flow still ends.
      const threads = Math.max(0.01, usableThreads(sim, s, plan.src));
      return Math.min(cap, threads * s.threadBytesPerSecond * listRatio(sim, s, plan.vm, plan.pageList()) * 8);
    },
    cores: (s) => ({ src: s.threads, dst: s.decompressThreads }),
  };
}

export default definePlugin<Options>((api) => {
  registerMigrationAddon(api, (sim) => compressAddon(sim, compressStateFrom(api.options)));
});
