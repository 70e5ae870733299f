// Host profiles of the host code model (see model.ts): the machine a translated unit
// is lowered for. A profile names the host's integer registers, those the translator
// keeps for itself (stack pointer, the pointer to the guest CPU state, scratches),
// those its calling convention preserves across calls, its SIMD registers and their width, and a cost in cycles for each class of host
// instruction the lowering counts. The costs are per-instruction latencies on the
// dependent path that a translated block mostly is (Agner Fog's instruction tables,
// Intel Skylake and Arm Cortex-A76 columns, rounded): an L1 load 4–5 cycles, a
// register-to-register lane insert or extract 2–3, a simple ALU operation 1.
// Floating-point helper calls (QEMU's softfloat, fpu/softfloat.c) are priced from
// QEMU's own measurement: fp-bench on an Intel Core i7-6700K at 4.0 GHz (QEMU commit
// d9fe9db9, "hardfloat: implement float32/64 comparison") ran cmp-double at 524.77
// MFlops with the hardfloat fast path and 107.12 MFlops with the soft one, that is
// 4000 / 524.77 ≈ 7.6 and 4000 / 107.12 ≈ 37 cycles per operation, each with the call
// and return of the helper. The helper's instruction counts are the same on an
// AArch64 host (the same C code), so the same cycle counts stand there.

/** Classes of host instructions the lowering counts. */
export const HOST_CLASSES = ['alu', 'load', 'store', 'spill', 'reload', 'laneInsert', 'laneExtract', 'vectorAlu', 'fp', 'branch', 'call', 'fpHelper', 'softfloat', 'lowLaneExtract'] as const;
export type HostClass = (typeof HOST_CLASSES)[number];

export interface HostCodeProfile {
  readonly id: string;
  readonly description: string;
  /** Integer registers of the host ISA. */
  readonly gprs: number;
  /** Integer registers the translator reserves (stack, CPU-state pointer, scratch): never allocated. */
  readonly reservedGprs: number;
  /**
   * Allocatable integer registers the host's calling convention preserves across a
   * call. A guest memory access (its slow path is a helper call) and a helper call
   * free every other register, as TCG's allocator does (TCG_OPF_CALL_CLOBBER): a value
   * live across one must sit in one of these or be fetched again after it.
   */
  readonly calleeSavedGprs: number;
  /** SIMD registers. */
  readonly simdRegisters: number;
  /** Width of a SIMD register, bits (a guest register takes a 64-bit lane). */
  readonly simdBits: number;
  /** Three-operand vector instructions (AVX, NEON): no copy before a destructive operation. */
  readonly threeOperand: boolean;
  /**
   * Fused multiply-add in the host's scalar FP instructions (FMA3, NEON fmadd): without
   * it a guest fmadd.d needs softfloat's exact muladd. Every x86-64 host since Haswell
   * (2013) and Piledriver (2012) has FMA3, and the starved profile differs from x86-64
   * only in its integer registers, so every built-in profile has it.
   */
  readonly fma: boolean;
  /**
   * The inline fast path of a guest memory access through a software TLB, besides the
   * access itself: the TLB entry's address from the page number (ALU), the loads of the TLB
   * mask, table base, comparator and addend, and the branch to the slow path.
   */
  readonly tlbFastPath: Readonly<{ alu: number; load: number; branch: number }>;
  /** Modelled cycles of one instruction of each class. */
  readonly costs: Readonly<Record<HostClass, number>>;
}

/** 64-bit lanes in one SIMD register of the profile. */
export function lanesOf(p: HostCodeProfile): number {
  return Math.max(1, Math.floor(p.simdBits / 64));
}

const X86_COSTS: Record<HostClass, number> = {
  alu: 1,
  // An L1 hit on the dependent path (mov r64, [rbp+off]: 4–5 cycles).
  load: 4,
  store: 1,
  spill: 1,
  reload: 4,
  // pinsrq xmm, r64, imm: 2 µops, latency 3; pextrq r64, xmm, imm: 2 µops, latency 3.
  laneInsert: 3,
  laneExtract: 3,
  // Also an xmm-to-xmm lane move (movsd blend, unpcklpd, unpckhpd, shufpd): 1 µop on
  // port 5, latency 1 (Agner Fog's tables, Skylake).
  vectorAlu: 1,
  // addsd, mulsd, vfmadd231sd: latency 4 (Agner Fog's tables, Skylake).
  fp: 4,
  branch: 1,
  // A helper call into the interpreter: call, prologue, state sync in the helper.
  call: 30,
  // A softfloat helper on its hardfloat fast path, call and return included (fp-bench, above).
  fpHelper: 8,
  // A softfloat helper on its soft path: conversions, min/max, a rounding mode other than nearest-even (fp-bench, above).
  softfloat: 37,
  // The lowest lane to an integer register: movq r64, xmm, 1 µop, latency 2 (Agner Fog's tables, Skylake).
  lowLaneExtract: 2,
};

const ARM_COSTS: Record<HostClass, number> = {
  alu: 1,
  load: 4,
  store: 1,
  spill: 1,
  reload: 4,
  // ins v.d[n], x; umov x, v.d[n]: latency 2–3 on Cortex-A76.
  laneInsert: 3,
  laneExtract: 3,
  // Also ins v.d[n], v.d[m] between SIMD registers: latency 2 (Cortex-A76 software optimization guide).
  vectorAlu: 2,
  // fadd, fmul d: latency 2–3; fmadd d: 4 (Cortex-A76 software optimization guide).
  fp: 3,
  branch: 1,
  call: 30,
  fpHelper: 8,
  softfloat: 37,
  // fmov x, d or umov x, v.d[0]: the figure of any lane (above).
  lowLaneExtract: 3,
};

/**
 * The software TLB's inline fast path as TCG emits it (tcg/<host>/tcg-target.c.inc,
 * prepare_host_addr):
 * - x86-64: mov and shr of the address (the TLB index), and with the mask and add of
 *   the table base (both loads from the CPU state), lea and and of the page-aligned
 *   address, cmp with the entry's comparator (a load), jne to the slow path, and the
 *   load of the entry's addend: 4 ALU, 4 loads, 1 branch.
 * - AArch64: ldp of mask and table base, and (with the shift folded in) and add of the
 *   entry's address, ldr of the comparator and of the addend, the page-aligned address
 *   (and), cmp, b.ne: 4 ALU, 3 loads, 1 branch.
 */
const X86_TLB = { alu: 4, load: 4, branch: 1 };
const ARM_TLB = { alu: 4, load: 3, branch: 1 };

/**
 * The built-in profiles, with TCG's register conventions for each host (QEMU
 * tcg/<host>/tcg-target.c.inc, tcg_target_init and tcg_target_callee_save_regs):
 * - x86-64: rsp is reserved and r14 holds the CPU-state pointer (TCG_AREG0), so 14
 *   registers are allocatable; rax, rcx, rdx, rsi, rdi and r8–r11 are call-clobbered,
 *   leaving rbp, rbx, r12, r13 and r15 (5) across calls. Every xmm register is
 *   call-clobbered.
 * - AArch64: sp, x29 (frame), x18 (platform), x16, x17, x30 (TCG's temporaries) and
 *   x19 (TCG_AREG0) are reserved, so 25 are allocatable; of those x20–x28 (9) survive
 *   calls. v8–v15 keep only their low 64 bits across calls.
 * - starved: x86-32's 8 integer registers, esp reserved and ebp the CPU-state
 *   pointer; eax, ecx, edx are call-clobbered, leaving ebx, esi, edi (3).
 */
export const HOST_PROFILES: Readonly<Record<string, HostCodeProfile>> = {
  'x86-64': {
    id: 'x86-64',
    description: 'x86-64 with SSE4.1 and FMA3: 16 integer registers (2 reserved, 5 preserved across calls), 16 × 128-bit xmm registers',
    gprs: 16,
    reservedGprs: 2,
    calleeSavedGprs: 5,
    simdRegisters: 16,
    simdBits: 128,
    threeOperand: false,
    fma: true,
    tlbFastPath: X86_TLB,
    costs: X86_COSTS,
  },
  'x86-64-avx512': {
    id: 'x86-64-avx512',
    description: 'x86-64 with AVX-512: 16 integer registers (2 reserved, 5 preserved across calls), 32 × 512-bit zmm registers',
    gprs: 16,
    reservedGprs: 2,
    calleeSavedGprs: 5,
    simdRegisters: 32,
    simdBits: 512,
    threeOperand: true,
    fma: true,
    tlbFastPath: X86_TLB,
    costs: X86_COSTS,
  },
  aarch64: {
    id: 'aarch64',
    description: 'AArch64 with NEON: 31 integer registers (6 reserved, 9 preserved across calls), 32 × 128-bit v registers',
    gprs: 31,
    reservedGprs: 6,
    calleeSavedGprs: 9,
    simdRegisters: 32,
    simdBits: 128,
    threeOperand: true,
    fma: true,
    tlbFastPath: ARM_TLB,
    costs: ARM_COSTS,
  },
  starved: {
    id: 'starved',
    description: 'a register-starved host: 8 integer registers (2 reserved, 3 preserved across calls), 16 × 128-bit SIMD registers',
    gprs: 8,
    reservedGprs: 2,
    calleeSavedGprs: 3,
    simdRegisters: 16,
    simdBits: 128,
    threeOperand: false,
    fma: true,
    tlbFastPath: X86_TLB,
    costs: X86_COSTS,
  },
};

/** A profile by id, or an error that names the id and lists the known ones. */
export function hostProfile(id: string): HostCodeProfile {
  const p = HOST_PROFILES[id];
  if (!p) throw new Error(`unknown host profile '${id}' (host profiles: ${Object.keys(HOST_PROFILES).join(', ')})`);
  return p;
}
