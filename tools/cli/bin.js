#!/usr/bin/env node
// The `virtlab` command: runs the compiled JavaScript of tools/cli/main.ts (from
// dist/, see tools/build/build.js) and makes its return value the exit status.
// Nothing is transpiled at start: when the sources changed since the last build, they
// are compiled again first (a fraction of a second, once), so a stale build is never
// run. Only when no build can be made (esbuild missing, a read-only checkout) does the
// TypeScript run through tsx instead.
'use strict';
// Started by the launcher (tools/cli/virtlab): the allocator settings it added are for
// this process alone. Removed before anything reads the environment, so that a guest
// of `virtlab exec`, which inherits it, and our child processes see the user's.
if (process.env.VIRTLAB_LAUNCHER_ENV !== undefined) {
  for (const name of process.env.VIRTLAB_LAUNCHER_ENV.split(' ')) if (name) delete process.env[name];
  delete process.env.VIRTLAB_LAUNCHER_ENV;
}
// What the launcher moved aside for this process only (Node's extra CA certificates,
// which it would load at start for nothing): put back for the guest and children.
if (process.env.VIRTLAB_LAUNCHER_MOVED !== undefined) {
  for (const name of process.env.VIRTLAB_LAUNCHER_MOVED.split(' ')) {
    if (!name) continue;
    const saved = `VIRTLAB_LAUNCHER_MOVED_${name}`;
    if (process.env[saved] !== undefined) process.env[name] = process.env[saved];
    delete process.env[saved];
  }
  delete process.env.VIRTLAB_LAUNCHER_MOVED;
}
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
  const debug = process.argv.includes('--debug');
  if (debug) process.setSourceMapsEnabled(true);
  const buildDir = path.resolve(main, '..', '..', '..');
  // Not with --debug: Node reads a module's source map only when it compiles the
  // module itself, and the code cache compiles them through vm.Script.
  if (!debug) require('../build/code-cache.js').install(buildDir);
  require('../build/validators.js').installPrecompiled(buildDir);
  entry = require(main);
} else {
  require('tsx/cjs/api').register();
  entry = require('./main.ts');
}
entry.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
