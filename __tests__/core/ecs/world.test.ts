// The world: component stores per world, cached queries, growth, snapshots.
import { defineComponent, SimWorld } from '../../../core/ecs/world';

const Pos = defineComponent('Pos', 'test', { x: { type: 'f64', description: 'x' }, y: { type: 'i32', description: 'y' } });
const Tag = defineComponent('Tag', 'test', { v: { type: 'u8', description: 'v' } });

describe('SimWorld', () => {
  it('keeps stores per world', () => {
    const a = new SimWorld();
    const b = new SimWorld();
    const e = a.spawn(Pos);
    a.store(Pos).x[e] = 5;
    b.spawn(Pos);
    expect(b.store(Pos).x[e]).toBe(0);
  });

  it('answers queries in ascending id order and refreshes them after changes', () => {
    const w = new SimWorld();
    const e1 = w.spawn(Pos, Tag);
    const e2 = w.spawn(Pos);
    const e3 = w.spawn(Pos, Tag);
    expect(w.query([Pos, Tag])).toEqual([e1, e3]);
    w.remove(e1, Tag);
    w.add(e2, Tag);
    expect(w.query([Pos, Tag])).toEqual([e2, e3]);
    w.despawn(e3);
    expect(w.query([Pos])).toEqual([e1, e2]);
  });

  it('grows stores past their initial capacity and keeps values', () => {
    const w = new SimWorld();
    const ids: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const e = w.spawn(Pos);
      w.store(Pos).x[e] = i;
      ids.push(e);
    }
    expect(w.capacity).toBeGreaterThan(1000);
    expect(ids.map((e) => w.store(Pos).x[e])).toEqual(ids.map((_, i) => i));
  });

  it('restores entities, membership, fields and id recycling from a snapshot', () => {
    const w = new SimWorld();
    const ids = [w.spawn(Pos), w.spawn(Pos, Tag), w.spawn(Tag)];
    w.store(Pos).x[ids[1]] = 2.5;
    w.despawn(ids[0]);
    const snap = w.snapshot();
    const next1 = w.spawn(Pos);
    w.store(Pos).x[ids[1]] = 99;

    const r = new SimWorld();
    r.store(Pos);
    r.store(Tag);
    r.spawn(Pos);
    r.restore(snap);
    expect(r.query([Pos])).toEqual([ids[1]]);
    expect(r.query([Tag])).toEqual([ids[1], ids[2]]);
    expect(r.store(Pos).x[ids[1]]).toBe(2.5);
    expect(r.spawn(Pos)).toBe(next1); // the same id is recycled next
  });

  it('refuses two components with one name', () => {
    const w = new SimWorld();
    w.store(Pos);
    const Other = defineComponent('Pos', 'dup', { z: { type: 'f64', description: 'z' } });
    expect(() => w.store(Other)).toThrow(/two different components are named 'Pos'/);
  });
});
