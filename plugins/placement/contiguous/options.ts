// Options of plugin placement.contiguous, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** vCPUs a host may promise per hardware thread. Unit: ratio. Default: 1. */
  readonly cpuOvercommit: number;
  /** Allocation granule of host memory (a large page). Unit: bytes. Default: 2097152. */
  readonly granule: number;
}
