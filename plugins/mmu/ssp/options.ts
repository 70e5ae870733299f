// Options of plugin mmu.ssp, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Cache upper-level page-table entries (a page-walk cache) so that a walk near a recent one reads only its leaf. Default: false. */
  readonly pageWalkCache: boolean;
  /** Guest roots whose shadow roots are kept, so a switch to them needs no VM exit (LRU). Unit: roots. Default: 8. */
  readonly rootBuffer: number;
}
