// placement.worst-fit: each arriving VM goes to the host with the most free memory
// among those with enough free vCPUs (the lowest rack position on ties), which
// spreads load. The policy is ./worst-fit.ts, a branch-and-bound descent of the
// segment tree of free capacity that virtlab keeps (CapacityIndex), not a scan of
// every host.

import { definePlugin, registerCapacityPlacement } from 'virtlab';
import { worstFit } from './worst-fit';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerCapacityPlacement(api, worstFit);
});
