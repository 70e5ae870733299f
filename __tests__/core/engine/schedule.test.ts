// The frame order: phases in order, systems ordered by before/after, and the boot
// error for unordered writers of one component.
import { defineComponent } from '../../../core/ecs/world';
import { PHASES, Schedule, ScheduleError } from '../../../core/engine/schedule';

const A = defineComponent('SchedA', 'test', { x: { type: 'f64', description: 'x' } });
const noop = () => {};

describe('Schedule', () => {
  it('runs phases in the documented order whatever the registration order', () => {
    const s = new Schedule();
    s.add({ name: 'm', phase: 'metrics', run: noop }, 'p');
    s.add({ name: 'c', phase: 'control', run: noop }, 'p');
    s.add({ name: 'w', phase: 'workload', run: noop }, 'p');
    expect(s.build().map((x) => x.name)).toEqual(['c', 'w', 'm']);
    expect(PHASES[0]).toBe('control');
  });

  it('orders systems by before and after, and by registration otherwise', () => {
    const s = new Schedule();
    s.add({ name: 'a', phase: 'cpu', run: noop }, 'p');
    s.add({ name: 'b', phase: 'cpu', run: noop, before: ['a'] }, 'q');
    s.add({ name: 'c', phase: 'cpu', run: noop }, 'q');
    s.add({ name: 'd', phase: 'cpu', run: noop, after: ['c'], before: ['a'] }, 'q');
    expect(s.build().map((x) => x.name)).toEqual(['b', 'c', 'd', 'a']);
  });

  it('refuses two unordered writers of one component, naming both', () => {
    const s = new Schedule();
    s.add({ name: 'first', phase: 'memory', run: noop, writes: [A] }, 'plugin.one');
    s.add({ name: 'second', phase: 'memory', run: noop, writes: [A] }, 'plugin.two');
    expect(() => s.build()).toThrow(ScheduleError);
    expect(() => s.build()).toThrow(/'first' \(plugin.one\) and 'second' \(plugin.two\) both write SchedA/);
  });

  it('accepts writers of one component once they are ordered, even transitively', () => {
    const s = new Schedule();
    s.add({ name: 'first', phase: 'memory', run: noop, writes: [A] }, 'p');
    s.add({ name: 'middle', phase: 'memory', run: noop, after: ['first'] }, 'p');
    s.add({ name: 'second', phase: 'memory', run: noop, writes: [A], after: ['middle'] }, 'p');
    expect(s.build().map((x) => x.name)).toEqual(['first', 'middle', 'second']);
  });

  it('reports cycles and unknown names', () => {
    const cyc = new Schedule();
    cyc.add({ name: 'a', phase: 'gpu', run: noop, after: ['b'] }, 'p');
    cyc.add({ name: 'b', phase: 'gpu', run: noop, after: ['a'] }, 'p');
    expect(() => cyc.build()).toThrow(/cycle/);
    const unknown = new Schedule();
    unknown.add({ name: 'a', phase: 'gpu', run: noop, after: ['nope'] }, 'p');
    expect(() => unknown.build()).toThrow(/'nope', which is not in phase 'gpu'/);
  });

  it('refuses duplicate names, unknown phases and additions after boot', () => {
    const s = new Schedule();
    s.add({ name: 'a', phase: 'gpu', run: noop }, 'p');
    expect(() => s.add({ name: 'a', phase: 'cpu', run: noop }, 'q')).toThrow(/added twice/);
    expect(() => s.add({ name: 'z', phase: 'nope' as never, run: noop }, 'q')).toThrow(/unknown phase/);
    s.build();
    expect(() => s.add({ name: 'late', phase: 'cpu', run: noop }, 'q')).toThrow(/after boot/);
  });
});
