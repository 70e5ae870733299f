// The compiled build the virtlab command runs (tools/build/build.js): a build is used
// only while the sources are exactly the ones it was made from (any edit, new or
// removed file makes it stale), `virtlab --help` loads none of the simulator,
// `virtlab exec` none of the vendored packages it does not use, and an error thrown in
// compiled code is traced back to its TypeScript file and line.
// The walk of the source folders is kept (dist/sources.json) and a folder is read again
// only when its modification time moved, or moved within the last seconds.
// Mutations that must break these tests: dropping the mtime (or the path list) from
// sourceKey; importing 'virtlab' at the top of tools/cli/main.ts; making
// sourcePosition return the compiled position; taking the kept key without comparing
// the text it was made from, or digesting it always; reading every folder at every walk
// (the kept walk unused); trusting a folder changed within the last seconds;
// relinking the compiled code to the vendored bundles instead of their stand-ins;
// resolving `../` in the loader's shortcut (tools/build/code-cache.js) as `./`;
// reading a code cache entry one byte off its offset.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Plain CommonJS, run before anything is compiled.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const builder = require('../../tools/build/build.js') as {
  sourceKey: (root: string) => string;
  freshBuild: (root?: string) => string | undefined;
  STAMP: string;
  ROOT: string;
  VENDORED: string[];
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

  it('reads a folder again only when its time moved, or moved within the last seconds', () => {
    const repo = path.join(tmp, 'kept');
    const at = (rel: string) => path.join(repo, rel);
    const old = new Date(2026, 0, 1);
    const put = (rel: string, text: string) => {
      mkdirSync(path.dirname(at(rel)), { recursive: true });
      writeFileSync(at(rel), text);
      utimesSync(at(rel), old, old);
    };
    const age = (...dirs: string[]) => dirs.forEach((d) => utimesSync(at(d), old, old));
    put('core/a.ts', 'export const a = 1;\n');
    put('plugins/p/index.ts', 'export default 3;\n');
    put('tools/t.js', 'module.exports = 2;\n');
    age('core', 'plugins', 'plugins/p', 'tools');
    mkdirSync(at('dist'));
    const dir = path.join(repo, 'dist', builder.sourceKey(repo));
    mkdirSync(dir);
    writeFileSync(path.join(dir, builder.STAMP), '{}');
    expect(builder.freshBuild(repo)).toBe(dir);

    // A file added: its folder's time moves, the folder is read, the build is stale.
    put('core/b.ts', 'export {};\n');
    expect(builder.freshBuild(repo)).toBeUndefined();
    rmSync(at('core/b.ts'));
    age('core');
    expect(builder.freshBuild(repo)).toBe(dir);
    // The same file added with the folder's time put back as it was: the kept walk is
    // what tells the files (this is what makes the check cheap, and what the time of
    // a folder guarantees, since adding a file always moves it).
    put('core/b.ts', 'export {};\n');
    age('core');
    expect(builder.freshBuild(repo)).toBe(dir);
    rmSync(at('core/b.ts'));
    age('core');

    // A new folder with a file, a file renamed, and a file edited in place.
    put('plugins/q/index.ts', 'export default 4;\n');
    expect(builder.freshBuild(repo)).toBeUndefined();
    rmSync(at('plugins/q'), { recursive: true });
    age('plugins');
    expect(builder.freshBuild(repo)).toBe(dir);
    renameSync(at('tools/t.js'), at('tools/u.js'));
    expect(builder.freshBuild(repo)).toBeUndefined();
    renameSync(at('tools/u.js'), at('tools/t.js'));
    age('tools');
    expect(builder.freshBuild(repo)).toBe(dir);
    writeFileSync(at('plugins/p/index.ts'), 'export default 5;\n');
    expect(builder.freshBuild(repo)).toBeUndefined();
    put('plugins/p/index.ts', 'export default 3;\n');
    expect(builder.freshBuild(repo)).toBe(dir);

    // A folder changed just now is not trusted: a second change that leaves its time
    // where the first put it (as a coarse clock would) is still seen.
    // (Whole seconds, which utimes sets exactly.)
    const recent = new Date(Math.floor(Date.now() / 1000) * 1000);
    put('core/c.ts', 'export {};\n');
    rmSync(at('core/c.ts'));
    utimesSync(at('core'), recent, recent);
    expect(builder.freshBuild(repo)).toBe(dir);
    put('core/c.ts', 'export {};\n');
    utimesSync(at('core'), recent, recent);
    expect(statSync(at('core')).mtimeMs).toBe(recent.getTime());
    expect(builder.freshBuild(repo)).toBeUndefined();
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

  it('`virtlab --help` with unchanged sources computes no digest (node:crypto stays unloaded)', () => {
    // (Not through \`node -e\`, which loads node:crypto itself.)
    const preload = path.join(tmp, 'report-builtins.js');
    writeFileSync(preload, `process.on('exit', () => process.stderr.write(JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule crypto')))));\n`);
    const r = spawnSync(process.execPath, ['-r', preload, path.join(builder.ROOT, 'tools/cli/bin.js'), '--help'], { encoding: 'utf8', cwd: builder.ROOT });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stderr)).toEqual([]);
  });

  // Mutations that must break it: importing node:crypto at the top of tools/node/catalog.ts
  // or code-cache-store.ts again, or WorkerCompiler at the top of tools/cli/exec.ts; the
  // build leaving the compiled `require("reflect-metadata")` of core/plugin/container.ts.
  it('`virtlab exec` of the interpreter loads neither node:crypto, nor worker threads, nor reflect-metadata', () => {
    const preload = path.join(tmp, 'report-exec-loads.js');
    writeFileSync(
      preload,
      `process.on('exit', () => process.stderr.write(JSON.stringify([...process.moduleLoadList.filter((m) => /^NativeModule (crypto|worker_threads)$/.test(m)), ...Object.keys(require.cache).filter((f) => f.includes('reflect-metadata'))])));\n`,
    );
    const elf = path.join(builder.ROOT, 'scenarios/guests/bin/exit-status.elf');
    const r = spawnSync(process.execPath, ['-r', preload, path.join(builder.ROOT, 'tools/cli/bin.js'), 'exec', elf, '3'], { encoding: 'utf8', cwd: builder.ROOT });
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stderr)).toEqual([]);
    // The same process still finds reflect-metadata where inversify needs it.
    const v = node(`
      const inversify = require(${JSON.stringify(path.join(dir!, 'vendor/inversify.lazy.js'))});
      void inversify.Container;
      console.log(JSON.stringify(typeof Reflect.getOwnMetadata));`);
    expect(v.stderr).toBe('');
    expect(JSON.parse(v.stdout)).toBe('function');
  });

  it('loads a vendored package only when a command uses it, through a stand-in with its exports', () => {
    const r = node(`
      require(${JSON.stringify(path.join(builder.ROOT, 'tools/build/validators.js'))}).installPrecompiled(${JSON.stringify(dir)});
      const { main } = require(${JSON.stringify(path.join(dir!, 'tools/cli/main.js'))});
      const elf = ${JSON.stringify(path.join(builder.ROOT, 'scenarios/guests/bin/exit-status.elf'))};
      main(['exec', elf, '0'], { out: () => {}, err: (l) => process.stderr.write(l + '\\n') }).then((code) => {
        const loaded = Object.keys(require.cache).filter((f) => f.includes('/vendor/')).map((f) => f.slice(f.indexOf('/vendor/') + 8));
        const same = {};
        for (const n of ${JSON.stringify(builder.VENDORED)}) {
          let lazy;
          try { lazy = require(${JSON.stringify(dir + '/vendor/')} + n + '.lazy.js'); } catch { continue; }
          const real = require(${JSON.stringify(dir + '/vendor/')} + n + '.js');
          same[n] = Object.getOwnPropertyNames(real).filter((k) => k !== '__esModule').every((k) => lazy[k] === real[k]) && !!lazy.__esModule === !!real.__esModule;
        }
        console.log(JSON.stringify({ code, loaded, same }));
      });`);
    expect(r.stderr).toBe('');
    const { code, loaded, same } = JSON.parse(r.stdout) as { code: number; loaded: string[]; same: Record<string, boolean> };
    expect(code).toBe(0);
    // exec boots a simulation (tapable, bitecs) but neither parses YAML, nor compiles a
    // schema, nor builds a class through inversify.
    expect(loaded).toContain('tapable.bundle.js');
    expect(loaded).not.toContain('inversify.bundle.js');
    expect(loaded).not.toContain('yaml.bundle.js');
    expect(loaded).not.toContain('ajv.bundle.js');
    expect(Object.keys(same).sort()).toEqual([...builder.VENDORED].sort());
    expect(Object.values(same).every(Boolean)).toBe(true);
  });

  it("finds the build's modules by the shortcut exactly where Node's resolver finds them", () => {
    const loaded = (shortcut: boolean) => {
      const r = node(`
        ${shortcut ? `require(${JSON.stringify(path.join(builder.ROOT, 'tools/build/code-cache.js'))}).install(${JSON.stringify(dir)});` : ''}
        require(${JSON.stringify(path.join(builder.ROOT, 'tools/build/validators.js'))}).installPrecompiled(${JSON.stringify(dir)});
        const { main } = require(${JSON.stringify(path.join(dir!, 'tools/cli/main.js'))});
        const elf = ${JSON.stringify(path.join(builder.ROOT, 'scenarios/guests/bin/exit-status.elf'))};
        const quiet = { out: () => {}, err: (l) => process.stderr.write(l + '\\n') };
        main(['--help'], quiet)
          .then(() => main(['exec', elf, '0'], quiet))
          .then((code) => console.log(JSON.stringify({ code, files: Object.keys(require.cache).sort() })));`);
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as { code: number; files: string[] };
    };
    // Everything but the module that installs the shortcut.
    const usual = loaded(false).files.filter((f) => !f.endsWith('code-cache.js'));
    const short = loaded(true);
    expect(short.code).toBe(0);
    expect(short.files.filter((f) => f.startsWith(dir! + path.sep)).length).toBeGreaterThan(50);
    expect(short.files.filter((f) => !f.endsWith('code-cache.js'))).toEqual(usual);
  });

  it('hands V8 the cached code of each module a command loads, which V8 accepts', () => {
    const r = node(`
      const vm = require('node:vm');
      const Script = vm.Script;
      const seen = [];
      vm.Script = function (code, options) {
        const s = new Script(code, options);
        seen.push({ cached: options.cachedData !== undefined, rejected: s.cachedDataRejected === true });
        return s;
      };
      require(${JSON.stringify(path.join(builder.ROOT, 'tools/build/code-cache.js'))}).install(${JSON.stringify(dir)});
      require(${JSON.stringify(path.join(builder.ROOT, 'tools/build/validators.js'))}).installPrecompiled(${JSON.stringify(dir)});
      const { main } = require(${JSON.stringify(path.join(dir!, 'tools/cli/main.js'))});
      const elf = ${JSON.stringify(path.join(builder.ROOT, 'scenarios/guests/bin/exit-status.elf'))};
      main(['exec', elf, '0'], { out: () => {}, err: (l) => process.stderr.write(l + '\\n') }).then((code) => console.log(JSON.stringify({ code, seen })));`);
    expect(r.stderr).toBe('');
    const { code, seen } = JSON.parse(r.stdout) as { code: number; seen: { cached: boolean; rejected: boolean }[] };
    expect(code).toBe(0);
    // The build ran exec while it made the cache: every module exec loads has an entry.
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.filter((s) => !s.cached)).toEqual([]);
    expect(seen.filter((s) => s.rejected)).toEqual([]);
  });

  it("names the build's own files in a stack trace of cached code, mapped back to the TypeScript with --debug", () => {
    // V8 keeps the file name a script had when its code was cached: a cache made before
    // the build folder got its final name printed (and failed to map) a folder that no
    // longer exists. exec's error path ran while the build made its cache.
    const r = spawnSync(process.execPath, [path.join(builder.ROOT, 'tools/cli/bin.js'), 'exec', '--debug', path.join(os.tmpdir(), 'virtlab-no-such-program.elf')], { encoding: 'utf8', cwd: builder.ROOT });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${path.join('tools', 'cli', 'exec.ts')}:`);
    expect(r.stderr).not.toContain('.tmp-');
    // Without --debug the cache is used, and an error's stack names the build's file,
    // which sourcePosition maps to the TypeScript (an error thrown by a plugin is
    // reported that way).
    const cached = node(`
      require(${JSON.stringify(path.join(builder.ROOT, 'tools/build/code-cache.js'))}).install(${JSON.stringify(dir)});
      const { execCommand } = require(${JSON.stringify(path.join(dir!, 'tools/cli/exec.js'))});
      execCommand([${JSON.stringify(path.join(os.tmpdir(), 'virtlab-no-such-program.elf'))}]).catch((e) => console.log(JSON.stringify(e.stack.split('\\n')[1])));`);
    expect(cached.stderr).toBe('');
    expect(JSON.parse(cached.stdout)).toContain(`${path.join(dir!, 'tools', 'cli', 'exec.js')}:`);
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
