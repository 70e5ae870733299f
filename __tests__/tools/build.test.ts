// The compiled build the virtlab command runs (tools/build/build.js): a build is used
// only while the sources are exactly the ones it was made from (any edit, new or
// removed file makes it stale), `virtlab --help` loads none of the simulator, and an
// error thrown in compiled code is traced back to its TypeScript file and line.
// Mutations that must break these tests: dropping the mtime (or the path list) from
// sourceKey; importing 'virtlab' at the top of tools/cli/main.ts; making
// sourcePosition return the compiled position.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Plain CommonJS, run before anything is compiled.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const builder = require('../../tools/build/build.js') as {
  sourceKey: (root: string) => string;
  freshBuild: (root?: string) => string | undefined;
  STAMP: string;
  ROOT: string;
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('freshness of the build', () => {
  const root = path.join(tmp, 'repo');
  const file = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };
  const stamp = () => {
    const dir = path.join(root, 'dist', builder.sourceKey(root));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, builder.STAMP), '{}');
    return dir;
  };

  it('is fresh only while no source changed, was added or was removed', () => {
    file('core/a.ts', 'export const a = 1;\n');
    file('tools/b.js', 'module.exports = 2;\n');
    file('plugins/p/index.ts', 'export default 3;\n');
    file('scenarios/x.scenario.yaml', 'name: x\n'); // data, not code: not part of the build
    const a = path.join(root, 'core/a.ts');
    const before = new Date(2026, 0, 1);
    utimesSync(a, before, before);
    const built = stamp();
    expect(builder.freshBuild(root)).toBe(built);

    // An edit of the same size, one millisecond later.
    writeFileSync(a, 'export const a = 2;\n');
    utimesSync(a, before, new Date(before.getTime() + 1));
    expect(builder.freshBuild(root)).toBeUndefined();
    // Back as it was (same bytes, same time): the build fits again.
    writeFileSync(a, 'export const a = 1;\n');
    utimesSync(a, before, before);
    expect(builder.freshBuild(root)).toBe(built);

    file('plugins/p/extra.ts', 'export {};\n');
    expect(builder.freshBuild(root)).toBeUndefined();
    rmSync(path.join(root, 'plugins/p/extra.ts'));
    expect(builder.freshBuild(root)).toBe(built);

    rmSync(path.join(root, 'tools/b.js'));
    expect(builder.freshBuild(root)).toBeUndefined();
    file('tools/b.js', 'module.exports = 2;\n');

    // A data file is read where it is, not compiled: editing it keeps the build.
    file('core/a.ts', 'export const a = 1;\n');
    utimesSync(a, before, before);
    const key = builder.sourceKey(root);
    file('scenarios/x.scenario.yaml', 'name: y\n');
    expect(builder.sourceKey(root)).toBe(key);
  });
});

describe('the build of this checkout', () => {
  // The jest setup brought it up to date before the tests started.
  const dir = builder.freshBuild();
  const node = (script: string) => spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: builder.ROOT });

  it('exists, and `virtlab --help` loads no simulator code', () => {
    expect(dir).toBeDefined();
    const r = node(`
      const { main } = require(${JSON.stringify(path.join(dir!, 'tools/cli/main.js'))});
      main(['--help'], { out: () => {}, err: () => {} }).then((code) => {
        const loaded = Object.keys(require.cache).map((f) => f.slice(${JSON.stringify(dir! + path.sep)}.length));
        console.log(JSON.stringify({ code, loaded }));
      });`);
    expect(r.stderr).toBe('');
    const { code, loaded } = JSON.parse(r.stdout) as { code: number; loaded: string[] };
    expect(code).toBe(0);
    expect(loaded).toContain('tools/cli/main.js');
    expect(loaded.filter((f) => f.startsWith('core/') && f !== 'core/plugin/closest.js')).toEqual([]);
    expect(loaded.filter((f) => f.startsWith('vendor/') || f.startsWith('plugins/'))).toEqual([]);
  });

  it('traces a position in compiled code back to the TypeScript file and line', () => {
    const r = node(`
      const { sourcePosition } = require(${JSON.stringify(path.join(dir!, 'tools/node/repo-root.js'))});
      const fs = require('node:fs');
      const compiled = ${JSON.stringify(path.join(dir!, 'plugins/dbt/interpreter/index.js'))};
      const line = fs.readFileSync(compiled, 'utf8').split('\\n').findIndex((l) => l.includes('definePlugin)(')) + 1;
      console.log(JSON.stringify(sourcePosition(compiled, line, 1)));`);
    const pos = JSON.parse(r.stdout) as { file: string; line: number };
    expect(pos.file).toBe(path.join(builder.ROOT, 'plugins/dbt/interpreter/index.ts'));
    expect(readFileSync(pos.file, 'utf8').split('\n')[pos.line - 1]).toContain('definePlugin');
  });
});
