// Options of plugin workload.synthetic, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Guest page size: the granularity of dirty and accessed tracking. Unit: bytes. Default: 4096. */
  readonly pageSize: number;
  /** Track every VM page by page (exact bitmaps) instead of the aggregate model; for small scenarios and for validating the aggregate model. Default: false. */
  readonly detailAll: boolean;
  /** How many accesses a step draws: a Poisson count of the rate times the step (poisson), or exactly the rate times the step (fluid: the deterministic dirtying of byte models such as SimGrid's, and results independent of the tick). Default: "poisson". */
  readonly arrivals: "poisson" | "fluid";
}
