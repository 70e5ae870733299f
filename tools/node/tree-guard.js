// Jest's globalSetup and globalTeardown (jest.config.js): tests never write into the
// repository tree, ignored folders such as results/ included. Before the tests this
// records `git status --porcelain --ignored --untracked-files=all`; after them it
// fails the run, listing every path that is new or changed since. It is one git call
// each way (tens of milliseconds). Outside a git checkout it does nothing; set
// VIRTLAB_ALLOW_TREE_WRITES=1 to silence it while editing files during a run.
const { spawnSync } = require('node:child_process');

const KEY = Symbol.for('virtlab.tree-guard');

/** The porcelain lines of the work tree's state, or undefined when git cannot say. */
function treeState(root) {
  const r = spawnSync('git', ['status', '--porcelain=v1', '--ignored', '--untracked-files=all'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0 || r.error) return undefined;
  return new Set(r.stdout.split('\n').filter(Boolean));
}

/** Called twice: first as globalSetup (records), then as globalTeardown (compares). */
module.exports = async function treeGuard(globalConfig) {
  const root = globalConfig.rootDir;
  if (!(KEY in globalThis)) {
    globalThis[KEY] = treeState(root);
    return;
  }
  const before = globalThis[KEY];
  delete globalThis[KEY];
  if (!before || process.env.VIRTLAB_ALLOW_TREE_WRITES) return;
  const after = treeState(root);
  if (!after) return;
  const written = [...after].filter((line) => !before.has(line));
  if (written.length) {
    throw new Error(
      `tests wrote into the repository tree (write to os.tmpdir() instead):\n${written.map((l) => `  ${l}`).join('\n')}\n` +
        '(if you changed these files yourself during the run, set VIRTLAB_ALLOW_TREE_WRITES=1)',
    );
  }
};
