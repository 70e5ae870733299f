// Options of plugin workload.paging, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Guest processes per VM. Unit: processes. Default: 4. */
  readonly processes: number;
  /** Pages each process maps at start. Unit: pages. Default: 2048. */
  readonly pagesPerProcess: number;
  /** Levels of the guest page tables (Sv39 3, Sv48 or x86-64 4, LA57 5). Default: 4. */
  readonly guestLevels: 3 | 4 | 5;
  /** How accesses spread over a process's pages. Default: "uniform". */
  readonly distribution: "uniform" | "zipf";
  /** Zipf exponent when distribution is zipf. Default: 1. */
  readonly zipfExponent: number;
  /** Memory accesses simulated per VM and tick. Unit: accesses. Default: 20000. */
  readonly accessesPerTick: number;
  /** Compute cycles between two memory accesses (the inverse of access density). Unit: cycles. Default: 4. */
  readonly cyclesPerAccess: number;
  /** Mean context switches per VM and tick. Unit: switches. Default: 1. */
  readonly switchesPerTick: number;
  /** Mean munmap+mmap events per VM and tick. Unit: events. Default: 0. */
  readonly churnPerTick: number;
  /** Pages unmapped and mapped by one churn event. Unit: pages. Default: 8. */
  readonly churnPages: number;
  /** Ticks after which the counters restart, so that metrics describe the steady state rather than the filling of empty TLBs and shadow tables. Unit: ticks. Default: 5. */
  readonly warmupTicks: number;
  /** Mean forks per VM and tick: a child process that shares the parent's pages copy-on-write, and exits after `childTicks`. Unit: forks. Default: 0. */
  readonly forksPerTick: number;
  /** Ticks a forked child lives before it exits (unmapping everything). Unit: ticks. Default: 5. */
  readonly childTicks: number;
  /** Mean mprotect calls per VM and tick, each changing the permissions of one page (with its flush). Unit: calls. Default: 0. */
  readonly mprotectPerTick: number;
}
