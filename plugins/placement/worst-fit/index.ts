// placement.worst-fit: each arriving VM goes to the host with the most free memory
// among those with enough free vCPUs (the lowest rack position on ties), which
// spreads load. The search is a branch-and-bound descent of the segment tree of free
// capacity (core/models/datacenter/capacity-index.ts), not a scan of every host.

import { definePlugin, registerCapacityPlacement } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerCapacityPlacement(api, (index, memory, vcpus) => index.worstFit(memory, vcpus));
});
