// placement.first-fit: each arriving VM goes to the first host, in rack order, with
// enough free vCPUs and memory. The policy is ./first-fit.ts, a descent of the segment
// tree of free capacity that virtlab keeps (CapacityIndex), so it costs O(log hosts),
// not O(hosts).

import { definePlugin, registerCapacityPlacement } from 'virtlab';
import { firstFit } from './first-fit';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerCapacityPlacement(api, firstFit);
});
