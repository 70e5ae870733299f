// The compiled JavaScript of the repository, so that no command transpiles TypeScript
// when it starts. Every .ts and .js file under core/, plugins/, tools/ and hosts/ is
// compiled file by file (esbuild, CommonJS, source maps) into dist/<key>/ with the
// same layout, where <key> is a digest of the sources' paths, sizes and modification
// times: a build is fresh exactly when the folder of the sources' current key exists,
// so a stale build can never be used after an edit (the check is one walk of the
// source folders and one stat, a few milliseconds). Builds are written into a
// temporary folder and renamed into place, so concurrent processes never see half of
// one; the newest builds, and any made in the last ten minutes, are kept (a running
// process may still load modules from its build), older ones removed.
//
// Used by tools/cli/bin.js (rebuilds when stale), by `npm run build` and `prepare`
// (run by `npm ci`), and by the jest global setup (builds before the tree guard takes
// its snapshot, so tests that start CLI processes never write into the tree).
//
// Plain CommonJS on purpose: it runs before anything is compiled.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
/** The folders whose code is compiled (and whose state names the build). */
const SOURCE_DIRS = ['core', 'plugins', 'tools', 'hosts'];
/** Builds kept besides the current one, and how long any build is kept after it was made. */
const KEEP = 3;
const KEEP_MS = 10 * 60 * 1000;
/**
 * Packages the compiled code requires that are bundled into one file each: inversify
 * is ES modules (Node resolves and links dozens of files for it), the others are many
 * small CommonJS files. A bundle per package loads in a fraction of the time. The
 * compiled code requires them from dist/<key>/vendor/.
 */
const VENDORED = ['inversify', 'ajv', 'tapable', 'yaml', 'semver', 'bitecs'];
/** Marks a folder of dist/ as a finished build; tools/node/repo-root.ts looks for it. */
const STAMP = 'BUILD.json';

/**
 * The last walk of the source folders (dist/sources.json): each folder's modification
 * time and the entries that matter in it (subfolders, marked with a trailing slash,
 * and source files). A folder's modification time changes whenever an entry is added,
 * removed or renamed in it, so a folder whose time is the recorded one has the
 * recorded entries and need not be read again; reading the folders was most of what
 * the freshness check cost. A file edited in place changes only its own time, which
 * sourceKey reads for every file. A folder changed within RACY_MS of the walk is not
 * trusted (a second change within the file system's timestamp granularity could
 * leave the time as it was): it is read again at every walk until it is older.
 * It also keeps the last key with the text it is the digest of (sourceKey), so that a
 * command whose sources did not change compares that text and computes no digest
 * (loading node:crypto alone cost a tenth of `virtlab --help`).
 */
const LISTING = 'sources.json';
const RACY_MS = 3000;

/** The recorded walk: its text, its folders by path relative to the root, and the last key with its text. */
function readListing(root) {
  try {
    const text = fs.readFileSync(path.join(root, 'dist', LISTING), 'utf8');
    const l = JSON.parse(text);
    if (l && typeof l.dirs === 'object' && l.dirs !== null) return { text, dirs: l.dirs, described: l.described, key: l.key };
  } catch {
    // None yet, or unreadable: every folder is read.
  }
  return { text: '', dirs: {} };
}

/** The entries of a source folder that matter: subfolders (with a trailing slash) and source files. */
function readFolder(dir) {
  const names = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    if (e.isDirectory()) names.push(`${e.name}/`);
    else if ((e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) || e.name.endsWith('.js')) names.push(e.name);
  }
  return names;
}

/**
 * The compiled sources below the source folders (absolute paths, sorted); with
 * `reread`, every folder is read (the build does, so that it compiles what is there
 * whatever the kept walk says).
 */
function sourceFiles(root = ROOT, { reread = false } = {}) {
  const files = [];
  const listing = readListing(root);
  const known = reread ? {} : listing.dirs;
  const dirs = {};
  const now = Date.now();
  const walk = (dir, rel) => {
    let st;
    let entries;
    try {
      // The time before the entries: a change meanwhile makes the next walk read them again.
      st = fs.statSync(dir);
      const k = known[rel];
      entries = k && k[0] !== null && k[0] === st.mtimeMs && Array.isArray(k[1]) ? k[1] : readFolder(dir);
    } catch {
      return;
    }
    dirs[rel] = [now - st.mtimeMs >= RACY_MS ? st.mtimeMs : null, entries];
    // Joined by hand: the names are single components of a normalized path, and
    // path.join's normalizing of hundreds of paths cost more than their stats.
    for (const e of entries) {
      if (e.endsWith('/')) walk(dir + path.sep + e.slice(0, -1), `${rel}/${e.slice(0, -1)}`);
      else files.push(dir + path.sep + e);
    }
  };
  for (const d of SOURCE_DIRS) walk(path.join(path.resolve(root), d), d);
  const walked = { ...listing, dirs };
  lastListing = { root, listing: { ...walked, text: writeListing(root, walked) } };
  files.sort();
  return files;
}

/**
 * The listing the last walk wrote, for sourceKey right after it (the file is not read
 * again). Its key is only taken when its text matches, so an older one is harmless.
 */
let lastListing = null;

/**
 * Keeps the walk for the next one (when it changed); only where a build folder exists
 * (a checkout that builds). Returns the text the file now holds.
 */
function writeListing(root, listing) {
  const text = JSON.stringify({ dirs: listing.dirs, described: listing.described, key: listing.key });
  if (text === listing.text) return text;
  const dist = path.join(root, 'dist');
  const tmp = path.join(dist, `.${LISTING}.${process.pid}`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, path.join(dist, LISTING));
    return text;
  } catch {
    // No dist/ yet (the build makes it and writes the walk) or a read-only checkout.
    fs.rmSync(tmp, { force: true });
    return listing.text;
  }
}

/** The key of the sources as they are now (a digest of paths, sizes and mtimes). */
function sourceKey(root = ROOT, files = sourceFiles(root)) {
  // The compiler's version and this script are part of what a build depends on.
  let described = `${esbuildVersion()}\0${process.version.split('.')[0]}\0`;
  const prefix = root + path.sep;
  for (const f of files) {
    const s = fs.statSync(f, { throwIfNoEntry: false });
    // A file gone since the walk: a key no build has, so the command builds afresh.
    described += `${f.startsWith(prefix) ? f.slice(prefix.length) : path.relative(root, f)}\0${s ? `${s.size}\0${s.mtimeMs}` : 'gone'}\n`;
  }
  const listing = lastListing?.root === root ? lastListing.listing : readListing(root);
  if (listing.described === described && typeof listing.key === 'string') return listing.key;
  const key = require('node:crypto').createHash('sha1').update(described).digest('hex').slice(0, 16);
  writeListing(root, { ...listing, described, key });
  return key;
}

/** Where esbuild may be: hoisted beside tsx (npm's usual layout) or inside tsx's own node_modules. */
function esbuildPaths(root) {
  const paths = [root];
  try {
    paths.push(path.dirname(require.resolve('tsx/package.json', { paths: [root] })));
  } catch {
    // No tsx: esbuild only where the repository finds it.
  }
  return paths;
}

let esbuildVersionCache;
function esbuildVersion() {
  if (esbuildVersionCache === undefined) {
    // npm's two usual places first: resolving through the module paths costs more than
    // the rest of the freshness check.
    for (const p of [path.join(ROOT, 'node_modules', 'esbuild', 'package.json'), path.join(ROOT, 'node_modules', 'tsx', 'node_modules', 'esbuild', 'package.json')]) {
      try {
        esbuildVersionCache = JSON.parse(fs.readFileSync(p, 'utf8')).version;
        break;
      } catch {
        // Not there.
      }
    }
    if (esbuildVersionCache === undefined) {
      try {
        esbuildVersionCache = JSON.parse(fs.readFileSync(require.resolve('esbuild/package.json', { paths: esbuildPaths(ROOT) }), 'utf8')).version;
      } catch {
        esbuildVersionCache = 'none';
      }
    }
  }
  return esbuildVersionCache;
}

/** The folder of the fresh build, or undefined when the sources changed since. */
function freshBuild(root = ROOT) {
  const dir = path.join(root, 'dist', sourceKey(root));
  return fs.existsSync(path.join(dir, STAMP)) ? dir : undefined;
}

/** The parts of a build that only make it start faster, and the file each one leaves. */
const EXTRAS = [
  ['validators.js', path.join('validators', 'index.json')],
  // After the validators: validating the manifests there records their option schemas.
  ['manifests.js', 'manifests.json'],
  ['code-cache.js', 'code-cache.bin'],
];

/** Adds the missing extras to a build folder (each step writes its file last, atomically). */
function addExtras(dir) {
  for (const [step, file] of EXTRAS) {
    if (fs.existsSync(path.join(dir, file))) continue;
    const v = require('node:child_process').spawnSync(process.execPath, [path.join(__dirname, step), dir], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    // The build runs without them (only slower to start): a failure is reported, not fatal.
    if (v.status !== 0) process.stderr.write(`note: tools/build/${step} failed, the build starts slower without it: ${(v.stderr || v.error?.message || '').trim().split('\n').slice(-3).join(' ')}\n`);
  }
}

/**
 * Compiles the sources into dist/<key>/ unless that build exists; returns its folder.
 * `log` receives one line when a build is made. With `extras` (the default: install,
 * `npm run build`, the tests, the benchmarks) the build also gets its precompiled
 * validators and V8 code cache, which take seconds; without (a command that found the
 * sources edited) it is only compiled, in well under a second, and starts a little
 * slower until the next full build adds them.
 */
function build(root = ROOT, log = () => {}, { extras = true } = {}) {
  const files = sourceFiles(root, { reread: true });
  const key = sourceKey(root, files);
  const dist = path.join(root, 'dist');
  const out = path.join(dist, key);
  if (fs.existsSync(path.join(out, STAMP))) {
    if (extras) addExtras(out);
    return out;
  }
  const t0 = process.hrtime.bigint();
  const esbuild = require(require.resolve('esbuild', { paths: esbuildPaths(root) }));
  fs.mkdirSync(dist, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dist, `.tmp-${key}-`));
  try {
    const result = esbuild.buildSync({
      entryPoints: files,
      outdir: tmp,
      outbase: root,
      bundle: false,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      // Stack traces name the TypeScript file and line (an error thrown by a plugin
      // is reported at its file:line): bin.js turns source maps on.
      sourcemap: 'linked',
      sourcesContent: false,
      // Class names survive (error messages and registries print them).
      keepNames: true,
      // import() of a module becomes require(): CommonJS resolution finds the compiled
      // files by their extensionless names, and the commands' lazy imports stay cheap.
      supported: { 'dynamic-import': false },
      tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: true, target: 'es2022' } },
      logLevel: 'silent',
      write: false,
    });
    if (result.errors.length) throw new Error(`build failed: ${result.errors[0].text} (${result.errors[0].location?.file ?? ''})`);
    const lazy = vendor(esbuild, root, tmp);
    for (const f of result.outputFiles) {
      fs.mkdirSync(path.dirname(f.path), { recursive: true });
      let text = f.path.endsWith('.js') ? relink(f.text, f.path, tmp, out, root, lazy) : undefined;
      if (text !== undefined && f.path === path.join(tmp, 'core', 'index.js')) text = lazyBarrel(text);
      fs.writeFileSync(f.path, text ?? f.contents);
    }
    fs.chmodSync(tmp, 0o755);
    fs.writeFileSync(path.join(tmp, STAMP), JSON.stringify({ key, files: files.length, esbuild: esbuildVersion() }) + '\n');
    try {
      fs.renameSync(tmp, out);
    } catch (e) {
      // Another process finished the same build first: its copy is as good.
      if (!fs.existsSync(path.join(out, STAMP))) throw e;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  // The JSON Schema validators compiled ahead of time, then V8's code cache from a few
  // commands run from the new build (each in a process of its own). Made in the build's
  // final folder, not before the rename: V8 keeps the file names a script had when its
  // cache was made, and stack traces (and the file:line of an error, mapped back to
  // the TypeScript through the build's source maps) would name a folder that no longer
  // exists. Meanwhile the build runs without them, only slower to start.
  if (extras) addExtras(out);
  prune(dist, key);
  log(`virtlab: compiled ${files.length} files into ${path.relative(process.cwd(), out) || out} in ${Number(process.hrtime.bigint() - t0) / 1e6 | 0} ms`);
  return out;
}

/**
 * Points what the compiled file requires outside the build at the right place:
 * 'virtlab' and 'virtlab/testing' at the build's own copy (one instance of the core
 * per process, in every thread), the vendored packages at their bundles (through the
 * lazy stand-in of those in `lazy`), and JSON files at the sources (they are data,
 * read where they are).
 */
function relink(text, file, tmp, out, root, lazy = new Set()) {
  const dir = path.dirname(file);
  const rel = (target) => {
    let r = path.relative(dir, target).split(path.sep).join('/');
    if (!r.startsWith('.')) r = `./${r}`;
    return JSON.stringify(r);
  };
  for (const name of VENDORED) text = text.split(`require("${name}")`).join(`require(${rel(path.join(tmp, 'vendor', `${name}${lazy.has(name) ? '.lazy' : ''}.js`))})`);
  // Relative requires name their compiled file exactly (`./x` → `./x.js` or
  // `./x/index.js`): Node then finds it at the first try instead of probing extensions.
  const source = path.join(root, path.relative(tmp, dir));
  text = text.replace(/require\("(\.\.?\/[^"]*)"\)/g, (m, spec) => {
    if (/\.(js|json|cjs|mjs)$/.test(spec)) return m;
    const at = path.join(source, spec);
    for (const [from, to] of [['.ts', '.js'], ['.js', '.js'], ['/index.ts', '/index.js'], ['/index.js', '/index.js']]) {
      if (fs.existsSync(at + from) && fs.statSync(at + from).isFile()) return `require(${JSON.stringify(spec.replace(/\/$/, '') + to)})`;
    }
    return m;
  });
  return text
    // import() of a computed name (an optional package such as binaryen, which may be
    // an ES module with top-level await) stays a real import(): only the commands' lazy
    // imports of our own modules, with literal paths, become require().
    .replace(/Promise\.resolve\(\)\.then\(\(\) => __toESM\(require\(([A-Za-z_$][\w$]*)\)\)\)/g, 'import($1)')
    // Loaded by vendor/inversify.js before the bundle (see vendor): 64 KB of JavaScript
    // outside the build, with no code cache, that only inversify reads.
    .replace(/^var import_reflect_metadata = require\("reflect-metadata"\);$/gm, 'var import_reflect_metadata = undefined;')
    .replace(/require\("virtlab"\)/g, () => `require(${rel(path.join(tmp, 'core', 'index.js'))})`)
    .replace(/require\("virtlab\/testing"\)/g, () => `require(${rel(path.join(tmp, 'tools', 'node', 'testing.js'))})`)
    .replace(/require\("(\.\.?\/[^"]+\.json)"\)/g, (_, spec) => {
      const source = path.join(root, path.relative(tmp, dir));
      return `require(${JSON.stringify(path.relative(dir, path.join(source, spec)).split(path.sep).join('/'))})`;
    });
}

/**
 * The public API (core/index.ts) re-exports every model; compiled as it is, requiring
 * 'virtlab' would load all of them. Its exports are getters already (esbuild's
 * CommonJS form), so each module it re-exports is required by the first getter that
 * needs it instead: `virtlab exec` then loads the CPU models and not, say, migration.
 * Only the barrel is changed; the modules still import one another directly.
 */
function lazyBarrel(text) {
  const modules = new Map();
  text = text.replace(/^var (import_\w+) = (__toESM\()?require\(("[^"]+")\)\)?;$/gm, (_, name, esm, spec) => {
    modules.set(name, esm ? `__toESM(require(${spec}))` : `require(${spec})`);
    return `var ${name};`;
  });
  for (const [name, load] of modules) text = text.split(`() => ${name}.`).join(`() => (${name} ??= ${load}).`);
  // Anything else that names a module (a re-export of all of one) loads it as before.
  for (const [name, load] of modules) {
    const rest = new RegExp(`\\b${name}\\b(?!\\s*\\?\\?=)`, 'g');
    const uses = (text.match(rest) ?? []).length;
    if (uses > 1) text = text.replace(`var ${name};`, `var ${name} = ${load};`);
  }
  return text;
}

/**
 * The vendored packages: one bundle per package, and for each a stand-in that loads
 * its bundle at the first use of any export, which the compiled code requires: a
 * module imports its packages at its top, but a command uses few of them (`virtlab
 * exec` never parses YAML, nor compiles a schema when the build has its validators).
 * The stand-in has the package's export names, read here from the bundle. A package
 * that is itself a function (and not an ES module's namespace) cannot be stood in
 * for by an object: it is required as it is. ajv and its standalone code generator
 * share one bundle: tools/build/validators.js needs the very copy of ajv that
 * compiled the schemas. Returns the packages that have a stand-in.
 */
const BUNDLES = { ajv: ['ajv', 'ajv/dist/standalone'] };
/**
 * ajv's helpers that the precompiled validators call (tools/build/validators.js points
 * their requires here): one small bundle, not a search of node_modules for each.
 */
const AJV_RUNTIME = ['equal', 'ucs2length', 'uri', 'validation_error'].map((n) => `ajv/dist/runtime/${n}`);
function vendor(esbuild, root, tmp) {
  const dir = path.join(tmp, 'vendor');
  fs.mkdirSync(dir, { recursive: true });
  const lazy = new Set();
  for (const n of [...VENDORED, 'ajv-runtime']) {
    const parts = n === 'ajv-runtime' ? AJV_RUNTIME : (BUNDLES[n] ?? [n]);
    const entry = parts.map((p) => `  get ${JSON.stringify(p)}() { return require(${JSON.stringify(p)}); },`).join('\n');
    const r = esbuild.buildSync({
      stdin: { contents: `module.exports = {\n${entry}\n};\n`, resolveDir: root, sourcefile: `vendor-${n}.js` },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      // reflect-metadata patches the global Reflect: it stays the one copy in node_modules.
      external: ['reflect-metadata'],
      keepNames: true,
      // A third of the text to read and to hash against the code cache: inversify, the
      // largest, then loads in three quarters of the time. (Names are kept.)
      minify: true,
      logLevel: 'silent',
      write: false,
    });
    if (r.errors.length) throw new Error(`build failed (vendored package ${n}): ${r.errors[0].text}`);
    const bundle = path.join(dir, `${n}.bundle.js`);
    fs.writeFileSync(bundle, r.outputFiles[0].contents);
    if (n === 'ajv-runtime') continue;
    // inversify reads and writes decorator metadata through the global Reflect that
    // reflect-metadata patches: it is loaded with inversify, not by the module that
    // imports both (see relink), so that a command that never injects loads neither.
    const before = n === 'inversify' ? `require('reflect-metadata');\n` : '';
    fs.writeFileSync(path.join(dir, `${n}.js`), `'use strict';\n${before}module.exports = require('./${n}.bundle.js')[${JSON.stringify(n)}];\n`);
    const mod = require(bundle)[n];
    if (typeof mod === 'function' && !mod.__esModule) continue;
    const names = Object.getOwnPropertyNames(mod).filter((k) => k !== '__esModule');
    const hidden = names.filter((k) => !Object.getOwnPropertyDescriptor(mod, k).enumerable);
    fs.writeFileSync(
      path.join(dir, `${n}.lazy.js`),
      [
        `'use strict';`,
        `// ${n} for the compiled code: its bundle (${n}.js) is loaded at the first use of an export.`,
        `let m;`,
        `const load = () => (m ??= require('./${n}.js'));`,
        `const hidden = new Set(${JSON.stringify(hidden)});`,
        mod.__esModule ? `Object.defineProperty(exports, '__esModule', { value: true });` : '',
        `for (const k of ${JSON.stringify(names)}) Object.defineProperty(exports, k, { get: () => load()[k], enumerable: !hidden.has(k) });`,
        '',
      ].join('\n'),
    );
    lazy.add(n);
  }
  return lazy;
}

/**
 * Removes superseded builds and unfinished ones, keeping the newest KEEP builds and any
 * touched in the last KEEP_MS (a process started from one may still load from it).
 */
function prune(dist, keep) {
  const now = Date.now();
  const builds = [];
  for (const name of fs.readdirSync(dist)) {
    if (name === LISTING || name.startsWith(`.${LISTING}.`)) continue;
    try {
      builds.push({ name, mtime: fs.statSync(path.join(dist, name)).mtimeMs });
    } catch {
      // Removed by another process meanwhile.
    }
  }
  builds.sort((a, b) => b.mtime - a.mtime);
  builds.forEach((b, i) => {
    if (b.name === keep || (i < KEEP && !b.name.startsWith('.')) || now - b.mtime < KEEP_MS) return;
    fs.rmSync(path.join(dist, b.name), { recursive: true, force: true });
  });
}

module.exports = { build, freshBuild, sourceKey, sourceFiles, STAMP, ROOT, VENDORED };

if (require.main === module) {
  try {
    const out = build(ROOT, (line) => process.stdout.write(line + '\n'));
    if (process.argv.includes('--print')) process.stdout.write(out + '\n');
  } catch (e) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = 1;
  }
}
