// Option schemas that every MMU strategy shares, referenced from the strategies'
// manifests as `{ "$ref": "virtlab:mmu#/pageWalkCache" }` so they are written once.
// They describe knobs of the shared machinery (mmu.ts): a strategy that takes one
// passes it on to BaseMmu through its MmuContext.

export const MMU_OPTION_FRAGMENTS = {
  pageWalkCache: {
    type: 'boolean',
    default: false,
    description: 'Cache upper-level page-table entries (a page-walk cache) so that a walk near a recent one reads only its leaf.',
  },
} as const;
