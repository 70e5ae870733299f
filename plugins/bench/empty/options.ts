// Options of plugin bench.empty, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Empty systems added to each phase. Unit: count. Default: 1. */
  readonly systemsPerPhase: number;
  /** Also tap beforeTick and afterTick with empty handlers. Default: true. */
  readonly tapTicks: boolean;
}
