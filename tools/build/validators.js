// Part of the build (tools/build/build.js), run in a process of its own: loads the
// freshly compiled core and the catalog of the repository's plugins with schema
// recording on (core/plugin/schema-cache.ts), so that every JSON Schema they compile
// (the manifest, scenario and host schemas, every plugin's options, every workload
// schema a scenario of the repository uses) is written out as ajv's standalone code:
// dist/<key>/validators/<hash>.js, one module per schema with the schema text it was
// compiled from (a command reads and compiles only those it uses), and index.json
// listing the hashes.
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
  }
  // The index last, and whole: a process that finds it finds every module it lists.
  fs.writeFileSync(path.join(out, `index.json.${process.pid}`), JSON.stringify([...hashes]));
  fs.renameSync(path.join(out, `index.json.${process.pid}`), path.join(out, 'index.json'));
}

/** The name of a schema's validator module. */
function schemaHash(text) {
  return require('node:crypto').createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/**
 * Hands the validators of a build to core (the lookup core/plugin/schema-cache.ts
 * calls): a validator is used only when its schema text is the one asked for.
 */
function installPrecompiled(buildDir) {
  const dir = path.join(buildDir, 'validators');
  let listed;
  const made = new Map();
  globalThis[Symbol.for('virtlab.precompiledValidators')] = (text) => {
    if (listed === undefined) {
      try {
        listed = new Set(JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')));
      } catch {
        // No validators in this build: every schema is compiled when it is used.
        listed = new Set();
      }
    }
    const hash = schemaHash(text);
    if (!listed.has(hash)) return undefined;
    let v = made.get(hash);
    if (!v) {
      const m = require(path.join(dir, `${hash}.js`));
      // Only for the very schema it was compiled from.
      if (m.text !== text) return undefined;
      made.set(hash, (v = m.make()));
    }
    return v;
  };
}

module.exports = { installPrecompiled };

if (require.main === module) main(path.resolve(process.argv[2]));
