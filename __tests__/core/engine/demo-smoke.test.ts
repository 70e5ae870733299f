// A first end-to-end run of the demo scenario through the engine.
import { readFileSync } from 'node:fs';
import { runText } from '../../../tools/node/testing';

describe('the demo scenario', () => {
  it('places every VM and dirties pages', async () => {
    const { result } = await runText(readFileSync('scenarios/demo.scenario.yaml', 'utf8'));
    expect(result.expectations.every((e) => e.ok)).toBe(true);
    const m = (result.metrics as { metrics: Record<string, { value: number }> }).metrics;
    expect(m['dc.vms.running'].value).toBe(24);
    expect(m['workload.dirty-pages'].value).toBeGreaterThan(0);
  });
});
