// Options of plugin migration.xbzrle, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** XBZRLE cache (QEMU default 64 MiB). Unit: bytes. Default: 67108864. */
  readonly cacheSize: number;
  /** Size of an encoded delta relative to a page. Unit: ratio. Default: 0.25. */
  readonly deltaRatio: number;
}
