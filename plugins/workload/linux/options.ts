// Options of plugin workload.linux, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Console output kept per VM for the results (console/<vm>.txt); the rest is counted and dropped. Unit: bytes. Default: 1048576. */
  readonly maxConsole: number;
  /** Last console lines of each VM shown in the summary. Default: 4. */
  readonly summaryLines: number;
}
