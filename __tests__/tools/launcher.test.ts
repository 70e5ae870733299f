// The installed `virtlab` command (tools/cli/virtlab) sets glibc's allocator up for
// the Node process it starts, and none of that reaches a guest: bin.js removes the
// variables the launcher added, and keeps the ones the user set. Node starts without
// NODE_EXTRA_CA_CERTS (which it would load for nothing), and bin.js puts it back.
//
// Mutations that must fail here: the launcher overriding a MALLOC_ARENA_MAX the user
// set, or not listing what it set; bin.js not removing the listed variables; the
// launcher not following npm's relative links to find bin.js; the launcher passing
// NODE_EXTRA_CA_CERTS on to Node, or not saving its value; bin.js not putting a moved
// variable back.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const LAUNCHER = path.join(ROOT, 'tools', 'cli', 'virtlab');
const ARGS_ENV = path.join(ROOT, 'scenarios', 'guests', 'bin', 'args-env.elf');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-launcher-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the launcher through a link, as npm installs it, with a stand-in `node` that reports what it was given. */
function launch(env: Record<string, string>): { argv: string[]; env: Record<string, string> } {
  const fake = path.join(tmp, 'fake-bin');
  mkdirSync(fake, { recursive: true });
  const report = path.join(tmp, 'report.json');
  writeFileSync(path.join(fake, 'node'), `#!/bin/sh\nexec "${process.execPath}" -e 'require("fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify({ argv: process.argv.slice(1), env: process.env }))' -- "$@"\n`);
  chmodSync(path.join(fake, 'node'), 0o755);
  // node_modules/.bin/virtlab -> ../pkg/tools/cli/virtlab, pkg -> the repository: two relative links.
  const bin = path.join(tmp, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  const pkg = path.join(tmp, 'node_modules', 'pkg');
  rmSync(pkg, { force: true });
  symlinkSync(path.relative(path.dirname(pkg), ROOT), pkg);
  rmSync(path.join(bin, 'virtlab'), { force: true });
  symlinkSync('../pkg/tools/cli/virtlab', path.join(bin, 'virtlab'));
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'VIRTLAB_LAUNCHER_ENV' && k !== 'NODE_EXTRA_CA_CERTS')) as Record<string, string>;
  const r = spawnSync(path.join(bin, 'virtlab'), ['exec', 'a b'], { env: { ...base, ...env, PATH: `${fake}:${process.env.PATH}` }, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return JSON.parse(readFileSync(report, 'utf8'));
}

describe('the virtlab launcher', () => {
  it('starts bin.js next to it, through npm-style links, with the allocator settings listed', () => {
    const r = launch({});
    expect(realpathSync(r.argv[0])).toBe(realpathSync(path.join(ROOT, 'tools', 'cli', 'bin.js')));
    expect(r.argv.slice(1)).toEqual(['exec', 'a b']);
    expect(r.env.MALLOC_ARENA_MAX).toBe('1');
    expect(r.env.MALLOC_TOP_PAD_).toBe(String(64 * 2 ** 20));
    expect(r.env.VIRTLAB_LAUNCHER_ENV.trim().split(' ')).toEqual(['MALLOC_ARENA_MAX', 'MALLOC_TOP_PAD_']);
  });

  it("keeps the user's own value and leaves it off the list", () => {
    const r = launch({ MALLOC_ARENA_MAX: '4' });
    expect(r.env.MALLOC_ARENA_MAX).toBe('4');
    expect(r.env.VIRTLAB_LAUNCHER_ENV.trim().split(' ')).toEqual(['MALLOC_TOP_PAD_']);
  });

  it('starts Node without NODE_EXTRA_CA_CERTS and saves its value for bin.js', () => {
    const r = launch({ NODE_EXTRA_CA_CERTS: '/etc/some ca.pem' });
    expect(r.env.NODE_EXTRA_CA_CERTS).toBeUndefined();
    expect(r.env.VIRTLAB_LAUNCHER_MOVED.trim().split(' ')).toEqual(['NODE_EXTRA_CA_CERTS']);
    expect(r.env.VIRTLAB_LAUNCHER_MOVED_NODE_EXTRA_CA_CERTS).toBe('/etc/some ca.pem');
    const none = launch({});
    expect(none.env.VIRTLAB_LAUNCHER_MOVED.trim()).toBe('');
    expect(none.env.VIRTLAB_LAUNCHER_MOVED_NODE_EXTRA_CA_CERTS).toBeUndefined();
  });

  it('bin.js puts a moved variable back before a guest inherits the environment', () => {
    // VIRTLAB_TEST stands for NODE_EXTRA_CA_CERTS: args-env prints it.
    const env: NodeJS.ProcessEnv = { ...process.env, VIRTLAB_LAUNCHER_MOVED: ' VIRTLAB_TEST', VIRTLAB_LAUNCHER_MOVED_VIRTLAB_TEST: 'moved back' };
    delete env.NODE_OPTIONS;
    delete env.VIRTLAB_TEST;
    const r = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'cli', 'bin.js'), 'exec', ARGS_ENV], { env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('VIRTLAB_TEST=moved back');
  });

  it('bin.js removes the listed variables before a guest inherits the environment', () => {
    // args-env prints VIRTLAB_TEST, VIRTLAB_MODE and VIRTLAB_ABSENT: here the first
    // stands for a variable the user set, the second for one the launcher added.
    const env: NodeJS.ProcessEnv = { ...process.env, VIRTLAB_TEST: 'kept', VIRTLAB_MODE: 'added', VIRTLAB_LAUNCHER_ENV: ' VIRTLAB_MODE' };
    delete env.NODE_OPTIONS;
    const r = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'cli', 'bin.js'), 'exec', ARGS_ENV], { env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('VIRTLAB_TEST=kept');
    expect(r.stdout).toContain('VIRTLAB_MODE=(unset)');
  });
});
