// The nested walker keeps the EPT's accessed and dirty bits: a walk of a guest frame
// through the EPT sets its A bit, the first write sets its D bit, and clearing them
// writes the entries and invalidates (INVEPT), so the next access walks again and sets
// A again — the events PML and PRL log.
//
// Mutations that must break it (each checked once): clearAccessBits without the
// INVEPT flush (the TLB keeps the translation, no walk, the A bit stays clear): "walks
// again after clearing" fails; D set on reads as well: "sets D on the first write
// only" fails.
import { readFileSync } from 'node:fs';
import { GuestKernel, createHooks, type HostProfile, type MmuContext } from '../../core/index.test-exports';
import { loadHostProfile } from '../../core/scenario/loader';
import { WalkResult } from '../../core/models/memory/paging';
import { NestedMmu } from '../../plugins/mmu/nested-paging/nested-paging';

const x86: HostProfile = loadHostProfile(readFileSync('hosts/x86-64-server.host.yaml', 'utf8'), 'hosts/x86-64-server.host.yaml');
const ctx = (): MmuContext => ({ profile: x86, hooks: createHooks(), hostFrames: 1 << 22, pageWalkCache: true, nestedTlb: true });

function setup() {
  const n = new NestedMmu(ctx());
  const k = new GuestKernel(1, 8 + 4096, 4);
  k.spawn();
  k.mmap(0, 8);
  n.attach(k);
  const vpn = k.processes[0].pages[0];
  const g = k.processes[0].table.walk(vpn, new WalkResult()).frame;
  return { n, k, vpn, g, bits: n.accessBits(k) };
}

describe('EPT accessed and dirty bits in nested paging', () => {
  it('sets A on the walk and D on the first write only', () => {
    const { n, k, vpn, g, bits } = setup();
    expect(bits.isAccessed(g)).toBe(false);
    n.access(k, vpn);
    expect(bits.isAccessed(g)).toBe(true);
    expect(bits.isDirty(g)).toBe(false);
    const walk = n.stats.walkRefs;
    n.access(k, vpn, true);
    expect(bits.isDirty(g)).toBe(true);
    // A TLB hit, plus one reference to the leaf EPT entry to set D; the next write none.
    expect(n.stats.walkRefs).toBe(walk);
    const cycles = n.stats.cycles;
    n.access(k, vpn, true);
    const hit = n.stats.cycles - cycles;
    n.access(k, vpn);
    expect(n.stats.cycles - cycles - hit).toBe(hit);
  });

  it('walks again after clearing: the entries written, then INVEPT', () => {
    const { n, k, vpn, g, bits } = setup();
    n.access(k, vpn, true);
    const walks = n.stats.walkRefs;
    expect(n.clearAccessBits(k, [g])).toBe(1);
    expect(bits.isAccessed(g)).toBe(false);
    expect(bits.isDirty(g)).toBe(false);
    expect(n.stats.exits.get('invept')).toBe(1);
    n.access(k, vpn);
    expect(n.stats.walkRefs).toBeGreaterThan(walks);
    expect(bits.isAccessed(g)).toBe(true);
    // Nothing set: nothing written, no INVEPT.
    expect(n.clearAccessBits(k, [k.mem.frames - 1])).toBe(0);
    expect(n.stats.exits.get('invept')).toBe(1);
  });
});
