// What the register-mapping strategies share: the order in which they hand out homes.

import { GUEST_REGISTERS, type RegisterUsage } from 'virtlab';

/** Guest registers 1–63 that were accessed, hottest first (ties by number, so placements are deterministic). */
export function byHotness(usage: RegisterUsage, include: (r: number) => boolean = () => true): number[] {
  const regs: number[] = [];
  for (let r = 1; r < GUEST_REGISTERS; r++) if (usage.weight[r] > 0 && include(r)) regs.push(r);
  return regs.sort((a, b) => usage.weight[b] - usage.weight[a] || a - b);
}
