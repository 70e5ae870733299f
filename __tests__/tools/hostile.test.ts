// Hostile input to the CLI: each input a new user or an attacker might give is fed to
// the command, and the test checks the exit status (2: bad input) and the one-line
// cause that names the input. Results folders are complete or absent and never mix
// two runs; view's server answers only loopback names and survives bad requests; a
// corrupt stored matrix cell is named and run again. Guest output through pipes is in
// hostile-exec.test.ts (it spawns processes).
//
// Mutations checked to break it: serve.ts answering without the Host check (the
// rebinding request gets 200); writeResults moving files into the existing folder
// instead of renaming the folder (the earlier run's migrations.json survives).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { scenario } from 'virtlab';
import { Vfs, VfsError, ENOTDIR } from '../../core/models/riscv/vfs';
import { defaultResultsDir, safeFolderName } from '../../tools/node/results';
import { writeScenario } from '../../tools/node/testing';
import { runMatrix } from '../../tools/matrix/matrix';
import { isLoopbackHost, pageDigest, pageDir, serveView } from '../../tools/view/serve';
import { cli } from './run-cli';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DEMO = 'scenarios/demo.scenario.yaml';
const CRC = 'scenarios/guests/bin/crc32.elf';
/** A small scenario that runs in a moment. */
const quick = (name: string) => writeScenario(tmp, name, scenario(name).preset('minimal').tick('1ms').duration('2ms'));
/** Writes a hostile file as it would arrive (the text is the input under test). */
function file(name: string, text: string | Uint8Array): string {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  return f;
}
/** Exit status 2, and the first line of stderr matches. */
async function refused(args: string[], line: RegExp) {
  const r = await cli(...args);
  expect(r.err.split('\n')[0]).toMatch(line);
  expect(r.code).toBe(2);
  expect(r.err).not.toMatch(/internal error|at .*\.ts:\d+:\d+\)/);
  return r;
}

describe('--set refuses what is not a scenario path', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s as a path segment, and pollutes nothing', async (seg) => {
    await refused(['run', DEMO, '--set', `${seg}.polluted=1`, '--out', path.join(tmp, 'never')], new RegExp(`--set ${seg}.polluted: '${seg}' is not allowed in a path`));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => scenario('x').set(`${seg}.polluted`, 1)).toThrow(/is not allowed in a path/);
  });

  it('refuses a list index that is not a number, or that is out of range (named as written)', async () => {
    await refused(['run', DEMO, '--set', 'vms.x.count=3'], /^error: command line, --set vms.x.count: vms is a list, 'x' is not an index/);
    const r = await refused(['run', DEMO, '--set', 'vms.99.count=1'], /--set vms.99.count: vms has 3 entries, index 99 is out of range/);
    expect(r.err).not.toMatch(/vms\.10/);
  });

  // Mutation that must break this: refuseBareQuantities skipped (duration=5 is 5 ns again).
  it('refuses a duration or a size without a unit, and blames the command line for a bad value', async () => {
    await refused(['run', DEMO, '--set', 'duration=5'], /^error: command line, --set duration=5: duration: 5 has no unit; as a bare number it would be 5 ns/);
    await refused(['run', DEMO, '--set', 'plugins.placement.worst-fit.cpuOvercommit=x'], /^error: command line, --set plugins.placement.worst-fit.cpuOvercommit=x: /);
    await refused(['run', DEMO, '--set', 'duration=5 parsecs'], /^error: command line, --set duration=5 parsecs: duration: unknown unit 'parsecs'/);
  });

  it('refuses a value that is not YAML, naming the flag', async () => {
    await refused(['run', DEMO, '--set', 'duration=['], /^error: --set duration=\[: the value is not valid YAML: /);
  });
});

describe('scenario files that are garbage', () => {
  it('does not suggest the key that was written', async () => {
    const r = await refused(['run', file('dur.scenario.yaml', 'name: x\nduration: { a: 1 }\n')], /dur.scenario.yaml:2:\d+: duration: must be number/);
    expect(r.err).not.toMatch(/did you mean/);
  });

  it('refuses a tick under the minimum of 1 ns', async () => {
    await refused(['run', file('tick.scenario.yaml', 'name: x\nduration: 1s\ntick: 0.001ns\n')], /tick.scenario.yaml:3:\d+: tick: the tick \(0.001 ns\) is shorter than the minimum tick of 1 ns/);
  });

  it('refuses numbers that are not finite (memory: .inf)', async () => {
    await refused(['run', file('inf.scenario.yaml', 'name: x\nduration: 1s\nvms:\n  - count: 1\n    memory: .inf\n')], /inf.scenario.yaml:5:\d+: vms.0.memory: must be a finite number/);
  });

  it('refuses a billion laughs', async () => {
    let text = 'name: x\nduration: 1s\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 9; i++) text += `l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]\n`;
    await refused(['run', file('laughs.scenario.yaml', text)], /laughs.scenario.yaml:1:1: not a usable YAML document: Excessive alias count/);
  });

  it('refuses a folder given as a scenario', async () => {
    await refused(['run', tmp], /is a folder, not a scenario file/);
    await refused(['validate', path.join(tmp, 'nothing-here')], /no such file/);
  });

  it('names a malformed config.json', async () => {
    const bad = file('config.json', JSON.stringify({ virtlab: '0.1.0', scenario: { tickNs: 1, hosts: 5 }, plugins: [] }));
    await refused(['run', bad], /config.json:1:1: not a usable run configuration \(config.json\): /);
  });

  it('names an unknown record.series metric at its line', async () => {
    const f = writeScenario(tmp, 'series', scenario('series').preset('minimal').tick('1ms').duration('2ms').record({ series: ['nope.metric'] }));
    await refused(['run', f, '--out', path.join(tmp, 'series-out')], /series.scenario.yaml:\d+:\d+: record.series.0: unknown metric 'nope.metric'; known metrics: /);
  });
});

describe('plugins a scenario names', () => {
  const plugins = path.join(tmp, 'plugins');
  const manifest = (id: string) => JSON.stringify({ id, version: '0.1.0', engine: '^0.1.0', description: 'A hostile test plugin.', provides: [], options: { type: 'object', additionalProperties: false, properties: {} } });
  beforeAll(() => {
    mkdirSync(path.join(plugins, 'boom'), { recursive: true });
    writeFileSync(path.join(plugins, 'boom', 'plugin.json'), manifest('user.boom'));
    writeFileSync(path.join(plugins, 'boom', 'index.ts'), "// Throws in boot.\nimport { definePlugin } from 'virtlab';\nexport default definePlugin((api) => {\n  api.hooks.lifecycle.boot.tap(api.id, () => {\n    throw new Error('boom at boot');\n  });\n});\n");
    mkdirSync(path.join(plugins, 'imp'), { recursive: true });
    writeFileSync(path.join(plugins, 'imp', 'plugin.json'), manifest('user.imp'));
    writeFileSync(path.join(plugins, 'imp', 'index.ts'), "// Throws when imported.\nthrow new Error('cannot import me');\n");
  });
  const using = (name: string, dirs: string[], id?: string) => {
    let b = scenario(name).preset('minimal').tick('1ms').duration('2ms').pluginPaths(...dirs);
    if (id) b = b.plugin(id, {});
    return writeScenario(tmp, name, b);
  };

  it('names a plugin that throws in boot with its file:line (exit 2)', async () => {
    await refused(['run', using('boom', [plugins], 'user.boom'), '--out', path.join(tmp, 'boom-out')], /^error: plugin 'user.boom' threw: boom at boot \(at .*boom[/\\]index.ts:5\)/);
  });

  it('validate names a plugin whose import throws', async () => {
    await refused(['validate', path.join(plugins, 'imp')], /the entry module of 'user.imp' .* throws when imported: cannot import me \(at .*imp[/\\]index.ts:2\)/);
  });

  it('refuses a loop of symbolic links in pluginPaths', async () => {
    const loop = path.join(tmp, 'loop');
    mkdirSync(loop);
    symlinkSync('y', path.join(loop, 'x'));
    symlinkSync('x', path.join(loop, 'y'));
    await refused(['run', using('eloop', [loop]), '--out', path.join(tmp, 'eloop-out')], /loop[/\\][xy] in plugin folder .*loop is a loop of symbolic links \(ELOOP\)/);
  });

  it('--no-plugin-paths refuses a scenario that loads plugins', async () => {
    await refused(['run', using('trusting', [plugins], 'user.boom'), '--no-plugin-paths', '--out', path.join(tmp, 'np')], /trusting.scenario.yaml:\d+:\d+: pluginPaths: pluginPaths would load and run the plugins in .*; refused by --no-plugin-paths/);
  });
});

describe('files: handed to guests', () => {
  it('--files-root refuses host files outside it, and a folder is not a file', async () => {
    const outside = writeScenario(tmp, 'outside', scenario('outside').preset('minimal').tick('1ms').duration('2ms').files({ '/data/p': '/etc/hostname' }));
    await refused(['run', outside, '--files-root', path.join(tmp, 'plugins'), '--out', path.join(tmp, 'fr')], /files.\/data\/p: file \/etc\/hostname lies outside --files-root/);
    const folder = writeScenario(tmp, 'folder', scenario('folder').preset('minimal').tick('1ms').duration('2ms').files({ '/data/p': tmp }));
    await refused(['run', folder, '--out', path.join(tmp, 'fd')], /files.\/data\/p: .* is not a regular file/);
  });

  it('a guest path through a file is ENOTDIR, as on Linux', () => {
    const vfs = new Vfs(new Map([['/data/file.txt', new Uint8Array([1])]]));
    for (const p of ['/data/file.txt/..', '/data/file.txt/', '/data/file.txt/.']) {
      expect(() => vfs.lookup(p)).toThrow(expect.objectContaining({ errno: ENOTDIR }) as VfsError);
    }
    expect(vfs.lookup('/data/../data/file.txt').size).toBe(1);
    expect(vfs.lookup('/data/..').isDir).toBe(true);
  });
});

describe('results folders', () => {
  it('makes the scenario name one folder name under results/', () => {
    expect(defaultResultsDir('../../../outside', 1)).toBe(path.join('results', 'outside-seed1'));
    expect(safeFolderName('/etc/passwd')).toBe('etc-passwd');
    expect(safeFolderName('..')).toBe('scenario');
    expect(safeFolderName('demo.v2_a-b')).toBe('demo.v2_a-b');
  });

  it('refuses a folder of another run unless --overwrite, and then replaces it whole', async () => {
    const out = path.join(tmp, 'reuse');
    expect((await cli('run', quick('first'), '--quiet', '--out', out)).code).toBe(0);
    writeFileSync(path.join(out, 'migrations.json'), '[]');
    await refused(['run', quick('second'), '--quiet', '--out', out], /reuse holds the results of another run \(first, seed 1\)/);
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).scenario.name).toBe('first');
    expect((await cli('run', quick('second'), '--quiet', '--out', out, '--overwrite')).code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).scenario.name).toBe('second');
    expect(existsSync(path.join(out, 'migrations.json'))).toBe(false);
    // The same scenario and seed again: replaced whole, without asking.
    writeFileSync(path.join(out, 'stale.txt'), 'x');
    expect((await cli('run', quick('second'), '--quiet', '--out', out)).code).toBe(0);
    expect(existsSync(path.join(out, 'stale.txt'))).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('refuses a folder holding other things, a file, or a place it cannot write, before the run', async () => {
    const other = path.join(tmp, 'other');
    mkdirSync(other);
    writeFileSync(path.join(other, 'thesis.tex'), '');
    await refused(['run', quick('x1'), '--out', other], /--out .*other is not empty and holds no virtlab results/);
    await refused(['run', quick('x2'), '--out', file('a-file', '')], /--out .*a-file is a file, not a folder/);
    await refused(['run', quick('x3'), '--out', '/proc/virtlab-results'], /cannot write the results folder \/proc\/virtlab-results/);
    expect(readFileSync(path.join(other, 'thesis.tex'), 'utf8')).toBe('');
  });
});

describe('exec refuses bad input before running', () => {
  it('names the ELF file the loader refuses', async () => {
    const truncated = file('truncated.elf', readFileSync(CRC).subarray(0, 100));
    await refused(['exec', truncated], /^error: .*truncated.elf: corrupt ELF program headers$/);
    const x86 = Buffer.from(readFileSync(CRC));
    x86.writeUInt16LE(62, 18);
    await refused(['exec', file('x86.elf', x86)], /^error: .*x86.elf: built for x86-64, not RISC-V$/);
    const elf32 = Buffer.from(readFileSync(CRC));
    elf32[4] = 1;
    await refused(['exec', file('elf32.elf', elf32)], /elf32.elf: not a 64-bit ELF file/);
    // The same refusal when a scenario's guest workload names the program.
    const guest = scenario('bad-elf').preset('headless').tick('1ms').duration('2ms').plugin('workload.guest', {}).plugin('dbt.interpreter', {});
    const f = writeScenario(tmp, 'bad-elf', guest.vms({ count: 1, memory: '64MiB', workload: { kind: 'guest', program: truncated } }));
    await refused(['run', f, '--out', path.join(tmp, 'bad-elf-out')], /^error: .*truncated.elf: corrupt ELF program headers$/);
  });

  it.each([
    [['--memory', '1TiB'], /--memory 1TiB is out of range: guest memory is 1 MiB to 2 GiB/],
    [['--memory', '1KiB'], /--memory 1KiB is out of range/],
    [['--seed', 'abc'], /--seed expects a whole number ≥ 0, got 'abc'/],
    [['--max-instructions', '1.5'], /--max-instructions expects a whole number ≥ 0, got '1.5'/],
    [['--option', 'foo=1'], /^error: --option foo: plugin 'dbt.interpreter' has no option 'foo'$/],
    [['--option', 'foo=['], /^error: --option foo=\[: the value is not valid YAML/],
    [['--mount', `${os.tmpdir()}:/x`], /--mount.*: .* is not a regular file/],
  ])('refuses %j', async (flags, line) => {
    const r = await refused(['exec', ...(flags as string[]), CRC], line as RegExp);
    expect(r.err).not.toMatch(/inline.scenario.yaml/);
  });

  it('refuses a folder as the program', async () => {
    await refused(['exec', tmp], /is a folder, not a program/);
  });
});

describe("view's server", () => {
  const build = path.join(tmp, 'view-build');
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.VIRTLAB_VIEW_BUILD_DIR;
    process.env.VIRTLAB_VIEW_BUILD_DIR = build;
    // A stand-in page where the cache keeps the page of the current sources: served without building.
    mkdirSync(pageDir(), { recursive: true });
    writeFileSync(path.join(pageDir(), 'index.html'), '<!doctype html><title>view</title>');
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.VIRTLAB_VIEW_BUILD_DIR;
    else process.env.VIRTLAB_VIEW_BUILD_DIR = saved;
  });
  const get = (port: number, pathname: string, host: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: pathname, headers: { host } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const raw = (port: number, text: string) =>
    new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.end(text));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });

  it('answers loopback names only, and survives a malformed request line', async () => {
    const { url, close } = await serveView({ target: DEMO, port: 0 });
    const port = Number(new URL(url).port);
    try {
      expect((await get(port, '/scenario.json', `127.0.0.1:${port}`)).status).toBe(200);
      expect((await get(port, '/scenario.json', `localhost:${port}`)).status).toBe(200);
      const rebound = await get(port, '/scenario.json', `attacker.example:${port}`);
      expect(rebound.status).toBe(403);
      expect(rebound.body).not.toMatch(/demo/);
      expect(await raw(port, `GET http://[::1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)).toMatch(/^HTTP\/1.1 400/);
      expect(await raw(port, 'NONSENSE\r\n\r\n')).toMatch(/^HTTP\/1.1 400/);
      expect((await get(port, '/', `127.0.0.1:${port}`)).body).toMatch(/<title>view/);
    } finally {
      close();
    }
    expect(isLoopbackHost('[::1]:8080')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.attacker.example')).toBe(false);
    expect(isLoopbackHost(undefined)).toBe(false);
  });

  it('refuses a port in use in one line, before building', async () => {
    const first = await serveView({ target: DEMO, port: 0 });
    const port = Number(new URL(first.url).port);
    // The build folder is empty: a build would be needed, so a refusal proves the port came first.
    const saved2 = process.env.VIRTLAB_VIEW_BUILD_DIR;
    process.env.VIRTLAB_VIEW_BUILD_DIR = path.join(tmp, 'no-build-yet');
    try {
      await refused(['view', DEMO, '--port', String(port)], new RegExp(`^error: port ${port} on 127.0.0.1 is in use$`));
      expect(existsSync(path.join(tmp, 'no-build-yet'))).toBe(false);
    } finally {
      process.env.VIRTLAB_VIEW_BUILD_DIR = saved2;
      first.close();
    }
  });

  it('caches the page under a digest of its sources, which any edit changes', () => {
    const root = path.join(tmp, 'digest-root');
    for (const d of ['tools/view', 'core', 'plugins', 'hosts']) mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, 'tools/view/main.ts'), 'a');
    writeFileSync(path.join(root, 'core/x.ts'), 'b');
    const first = pageDigest(root);
    expect(pageDigest(root)).toBe(first);
    writeFileSync(path.join(root, 'core/x.ts'), 'c');
    expect(pageDigest(root)).not.toBe(first);
    expect(path.dirname(pageDir())).toBe(build);
  });
});

describe('a matrix with a corrupt stored cell', () => {
  it('names the file, counts the cell as missing and runs it again', async () => {
    const m = path.join(tmp, 'corrupt.matrix.yaml');
    writeFileSync(m, `name: corrupt\nscenarios:\n  - file: ${path.resolve(DEMO)}\n    set: { duration: 2s }\naxes:\n  seed: [1, 2]\nmetrics: { dc.vms.running: { tolerance: 0 } }\ndeterminismSample: 0\n`);
    const out = path.join(tmp, 'corrupt-out');
    expect((await runMatrix({ file: m, workers: 0, out })).ran).toBe(2);
    const cell = path.join(out, 'cells', readdirSync(path.join(out, 'cells'))[0]);
    writeFileSync(cell, readFileSync(cell, 'utf8').slice(0, 40));
    const warnings: string[] = [];
    const again = await runMatrix({ file: m, workers: 0, out, warn: (l) => warnings.push(l) });
    expect(again).toMatchObject({ ran: 1, reused: 1 });
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`${path.basename(cell).replace('.', '\\.')} is corrupt \\(.*\\); its cell counts as missing`))]);
    expect(JSON.parse(readFileSync(cell, 'utf8')).status).toBe('ok');
  });
});
