// Options of plugin mmu.compromis, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Cache upper-level page-table entries (a page-walk cache) so that a walk near a recent one reads only its leaf. Default: false. */
  readonly pageWalkCache: boolean;
}
