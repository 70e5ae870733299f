// Region formation for dbt.instrew: the unit of translation is a guest function (or
// what is reachable from an entry) rather than one basic block. From the entry pc
// the former follows every static edge — fall-throughs, branch targets, direct
// jumps, and (when guest calls map to host calls) the return address after a call —
// lifting each basic block once and splitting a block when a later edge lands inside
// it. Indirect jumps, returns and what the interpreter must run end the exploration
// along that path; the callees of direct calls are reported, so that they can be
// translated in the same module. Given the interpreter's profile, only blocks that
// have run are followed: cold paths of large code (error handling, rare cases) are
// not translated until they run often enough to become regions of their own. What
// the size caps or other regions cut off a loop is taken back when it is short and
// leads only back into the region (see RegionLimits.closeLoops).

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
  /**
   * Most instructions a region takes beyond its caps, or again from installed
   * units, to close loops (0: none). An edge that the size caps or the
   * `maxRetranslated` budget refuses is looked at once the region is otherwise
   * formed: if the blocks that ran from there (at most this many instructions in all)
   * lead only back into the region, or out through an indirect jump or a return
   * (which leave through the dispatcher wherever they are), they are translated into
   * it. A loop whose back edge fell beyond the caps, or whose head or part of whose
   * body became another region first (lz4's match loop, cut by a side exit that
   * turned hot later), then runs inside one unit; and a bytecode handler takes the
   * interpreter's dispatch along (SQLite's: advance, bounds check, jump table)
   * instead of chaining through the two units that hold it, once per opcode. Code
   * that goes on to other code that ran is not taken: it would be translated twice
   * for nothing.
   */
  readonly closeLoops?: number;
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
  /** Edges the caps or the retranslation budget refused: looked at once the region is formed. */
  const deferred: number[] = [];
  /** Block starts taken again to close a loop: exempt from the caps and the installed-entry stop. */
  const closing = new Set<number>();
  /** Instructions taken again so far to close loops, against `closeLoops`. */
  let closed = 0;
  const closeLoops = limits.closeLoops ?? 0;
  const grow = () => {
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
      const closes = closing.has(at);
      if (unit.blocks.length && !closes && (unit.guestInstructions >= limits.maxInstructions || unit.blocks.length >= limits.maxBlocks)) {
        if (closeLoops > 0) deferred.push(at);
        continue;
      }
      if (unit.blocks.length && !lifter.fetchable(at)) continue;
      if (unit.blocks.length && limits.ran && !limits.ran(at)) continue;
      const again = unit.blocks.length > 0 && !closes && !!limits.installed?.(at);
      if (again && retranslated >= (limits.maxRetranslated ?? 0)) {
        if (closeLoops > 0) deferred.push(at);
        continue;
      }
      const block = lifter.lift(unit, at, inUnit);
      if (again) retranslated += block.count;
      starts.set(at, block);
      if (block.term.k === 'indirect' && limits.indirectTargets && block.count > 0) {
        const cases = limits.indirectTargets(unit.pcs[block.firstGi + block.count - 1]);
        if (cases.length) block.term = { ...block.term, cases };
      }
      for (let gi = block.firstGi; gi < block.firstGi + block.count; gi++) owner.set(unit.pcs[gi], block);
      if (block.term.k === 'call') callees.push(block.term.target);
      // Code taken to close a loop compares its indirect jump's target with the cases
      // seen and chains to them, but does not bring them in: closing it was judged on
      // the jump as a way out, and a bytecode dispatch's cases are every handler.
      const leaves = closes && block.term.k === 'indirect';
      for (const next of directTargets(block.term, false, limits.followReturns)) if (!starts.has(next) && (!leaves || owner.has(next))) queue.push(next);
    }
  };
  grow();
  // The region is formed: close what loops the refused edges can close, one at a
  // time, growing the region again after each (their successors may split blocks).
  while (deferred.length) {
    const at = deferred.shift()!;
    if (starts.has(at) || closing.has(at) || (limits.ran && !limits.ran(at))) continue;
    if (owner.has(at)) {
      // Lifted since, inside a block: an edge into the region after all (a split).
      queue.push(at);
      grow();
      continue;
    }
    const loop = loopBack(lifter, unit, at, owner, closeLoops - closed, limits);
    if (!loop) continue;
    closed += loop.instructions;
    for (const p of loop.starts) closing.add(p);
    queue.push(at);
    grow();
  }
  return { unit, callees };
}

/** Targets of an indirect jump that a region can branch to inside (see loopBack). */
const FEW_CASES = 16;

/**
 * The block starts that ran from `at` on, if together they hold at most `limit`
 * instructions and every edge out of them that ran goes back into the region or
 * leaves through an indirect jump or a return (at least one of these): the code
 * that closes a loop through `at`. Null otherwise: code the interpreter must run
 * ends it, and so does an edge to code that ran but is in neither.
 */
function loopBack(lifter: BlockLifter, unit: Unit, at: number, owner: ReadonlyMap<number, Block>, limit: number, limits: RegionLimits): { starts: number[]; instructions: number } | null {
  const order = [at];
  const seen = new Set(order);
  let instructions = 0;
  let back = false;
  for (let k = 0; k < order.length; k++) {
    const pc = order[k];
    if (!lifter.fetchable(pc)) return null;
    // A throwaway unit: only the block's length and its terminator are wanted.
    const scratch = new Unit(pc);
    const b = lifter.lift(scratch, pc);
    const t = b.term;
    if (b.count === 0 || t.k === 'interp') return null;
    instructions += b.count;
    if (instructions > limit) return null;
    // A return, or an indirect jump with more targets than a region keeps inside,
    // leaves through the dispatcher wherever it is: taking it along saves the
    // crossings on the way to it. A jump with few targets stays where they are
    // blocks of its region (a small switch, all of whose cases its region holds).
    if (t.k === 'indirect' && !t.cases) {
      const seen = limits.indirectTargets?.(scratch.pcs[b.firstGi + b.count - 1]).length ?? 0;
      if (seen > 0 && seen <= FEW_CASES) return null;
      back = true;
    }
    if (t.k === 'ret') back = true;
    for (const next of directTargets(t, false, limits.followReturns)) {
      if (next === unit.entry || owner.has(next)) back = true;
      else if (!seen.has(next) && (!limits.ran || limits.ran(next))) {
        seen.add(next);
        order.push(next);
      }
    }
  }
  return back ? { starts: order, instructions } : null;
}
