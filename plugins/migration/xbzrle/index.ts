// migration.xbzrle: XBZRLE (Xor-Based Zero Run-Length Encoding) as a migration add-on.
// QEMU keeps a cache of pages it has sent (64 MiB by default); when a page is dirtied
// again and is still in the cache, it sends the XOR of old and new content, run-length
// encoded, instead of the page. The model: from round 1 on, the share of re-sent pages
// that hit the cache is the cache size over the round's dirty set (at most 1), and a hit
// costs deltaRatio of a page. Round 0 (the full copy) has nothing cached to delta
// against. A dirty set far larger than the cache therefore gains little.

import { definePlugin, registerMigrationAddon, STAGE_EARLY, type MigrationAddon } from 'virtlab';
import type { Options } from './options';

/** Per-migration state: the cache size and the size of a delta (a controller may retune both). */
export interface XbzrleState {
  /** bytes */
  cacheBytes: number;
  /** Encoded delta over page size. */
  deltaRatio: number;
}

export function xbzrleAddon(id: string, initial: XbzrleState): MigrationAddon<XbzrleState> {
  return {
    id,
    // Deltas are computed on raw pages, so XBZRLE runs before any compression.
    stage: STAGE_EARLY,
    initial,
    pageBytes(s, bytes, plan) {
      if (plan.round === 0 || plan.pages === 0) return bytes;
      const hit = Math.min(1, s.cacheBytes / (plan.pages * plan.pageSize));
      return bytes * (hit * s.deltaRatio + (1 - hit));
    },
  };
}

export default definePlugin<Options>((api) => {
  registerMigrationAddon(api, xbzrleAddon(api.id, { cacheBytes: api.options.cacheSize, deltaRatio: api.options.deltaRatio }));
});
