// Hostile input that once hung or grew without bound: each case feeds the input and
// checks the exit status and the one-line refusal, or that the behaviour stays
// bounded. Refusals come before any allocation, so no case here needs gigabytes. (The
// cases that run guests or spawn the CLI are in bounds-guests.test.ts, slow tier.)
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { limits, scenario, Simulation, estimateWork, type BootPhase } from 'virtlab';
import { runMatrix } from '../../tools/matrix/matrix';
import { scenarioFile, scenarioFromText, writeScenario } from '../../tools/node/testing';
import { cli } from './run-cli';

const G = 'scenarios/guests';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-bounds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DEMO = 'scenarios/demo.scenario.yaml';
const runDemo = (...args: string[]) => cli('run', DEMO, '--quiet', '--out', path.join(tmp, 'demo'), ...args);

describe('sampling', () => {
  // Breaks without the clamp in the loader (record.every stays 1 ns); without the
  // one-step advance in Simulation.step the run takes 10^8 steps per tick.
  it('samples at most once per tick: record.every shorter than the tick is the tick', async () => {
    const out = path.join(tmp, 'every');
    const r = await cli('run', DEMO, '--quiet', '--out', out, '--set', 'tick=100ms', '--set', 'duration=300ms', '--set', 'record.every=1ns', '--set', 'expect={}');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).scenario.record.every).toBe(100e6);
    expect(readFileSync(path.join(out, 'timeseries.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 3);
  });

  it('refuses more samples than the limit, naming record.every', async () => {
    const r = await runDemo('--set', 'duration=1000h', '--set', 'record.every=1s');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/record\.every: 1,000 h sampled every 1 s is 3600000 samples; the limit is 1000000/);
  });
});

describe('sizes refused before anything is allocated', () => {
  it('refuses a --set index far past the end of a list', async () => {
    const r = await runDemo('--set', 'vms.1000000000.count=1');
    expect(r.code).toBe(2);
    // One line naming the path, the list's length and the largest index allowed.
    // Blamed on the command line, which holds the index, not on a line of the scenario.
    expect(r.err.split('\n')[0]).toMatch(/^error: command line, --set vms\.1000000000\.count: .*\b3 entries/);
    expect(r.err).toMatch(/hint: .*\b3\b/);
    // The next index appends a group.
    const ok = await runDemo('--set', 'vms.3={ memory: 1GiB }', '--set', 'duration=1s', '--set', 'expect={}');
    expect(ok.code).toBe(0);
  });

  it.each([
    ['1e9 hosts', ['hosts.0.perRack=500000000'], /hosts: 1,000,000,000 hosts in all \(racks × perRack summed\); the limit is 1,000,000/],
    ['1e7 VMs', ['vms.0.count=10000000'], /vms: 10,000,012 VMs in all \(counts summed\); the limit is 1,000,000/],
    ['1e12 VMs', ['vms.0.count=1000000000000'], /vms: 1,000,000,000,012 VMs in all \(counts summed\); the limit is 1,000,000/],
  ])('refuses %s with the limit', async (_, set, message) => {
    const r = await runDemo(...set.flatMap((s) => ['--set', s]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/Invalid typed array length/);
  });

  it('refuses more VM groups than the limit', async () => {
    const doc = scenario('groups')
      .duration('1s')
      .hosts({ profile: 'x86-64-server' })
      .vms(...Array.from({ length: limits.MAX_GROUPS + 1 }, (_, i) => ({ name: `g${i}`, memory: '1GiB' })));
    const r = await cli('run', writeScenario(tmp, 'groups', doc), '--quiet', '--out', path.join(tmp, 'groups'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/vms: 10001 VM groups; the limit is 10000/);
  });

  it('refuses a scenario file over the size limit before parsing it', async () => {
    const file = path.join(tmp, 'huge.scenario.yaml');
    const pad = '# ' + 'x'.repeat(1 << 20) + '\n';
    const fd = openSync(file, 'w');
    writeSync(fd, 'name: huge\nduration: 1s\n');
    for (let i = 0; i < 9; i++) writeSync(fd, pad);
    closeSync(fd);
    const r = await cli('run', file, '--quiet', '--out', path.join(tmp, 'huge'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/huge\.scenario\.yaml:1:1: the file is \d+ bytes; a scenario may be at most 8388608 bytes/);
  });
});

describe('host files handed to guests', () => {
  it('refuses a device in files: and in exec --mount', async () => {
    const r = await runDemo('--set', 'files={ /z: /dev/zero }');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/files\.\/z: \/dev\/zero is not a regular file \(a character device\)/);
    const e = await cli('exec', '--mount', '/dev/zero:/z', `${G}/bin/crc32.elf`, '2');
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/^error: --mount \/dev\/zero:\/z: \/dev\/zero is not a regular file \(a character device\)/);
  });

  it('refuses a file over the size limit without reading it', async () => {
    // A sparse file: its size is past the limit, its blocks are not allocated.
    const big = path.join(tmp, 'big.bin');
    const fd = openSync(big, 'w');
    closeSync(fd);
    truncateSync(big, limits.MAX_HOST_FILE_BYTES + 1);
    const e = await cli('exec', '--mount', `${big}:/big`, `${G}/bin/crc32.elf`, '2');
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/big\.bin is 268435457 bytes; the limit is 268435456 bytes/);
  });
});

describe('matrices', () => {
  it('counts the cells of a full matrix before building them, and refuses beyond the limit', async () => {
    const file = path.join(tmp, 'huge.matrix.yaml');
    const axes = Array.from({ length: 12 }, (_, i) => `  vms.0.count.x${i}: [${Array.from({ length: 10 }, (_, v) => v + 1).join(', ')}]`).join('\n');
    writeFileSync(file, `name: huge\nscenarios:\n  - file: ${path.resolve(DEMO)}\naxes:\n${axes}\nstrategy: full\nmetrics: { dc.vms.running: { tolerance: 0 } }\n`);
    await expect(runMatrix({ file, workers: 0, out: path.join(tmp, 'huge-matrix'), fresh: true, timeoutMs: Infinity })).rejects.toThrow(
      /strategy full over 10 × 10 × 10 × 10 × 10 × 10 × 10 × 10 × 10 × 10 × 10 × 10 values is 1\.00e\+12 cells; the limit is 100000/,
    );
    const r = await cli('matrix', file, '--quiet', '--out', path.join(tmp, 'huge-matrix'));
    expect(r.code).toBe(2);
  });
});

describe('the work of a matrix cell', () => {
  it('fails a cell beyond the work budget before booting it', async () => {
    const file = path.join(tmp, 'slow.matrix.yaml');
    writeFileSync(file, `name: slow\nscenarios:\n  - file: ${path.resolve(DEMO)}\n    set: { tick: 1ns, duration: 1000h, record.every: 1h, expect: {} }\naxes:\n  seed: [1]\nmetrics: { dc.vms.running: { tolerance: 0 } }\ndeterminismSample: 0\n`);
    const { report } = await runMatrix({ file, workers: 0, out: path.join(tmp, 'slow-matrix'), fresh: true, timeoutMs: Infinity });
    expect(report.cells.map((c) => c.details.join('; '))).toEqual([expect.stringMatching(/3\.60e\+15 ticks × 33 entities is 1\.19e\+17 entity-ticks; the budget is 1e\+10/)]);
  });
});

describe('the work of a run', () => {
  it('estimates ticks × entities before boot', () => {
    const { scenario: s } = scenarioFromText(scenarioFile(DEMO).set('tick', '1ns').set('duration', '1000h').set('record.every', '1h'));
    expect(estimateWork(s)).toEqual({ ticks: 3.6e15, entities: 32, work: 3.6e15 * 33 });
  });

  it('refuses a run beyond the work budget unless --force, before booting it', async () => {
    const r = await runDemo('--set', 'tick=1ns', '--set', 'duration=1000h', '--set', 'record.every=1h');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/3\.60e\+15 ticks of 1 ns × 33 entities \(hosts, VMs, the world\) is 1\.19e\+17 entity-ticks; the budget is 1e\+10/);
    expect(r.err).toMatch(/or --force to run it anyway/);
  });
});

describe('a plugin that hangs boot', () => {

  it('reports each step of boot and the plugin it runs', async () => {
    const { scenario: s, catalog } = scenarioFromText(
      scenario('phases').duration('2ms').tick('1ms').preset('minimal').plugin('user.probe'),
      {},
      undefined,
      ['__tests__/fixtures/user-plugins'],
    );
    const phases: BootPhase[] = [];
    const sim = await Simulation.create({ scenario: s, catalog, onBootPhase: (p) => phases.push(p) });
    expect(phases).toContainEqual({ step: 'register', plugin: 'user.probe' });
    expect(phases).toContainEqual({ step: 'boot', plugin: 'user.probe' });
    expect(phases.at(-1)).toEqual({ step: 'booted', plugin: undefined });
    expect(sim.bootPhase.step).toBe('booted');
  });

});
