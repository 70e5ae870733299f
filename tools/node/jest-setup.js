// Jest's globalSetup (jest.config.js): brings the compiled build up to date first
// (tools/build/build.js; tests start `virtlab` processes, which run it), so that no
// test run writes a build into the tree; then the tree guard takes its snapshot. The
// persistent translation cache is turned off for every test.
// Without esbuild the command runs its TypeScript through tsx, and the tests with it.
const treeGuard = require('./tree-guard.js');

module.exports = async function jestSetup(globalConfig) {
  // No test depends on what earlier runs left in a translation cache: `virtlab exec`
  // processes and in-process runs inherit this (workers and children copy the
  // environment); a test of the cache names a temporary folder of its own.
  process.env.VIRTLAB_CODE_CACHE = 'off';
  try {
    require('../build/build.js').build();
  } catch (e) {
    process.stderr.write(`note: no compiled build (${e.message}); virtlab processes run their TypeScript through tsx\n`);
  }
  return treeGuard(globalConfig);
};
