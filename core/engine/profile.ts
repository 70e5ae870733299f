// Where a run's time goes (`virtlab run --profile`): the time spent in each system and
// in each plugin's handler of each synchronous hook, with their call counts. Core reads
// no clock, so the runner hands one in (SimulationOptions.profileClock); a simulation
// without one never comes here, and its step loop is the plain one. Timing changes no
// result: the clock is read around calls, never by the models.
//
// Hook handlers that fire inside a system (a VM placed during admission) count in both
// the system's time and their own line; `nested` marks them so that a reader does not
// add them up twice.

import type { TickInfo } from './hooks';
import type { ScheduledSystem } from './schedule';
import type { SimContext } from './context';

/** One line of a profile. */
export interface ProfileEntry {
  readonly kind: 'system' | 'hook';
  /** The system's name, or `<group>.<hook>` for a hook handler. */
  readonly name: string;
  /** The plugin that added the system or tapped the hook. */
  readonly owner: string;
  readonly calls: number;
  /** Time inside it, in the clock's unit (ms for the CLI). */
  readonly time: number;
  /** Whether some of its calls ran inside a system or another handler (its time is also theirs). */
  readonly nested: boolean;
}

interface Line {
  kind: 'system' | 'hook';
  name: string;
  owner: string;
  calls: number;
  time: number;
  nested: boolean;
}

type Tap = { type?: string; name?: string; fn?: (...args: unknown[]) => unknown };
type Interceptable = { intercept(i: { register?: (tap: Tap) => Tap }): void };

export class RunProfiler {
  private readonly lines: Line[] = [];
  private systemLines: Line[] = [];
  /** Depth of timed calls under way, to tell nested handlers. */
  private depth = 0;

  constructor(private readonly clock: () => number) {}

  /**
   * Times every synchronous handler tapped from now on. Call before any plugin
   * registers: handlers are wrapped as they are tapped, so tapable compiles the wrapped
   * function into the hook's call code once, as it would the plain one.
   */
  watchHooks(hooks: object): void {
    for (const [group, record] of Object.entries(hooks)) {
      for (const [name, hook] of Object.entries(record as Record<string, Interceptable>)) {
        hook.intercept({
          register: (tap) => {
            if (tap.type !== 'sync' || typeof tap.fn !== 'function') return tap;
            const line: Line = { kind: 'hook', name: `${group}.${name}`, owner: tap.name ?? '?', calls: 0, time: 0, nested: false };
            this.lines.push(line);
            const fn = tap.fn;
            return { ...tap, fn: (...args: unknown[]) => this.timed(line, () => fn(...args)) };
          },
        });
      }
    }
  }

  /** Runs one step's systems in order, timing each. */
  runSystems(systems: readonly ScheduledSystem[], sim: SimContext, tick: TickInfo): void {
    if (this.systemLines.length !== systems.length) {
      this.systemLines = systems.map((s) => ({ kind: 'system' as const, name: s.name, owner: s.owner, calls: 0, time: 0, nested: false }));
      this.lines.push(...this.systemLines);
    }
    for (let i = 0; i < systems.length; i++) {
      const run = systems[i].run;
      this.timed(this.systemLines[i], () => run(sim, tick));
    }
  }

  private timed<T>(line: Line, f: () => T): T {
    if (this.depth > 0) line.nested = true;
    this.depth++;
    const t0 = this.clock();
    try {
      return f();
    } finally {
      line.time += this.clock() - t0;
      line.calls++;
      this.depth--;
    }
  }

  /** The lines that were called, most time first (ties by name, for a stable order). */
  entries(): ProfileEntry[] {
    return this.lines
      .filter((l) => l.calls > 0)
      .map((l) => ({ ...l }))
      .sort((a, b) => b.time - a.time || a.name.localeCompare(b.name) || a.owner.localeCompare(b.owner));
  }
}
