// First fit over the segment tree of free capacity: descend from the root, left child
// first, skipping every subtree whose maxima cannot hold the VM, so the first leaf
// reached is the lowest rack position that fits. Expected O(log hosts) per VM; the
// two maxima of a node may come from different hosts, which costs a backtrack.

import type { CapacityIndex } from 'virtlab';

/** Lowest leaf index (rack order) that fits (memory, vcpus), or -1. */
export function firstFit(index: CapacityIndex, memory: number, vcpus: number): number {
  return firstFrom(index, index.root, memory, vcpus);
}

function firstFrom(index: CapacityIndex, n: number, memory: number, vcpus: number): number {
  if (!index.mayFit(n, memory, vcpus)) return -1;
  if (index.isLeaf(n)) return index.leaf(n);
  const left = firstFrom(index, index.left(n), memory, vcpus);
  return left >= 0 ? left : firstFrom(index, index.right(n), memory, vcpus);
}
