// migration.adamig: the AdaMig controller. At the end of every pre-copy round that did
// not converge it takes what the round measured — the dirty rate, the bandwidth the
// flow got, the bytes still to send as the add-ons now encode them, and the source
// host's idle cores (its measured CPU load) — and projects pre-copy forward: with the
// remainder shrinking by ρ = (dirty rate × bytes per page sent) / bandwidth per round,
// it converges in ⌈log(downtime × bandwidth / remainder) / log ρ⌉ more rounds if ρ < 1.
// A migration that would not converge within its round limit and deadline (or whose
// projected pre-copy would take longer than pushing the rest once by post-copy, by a
// margin) is trending towards non-convergence:
//   - first, if the source has idle cores and compression is off, it turns on
//     compression (the migration.compress add-on) with threads sized to the idle cores,
//     and looks again after the next round, with the ratio the pages really compress to;
//   - if it still trends (or there are no idle cores), the remaining pages move by
//     post-copy. Post-copy completes only if nothing fails before its push ends: the
//     switch trades the time saved for that risk, and the guest's slowdown (faults).
// Each decision is logged with the measured quantities that led to it.
//
// AdaMig steers compression through the engine's add-on controls. When the scenario
// selects migration.compress, AdaMig uses that add-on as configured there; otherwise it
// registers the same add-on itself, off, with that plugin's default options.

import { definePlugin, MigrationController, MigrationService, STAGE_LATE, type RoundContext } from 'virtlab';
import { COMPRESS, compressAddon, compressStateFrom, defaultCompressOptions, type CompressState } from '../compress/index';
import type { Options } from './options';

/** Pre-copy's projected future from one round's measurements. */
export interface Projection {
  /** Shrink factor of the remainder per round. */
  readonly rho: number;
  /** More rounds to reach the downtime limit (Infinity if it never does). */
  readonly rounds: number;
  /** Time those rounds take, ns (Infinity if never). */
  readonly timeNs: number;
  /** Time to push the rest once (what post-copy would take), ns. */
  readonly pushNs: number;
}

/** Projects pre-copy from the measured dirty rate, bandwidth and remainder (bytes, bit/s, ns). */
export function project(ctx: RoundContext): Projection {
  const last = ctx.last;
  const page = ctx.params.pageSize;
  const bw = Math.max(1, Math.min(last.bandwidth, ctx.params.bandwidthCap)) / 8; // bytes/s
  const remainingPages = Math.max(1, last.dirtiedPages);
  const perPage = ctx.nextBytes / remainingPages;
  const dirtyPagesPerS = (last.dirtiedPages * 1e9) / last.durationNs;
  const rho = (dirtyPagesPerS * perPage) / bw;
  const pushNs = ((remainingPages * page) / bw) * 1e9;
  const target = (ctx.params.downtimeLimit / 1e9) * bw;
  if (rho >= 1) return { rho, rounds: Infinity, timeNs: Infinity, pushNs };
  const rounds = Math.max(1, Math.ceil(Math.log(target / ctx.nextBytes) / Math.log(rho)));
  // The rounds' lengths form a geometric series starting from the next round's.
  const timeNs = ((ctx.nextBytes / bw) * (1 - Math.pow(rho, rounds))) / (1 - rho) * 1e9;
  return { rho, rounds, timeNs, pushNs };
}

export default definePlugin<Options>((api) => {
  const o = api.options;
  // Late, so that migration.compress (if selected) has registered its add-on first.
  api.hooks.lifecycle.boot.tap({ name: api.id, stage: STAGE_LATE }, (sim) => {
    const engine = sim.services.get(MigrationService);
    if (engine.addons.has(COMPRESS)) return;
    engine.addons.register(compressAddon(sim, compressStateFrom(defaultCompressOptions())), { owner: api.id, enabled: false });
  });
  const decide = (ctx: RoundContext) => {
    const m = ctx.migration;
    const p = project(ctx);
    const roundsLeft = ctx.params.maxRounds - m.round;
    const timeLeft = ctx.params.deadline - (ctx.sim.timeNs - m.startNs);
    const converges = p.rounds <= roundsLeft && p.timeNs <= timeLeft;
    const worthIt = p.timeNs > p.pushNs * o.postcopyGain;
    if (converges && !worthIt) return;
    const f = (ns: number) => (Number.isFinite(ns) ? `${(ns / 1e9).toFixed(1)} s` : 'never');
    const why =
      `dirty rate ${((p.rho * 100) | 0)}% of the bandwidth (ρ ${p.rho.toFixed(2)}), ` +
      (converges ? `pre-copy converges in ${p.rounds} rounds (${f(p.timeNs)}) against ${f(p.pushNs)} to push the rest` : `pre-copy ${Number.isFinite(p.rounds) ? `needs ${p.rounds} rounds, ${roundsLeft} left` : 'does not converge'}`);
    const compressing = ctx.addons.isEnabled(COMPRESS);
    if (!compressing && ctx.idleCores >= 1) {
      const threads = Math.max(1, Math.min(o.maxThreads, Math.floor(ctx.idleCores)));
      ctx.addons.enable<CompressState>(COMPRESS, `compress with ${threads} threads`, `${why}; ${Math.floor(ctx.idleCores)} idle cores on the source`, (s) => {
        s.threads = threads;
      });
      return;
    }
    ctx.switchToPostcopy(`${why}${compressing ? ' even with compression' : ', no idle cores to compress'}`);
  };
  api.provide(MigrationController, { useValue: { onRound: decide } });
});
