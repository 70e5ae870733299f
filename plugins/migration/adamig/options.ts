// Options of plugin migration.adamig, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Dirty rate over bandwidth above which a round counts as not converging. Unit: ratio. Default: 0.6. */
  readonly ratioThreshold: number;
  /** Smallest reduction of the remainder per round that counts as progress. Unit: ratio. Default: 0.2. */
  readonly progressThreshold: number;
  /** Compressed size over original size assumed for the VM pages. Unit: ratio. Default: 0.5. */
  readonly compressionRatio: number;
  /** Input bytes one compression thread handles per second. Unit: bytes/s. Default: 100000000. */
  readonly threadThroughput: number;
  /** Most compression threads AdaMig uses. Unit: threads. Default: 8. */
  readonly maxThreads: number;
}
