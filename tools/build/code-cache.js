// V8's code cache for the compiled build: what V8 compiled (the top level of every
// module and each function that ran) while the build ran a few commands, kept in
// dist/<key>/code-cache.bin and handed to V8 when a command loads the same modules, so
// that a command starts without parsing and compiling most of its code again. (Node 22
// has module.enableCompileCache for this; Node 20 does not.) V8 checks each entry
// against the source and its own flags, and compiles as usual when one does not fit.
// Installing it also shortens how the build's modules are found and loaded (shortcut).
//
//   node tools/build/code-cache.js <build folder>   (part of the build: writes the cache)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');

const CACHE = 'code-cache.bin';

/**
 * Loads the modules of `buildDir` the short way: the build was written by
 * tools/build/build.js and no longer changes, so a relative or absolute request for a
 * .js file of it (every require between compiled modules names its file exactly) is
 * that file, without the probing and the real-path lookup of each path component
 * Node's resolver does; and its modules are all CommonJS, so Node's search for the
 * nearest package.json (for its "type") is skipped. Anything else resolves and loads
 * as usual.
 */
function shortcut(buildDir) {
  const prefix = buildDir + path.sep;
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, isMain, options) {
    if (options === undefined && request.endsWith('.js')) {
      const file = request.startsWith(prefix) ? path.normalize(request) : parent?.filename?.startsWith(prefix) ? relative(path.dirname(parent.filename), request) : undefined;
      if (file?.startsWith(prefix)) return file;
    }
    return resolve.call(this, request, parent, isMain, options);
  };
  // `./x/y.js` or `../../x/y.js` from `dir`, by cutting and joining strings (path.resolve
  // normalizes the whole path again, and took more time than the rest of the shortcut).
  const relative = (dir, request) => {
    let d = dir;
    let r = request;
    for (;;) {
      if (r.startsWith('./')) r = r.slice(2);
      else if (r.startsWith('../')) {
        d = d.slice(0, d.lastIndexOf(path.sep));
        r = r.slice(3);
      } else break;
    }
    if (r === request || r.includes('./') || r.includes('//')) return undefined;
    return d + path.sep + (path.sep === '/' ? r : r.split('/').join(path.sep));
  };
  const loadJs = Module._extensions['.js'];
  Module._extensions['.js'] = function (module, filename) {
    if (!filename.startsWith(prefix)) return loadJs.call(this, module, filename);
    module._compile(fs.readFileSync(filename, 'utf8'), filename);
  };
}

/**
 * The cache file: a 4-byte length, that many bytes of JSON index ({ module path
 * relative to the build: [offset, length] } into what follows), then each module's
 * cached code. A command reads the index, then only the entries of the modules it
 * loads (`--help` a few of them, `exec` half): reading the whole file (and copying it
 * apart) cost more than the rest of `--help` did.
 */
function openCache(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    if (fs.readSync(fd, head, 0, 4, 0) !== 4) throw new Error('truncated');
    const n = head.readUInt32LE(0);
    const text = Buffer.alloc(n);
    if (fs.readSync(fd, text, 0, n, 4) !== n) throw new Error('truncated');
    const index = JSON.parse(text.toString('utf8'));
    const base = 4 + n;
    // The file stays open for the modules the process loads later.
    return (rel) => {
      const at = index[rel];
      if (!at) return undefined;
      const b = Buffer.allocUnsafe(at[1]);
      return fs.readSync(fd, b, 0, at[1], base + at[0]) === at[1] ? b : undefined;
    };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** The cache file's bytes for the cached code of each module. */
function cacheFile(blobs) {
  const index = {};
  let at = 0;
  for (const [rel, b] of blobs) {
    index[rel] = [at, b.length];
    at += b.length;
  }
  const text = Buffer.from(JSON.stringify(index), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(text.length, 0);
  return Buffer.concat([head, text, ...blobs.values()]);
}

/**
 * Compiles the modules of `buildDir` through vm.Script with their cached code (when
 * there is a cache); `keep` receives each script, for the build to serialize.
 */
function install(buildDir, keep) {
  shortcut(buildDir);
  let cached = () => undefined;
  if (!keep) {
    try {
      cached = openCache(path.join(buildDir, CACHE));
    } catch {
      return; // No cache: Node compiles as it always does.
    }
  }
  const prefix = buildDir + path.sep;
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    // A module with a real import() (of an optional ES-module package) compiles as
    // usual: Node 20 gives vm scripts no import() without an experimental flag.
    if (!filename.startsWith(prefix) || !filename.endsWith('.js') || /\bimport\(/.test(content)) return compile.call(this, content, filename);
    const rel = filename.slice(prefix.length);
    const script = new vm.Script(Module.wrap(content.replace(/^#!.*/, '')), {
      filename,
      cachedData: cached(rel),
    });
    keep?.(rel, script);
    const fn = script.runInThisContext({ displayErrors: true });
    const mod = this;
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    require.main = process.mainModule;
    require.cache = Module._cache;
    require.extensions = Module._extensions;
    return fn.call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
  };
}

/** Runs commands from the build in this process and writes the code V8 compiled meanwhile. */
async function collect(buildDir) {
  const scripts = new Map();
  install(buildDir, (rel, script) => scripts.set(rel, script));
  require('./validators.js').installPrecompiled(buildDir);
  const os = require('node:os');
  const { REPO_ROOT } = require(path.join(buildDir, 'tools', 'node', 'repo-root.js'));
  const { main } = require(path.join(buildDir, 'tools', 'cli', 'main.js'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'virtlab-code-cache-'));
  const quiet = { out: () => {}, err: () => {} };
  try {
    await main(['--help'], quiet);
    await main(['exec', path.join(REPO_ROOT, 'scenarios', 'guests', 'bin', 'exit-status.elf'), '0'], quiet);
    await main(['run', path.join(REPO_ROOT, 'scenarios', 'demo.scenario.yaml'), '--quiet', '--out', path.join(out, 'demo')], quiet);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  const blobs = new Map();
  for (const [rel, script] of scripts) blobs.set(rel, script.createCachedData());
  // Whole or not at all: a process starting meanwhile reads no half-written cache.
  const tmp = path.join(buildDir, `${CACHE}.${process.pid}`);
  fs.writeFileSync(tmp, cacheFile(blobs));
  fs.renameSync(tmp, path.join(buildDir, CACHE));
}

module.exports = { install };

if (require.main === module) {
  collect(path.resolve(process.argv[2])).catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exitCode = 1;
  });
}
