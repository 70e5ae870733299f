// Options of plugin mmu.nested-paging, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Cache upper-level page-table entries (a page-walk cache) so that a walk near a recent one reads only its leaf. Default: false. */
  readonly pageWalkCache: boolean;
  /** Cache guest-physical to host-physical translations (a nested TLB), sparing the host walks of recently used guest frames. Default: false. */
  readonly nestedTlb: boolean;
}
