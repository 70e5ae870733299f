// Options of plugin workload.paging, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Guest processes per VM. Unit: processes. Default: 4. */
  readonly processes: number;
  /** Pages each process touches at start; each first touch is a guest page fault that the kernel answers by mapping the page, through page-table writes the MMU strategy sees. Unit: pages. Default: 2048. */
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
  /** Mean munmap+mmap events per VM and tick: the oldest `churnPages` pages are unmapped (then flushed), and as many new pages are mapped on their first touch (no flush: an invalid entry was filled). Unit: events. Default: 0. */
  readonly churnPerTick: number;
  /** Pages unmapped and mapped by one churn event. Above `flushCeiling` the unmap is followed by one full flush of the address space instead of one flush per page. Unit: pages. Default: 8. */
  readonly churnPages: number;
  /** Ticks after which the counters restart, so that metrics describe the steady state rather than the filling of empty TLBs and shadow tables. Unit: ticks. Default: 5. */
  readonly warmupTicks: number;
  /** Mean forks per VM and tick: a child process that shares the parent's pages copy-on-write, and exits after `childTicks`. Unit: forks. Default: 0. */
  readonly forksPerTick: number;
  /** Ticks a forked child lives before it exits (unmapping everything). Unit: ticks. Default: 5. */
  readonly childTicks: number;
  /** Mean mprotect calls per VM and tick, each changing the permissions of one page (with its flush). Unit: calls. Default: 0. */
  readonly mprotectPerTick: number;
  /** Mean system calls per VM and tick that move data between the kernel and the caller (read, write, send, recv, stat): each enters the kernel (a privilege change every strategy sees), touches `syscallKernelAccesses` words of kernel data, copies `syscallCopyPages` user pages with user-memory access opened (RISC-V SUM), and returns to user mode. Fork, munmap/mmap, mprotect, page faults and context switches enter the kernel as well, whatever this rate. Unit: calls. Default: 0. */
  readonly syscallsPerTick: number;
  /** Accesses to kernel data pages (file tables, socket buffers, the scheduler's structures) per system call. Unit: accesses. Default: 40. */
  readonly syscallKernelAccesses: number;
  /** User pages a system call copies to or from (copy_to_user/copy_from_user), one access per 64-byte line: 64 per page. Unit: pages. Default: 1. */
  readonly syscallCopyPages: number;
  /** Kernel data pages, mapped at boot in the kernel half shared by every address space (supervisor only). Unit: pages. Default: 64. */
  readonly kernelPages: number;
  /** A workload mix standing for a class of real programs (plugins/workload/paging/README.md says which). A named mix sets processes, pagesPerProcess, switchesPerTick, churnPerTick, churnPages, forksPerTick, childTicks, mprotectPerTick and syscallsPerTick, replacing those options; `custom` takes them as given. Default: "custom". */
  readonly mix: "custom" | "fork-heavy" | "mmap-heavy" | "switch-heavy" | "tlb-miss-bound" | "syscall-heavy";
  /** Whether the guest tags its address spaces with ASIDs. Without them, every context switch is followed by a flush of the whole address space that was switched out (sfence.vma with no ASID). Default: true. */
  readonly asids: boolean;
  /** Share of accesses that are writes. A write to a page shared copy-on-write since a fork faults: the kernel copies the page, rewrites a valid entry and flushes it. Unit: ratio. Default: 0.3. */
  readonly writeFraction: number;
  /** Pages above which an munmap flushes the whole address space rather than page by page (Linux's tlb_single_page_flush_ceiling, 33). Unit: pages. Default: 33. */
  readonly flushCeiling: number;
}
