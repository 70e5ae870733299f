// Options of plugin placement.first-fit, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** vCPUs a host may promise per hardware thread. Unit: ratio. Default: 1. */
  readonly cpuOvercommit: number;
  /** Guest memory a host may promise per byte of physical memory. Unit: ratio. Default: 1. */
  readonly memoryOvercommit: number;
}
