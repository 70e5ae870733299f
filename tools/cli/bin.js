#!/usr/bin/env node
// The `virtlab` command: runs the compiled JavaScript of tools/cli/main.ts (from
// dist/, see tools/build/build.js) and makes its return value the exit status.
// Nothing is transpiled at start: when the sources changed since the last build, they
// are compiled again first (a fraction of a second, once), so a stale build is never
// run. Only when no build can be made (esbuild missing, a read-only checkout) does the
// TypeScript run through tsx instead.
'use strict';
const path = require('node:path');
const builder = require('../build/build.js');

function compiledMain() {
  const fresh = builder.freshBuild();
  if (fresh) return path.join(fresh, 'tools', 'cli', 'main.js');
  try {
    // Compiled only (well under a second); `npm run build` adds the start-up extras.
    return path.join(builder.build(builder.ROOT, () => {}, { extras: false }), 'tools', 'cli', 'main.js');
  } catch {
    return undefined;
  }
}

const main = compiledMain();
let entry;
if (main) {
  // With --debug, stack traces name the TypeScript files and lines. (Not always: Node
  // then measures every module it loads, which costs more than the rest of startup.
  // The file:line of an error thrown by a plugin is mapped back without it.)
  if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
  const buildDir = path.resolve(main, '..', '..', '..');
  require('../build/code-cache.js').install(buildDir);
  require('../build/validators.js').installPrecompiled(buildDir);
  entry = require(main);
} else {
  require('tsx/cjs/api').register();
  entry = require('./main.ts');
}
entry.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
