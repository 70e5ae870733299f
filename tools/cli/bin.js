#!/usr/bin/env node
// The `virtlab` command: registers the TypeScript loader (tsx) and hands the
// arguments to tools/cli/main.ts, whose return value becomes the exit status.
'use strict';
const { register } = require('tsx/esm/api');
register();
import('./main.ts')
  .then((cli) => cli.main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
