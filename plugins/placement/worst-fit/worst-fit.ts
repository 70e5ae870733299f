// Worst fit over the segment tree of free capacity: a branch-and-bound descent for
// the fitting host with the most free memory. A subtree is skipped when it cannot
// hold the VM or when its most free memory is no better than the best host found so
// far; the richer child is visited first so that this bound prunes the other one
// early. Ties go to the lowest rack position, because a later leaf must be strictly
// richer to replace the best.

import type { CapacityIndex } from 'virtlab';

/** Leaf that fits (memory, vcpus) with the most free memory (lowest index on ties), or -1. */
export function worstFit(index: CapacityIndex, memory: number, vcpus: number): number {
  const best = { leaf: -1, memory: -Infinity };
  worstFrom(index, index.root, memory, vcpus, best);
  return best.leaf;
}

function worstFrom(index: CapacityIndex, n: number, memory: number, vcpus: number, best: { leaf: number; memory: number }): void {
  if (!index.mayFit(n, memory, vcpus) || index.maxFreeMemory(n) <= best.memory) return;
  if (index.isLeaf(n)) {
    best.leaf = index.leaf(n);
    best.memory = index.maxFreeMemory(n);
    return;
  }
  const l = index.left(n);
  const r = index.right(n);
  if (index.maxFreeMemory(r) > index.maxFreeMemory(l)) {
    worstFrom(index, r, memory, vcpus, best);
    worstFrom(index, l, memory, vcpus, best);
  } else {
    worstFrom(index, l, memory, vcpus, best);
    worstFrom(index, r, memory, vcpus, best);
  }
}
