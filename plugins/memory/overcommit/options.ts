// Options of plugin memory.overcommit, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** The wss.* plugin whose estimate sizes the VMs (wss.prl, wss.pml, wss.sampling, wss.truth). Default: "wss.prl". */
  readonly estimator: string;
  /** Memory left above the estimate, as a share of it. Unit: ratio. Default: 0.1. */
  readonly margin: number;
  /** The smallest memory a VM is left with, whatever the estimate. Unit: bytes. Default: 67108864. */
  readonly minimum: number;
  /** Time between two resizings. Unit: ns. Default: 1000000000. */
  readonly period: number;
  /** vCPU stall of one swap-in (a fault, a read from a fast SSD, the mapping). Unit: ns. Default: 50000. */
  readonly swapInNs: number;
  /** VM groups the policy sizes, by name; empty: every VM with a synthetic workload. Default: []. */
  readonly groups: ReadonlyArray<string>;
  /** Pack the VMs onto fewer hosts by their balloon targets: each period, when none of its migrations is in flight, the policy live-migrates every watched VM off the least-loaded host whose VMs fit in the room the other hosts' balloon targets leave (needs a migration method, e.g. migration.precopy). Default: false. */
  readonly consolidate: boolean;
}
