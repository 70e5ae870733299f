// A simulation's service container (core/plugin/container.ts): values, factories and
// classes are singletons of their container, a class may inject any service however
// it was bound (before or after it), a factory may use other services, and each
// refusal names the service. Values and factories are served without inversify,
// which the container makes only for the first class.
// Mutations that must break it: caching nothing in `resolve` (a factory called per
// lookup); not binding the earlier values into inversify's container when it is made
// (a class cannot inject them); not binding later values into it; dropping the check
// of a factory that needs itself.
import { inject, injectable, ServiceContainer, ServiceError } from '../../../core/plugin/container';
import { token } from '../../../core/engine/tokens';

interface Clock {
  now(): number;
}
interface Greeter {
  greet(): string;
}
const Name = token<string>('test.container.name');
const ClockTok = token<Clock>('test.container.clock');
const GreeterTok = token<Greeter>('test.container.greeter');
const Late = token<number>('test.container.late');
const LateUser = token<{ late: number }>('test.container.late-user');
const Loop = token<number>('test.container.loop');

@injectable()
class PoliteGreeter implements Greeter {
  constructor(
    @inject(Name) private readonly name: string,
    @inject(ClockTok) private readonly clock: Clock,
  ) {}
  greet(): string {
    return `hello ${this.name} at ${this.clock.now()}`;
  }
}

@injectable()
class UsesLate {
  constructor(@inject(Late) readonly late: number) {}
}

describe('service container', () => {
  it('serves values and factories once each, a factory using other services', () => {
    const c = new ServiceContainer();
    let made = 0;
    c.provide(Name, { useValue: 'ada' }, 'p.name');
    c.provide(ClockTok, { useFactory: (get) => (made++, { now: () => get(Name).length }) }, 'p.clock');
    expect(made).toBe(0);
    expect(c.get(ClockTok).now()).toBe(3);
    expect(c.get(ClockTok)).toBe(c.tryGet(ClockTok));
    expect(made).toBe(1);
    expect(c.has(Name)).toBe(true);
    expect(c.ownerOf(ClockTok)).toBe('p.clock');
  });

  it('builds a class that injects services bound before and after it', () => {
    const c = new ServiceContainer();
    c.provide(Name, { useValue: 'bob' }, 'p.name');
    c.provide(GreeterTok, { useClass: PoliteGreeter }, 'p.greeter');
    c.provide(ClockTok, { useFactory: () => ({ now: () => 7 }) }, 'p.clock');
    c.provide(LateUser, { useClass: UsesLate }, 'p.late-user');
    c.provide(Late, { useValue: 42 }, 'p.late');
    expect(c.get(GreeterTok).greet()).toBe('hello bob at 7');
    expect(c.get(GreeterTok)).toBe(c.get(GreeterTok));
    expect(c.get(LateUser).late).toBe(42);
  });

  it('refuses a second provider, a missing service, and a factory that needs itself', () => {
    const c = new ServiceContainer();
    c.provide(Name, { useValue: 'a' }, 'p.one');
    expect(() => c.provide(Name, { useValue: 'b' }, 'p.two')).toThrow(new ServiceError("p.two provides service 'test.container.name', which p.one already provides; a simulation has one provider per service"));
    expect(() => c.get(ClockTok)).toThrow(/no plugin provides service 'test.container.clock'/);
    expect(c.tryGet(ClockTok)).toBeUndefined();
    expect(c.has(ClockTok)).toBe(false);
    c.provide(Loop, { useFactory: (get) => get(Loop) + 1 }, 'p.loop');
    expect(() => c.get(Loop)).toThrow(/the factory of service 'test.container.loop' needs 'test.container.loop' itself/);
  });
});
