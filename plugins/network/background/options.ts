// Options of plugin network.background, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Long-lived flows between random host pairs, started at boot. Unit: flows. Default: 0. */
  readonly steadyFlows: number;
  /** Rate cap of each long-lived flow. Unit: bit/s. Default: 1000000000. */
  readonly steadyRate: number;
  /** Mean arrival rate of finite flows. Unit: flows/s. Default: 0. */
  readonly arrivalsPerSecond: number;
  /** Mean size of a finite flow (exponentially distributed). Unit: bytes. Default: 104857600. */
  readonly meanFlowSize: number;
  /** Pick pairs in different racks, so the traffic crosses the uplinks. Default: true. */
  readonly crossRackOnly: boolean;
}
