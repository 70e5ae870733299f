// Options of plugin regmap.simd, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** Host profile of the host code model: x86-64 (16 integer, 16 × 128-bit SIMD registers), x86-64-avx512 (16 integer, 32 × 512-bit), aarch64 (31 integer, 32 × 128-bit), starved (8 integer, 16 × 128-bit). Default: "x86-64". */
  readonly host: "x86-64" | "x86-64-avx512" | "aarch64" | "starved";
  /** SIMD registers kept for floating-point and vector temporaries; the others hold guest registers, one per 64-bit lane. Unit: registers. Default: 4. */
  readonly tempVectors: number;
  /** Pack independent isomorphic 64-bit operations on lane-homed registers into vector operations (when the lane layout makes it cheaper), and lay lanes out for it. Default: true. */
  readonly pack: boolean;
  /** Run guest FP operations as host scalar FP instructions on the SIMD registers where RISC-V's semantics allow (nearest-even or dynamic rounding, compares, min/max, conversions), instead of QEMU's softfloat helper calls. Default: true. */
  readonly hostFp: boolean;
}
