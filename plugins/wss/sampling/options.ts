// Options of plugin wss.sampling, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Time between two estimates: each one counts the pages seen since the last, then re-arms. Unit: ns. Default: 1000000000. */
  readonly interval: number;
  /** VM groups to watch, by name; empty: every VM with a synthetic workload. Watching a VM tracks its pages one by one. Default: []. */
  readonly groups: ReadonlyArray<string>;
  /** Pages sampled per interval (VMware ESX samples 100 per period). Unit: pages. Default: 100. */
  readonly samples: number;
  /** A hidden fault on a sampled page: the exit and the re-validation of its mapping. Unit: cycles. Default: 4000. */
  readonly faultCycles: number;
}
