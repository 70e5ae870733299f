// Options of plugin dbt.block-translator, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Longest basic block translated as one unit; a longer straight line is split. Unit: instructions. Default: 256. */
  readonly maxBlockInstructions: number;
  /** Blocks compiled together in one WebAssembly module on a miss: the missing one and those statically reachable from it. Unit: blocks. Default: 16. */
  readonly batch: number;
  /** Chain direct branches between translated blocks (and look indirect targets up inside WebAssembly); off, every block returns to the JavaScript dispatcher loop. Default: true. */
  readonly chain: boolean;
  /** Full-system code only (virtlab boot --engine block): times a block's entry must be reached before it is translated, the hart's interpreter running it until then; 0 translates every block on first execution, as QEMU does. Unit: executions. Default: 0. */
  readonly systemHotThreshold: number;
}
