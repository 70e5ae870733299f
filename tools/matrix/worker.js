// A matrix worker thread: runs cells it is sent. From a compiled build (the virtlab
// command) it loads the compiled body beside it; from the sources it registers the
// TypeScript loader first.
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');
const compiled = path.join(__dirname, 'worker-main.js');
if (existsSync(compiled)) {
  require('../build/code-cache.js').install(path.resolve(__dirname, '..', '..'));
  require('../build/validators.js').installPrecompiled(path.resolve(__dirname, '..', '..'));
  require(compiled);
}
else {
  require('tsx/cjs/api').register();
  require('./worker-main.ts');
}
