// regmap.memory: QEMU's register mapping, the baseline of the host code model. Every
// guest register stays in the CPU state in memory; a translated block loads what it
// reads into host temporaries and stores what it writes (core hostcode/lower.ts).

import { definePlugin, GUEST_REGISTERS, hostProfile, IN_CPU_STATE, RegMapToken, type RegMap } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const regmap: RegMap = {
    id: api.id,
    host: hostProfile(api.options.host),
    place: () => ({ homes: Array.from({ length: GUEST_REGISTERS }, () => IN_CPU_STATE), pack: false }),
  };
  api.provide(RegMapToken, { useValue: regmap });
});
