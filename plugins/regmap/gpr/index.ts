// regmap.gpr: the hottest guest integer registers pinned in the host's free integer
// registers (those the profile does not reserve, less `tempGprs` kept for the
// translator's temporaries), the others in the CPU state in memory. Hotness is the
// translator's profile: block runs times register accesses (core
// hostcode/model.ts). FP registers stay in memory: a host integer register cannot
// hold them usefully.

import { definePlugin, IN_HOST_REGISTER, GUEST_REGISTERS, hostProfile, IN_CPU_STATE, RegMapToken, type Home, type RegMap } from 'virtlab';
import { byHotness } from '../common';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const o = api.options;
  const regmap: RegMap = {
    id: api.id,
    host: hostProfile(o.host),
    place(usage, host) {
      const homes: Home[] = Array.from({ length: GUEST_REGISTERS }, () => IN_CPU_STATE);
      const room = Math.max(0, host.gprs - host.reservedGprs - o.tempGprs);
      for (const r of byHotness(usage, (r) => r < 32).slice(0, room)) homes[r] = IN_HOST_REGISTER;
      return { homes, pack: false };
    },
  };
  api.provide(RegMapToken, { useValue: regmap });
});
