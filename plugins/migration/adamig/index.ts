// migration.adamig: the AdaMig controller. At the end of every pre-copy round that did
// not converge it looks at the dirty rate against the measured bandwidth, at how much
// the remainder shrank, and at the source host's idle cores. A migration that trends
// towards non-convergence first gets compression sized to the idle cores (when there
// are any); if the remainder still does not shrink, the remaining pages move by
// post-copy, which always completes. Each decision is logged with its reason.

import { definePlugin, MigrationController, type RoundContext } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const o = api.options;
  const decide = (ctx: RoundContext) => {
    const m = ctx.migration;
    const last = ctx.last;
    const page = ctx.params.pageSize;
    const dirtyBps = (last.dirtiedPages * page * 8 * 1e9) / last.durationNs;
    const ratio = dirtyBps / Math.max(1, last.bandwidth);
    const prev = m.rounds.length >= 2 ? m.rounds[m.rounds.length - 2] : undefined;
    const shrank = prev ? 1 - last.dirtiedPages / Math.max(1, prev.dirtiedPages) : 1;
    const trending = ratio >= o.ratioThreshold || (prev !== undefined && shrank < o.progressThreshold);
    if (!trending) return;
    const why = `dirty rate ${(ratio * 100).toFixed(0)}% of the bandwidth, remainder ${prev ? `shrank ${(shrank * 100).toFixed(0)}%` : 'not yet measured'}`;
    if (!m.tuning.compression.enabled && ctx.idleCores >= 1) {
      const threads = Math.max(1, Math.min(o.maxThreads, Math.floor(ctx.idleCores)));
      ctx.setTuning(
        (t) => {
          t.compression = { enabled: true, threads, ratio: o.compressionRatio, threadBytesPerSecond: o.threadThroughput };
        },
        `compress with ${threads} threads`,
        `${why}; ${Math.floor(ctx.idleCores)} idle cores on the source`,
      );
      return;
    }
    if (m.rounds.length >= 2) ctx.switchToPostcopy(`${why}${m.tuning.compression.enabled ? ' even with compression' : ', no idle cores to compress'}`);
  };
  api.provide(MigrationController, { useValue: { onRound: decide } });
});
