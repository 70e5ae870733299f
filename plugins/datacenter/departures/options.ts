// Options of plugin datacenter.departures, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Mean time a VM stays, from its first placement (exponentially distributed). Unit: ns. Default: 3600000000000. */
  readonly meanLifetime: number;
}
