// Options of plugin mmu.softmmu, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Entries of the direct-mapped software TLB (QEMU starts at 256 per MMU index and resizes it dynamically with use). Unit: entries. Default: 1024. */
  readonly entries: number;
}
