// Options of plugin trace.events, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Events kept; later ones are counted but not stored, so that memory stays bounded. Unit: events. Default: 100000. */
  readonly maxEvents: number;
}
