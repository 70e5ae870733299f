// Option schemas that MMU strategies share, referenced from their manifests (those in
// plugins/mmu/ and any outside the repository) as
// `{ "$ref": "virtlab:mmu#/pageWalkCache" }` so they are written once. They describe
// knobs of the shared machinery (mmu.ts), not of one strategy: registerMmu passes
// them on to BaseMmu through the MmuContext. A strategy whose walks never go through
// BaseMmu's page-walk cache (a software TLB refilled by a helper) does not take it.

export const MMU_OPTION_FRAGMENTS = {
  pageWalkCache: {
    type: 'boolean',
    default: false,
    description: 'Cache upper-level page-table entries (a page-walk cache) so that a walk near a recent one reads only its leaf.',
  },
} as const;
