// Options of plugin migration.compress, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Compression threads (QEMU default 8). Unit: threads. Default: 8. */
  readonly threads: number;
  /** Compressed size over original size of the VM's pages. Unit: ratio. Default: 0.5. */
  readonly ratio: number;
  /** Input bytes one thread compresses per second. Unit: bytes/s. Default: 100000000. */
  readonly threadThroughput: number;
}
