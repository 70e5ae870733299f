// Part of the build (tools/build/build.js), run in a process of its own: loads the
// freshly compiled core and the catalog of the repository's plugins with schema
// recording on (core/plugin/schema-cache.ts), so that every JSON Schema they compile
// (the manifest, scenario and host schemas, every plugin's options, every workload
// schema a scenario of the repository uses) is written out as ajv's standalone code:
// dist/<key>/validators/all.js, with index.json mapping each one's hash to its schema text.
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
  const standaloneCode = require(path.join(dir, 'vendor', 'bundle.js'))['ajv/dist/standalone'].default;
  const out = path.join(dir, 'validators');
  fs.mkdirSync(out, { recursive: true });
  const index = {};
  // One module for all of them (one file to read and compile, not one per schema),
  // each validator made on first use.
  const parts = [`'use strict';`];
  for (const r of recorded) {
    const hash = require('node:crypto').createHash('sha1').update(r.text).digest('hex').slice(0, 16);
    if (index[hash] !== undefined) continue;
    parts.push(`exports[${JSON.stringify(hash)}] = () => {\nconst module = { exports: {} };\n${standaloneCode(r.ajv, r.validate).replace(/^"use strict";/, '')}\nreturn module.exports.default ?? module.exports;\n};`);
    index[hash] = r.text;
  }
  fs.writeFileSync(path.join(out, 'all.js'), parts.join('\n') + '\n');
  // The index last, and whole: a process that finds it finds all.js complete.
  fs.writeFileSync(path.join(out, `index.json.${process.pid}`), JSON.stringify(index));
  fs.renameSync(path.join(out, `index.json.${process.pid}`), path.join(out, 'index.json'));
}

/**
 * Hands the validators of a build to core (the lookup core/plugin/schema-cache.ts
 * calls): a validator is used only when its schema text is the one asked for.
 */
function installPrecompiled(buildDir) {
  const dir = path.join(buildDir, 'validators');
  let byText;
  const made = new Map();
  globalThis[Symbol.for('virtlab.precompiledValidators')] = (text) => {
    if (byText === undefined) {
      byText = new Map();
      try {
        for (const [hash, t] of Object.entries(JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')))) byText.set(t, hash);
      } catch {
        // No validators in this build: every schema is compiled when it is used.
      }
    }
    const hash = byText.get(text);
    if (hash === undefined) return undefined;
    let v = made.get(hash);
    if (!v) made.set(hash, (v = require(path.join(dir, 'all.js'))[hash]()));
    return v;
  };
}

module.exports = { installPrecompiled };

if (require.main === module) main(path.resolve(process.argv[2]));
