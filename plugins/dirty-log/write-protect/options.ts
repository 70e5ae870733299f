// Options of plugin dirty-log.write-protect, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** A VM exit and re-entry (round trip with the dispatch to the handler). Unit: cycles. Default: 1500. */
  readonly vmExitCycles: number;
  /** Handling an EPT violation on a write-protected page beyond the exit: take the MMU lock, mark the page dirty, make its entry writable. Unit: cycles. Default: 3000. */
  readonly faultCycles: number;
  /** Draining one log entry into the dirty bitmap: Xen's handler looks the page up in the p2m, changes its type and marks it dirty under the paging lock. Unit: cycles. Default: 300. */
  readonly drainEntryCycles: number;
  /** Writing one EPT entry when re-arming: write-protecting it or clearing its A/D bits (found through the reverse map). Unit: cycles. Default: 150. */
  readonly entryCycles: number;
  /** One INVEPT as each vCPU pays it: the kick (an IPI and an exit), the flush, and the TLB refill that follows. Unit: cycles. Default: 6000. */
  readonly inveptCycles: number;
  /** What re-arming write-protects: every page of the VM (Xen's log-dirty CLEAN), or only the pages written since the last re-arm, found through the reverse map (KVM's kvm_get_dirty_log_protect / KVM_CLEAR_DIRTY_LOG). Default: "all-pages". */
  readonly rearm: "all-pages" | "dirtied-pages";
}
