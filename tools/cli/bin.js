#!/usr/bin/env node
// The `virtlab` command: registers the TypeScript loader (tsx) and hands the
// arguments to tools/cli/main.ts, whose return value becomes the exit status.
'use strict';
require('tsx/cjs/api').register();
const { main } = require('./main.ts');
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
