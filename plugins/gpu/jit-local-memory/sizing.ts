// The paper's rule for the size of local arrays, which is also the work-group size of
// a kernel that uses them (Papadimitriou et al., §4): start from the device's maximum
// work-group size (its square root per side for a 2-D index space), quarter it when
// it equals the domain (so that several work-groups share the device), cap it by the
// domain, and shrink it until it divides the domain.

import type { GpuProfile } from 'virtlab';

export function localArraySize(domain: readonly number[], dev: Pick<GpuProfile, 'maxWorkGroupSize'>): number[] {
  const start = domain.length === 1 ? dev.maxWorkGroupSize : Math.floor(Math.sqrt(dev.maxWorkGroupSize));
  return domain.map((d) => {
    let s = start;
    if (s === d) s = Math.floor(s / 4);
    s = Math.max(1, Math.min(s, d));
    while (d % s) s--;
    return s;
  });
}
