// Options of plugin regmap.memory, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Host profile of the host code model: x86-64 (16 integer, 16 × 128-bit SIMD registers), x86-64-avx512 (16 integer, 32 × 512-bit), aarch64 (31 integer, 32 × 128-bit), starved (8 integer, 16 × 128-bit). Default: "x86-64". */
  readonly host: "x86-64" | "x86-64-avx512" | "aarch64" | "starved";
}
