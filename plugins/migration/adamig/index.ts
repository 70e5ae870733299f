// migration.adamig: the AdaMig controller. At the end of every pre-copy round that did
// not converge it looks at the dirty rate against the measured bandwidth, at how much
// the remainder shrank, and at the source host's idle cores. A migration that trends
// towards non-convergence first gets compression (the migration.compress add-on) sized
// to the idle cores, when there are any; if the remainder still does not shrink, the
// remaining pages move by post-copy, which always completes. Each decision is logged
// with its reason.
//
// AdaMig steers compression through the engine's add-on controls. When the scenario
// selects migration.compress, AdaMig uses that add-on as configured there (and leaves
// it alone while it is on); otherwise it registers the same add-on itself, off, with
// its own assumed ratio and thread throughput, and turns it on when it decides to.

import { definePlugin, MigrationController, MigrationService, STAGE_LATE, type RoundContext } from 'virtlab';
import { COMPRESS, compressAddon, type CompressState } from '../compress/index';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const o = api.options;
  // Late, so that migration.compress (if selected) has registered its add-on first.
  api.hooks.lifecycle.boot.tap({ name: api.id, stage: STAGE_LATE }, (sim) => {
    const engine = sim.services.get(MigrationService);
    if (engine.addons.has(COMPRESS)) return;
    const assumed: CompressState = { threads: o.maxThreads, decompressThreads: 0, ratio: o.compressionRatio, threadBytesPerSecond: o.threadThroughput };
    engine.addons.register(compressAddon(assumed), { owner: api.id, enabled: false });
  });
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
    const compressing = ctx.addons.isEnabled(COMPRESS);
    if (!compressing && ctx.idleCores >= 1) {
      const threads = Math.max(1, Math.min(o.maxThreads, Math.floor(ctx.idleCores)));
      ctx.addons.enable<CompressState>(COMPRESS, `compress with ${threads} threads`, `${why}; ${Math.floor(ctx.idleCores)} idle cores on the source`, (s) => {
        s.threads = threads;
        s.ratio = o.compressionRatio;
        s.threadBytesPerSecond = o.threadThroughput;
      });
      return;
    }
    if (m.rounds.length >= 2) ctx.switchToPostcopy(`${why}${compressing ? ' even with compression' : ', no idle cores to compress'}`);
  };
  api.provide(MigrationController, { useValue: { onRound: decide } });
});
