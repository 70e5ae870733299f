// Options of plugin migration.adamig, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Switch even a converging pre-copy when its projected remaining time exceeds this many times the time to push the rest once by post-copy (Infinity: only switch what would not converge). Unit: ratio. Default: 1. */
  readonly postcopyGain: number;
  /** Most compression threads AdaMig uses. Unit: threads. Default: 8. */
  readonly maxThreads: number;
}
