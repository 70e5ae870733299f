// The options every register-mapping strategy (capability dbt.regmap) shares: the host
// profile the translated code is modelled for. Manifests reference it as
// `{ "$ref": "virtlab:regmap#/host" }`; the enum is the built-in profiles of profile.ts.

import { HOST_PROFILES } from './profile';

export const REGMAP_OPTION_FRAGMENTS = {
  host: {
    enum: Object.keys(HOST_PROFILES),
    default: 'x86-64',
    description: 'Host profile of the host code model: x86-64 (16 integer, 16 × 128-bit SIMD registers), x86-64-avx512 (16 integer, 32 × 512-bit), aarch64 (31 integer, 32 × 128-bit), starved (8 integer, 16 × 128-bit).',
  },
} as const;
