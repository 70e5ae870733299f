// Part of the build (tools/build/build.js), run in a process of its own after the
// validators: validates the manifests of plugins/ with the freshly compiled code and
// writes them, with the text each was validated from, to dist/<key>/manifests.json,
// so that a command reading the catalog takes an unchanged manifest as validated
// (tools/node/catalog.ts) instead of validating them all again at every start.
//
//   node tools/build/manifests.js <build folder>
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function main(dir) {
  require('./validators.js').installPrecompiled(dir);
  const { manifestCacheJson, MANIFEST_CACHE } = require(path.join(dir, 'tools', 'node', 'catalog.js'));
  // Whole or not at all: a process starting meanwhile reads no half-written file.
  const tmp = path.join(dir, `${MANIFEST_CACHE}.${process.pid}`);
  fs.writeFileSync(tmp, manifestCacheJson());
  fs.renameSync(tmp, path.join(dir, MANIFEST_CACHE));
}

main(path.resolve(process.argv[2]));
