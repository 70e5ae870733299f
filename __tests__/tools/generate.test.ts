// Generated files (options types and the plugin catalog) match the manifests.
import { readdirSync, readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { parse } from 'yaml';
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

  it('give editors schemas that accept the scenario and host files as written', () => {
    const check = (schemaFile: string, file: string) => {
      const ajv = new Ajv({ strict: false });
      const ok = ajv.validate(JSON.parse(readFileSync(schemaFile, 'utf8')), parse(readFileSync(file, 'utf8')));
      expect([file, ok ? 'valid' : ajv.errorsText()]).toEqual([file, 'valid']);
    };
    check('scenarios/scenario.schema.json', 'scenarios/demo.scenario.yaml');
    for (const f of readdirSync('hosts').filter((n) => n.endsWith('.host.yaml'))) check('hosts/host.schema.json', `hosts/${f}`);
  });

  it('the engine version follows package.json', () => {
    expect(ENGINE_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});
