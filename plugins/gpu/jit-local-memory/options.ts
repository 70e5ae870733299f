// Options of plugin gpu.jit.local-memory, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Turn reductions into work-group tree reductions in local memory (off: the global-memory tree of the baseline). Default: true. */
  readonly reductions: boolean;
  /** Tile loops whose arrays are read by every work-item along one dimension of the work-group (matrix multiplication). Default: true. */
  readonly loopTiles: boolean;
  /** Stage a work-group's block and its halo for arrays read at loop-swept offsets of the work-item's position (stencils, convolutions). Default: true. */
  readonly haloTiles: boolean;
}
