// The register-mapping contract (capability `dbt.regmap`): where each guest register
// lives on the host while translated code runs — in the guest CPU state in memory,
// loaded and stored around each use, pinned in a host integer register, or in a
// 64-bit lane of a host SIMD register. A strategy plugin provides one RegMap; the host code model
// (model.ts) asks it for a placement from the profile of the translated units and
// lowers every unit under it (lower.ts). Guest registers are numbered 0–31 for x0–x31
// and 32–63 for f0–f31.

import { token } from '../../../engine/tokens';
import type { HostCodeProfile } from './profile';

/** Where one guest register lives. */
export type Home =
  | { readonly kind: 'memory' }
  | { readonly kind: 'gpr' }
  | { readonly kind: 'lane'; readonly reg: number; readonly lane: number };

export const GUEST_REGISTERS = 64;

export interface Placement {
  /** Home of each guest register (0–31 x, 32–63 f); x0 is never read from anywhere. */
  readonly homes: readonly Home[];
  /** Pack independent isomorphic scalar operations on lane-homed registers into vector operations. */
  readonly pack: boolean;
  /**
   * Run guest FP operations as host scalar FP instructions where their semantics allow
   * (lower.ts says which); absent or false, every FP operation is a softfloat helper
   * call with the guest registers it reads synchronized to the CPU state.
   */
  readonly hostFp?: boolean;
}

/**
 * The profile a strategy places registers from: how often each unit's block ran
 * times each unit's register accesses.
 */
export interface RegisterUsage {
  /** Weighted accesses (reads and writes) of each guest register. */
  readonly weight: Float64Array;
  /**
   * Weighted pairs of registers that independent isomorphic operations of one block
   * read or write at the same operand position ("3,7" → weight): registers a packer
   * wants side by side in one SIMD register. The first of a pair is from the earlier
   * operation.
   */
  readonly affinity: ReadonlyMap<string, number>;
}

/** A register-mapping strategy. */
export interface RegMap {
  readonly id: string;
  /** The host the translated code is modelled for. */
  readonly host: HostCodeProfile;
  /** The placement of guest registers for this host, given the profile. */
  place(usage: RegisterUsage, host: HostCodeProfile): Placement;
}

export const RegMapToken = token<RegMap>('RegMap');

/** The two homes that carry no register number. */
export const IN_CPU_STATE: Home = Object.freeze({ kind: 'memory' });
export const IN_HOST_REGISTER: Home = Object.freeze({ kind: 'gpr' });
