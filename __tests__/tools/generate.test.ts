// Generated files (options types and the plugin catalog) match the manifests.
import { readFileSync } from 'node:fs';
import { staleFiles } from '../../tools/gen/generate';
import { ENGINE_VERSION } from '../../core/engine/version';

describe('generated files', () => {
  it('are up to date with the plugin manifests (run npm run gen)', () => {
    expect(staleFiles()).toEqual([]);
  });

  it('list the placement plugins in the catalog', () => {
    const md = readFileSync('plugins/README.md', 'utf8');
    expect(md).toMatch(/placement\.first-fit/);
    expect(md).toMatch(/placement\.worst-fit/);
  });

  it('the engine version follows package.json', () => {
    expect(ENGINE_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});
