// Region formation for dbt.instrew: the unit of translation is a guest function (or
// what is reachable from an entry) rather than one basic block. From the entry pc
// the former follows every static edge — fall-throughs, branch targets, direct
// jumps, and (when guest calls map to host calls) the return address after a call —
// lifting each basic block once and splitting a block when a later edge lands inside
// it. Indirect jumps, returns and what the interpreter must run end the exploration
// along that path; the callees of direct calls are reported, so that they can be
// translated in the same module. Given the interpreter's profile, only blocks that
// have run are followed: cold paths of large code (error handling, rare cases) are
// not translated until they run often enough to become regions of their own.

import { BlockLifter, directTargets, Unit, type Block } from 'virtlab';

export interface RegionLimits {
  /** Most guest instructions in one region. */
  readonly maxInstructions: number;
  /** Most basic blocks in one region. */
  readonly maxBlocks: number;
  /** Follow the return address of calls (guest calls are host calls). */
  readonly followReturns: boolean;
  /** Targets seen for the indirect jump at a pc (before translation), to follow too. */
  readonly indirectTargets?: (pc: number) => readonly number[];
  /**
   * Whether the block at a pc has run (the interpreter's profile while the code was
   * cold): given, the region keeps only blocks that have, and an edge to one that has
   * not leaves the region through its chain slot.
   */
  readonly ran?: (pc: number) => boolean;
  /**
   * Whether an installed unit starts at a pc: given, the region translates at most
   * `maxRetranslated` instructions of such units again (enough to keep a small loop it
   * falls into inside it) and otherwise leaves there, chaining to the installed unit.
   * Code an installed unit holds past its entry is no reason to stop: no unit can be
   * entered there, and a region cut at it makes the next block a region of its own once
   * hot, and so on, cutting a hot loop into one-block units (lz4's match finder, which
   * then crossed a unit boundary every 11 instructions).
   */
  readonly installed?: (pc: number) => boolean;
  readonly maxRetranslated?: number;
}

export interface Region {
  readonly unit: Unit;
  /** Targets of direct calls in the region. */
  readonly callees: number[];
}

/** Forms the region whose entry is pc. */
export function formRegion(lifter: BlockLifter, pc: number, limits: RegionLimits): Region {
  const unit = new Unit(pc);
  const starts = new Map<number, Block>();
  /** The block holding each lifted instruction's pc. */
  const owner = new Map<number, Block>();
  const callees: number[] = [];
  const queue = [pc];
  const inUnit = (p: number) => owner.has(p);
  let retranslated = 0;
  while (queue.length) {
    const at = queue.shift()!;
    if (starts.has(at)) continue;
    const holder = owner.get(at);
    // A one-block unit is one basic block: an edge into its middle leaves it (for the
    // unit that starts there), as in QEMU, where translation blocks may overlap;
    // splitting would make the unit a loop that its entry count does not count.
    if (holder && limits.maxBlocks === 1) continue;
    if (holder) {
      const tail = lifter.split(unit, holder, at);
      starts.set(at, tail);
      for (let gi = tail.firstGi; gi < tail.firstGi + tail.count; gi++) owner.set(unit.pcs[gi], tail);
      continue;
    }
    if (unit.blocks.length && (unit.guestInstructions >= limits.maxInstructions || unit.blocks.length >= limits.maxBlocks)) continue;
    if (unit.blocks.length && !lifter.fetchable(at)) continue;
    if (unit.blocks.length && limits.ran && !limits.ran(at)) continue;
    const again = unit.blocks.length > 0 && !!limits.installed?.(at);
    if (again && retranslated >= (limits.maxRetranslated ?? 0)) continue;
    const block = lifter.lift(unit, at, inUnit);
    if (again) retranslated += block.count;
    starts.set(at, block);
    if (block.term.k === 'indirect' && limits.indirectTargets && block.count > 0) {
      const cases = limits.indirectTargets(unit.pcs[block.firstGi + block.count - 1]);
      if (cases.length) block.term = { ...block.term, cases };
    }
    for (let gi = block.firstGi; gi < block.firstGi + block.count; gi++) owner.set(unit.pcs[gi], block);
    if (block.term.k === 'call') callees.push(block.term.target);
    for (const next of directTargets(block.term, false, limits.followReturns)) if (!starts.has(next)) queue.push(next);
  }
  return { unit, callees };
}
