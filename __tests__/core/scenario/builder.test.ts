// The scenario builder: it writes the document a scenario file holds, which the loader
// accepts; variants of a scenario swap a part by name and keep everything else; an
// edit of a part the scenario lacks is refused instead of silently doing nothing.
import { parse } from 'yaml';
import { scenario, ScenarioBuilder } from 'virtlab';
import { scenarioFile, scenarioFromText } from '../../../tools/node/testing';

const small = scenario('small')
  .duration('2s')
  .tick('100ms')
  .seed(3)
  .hosts({ profile: 'riscv-board', racks: 1, perRack: 2 })
  .vms({ name: 'web', count: 2, memory: '1GiB', workload: { kind: 'synthetic', writesPerSecond: 100 } })
  .plugin('placement.first-fit')
  .plugin('mmu.ssp', { rootBuffer: 4 });

describe('the scenario builder', () => {
  it('builds the document a scenario file holds, and the loader resolves it', () => {
    expect(small.build()).toEqual({
      name: 'small',
      duration: '2s',
      tick: '100ms',
      seed: 3,
      hosts: [{ profile: 'riscv-board', racks: 1, perRack: 2 }],
      vms: [{ name: 'web', count: 2, memory: '1GiB', workload: { kind: 'synthetic', writesPerSecond: 100 } }],
      plugins: { 'placement.first-fit': {}, 'mmu.ssp': { rootBuffer: 4 } },
    });
    expect(parse(small.toYaml())).toEqual(small.build());
    const { scenario: s } = scenarioFromText(small);
    expect([s.duration, s.tick, s.seed, s.vms[0].memory, s.hosts[0].perRack]).toEqual([2e9, 1e8, 3, 2 ** 30, 2]);
    expect(s.plugins).toEqual([
      { id: 'placement.first-fit', options: { cpuOvercommit: 1, memoryOvercommit: 1 } },
      { id: 'mmu.ssp', options: { pageWalkCache: false, rootBuffer: 4 } },
    ]);
  });

  // A builder's document is loaded as data, without writing and parsing its YAML
  // (tools/node/testing.ts); it must resolve exactly as its text does, and an error or
  // an expectation must name the line the text would. Mutation that breaks this test:
  // loading the data without dropping undefined values (asWritten in the loader), or
  // positioning built documents at their first line.
  it('loads a builder as its YAML text would load, errors and expectations at the same lines', () => {
    const variant = small.expect('dc.vms.running', { min: 2 }).record({ series: ['dc.vms.running'] }).edit((d) => {
      // Written as YAML, an undefined value is no key at all (here one the schema would refuse).
      (d as unknown as Record<string, unknown>).unused = undefined;
    });
    const fromData = scenarioFromText(variant).scenario;
    const fromText = scenarioFromText(variant.toYaml()).scenario;
    expect(fromData).toStrictEqual(fromText);
    expect(fromData.expect[0].where).toMatch(/inline\.scenario\.yaml:(\d+):/);
    expect(fromData.expect[0].where).not.toMatch(/:1:1$/);
    const bad = small.set('plugins.mmu.ssp.rootBuffer', 'many');
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    const err = message(() => scenarioFromText(bad));
    expect(err).toMatch(/inline\.scenario\.yaml:\d+:\d+: plugins\.mmu\.ssp\.rootBuffer/);
    expect(err).toBe(message(() => scenarioFromText(bad.toYaml())));
  });

  it('never changes a builder: variants of one base stay apart', () => {
    const before = small.build();
    const a = small.duration('1s').workload('web', { writesPerSecond: 5 });
    const b = small.plugin('mmu.ssp', { rootBuffer: 0 });
    expect(small.build()).toEqual(before);
    expect(a.build().duration).toBe('1s');
    expect(a.build().vms![0].workload).toEqual({ kind: 'synthetic', writesPerSecond: 5 });
    expect(b.build().plugins!['mmu.ssp']).toEqual({ rootBuffer: 0 });
    expect(b.build().duration).toBe('2s');
  });

  it('swaps a plugin in its place, inserts one before another, changes and removes options', () => {
    const swapped = small.swapPlugin('mmu.ssp', 'mmu.shadow-paging').plugin('trace.events', {}, { before: 'mmu.shadow-paging' });
    expect(swapped.pluginIds()).toEqual(['placement.first-fit', 'trace.events', 'mmu.shadow-paging']);
    expect(small.pluginOptions('mmu.ssp', { pageWalkCache: true }).build().plugins!['mmu.ssp']).toEqual({ rootBuffer: 4, pageWalkCache: true });
    expect(small.withoutPlugin('mmu.ssp').pluginIds()).toEqual(['placement.first-fit']);
  });

  it('refuses to edit a plugin, VM group or host group the scenario does not have', () => {
    expect(() => small.pluginOptions('mmu.nested-paging', { nestedTlb: true })).toThrow(/lists no plugin 'mmu.nested-paging' \(it lists: placement.first-fit, mmu.ssp\)/);
    expect(() => small.swapPlugin('mmu.softmmu', 'mmu.btmmu')).toThrow(/lists no plugin 'mmu.softmmu'/);
    expect(() => small.workload('db', { writesPerSecond: 1 })).toThrow(/no VM group "db"/);
    expect(() => small.host(3, { racks: 2 })).toThrow(/no host group 3/);
  });

  it('sets dotted paths as --set does, plugin ids with dots included', () => {
    const s = small.set('plugins.mmu.ssp.rootBuffer', 2).set('vms.0.count', 'two').set('record.every', '1s');
    expect(s.build().plugins!['mmu.ssp']).toEqual({ rootBuffer: 2 });
    expect(s.build().vms![0].count).toBe('two');
    expect(s.build().record).toEqual({ every: '1s' });
  });

  it('starts from a scenario file, with its relative paths made absolute', () => {
    const guests = scenarioFile('scenarios/guest-vms.scenario.yaml').build();
    expect(guests.name).toBe('guest-vms');
    for (const g of guests.vms!) expect(String(g.workload!.program)).toMatch(/^\/.*\/scenarios\/guests\/bin\/[a-z0-9-]+\.elf$/);
    expect(ScenarioBuilder.fromText('name: x\nduration: 1s\n').build()).toEqual({ name: 'x', duration: '1s' });
  });
});
