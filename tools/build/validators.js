// Part of the build (tools/build/build.js), run in a process of its own: loads the
// freshly compiled core and the catalog of the repository's plugins with schema
// recording on (core/plugin/schema-cache.ts), so that every JSON Schema they compile
// (the manifest, scenario and host schemas, every plugin's options, every workload
// schema a scenario of the repository uses) is written out as ajv's standalone code:
// dist/<key>/validators/<hash>.js, one module per schema with the schema text it was
// compiled from (a command reads and compiles only those it uses), and index.json
// listing them by the length of that text.
//
//   node tools/build/validators.js <build folder>
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const RECORD = Symbol.for('virtlab.recordValidators');

function main(dir) {
  const recorded = [];
  globalThis[RECORD] = recorded;
  require(path.join(dir, 'core', 'index.js'));
  const { loadCatalog, REPO_ROOT } = require(path.join(dir, 'tools', 'node', 'catalog.js'));
  loadCatalog();
  // The scenarios of the repository compile the workload schemas they use.
  const { loadScenarioFile } = require(path.join(dir, 'tools', 'node', 'scenario-file.js'));
  const scenarios = path.join(REPO_ROOT, 'scenarios');
  for (const name of fs.readdirSync(scenarios)) {
    if (!name.endsWith('.scenario.yaml')) continue;
    try {
      loadScenarioFile(path.join(scenarios, name));
    } catch {
      // A scenario that does not load compiles nothing worth keeping.
    }
  }
  const standaloneCode = require(path.join(dir, 'vendor', 'ajv.bundle.js'))['ajv/dist/standalone'].default;
  const out = path.join(dir, 'validators');
  fs.mkdirSync(out, { recursive: true });
  const hashes = new Set();
  // The modules by the length of their schema's text, which is all a command needs to
  // find a schema's module: it compares the whole text then (see installPrecompiled).
  const byLength = {};
  // ajv's helpers from the build's small bundle of them (tools/build/build.js).
  const helpers = new Set(Object.keys(require(path.join(dir, 'vendor', 'ajv-runtime.bundle.js'))));
  const linked = (code) => code.replace(/require\("(ajv\/dist\/runtime\/[\w]+)"\)/g, (m, name) => (helpers.has(name) ? `require("../vendor/ajv-runtime.bundle.js")[${JSON.stringify(name)}]` : m));
  for (const r of recorded) {
    const hash = schemaHash(r.text);
    if (hashes.has(hash)) continue;
    const code = [
      `'use strict';`,
      `exports.text = ${JSON.stringify(r.text)};`,
      `exports.make = () => {\nconst module = { exports: {} };\n${linked(standaloneCode(r.ajv, r.validate).replace(/^"use strict";/, ''))}\nreturn module.exports.default ?? module.exports;\n};`,
      '',
    ].join('\n');
    fs.writeFileSync(path.join(out, `${hash}.js`), code);
    hashes.add(hash);
    (byLength[r.text.length] ??= []).push(hash);
  }
  // The index last, and whole: a process that finds it finds every module it lists.
  fs.writeFileSync(path.join(out, `index.json.${process.pid}`), JSON.stringify(byLength));
  fs.renameSync(path.join(out, `index.json.${process.pid}`), path.join(out, 'index.json'));
}

/** The name of a schema's validator module (made by the build only: see installPrecompiled). */
function schemaHash(text) {
  return require('node:crypto').createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/**
 * Hands the validators of a build to core (the lookup core/plugin/schema-cache.ts
 * calls): a validator is used only when its schema text is the one asked for. Found by
 * the text's length and compared whole: no digest of the text is computed, as one
 * cost a command more than the comparison (node:crypto alone took about 10 ms to load).
 */
function installPrecompiled(buildDir) {
  const dir = path.join(buildDir, 'validators');
  let listed;
  const made = new Map();
  globalThis[Symbol.for('virtlab.precompiledValidators')] = (text) => {
    if (listed === undefined) {
      try {
        listed = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
        if (typeof listed !== 'object' || listed === null || Array.isArray(listed)) listed = {};
      } catch {
        // No validators in this build: every schema is compiled when it is used.
        listed = {};
      }
    }
    const names = Object.hasOwn(listed, text.length) ? listed[text.length] : [];
    for (const name of names) {
      const m = require(path.join(dir, `${name}.js`));
      // Only for the very schema it was compiled from.
      if (m.text !== text) continue;
      let v = made.get(name);
      if (!v) made.set(name, (v = m.make()));
      return v;
    }
    return undefined;
  };
}

module.exports = { installPrecompiled };

if (require.main === module) main(path.resolve(process.argv[2]));
