// Options of plugin bench.migrate-back, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Migrations each VM makes in all, the first one (requested by someone else) included. Unit: migrations. Default: 2. */
  readonly migrations: number;
}
