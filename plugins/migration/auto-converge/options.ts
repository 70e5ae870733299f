// Options of plugin migration.auto-converge, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** First throttle. Unit: ratio. Default: 0.2. */
  readonly initial: number;
  /** Throttle added at each further trigger. Unit: ratio. Default: 0.1. */
  readonly increment: number;
  /** Dirtied bytes over sent bytes of a round above which the guest is throttled. Unit: ratio. Default: 0.5. */
  readonly trigger: number;
}
