// migration.compress: multithreaded compression of migrated pages as a migration add-on.
// QEMU's compress capability (8 compression threads and 2 decompression threads by
// default, zlib level 1) compresses each page before sending it. The model:
//   - bytes: every data page costs `ratio` of its size, where the ratio is the mix of the
//     VM's page classes (code, data, random) weighted by each class's ratio — random
//     data does not compress;
//   - rate: the threads compress at most threads × throughput input bytes per second, so
//     the flow's cap is at most threads × throughput × ratio × 8 bit/s;
//   - cores: the compression threads are charged to the source host, and the
//     decompression threads to the destination, from the first round until the end.
// A controller (migration.adamig) can switch and retune it per migration; when the
// scenario does not select this plugin, AdaMig registers the add-on itself, off.

import { definePlugin, registerMigrationAddon, type MigrationAddon } from 'virtlab';
import type { Options } from './options';

/** The add-on's id, under which controllers find it. */
export const COMPRESS = 'migration.compress';

/** Per-migration state of the compression add-on. */
export interface CompressState {
  /** Compression threads on the source. */
  threads: number;
  /** Decompression threads on the destination. */
  decompressThreads: number;
  /** Compressed size over original size. */
  ratio: number;
  /** Input bytes one thread compresses per second. */
  threadBytesPerSecond: number;
}

export function compressAddon(initial: CompressState): MigrationAddon<CompressState> {
  return {
    id: COMPRESS,
    initial,
    pageBytes: (s, bytes) => bytes * s.ratio,
    rateCap: (s, cap) => Math.min(cap, s.threads * s.threadBytesPerSecond * s.ratio * 8),
    cores: (s) => ({ src: s.threads, dst: s.decompressThreads }),
  };
}

/** The compressed size over the original size of a mix of page classes. */
export function mixRatio(classes: Options['pageClasses'], ratios: Options['classRatios']): number {
  const shares = { code: classes.code ?? 0, data: classes.data ?? 0, random: classes.random ?? 0 };
  const total = shares.code + shares.data + shares.random;
  if (!total) return ratios.data ?? 1;
  return (shares.code * (ratios.code ?? 1) + shares.data * (ratios.data ?? 1) + shares.random * (ratios.random ?? 1)) / total;
}

export default definePlugin<Options>((api) => {
  const o = api.options;
  registerMigrationAddon(api, compressAddon({ threads: o.threads, decompressThreads: o.decompressThreads, ratio: mixRatio(o.pageClasses, o.classRatios), threadBytesPerSecond: o.threadThroughput }));
});
