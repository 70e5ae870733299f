// Options of plugin migration.compress, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Compression threads (QEMU default 8). Unit: threads. Default: 8. */
  readonly threads: number;
  /** Decompression threads charged to the destination host while a migration runs (QEMU default 2; 0 leaves the destination's cost out). Unit: threads. Default: 0. */
  readonly decompressThreads: number;
  /** Input bytes one thread compresses per second. Unit: bytes/s. Default: 100000000. */
  readonly threadThroughput: number;
  /** Shares of the VM's written pages by class; they need not sum to 1 (they are normalized). Default: {"code":0.1,"data":0.7,"random":0.2}. */
  readonly pageClasses: {
    readonly "code": number;
    readonly "data": number;
    readonly "random": number;
  };
  /** Compressed size over original size of each page class (random data does not compress). Default: {"code":0.55,"data":0.35,"random":1}. */
  readonly classRatios: {
    readonly "code": number;
    readonly "data": number;
    readonly "random": number;
  };
}
