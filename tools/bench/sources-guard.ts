// Benchmarks measure the build as `npm run build` makes it, with its start-up extras
// (V8's code cache, the precompiled validators). A source edited while one runs makes
// the next `virtlab` process build again without them, and every later figure then
// measures a slower start. The guard notes the sources' key at the start and says,
// at the end, whether it moved.

import path from 'node:path';
import { REPO_ROOT } from '../node/repo-root';

interface Builder {
  sourceKey(root?: string): string;
}

/** Call at the start; the function returned gives a warning to print at the end, or null. */
export function watchSources(): () => string | null {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const builder = require(path.join(REPO_ROOT, 'tools', 'build', 'build.js')) as Builder;
  const key = builder.sourceKey(REPO_ROOT);
  return () =>
    builder.sourceKey(REPO_ROOT) === key
      ? null
      : 'warning: the sources changed while this benchmark ran; the processes started after the change ran a build without its start-up extras (code cache, precompiled validators), so their figures are not comparable: run `npm run build` and measure again';
}
