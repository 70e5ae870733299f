// Durations and sizes need their units wherever a person writes them: in scenario
// files, host profiles, matrix files and on the command line. Each refusal exits 2 with
// one line naming where the number was written (file:line and key, the `--set`
// argument, or the matrix file with its axis or `set:` entry and the cell). A field
// whose schema says `bareNumber: true` takes a bare number; scenarios built in code
// and recorded configurations (config.json) keep their numbers in base units.
// `--unset` takes a plugin out, so two strategies are compared without editing a file.
//
// Mutations that must break it: refuseBareInFile returning at once (the files' bare
// numbers load as nanoseconds and bytes again); cellOverrides leaving out `origin` (a
// matrix's value is blamed on the command line); the `remove` branch of
// PositionedDocument.set ignored (--unset leaves the plugin selected).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadHostProfile, scenario } from 'virtlab';
import { bareQuantity } from '../../core/units/units';
import { scenarioFromText } from '../../tools/node/testing';
import { matrixCells, MatrixError, readMatrix } from '../../tools/matrix/cells';
import { runCell } from '../../tools/matrix/run-cell';
import { cli } from './run-cli';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-units-in-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DEMO = path.resolve('scenarios/demo.scenario.yaml');

function file(name: string, text: string): string {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  return f;
}

/** Exit status 2, one line of cause (and its hint), matching `line`. */
async function refused(args: string[], line: RegExp, hint?: RegExp) {
  const r = await cli(...args);
  const lines = r.err.split('\n');
  expect(lines[0]).toMatch(line);
  if (hint) expect(lines[1]).toMatch(hint);
  expect(r.code).toBe(2);
  return r;
}

describe('scenario files', () => {
  it('refuses a duration without its unit, at its line, with the unit to write', async () => {
    await refused(['validate', file('dur.scenario.yaml', 'name: x\nduration: 5\n')], /dur\.scenario\.yaml:2:\d+: duration: 5 has no unit; as a bare number it would be 5 ns/, /hint: write the unit: `duration: 5s`/);
  });

  it('refuses a size without its unit, in the core keys, in plugin options and in workloads', async () => {
    await refused(['validate', file('mem.scenario.yaml', 'name: x\nduration: 1s\nvms:\n  - memory: 4\n')], /mem\.scenario\.yaml:4:\d+: vms\.0\.memory: 4 has no unit; as a bare number it would be 4 B/);
    await refused(
      ['validate', file('opt.scenario.yaml', 'name: x\nduration: 1s\nplugins:\n  migration.precopy: { deadline: 600 }\n')],
      /opt\.scenario\.yaml:4:\d+: plugins\.migration\.precopy\.deadline: 600 has no unit; as a bare number it would be 600 ns/,
    );
    await refused(
      ['validate', file('wl.scenario.yaml', 'name: x\nduration: 1s\nvms:\n  - memory: 1GiB\n    workload: { kind: synthetic, workingSet: 4096 }\n')],
      /wl\.scenario\.yaml:5:\d+: vms\.0\.workload\.workingSet: 4096 has no unit; as a bare number it would be 4 KiB/,
      /`workingSet: 4096B`/,
    );
  });

  it('takes zero without a unit, and numbers in other units (counts, ratios)', async () => {
    const r = await cli('validate', file('zero.scenario.yaml', 'name: x\nduration: 1s\nvms:\n  - memory: 1GiB\n    count: 2\n    arrival: 0\nplugins:\n  placement.first-fit: { cpuOvercommit: 2 }\n'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('refuses a bare number given by --set to a plugin option as a mapping, blaming the argument', async () => {
    await refused(['run', DEMO, '--set', 'plugins.migration.precopy={ deadline: 600 }'], /^error: command line, --set plugins\.migration\.precopy=\{"deadline":600\}: plugins\.migration\.precopy\.deadline: 600 has no unit/);
  });
});

describe('where a bare number is meant', () => {
  it('a field marked bareNumber takes one; the same field unmarked does not', () => {
    expect(bareQuantity({ type: 'number', unit: 'bytes', bareNumber: true }, 1500)).toBeUndefined();
    expect(bareQuantity({ type: 'number', unit: 'bytes' }, 1500)).toEqual({ path: [], value: 1500, dim: 'bytes' });
    expect(bareQuantity({ type: 'number', unit: 'Hz' }, 2.6e9)).toBeUndefined();
  });

  it('a host profile writes its MTU bare, and its sizes with units', () => {
    const text = readFileSync('hosts/x86-64-server.host.yaml', 'utf8');
    expect(text).toMatch(/^ {2}mtu: 1500$/m);
    expect(loadHostProfile(text, 'hosts/x86-64-server.host.yaml').nic.mtu).toBe(1500);
    expect(() => loadHostProfile(text.replace('pageSize: 4KiB', 'pageSize: 4096'), 'hosts/x86-64-server.host.yaml')).toThrow(/x86-64-server\.host\.yaml:\d+:\d+: memory\.pageSize: 4096 has no unit/);
  });

  it('a scenario built in code keeps its base units, and so does a recorded config.json', async () => {
    const { scenario: built } = scenarioFromText(scenario('built').preset('minimal').tick(1e6).duration(2e6));
    expect(built.duration).toBe(2e6);
    const out = path.join(tmp, 'again');
    expect((await cli('run', file('rec.scenario.yaml', 'name: rec\npreset: minimal\ntick: 1ms\nduration: 2ms\n'), '--quiet', '--out', out)).code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).scenario.durationNs).toBe(2e6);
    const r = await cli('run', path.join(out, 'config.json'), '--quiet', '--out', path.join(tmp, 'again2'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('matrix files', () => {
  const matrix = (name: string, set: string, axes: string, extra = '') =>
    file(`${name}.matrix.yaml`, `name: ${name}\nscenarios:\n  - file: ${DEMO}\n    set: ${set}\naxes:\n${axes}\nmetrics: { dc.vms.running: { tolerance: 0 } }\n${extra}`);

  it('blames a refused value on the matrix file and its set: entry, with the cell', async () => {
    const m = readMatrix(matrix('badset', '{ duration: 3 }', '  seed: [1]'));
    const r = await runCell(matrixCells(m).cells[0], [], Infinity);
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/badset\.matrix\.yaml, scenarios\.0\.set duration: 3 \(cell demo seed=1\): duration: 3 has no unit/);
    expect(r.error).not.toMatch(/command line/);
  });

  it('blames a refused value on the matrix file and its axis, with the cell', async () => {
    const m = readMatrix(matrix('badaxis', '{ duration: 3s }', '  vms.2.arrival: [1s, 5]'));
    const [ok, bad] = matrixCells(m).cells;
    expect(bad.label).toBe('demo vms.2.arrival=5');
    const r = await runCell(bad, [], Infinity, true);
    expect(r.error).toMatch(/badaxis\.matrix\.yaml, axis vms\.2\.arrival: 5 \(cell demo vms\.2\.arrival=5\): vms\.2\.arrival: 5 has no unit; as a bare number it would be 5 ns\n {2}hint: write the unit, e\.g\. vms\.2\.arrival: 5s$/);
    expect((await runCell(ok, [], Infinity, true)).status).toBe('ok');
  });

  it('refuses a timeout without its unit', () => {
    expect(() => readMatrix(matrix('badtimeout', '{ duration: 3s }', '  seed: [1]', 'timeout: 30\n'))).toThrow(MatrixError);
    expect(() => readMatrix(matrix('badtimeout2', '{ duration: 3s }', '  seed: [1]', 'timeout: 30\n'))).toThrow(/badtimeout2\.matrix\.yaml: timeout: 30 has no unit/);
    expect(readMatrix(matrix('goodtimeout', '{ duration: 3s }', '  seed: [1]', 'timeout: 30s\n')).timeoutMs).toBe(30_000);
  });
});

describe('--unset', () => {
  it('takes a plugin out, so another provider of its capability can take its place', async () => {
    const f = file('swap.scenario.yaml', 'name: swap\npreset: minimal\ntick: 1ms\nduration: 2ms\nplugins:\n  datacenter.racks: {}\n  placement.worst-fit: {}\n');
    const out = path.join(tmp, 'swap');
    const r = await cli('run', f, '--set', 'plugins.placement.first-fit={}', '--unset', 'plugins.placement.worst-fit', '--quiet', '--out', out);
    expect(r.err).toBe('');
    const ids = (JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).plugins as Array<{ id: string }>).map((p) => p.id);
    expect(ids).toContain('placement.first-fit');
    expect(ids).not.toContain('placement.worst-fit');
  });

  it('refuses to remove what the scenario does not have, naming the argument', async () => {
    await refused(['run', DEMO, '--unset', 'plugins.placement.first-fit'], /^error: command line, --unset plugins\.placement\.first-fit: plugins\.placement\.first-fit is not in the scenario, so there is nothing to remove/);
    await refused(['run', DEMO, '--unset', 'duration=5'], /^error: --unset expects a path, got 'duration=5'/);
  });
});
