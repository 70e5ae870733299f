// The CLI: commands, exit codes, one-line errors with hints, results folders, and
// the scaffolder whose generated plugin and test work.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './run-cli';


const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('virtlab run', () => {
  it('runs the demo, prints a summary table and writes the results folder', async () => {
    const out = path.join(tmp, 'demo');
    const r = await cli('run', 'scenarios/demo.scenario.yaml', '--out', out, '--set', 'duration=15s');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/dc\.vms\.running\s+24/);
    for (const f of ['config.json', 'metrics.json', 'timeseries.csv', 'summary.md', 'host-timing.json', 'events.jsonl']) {
      expect(existsSync(path.join(out, f))).toBe(true);
    }
    const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
    const worstFit = config.plugins.find((p: { id: string }) => p.id === 'placement.worst-fit');
    expect(worstFit.options).toEqual({ cpuOvercommit: 1, memoryOvercommit: 1 });
    expect(config.scenario.durationNs).toBe(15e9);
    // Numbers for a person, with each metric's description, in the terminal and summary.md.
    expect(r.out).toMatch(/dc\.hosts\.memory-allocated\s+\d+(\.\d+)? GiB\s+Memory allocated to VMs over all hosts\./);
    expect(r.out).toMatch(/^demo: 15 s simulated in /m);
    const summary = readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/\| workload\.reads \| \d{1,3}(,\d{3})+ accesses \| Page reads by synthetic workloads\. \|/);
    const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.metrics['dc.vms.running']).toEqual({ kind: 'gauge', unit: 'count', description: 'VMs placed and running.', value: 24 });
    // Events name VMs and hosts as everything else does, beside their entity ids.
    const placed = JSON.parse(readFileSync(path.join(out, 'events.jsonl'), 'utf8').split('\n')[0]);
    expect(placed).toMatchObject({ type: 'vm-placed', vm: expect.any(Number), vmName: expect.stringMatching(/^[a-z][\w.-]*-\d+$/), hostName: expect.stringMatching(/^rack\d+\/host\d+$/) });
  });

  // Mutation that must break it: printProfile not called, or the profile clock not handed to the simulation.
  it('prints where the time went with --profile, with metrics.json unchanged', async () => {
    const plain = path.join(tmp, 'plain');
    const timed = path.join(tmp, 'timed');
    await cli('run', 'scenarios/demo.scenario.yaml', '--out', plain, '--quiet', '--set', 'duration=15s');
    const r = await cli('run', 'scenarios/demo.scenario.yaml', '--out', timed, '--quiet', '--profile', '--set', 'duration=15s');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^profile: 150 ticks in /m);
    expect(r.out).toMatch(/^system\s+workload\.synthetic\/access\s+workload\.synthetic\s+150\s/m);
    expect(r.out).toMatch(/^hook\*\s+datacenter\.vmPlaced\s+trace\.events\s+24\s/m);
    expect(readFileSync(path.join(timed, 'metrics.json'), 'utf8')).toBe(readFileSync(path.join(plain, 'metrics.json'), 'utf8'));
  });

  it('exits 1 when an expectation fails, naming it and where it was written', async () => {
    const r = await cli('run', 'scenarios/demo.scenario.yaml', '--out', path.join(tmp, 'fail'), '--quiet', '--set', 'duration=1s', '--set', 'vms.0.count=1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/expectation failed: scenarios\/demo.scenario.yaml:\d+:\d+: dc.vms.running = 9, expected \[24, 24\]/);
  });

  it('exits 2 with a one-line cause and a hint, and no stack trace, on bad input', async () => {
    const bad = path.join(tmp, 'bad.scenario.yaml');
    writeFileSync(bad, 'name: bad\nduration: 1s\nplugins:\n  placement.frist-fit: {}\n');
    const r = await cli('run', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: .*bad.scenario.yaml:4:3: plugins.placement.frist-fit: unknown plugin/);
    expect(r.err).toMatch(/hint: did you mean 'placement.first-fit'/);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
    const debug = await cli('run', bad, '--debug');
    expect(debug.err).toMatch(/at .*\.ts:\d+/);
  });

  // Mutation that must break it: checkViewInput (tools/cli/main.ts) returning at once —
  // `view` then serves the page and never returns (the test ends at its timeout).
  it('checks a workload value given by --set or view --compare against its kind’s schema, naming the argument (exit 2)', async () => {
    const cases: Array<[string, RegExp, RegExp?]> = [
      ['vms.0.workload.writesPerSec=5', /vms\.0\.workload\.writesPerSec: unknown property 'writesPerSec'/, /hint: did you mean 'writesPerSecond'\? 'synthetic' workloads take: kind, /],
      ['vms.0.workload.cpu=2', /vms\.0\.workload\.cpu: must be <= 1/],
      ['vms.2.workload.phases.0.readsPerSecond=fast', /vms\.2\.workload\.phases\.0\.readsPerSecond: must be number/],
      ['vms.0.workload.workingSet=4096', /vms\.0\.workload\.workingSet: 4096 has no unit; as a bare number it would be 4 KiB/, /hint: write the unit/],
      ['vms.0.workload={kind: guest}', /vms\.0\.workload: missing required property 'program'/],
      ['vms.0.workload.kind=synthetc', /vms\.0\.workload\.kind: no installed plugin runs 'synthetc' workloads/, /hint: did you mean 'synthetic'\?/],
    ];
    for (const [arg, problem, hint] of cases) {
      for (const [command, flag] of [['run', '--set'], ['view', '--compare']]) {
        const r = await cli(command, 'scenarios/demo.scenario.yaml', flag, arg, ...(command === 'run' ? ['--out', path.join(tmp, 'never'), '--quiet'] : []));
        const [first, second] = r.err.split('\n');
        expect({ command, arg, first }).toEqual({ command, arg, first: expect.stringMatching(new RegExp(`^error: command line, ${flag} ${arg.split('=')[0].replace(/\./g, '\\.')}=.*?: ${problem.source}`)) });
        if (hint) expect({ command, arg, second }).toEqual({ command, arg, second: expect.stringMatching(hint) });
        expect({ command, arg, code: r.code }).toEqual({ command, arg, code: 2 });
      }
    }
    expect(existsSync(path.join(tmp, 'never'))).toBe(false);
  });

  it('finds a user plugin in a folder the scenario names in pluginPaths', async () => {
    const file = path.join(tmp, 'user.scenario.yaml');
    const fixtures = path.resolve('__tests__/fixtures/user-plugins');
    writeFileSync(file, `name: user\nduration: 2ms\ntick: 1ms\npreset: minimal\npluginPaths: [${JSON.stringify(path.relative(tmp, fixtures))}]\nplugins:\n  user.probe: {}\n`);
    const r = await cli('run', file, '--quiet', '--out', path.join(tmp, 'user'));
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(tmp, 'user', 'probe.txt'), 'utf8')).toMatch(/control 1/);
  });

  it('exits 2 on unknown commands and options', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('run', 'scenarios/demo.scenario.yaml', '--seeed', '3')).err).toMatch(/unknown option '--seeed' for run\n  hint: did you mean --seed\?/);
    expect((await cli('run', 'scenarios/demo.scenario.yaml', '--seed', 'x')).code).toBe(2);
  });
});

describe('virtlab report', () => {
  it('writes a self-contained report.html with a chart per time series', async () => {
    const out = path.join(tmp, 'report');
    await cli('run', 'scenarios/demo.scenario.yaml', '--out', out, '--quiet', '--set', 'duration=15s');
    const r = await cli('report', out);
    expect(r.code).toBe(0);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect((html.match(/<svg /g) ?? []).length).toBe(4);
    expect(html).toMatch(/dc\.vms\.running/);
    expect(html).not.toMatch(/<script|https?:\/\//);
    expect((await cli('report', tmp)).err).toMatch(/has no metrics.json/);
  });
});

describe('virtlab validate and plugins', () => {
  it('validates scenarios and plugin folders', async () => {
    const r = await cli('validate', 'scenarios/demo.scenario.yaml', 'plugins');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ok {2}scenario demo/);
    expect(r.out).toMatch(/ok {2}plugin placement.first-fit/);
  });

  it('lists the catalog with capabilities, options, defaults and units', async () => {
    const r = await cli('plugins');
    expect(r.out).toMatch(/placement.first-fit 0.1.0 {2}provides: placement\*/);
    expect(r.out).toMatch(/placement.worst-fit/);
    expect(r.out).toMatch(/cpuOvercommit = 1 ratio/);
  });
});

describe('virtlab new-plugin', () => {
  it('scaffolds a plugin outside the repository whose generated test passes', async () => {
    const dir = path.join(tmp, 'my-plugins', 'hello');
    const r = await cli('new-plugin', 'research.hello', '--dir', path.dirname(dir));
    expect(r.code).toBe(0);
    for (const f of ['plugin.json', 'index.ts', 'options.ts', 'README.md', 'hello.test.ts']) expect(existsSync(path.join(dir, f))).toBe(true);
    expect((await cli('validate', dir)).code).toBe(0);
    const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), path.join(dir, 'hello.test.ts'), '--roots', dir], {
      encoding: 'utf8',
    });
    expect(jest.stderr).toMatch(/1 passed/);
    expect(jest.status).toBe(0);
  });

  it('refuses a malformed id or an existing plugin', async () => {
    expect((await cli('new-plugin', 'Hello')).err).toMatch(/id of the form area.name/);
    expect((await cli('new-plugin', 'placement.first-fit')).err).toMatch(/already exists/);
  });
});

describe('the virtlab command', () => {
  it('runs through its bin script with the exit status of the command', () => {
    const r = spawnSync(process.execPath, ['tools/cli/bin.js', 'run', 'scenarios/demo.scenario.yaml', '--quiet', '--set', 'duration=12s', '--out', path.join(tmp, 'bin')], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(execFileSync(process.execPath, ['tools/cli/bin.js', 'help'], { encoding: 'utf8' })).toMatch(/^virtlab/);
  });
});
