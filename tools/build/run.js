#!/usr/bin/env node
// Runs a TypeScript script of the repository from the compiled build (made first when
// the sources changed), the way the virtlab command runs: benchmarks measure what
// users run, without a TypeScript loader in the process or its children's timings.
//
//   node tools/build/run.js tools/bench/startup.bench.ts [args…]
'use strict';
const path = require('node:path');
const builder = require('./build.js');
const { installPrecompiled } = require('./validators.js');

const script = process.argv[2];
if (!script) {
  process.stderr.write('usage: node tools/build/run.js <script.ts> [args…]\n');
  process.exit(2);
}
// With the start-up extras (precompiled validators, code cache): benchmarks measure
// what an installed copy runs.
const dir = builder.build();
const rel = path.relative(builder.ROOT, path.resolve(script));
if (rel.startsWith('..')) {
  process.stderr.write(`error: ${script} is not a file of the repository\n`);
  process.exit(2);
}
const compiled = path.join(dir, rel.replace(/\.ts$/, '.js'));
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
require('./code-cache.js').install(dir);
installPrecompiled(dir);
process.argv = [process.argv[0], compiled, ...process.argv.slice(3)];
require(compiled);
