// regmap.simd: Wu et al.'s register mapping. The hottest guest registers live in
// 64-bit lanes of the host's SIMD registers (layout.ts), so the host's few integer
// registers are all left to temporaries; a translated block moves a guest register
// to and from an integer temporary with a lane extract and insert, and independent
// isomorphic operations on lane-homed registers pack into one vector operation
// (core hostcode/lower.ts decides each packing from the modelled cycles). Guest FP
// operations run as host scalar FP instructions on the SIMD registers where RISC-V's
// semantics allow, not as QEMU's softfloat helper calls (lower.ts, fpMode).

import { definePlugin, hostProfile, RegMapToken, type RegMap } from 'virtlab';
import { layout } from './layout';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const o = api.options;
  const regmap: RegMap = {
    id: api.id,
    host: hostProfile(o.host),
    place: (usage, host) => ({ homes: layout(usage, host, o.tempVectors, o.pack), pack: o.pack, hostFp: o.hostFp }),
  };
  api.provide(RegMapToken, { useValue: regmap });
});
