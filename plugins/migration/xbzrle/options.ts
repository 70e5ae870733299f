// Options of plugin migration.xbzrle, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** XBZRLE cache (QEMU default 64 MiB). Unit: bytes. Default: 67108864. */
  readonly cacheSize: number;
  /** Size of an encoded delta relative to a page, by what the page holds (the VM's page classes): a rewrite of random content changes every byte, so its delta overflows and the page goes whole (1). Default: {"zero":0.01,"code":0.1,"data":0.25,"random":1}. */
  readonly deltaRatios: {
    readonly "zero": number;
    readonly "code": number;
    readonly "data": number;
    readonly "random": number;
  };
}
