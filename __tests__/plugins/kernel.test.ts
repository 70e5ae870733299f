// The kernel.* plugins: each provides the netstack personality its manifest
// describes, options move its costs and features, and a scenario selects one.
import { NetstackToken, scenario } from 'virtlab';
import { bootText } from '../../tools/node/testing';

const KERNELS = ['kernel.host-linux', 'kernel.lkl', 'kernel.gvisor', 'kernel.rump', 'kernel.lwip', 'kernel.graphene', 'kernel.kata'];
const boot = (b: ReturnType<typeof scenario>) => bootText(b.preset('minimal').noExpectations());

describe('container kernel personalities', () => {
  it('each provide the personality their manifest describes', async () => {
    for (const id of KERNELS) {
      const p = (await boot(scenario('k').plugin(id))).services.get(NetstackToken);
      expect(p.id).toBe(id);
      expect(p.features.mss).toBeGreaterThan(0);
      expect(p.costs.callNs).toBeGreaterThan(0);
    }
  });

  it('take scenario options with units over their manifest values', async () => {
    const p = (await boot(scenario('k').plugin('kernel.lkl', { callNs: 500, delayedAckNs: '100ms', sack: false }))).services.get(NetstackToken);
    expect(p.costs.callNs).toBe(500);
    expect(p.features.delayedAckNs).toBe(100e6);
    expect(p.features.sack).toBe(false);
  });

  it('refuse a second personality in one scenario, naming both', async () => {
    await expect(boot(scenario('k').plugin('kernel.lkl').plugin('kernel.gvisor'))).rejects.toThrow(/'kernel\.lkl' and 'kernel\.gvisor' both provide 'netstack'/);
  });

  it('refuse an unknown option with the plugin and the option', async () => {
    await expect(boot(scenario('k').plugin('kernel.lkl', { syscallNs: 3 }))).rejects.toThrow(/kernel\.lkl[\s\S]*syscallNs/);
  });
});
