// Jest's globalSetup (jest.config.js): brings the compiled build up to date first
// (tools/build/build.js; tests start `virtlab` processes, which run it), so that no
// test run writes a build into the tree; then the tree guard takes its snapshot.
// Without esbuild the command runs its TypeScript through tsx, and the tests with it.
const treeGuard = require('./tree-guard.js');

module.exports = async function jestSetup(globalConfig) {
  try {
    require('../build/build.js').build();
  } catch (e) {
    process.stderr.write(`note: no compiled build (${e.message}); virtlab processes run their TypeScript through tsx\n`);
  }
  return treeGuard(globalConfig);
};
