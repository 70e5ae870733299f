// placement.first-fit: each arriving VM goes to the first host, in rack order, with
// enough free vCPUs and memory. The search runs on a segment tree of free capacity
// (core/models/datacenter/capacity-index.ts), so it costs O(log hosts), not O(hosts).

import { definePlugin, registerCapacityPlacement } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerCapacityPlacement(api, (index, memory, vcpus) => index.firstFit(memory, vcpus));
});
