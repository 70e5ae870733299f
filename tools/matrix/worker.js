// A matrix worker thread: registers the TypeScript loader, then runs cells it is sent.
'use strict';
require('tsx/cjs/api').register();
require('./worker-main.ts');
