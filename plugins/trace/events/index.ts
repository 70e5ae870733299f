// trace.events: an observer that keeps a bounded log of notable events and writes it
// as events.jsonl (one JSON object per line, in simulated-time order) when the run
// finishes. It taps at STAGE_OBSERVE and never changes simulation state.

import { definePlugin, simulationNames, STAGE_OBSERVE, type EntityNames } from 'virtlab';
import type { Options } from './options';

interface TraceEvent {
  readonly t: number;
  readonly type: string;
  readonly [key: string]: unknown;
}

export default definePlugin<Options>((api) => {
  let events: TraceEvent[] = [];
  const dropped = api.counter('trace.events.dropped', 'events', 'Events not stored because maxEvents was reached.');
  const recorded = api.counter('trace.events.recorded', 'events', 'Events stored in events.jsonl.');
  const record = (e: TraceEvent) => {
    if (events.length >= api.options.maxEvents) {
      dropped.add();
      return;
    }
    events.push(e);
    recorded.add();
  };
  const tap = { name: api.id, stage: STAGE_OBSERVE };
  const h = api.hooks;
  // Each event names its VM and hosts as everything else does (app-0, rack0/host1),
  // beside the numeric entity ids that programs join on.
  let names: EntityNames | undefined;
  const named = (e: { vm: number; host?: number; src?: number; dst?: number }) => {
    const n = (names ??= simulationNames(api.sim));
    return {
      vmName: n.vm(e.vm),
      ...(e.host === undefined ? {} : { hostName: n.host(e.host) }),
      ...(e.src === undefined ? {} : { srcName: n.host(e.src) }),
      ...(e.dst === undefined ? {} : { dstName: n.host(e.dst) }),
    };
  };
  h.datacenter.vmPlaced.tap(tap, (e) => record({ t: e.timeNs, type: 'vm-placed', vm: e.vm, host: e.host, ...named(e) }));
  h.datacenter.placementFailed.tap(tap, (e) => record({ t: e.timeNs, type: 'placement-failed', vm: e.vm, reason: e.reason, ...named(e) }));
  h.migration.start.tap(tap, (e) => record({ t: e.timeNs, type: 'migration-start', ...e, ...named(e) }));
  h.migration.round.tap(tap, (e) => record({ t: e.timeNs, type: 'migration-round', ...e, ...named(e) }));
  h.migration.methodSwitch.tap(tap, (e) => record({ t: e.timeNs, type: 'migration-switch', ...e, ...named(e) }));
  h.migration.end.tap(tap, (e) => record({ t: e.timeNs, type: 'migration-end', ...e, ...named(e) }));
  h.lifecycle.finish.tapPromise(api.id, async (f) => {
    f.addFile('events.jsonl', events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : ''));
  });
  api.persist('events', { save: () => events, load: (d) => (events = [...(d as TraceEvent[])]) });
});
