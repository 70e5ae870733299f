// Options of plugin placement.contiguous, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** vCPUs a host may promise per hardware thread. Unit: ratio. Default: 1. */
  readonly cpuOvercommit: number;
  /** Allocation granule of host memory (a large page). Unit: bytes. Default: 2097152. */
  readonly granule: number;
  /** When a VM fits no single free region although a host has the memory free, move the VMs of the cheapest window elsewhere by live migration (needs migration.precopy or migration.postcopy) and place the VM once they have left. Default: true. */
  readonly defragment: boolean;
}
