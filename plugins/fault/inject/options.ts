// Options of plugin fault.inject, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Failures to inject: at (time), target (the migration's destination host, or the link between its hosts), migration (its id; -1 for every migration in progress at that time). Default: []. */
  readonly failures: ReadonlyArray<{
    readonly "at": number;
    readonly "target": "destination" | "link";
    readonly "migration": number;
  }>;
}
