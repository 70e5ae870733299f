// Options of plugin workload.guest, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Guest memory given to each program (at most the VM's memory). Unit: bytes. Default: 268435456. */
  readonly memory: number;
  /** Stack size of each program. Unit: bytes. Default: 8388608. */
  readonly stack: number;
  /** Standard output and error kept per program for the results; the rest is counted and dropped. Unit: bytes. Default: 1048576. */
  readonly maxOutput: number;
  /** Timing mode: every guest load and store goes through the selected MMU strategy (an mmu.* plugin) over a guest page table filled by demand faults; translation cycles delay the guest. Default: false. */
  readonly mmuTiming: boolean;
  /** Levels of the guest page table in timing mode (Sv39 3, Sv48 4, Sv57 5). Default: 3. */
  readonly pageTableLevels: 3 | 4 | 5;
}
