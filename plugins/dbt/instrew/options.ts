// Options of plugin dbt.instrew, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Unit of translation: a function-like region (everything statically reachable from an entry without leaving through an indirect jump or return), or one basic block. Default: "function". */
  readonly region: "function" | "block";
  /** Times an entry pc must be reached before its region is translated (the interpreter runs its basic blocks until then); 0 translates every region on first execution, as Instrew does. Unit: executions. Default: 50. */
  readonly hotThreshold: number;
  /** Most guest instructions in one region. Unit: instructions. Default: 400. */
  readonly maxRegionInstructions: number;
  /** Most basic blocks in one region. Unit: blocks. Default: 48. */
  readonly maxRegionBlocks: number;
  /** With a hot threshold, a region keeps only the basic blocks the interpreter ran while its code was cold, and stops at the entries of installed regions (after maxRetranslated instructions of them): an edge to a block that never ran, or to another region's entry, leaves the region, and its target becomes a region of its own if it gets hot. Off, or with hotThreshold 0, a region follows every static edge, cold paths and other regions' code included. Default: true. */
  readonly profileRegions: boolean;
  /** With profileRegions: most instructions a region translates again that start at installed regions' entries (a small loop it falls into then stays inside it, at the cost of translating it twice); 0 leaves at the first such edge. Unit: instructions. Default: 0. */
  readonly maxRetranslated: number;
  /** With profileRegions: most instructions a region takes beyond its size caps, or again from installed regions, to close loops. An edge that the caps or maxRetranslated refuse is followed after all if the code that ran from there (at most this many instructions in all) leads only back into the region, or out through an indirect jump or a return: a loop whose back edge fell beyond the caps, or whose head or part of whose body became another region first, then runs inside one unit, and a bytecode handler takes the interpreter's dispatch along instead of chaining through the units that hold it. 0 never does (the default: at 64, SQLite enters units 40% less often and lz4 29% less, for 25% and 8% more code translated, but neither ran measurably faster, within a noise of about 10%). Unit: instructions. Default: 0. */
  readonly closeLoops: number;
  /** Regions compiled together in one WebAssembly module on a miss: the missing one and the callees of its direct calls, breadth first. Unit: regions. Default: 1. */
  readonly batch: number;
  /** Keep guest registers, FP flags and the budget in WebAssembly locals across the region (Instrew's fixed-register convention); off, every access goes to the CPU state in memory. Default: true. */
  readonly promoteRegisters: boolean;
  /** Guest calls become host calls and guest returns host returns, checked against the expected return address (call/return mapping); off, calls are jumps and returns go through the dispatcher. Default: true. */
  readonly mapCalls: boolean;
  /** Constant folding and propagation with local value numbering (register reads after writes, operations on constants, identities, repeated expressions, branches on constants). Default: true. */
  readonly fold: boolean;
  /** Redundant load/store elimination: loads of what the block already loaded or stored, and access checks already passed. Default: true. */
  readonly rle: boolean;
  /** Dead-code elimination: unused pure values and register writes overwritten before they can be seen. Default: true. */
  readonly dce: boolean;
  /** Chain jumps between regions through their slots; off, every exit returns to the JavaScript dispatcher loop. Default: true. */
  readonly chain: boolean;
  /** Hand each module to binaryen's optimizer (-O2) before compiling it, as Instrew hands its IR to LLVM (needs the binaryen package; slower translation). Default: false. */
  readonly binaryen: boolean;
  /** Testing aid for `virtlab localize`, never for measurements: bugs to inject into the passes. fold:imm-sign (add-chain takes a negative 12-bit immediate as unsigned), fold:shift-mask (constant 64-bit shifts masked with 31), rle:width-alias (a load forwarded across an aliasing store of another width), dce:cross-unit-store (a store through sp that the unit never loads back is dropped, though another unit reads it). Off (empty) by default. Default: []. */
  readonly inject: ReadonlyArray<"fold:imm-sign" | "fold:shift-mask" | "rle:width-alias" | "dce:cross-unit-store">;
}
