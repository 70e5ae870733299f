// Hook contracts: the record is frozen and typed; taps run by stage; bail and
// waterfall hooks follow their documented meaning; tapping after boot is refused.
import path from 'node:path';
import { createHooks } from '../../../core/hooks';
import { STAGE_EARLY, STAGE_LATE } from '../../../core/engine/stages';
import { bootText } from '../../../tools/node/testing';
import { ProbeLog } from '../../fixtures/user-plugins/probe';

const probeDir = path.join(__dirname, '..', '..', 'fixtures', 'user-plugins');
const scenario = (opts = '{}') => `name: hooks
preset: minimal
tick: 1ms
duration: 2ms
plugins:
  user.probe: ${opts}
`;

describe('the hooks record', () => {
  it('is frozen at every level', () => {
    const hooks = createHooks();
    expect(Object.isFrozen(hooks)).toBe(true);
    for (const group of Object.values(hooks)) expect(Object.isFrozen(group)).toBe(true);
    expect(() => {
      (hooks as unknown as Record<string, unknown>).extra = 1;
    }).toThrow();
  });

  it('runs taps by stage, then by tap order', () => {
    const hooks = createHooks();
    const order: string[] = [];
    hooks.datacenter.vmPlaced.tap({ name: 'late', stage: STAGE_LATE }, () => order.push('late'));
    hooks.datacenter.vmPlaced.tap('default', () => order.push('default'));
    hooks.datacenter.vmPlaced.tap({ name: 'early', stage: STAGE_EARLY }, () => order.push('early'));
    hooks.datacenter.vmPlaced.call({ vm: 1, host: 2, timeNs: 0 });
    expect(order).toEqual(['early', 'default', 'late']);
  });

  it('lets the first syscall handler that returns a value answer (bail)', () => {
    const hooks = createHooks();
    const seen: string[] = [];
    hooks.cpu.syscall.tap('pass', () => {
      seen.push('pass');
      return undefined;
    });
    hooks.cpu.syscall.tap('answer', () => 42);
    hooks.cpu.syscall.tap('never', () => {
      seen.push('never');
      return 7;
    });
    const guest = { reg: () => 0n, setReg: () => {}, read: () => new Uint8Array(0), write: () => {} };
    expect(hooks.cpu.syscall.call({ vcpu: 0, number: 1, name: 'syscall 1', args: [], pc: 0, timeNs: 0, guest, chargeNs: 0 })).toBe(42);
    expect(seen).toEqual(['pass']);
  });

  it('passes a unit through every optimization pass in turn (waterfall)', () => {
    const hooks = createHooks();
    type Named = { name: string };
    const pass = (tag: string) => (u: unknown) => ({ name: `${(u as Named).name}+${tag}` }) as never;
    hooks.cpu.optimizeUnit.tap('a', pass('a'));
    hooks.cpu.optimizeUnit.tap('b', pass('b'));
    const ctx = { translator: 't', kind: 'block', entry: 0, enabled: {}, timing: false };
    expect((hooks.cpu.optimizeUnit.call({ name: 'u' } as never, ctx) as unknown as Named).name).toBe('u+a+b');
  });
});

describe('hooks in a simulation', () => {
  it('fire boot once, then per tick before, systems in phase order, after; then finish', async () => {
    const sim = await bootText(scenario(), {}, [probeDir]);
    sim.run();
    const result = await sim.finish();
    const log = sim.services.get(ProbeLog).entries;
    expect(log).toEqual([
      'boot vms=true',
      'early 0',
      'before 0',
      'control 0',
      'metrics 0',
      'after 0',
      'early 1',
      'before 1',
      'control 1',
      'metrics 1',
      'after 1',
    ]);
    expect(result.summary).toMatch(/probe finished/);
    expect(result.files.get('probe.txt')).toMatch(/^boot/);
  });

  it('refuses a tap after boot, naming the hook', async () => {
    const sim = await bootText(scenario('{ tapLate: true }'), {}, [probeDir]);
    expect(() => sim.step()).toThrow(/'too-late' tapped hooks.lifecycle.afterTick after boot/);
  });
});
