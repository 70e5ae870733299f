// End to end, the freshness of the build the virtlab command runs: in a copy of the
// repository's code, a source edited in place (same size, its folder untouched, the
// case the kept walk of the source folders does not read again) is what the next
// `virtlab` command runs, and so is a file added beside it.
// Mutation that must break it: sourceKey ignoring the files' sizes and times (a key
// made of the paths alone). (The kept walk's own rules are checked one by one in
// build.test.ts.)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ROOT } = require('../../tools/build/build.js') as { ROOT: string };

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-edit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TITLE = 'a plugin-based simulator for virtualization research';

describe('an edited source', () => {
  const repo = path.join(tmp, 'repo');
  for (const d of ['core', 'plugins', 'tools', 'hosts']) cpSync(path.join(ROOT, d), path.join(repo, d), { recursive: true, filter: (f) => !f.includes(`${path.sep}node_modules`) });
  for (const f of ['package.json', 'plugin.schema.json']) cpSync(path.join(ROOT, f), path.join(repo, f));
  symlinkSync(realpathSync(path.join(ROOT, 'node_modules')), path.join(repo, 'node_modules'));
  const help = () => {
    const r = spawnSync(process.execPath, [path.join(repo, 'tools/cli/bin.js'), '--help'], { encoding: 'utf8', cwd: repo });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout;
  };
  const main = path.join(repo, 'tools/cli/main.ts');

  it('is what the next command runs', () => {
    expect(help()).toContain(TITLE);
    // Same size, written in place: only the file's own time moves.
    const marked = TITLE.replace('simulator', 'SIMULATOR');
    writeFileSync(main, readFileSync(main, 'utf8').replace(TITLE, marked));
    expect(help()).toContain(marked);

    // A module added beside it and used by it.
    writeFileSync(path.join(repo, 'tools/cli/edit-marker.ts'), `export const MARK = 'added just now';\n`);
    writeFileSync(main, `import { MARK } from './edit-marker';\n${readFileSync(main, 'utf8').replace(marked, `${marked} \${MARK}`)}`);
    expect(help()).toContain(`${marked} added just now`);
  });
});
