// Options of plugin migration.compress, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Compression threads (QEMU default 8). Unit: threads. Default: 8. */
  readonly threads: number;
  /** Decompression threads charged to the destination host while a migration runs (QEMU default 2; 0 leaves the destination's cost out). Unit: threads. Default: 0. */
  readonly decompressThreads: number;
  /** Input bytes one thread compresses per second. Unit: bytes/s. Default: 100000000. */
  readonly threadThroughput: number;
  /** Compressed size over original size of each page class (zero-filled pages shrink to almost nothing; random data does not compress). Default: {"zero":0.01,"code":0.55,"data":0.35,"random":1}. */
  readonly classRatios: {
    readonly "zero": number;
    readonly "code": number;
    readonly "data": number;
    readonly "random": number;
  };
}
