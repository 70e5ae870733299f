// Options of plugin wss.truth, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Time between two estimates: each one counts the pages seen since the last, then re-arms. Unit: ns. Default: 1000000000. */
  readonly interval: number;
  /** VM groups to watch, by name; empty: every VM with a synthetic workload. Watching a VM tracks its pages one by one. Default: []. */
  readonly groups: ReadonlyArray<string>;
}
