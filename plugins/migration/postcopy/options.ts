// Options of plugin migration.postcopy, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Bandwidth cap of a migration (QEMU max-bandwidth: 128 MiB/s). Unit: bit/s. Default: 1073741824. */
  readonly bandwidth: number;
  /** Longest acceptable pause for the final copy of pre-copy (QEMU downtime-limit: 300 ms). Unit: ns. Default: 300000000. */
  readonly downtimeLimit: number;
  /** Pre-copy rounds after which a migration that has not converged ends. Unit: rounds. Default: 30. */
  readonly maxRounds: number;
  /** Time after which a pre-copy migration that has not converged ends. Unit: ns. Default: 600000000000. */
  readonly deadline: number;
  /** What a non-converging pre-copy migration does at its round limit or deadline: give up, or pause the VM and copy the rest however long it takes. Default: "abort". */
  readonly onTimeout: "abort" | "force";
  /** Page size of the dirty log. Unit: bytes. Default: 4096. */
  readonly pageSize: number;
  /** Bytes pre-copy sends for a page the VM never wrote (a zero-page marker). Unit: bytes. Default: 16. */
  readonly zeroPageBytes: number;
  /** Pre-copy's rules: qemu (zero-page markers, the round limit) or simgrid, SimGrid 3.32's model for comparisons with it: every page sent in full, no round limit (the deadline still applies). Default: "qemu". */
  readonly rules: "qemu" | "simgrid";
}
