// Options of plugin migration.schedule, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Migrations to start: at (time), group (VM group name), count (VMs; 0 means all), toRack. Default: []. */
  readonly migrations: ReadonlyArray<{
    readonly "at": number;
    readonly "group": string;
    readonly "count": number;
    readonly "toRack": number;
  }>;
  /** Rack whose VMs all migrate to the next rack at evacuateAt; -1 for none. Unit: rack. Default: -1. */
  readonly evacuateRack: number;
  /** When the evacuation starts. Unit: ns. Default: 0. */
  readonly evacuateAt: number;
}
