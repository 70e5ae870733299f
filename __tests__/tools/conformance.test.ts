// `virtlab conformance`: the pass/fail table of a suite against the personalities,
// and one-line errors naming an unknown suite or personality.
import { cli } from './run-cli';

describe('virtlab conformance', () => {
  it('prints the table of the tcp suite for the chosen personalities', async () => {
    const r = await cli('conformance', 'tcp', '--kernel', 'kernel.host-linux', '--kernel', 'kernel.lwip', '--verbose');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^script\s+host-linux\s+lwip$/m);
    expect(r.out).toMatch(/^handshake-passive\s+pass\s+pass$/m);
    expect(r.out).toMatch(/^window-scaling\s+pass\s+FAIL$/m);
    expect(r.out).toMatch(/^passed\s+20\/20\s+9\/20$/m);
    expect(r.out).toMatch(/lwip: window-scaling\.pkt:\d+: mismatch in wscale option/);
  });

  it('names an unknown suite or personality in one line', async () => {
    const a = await cli('conformance', 'udp');
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/no conformance suite 'udp' \(suites in scenarios\/conformance: tcp/);
    const b = await cli('conformance', 'tcp', '--kernel', 'kernel.linux');
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/no netstack personality 'kernel\.linux' \(installed: kernel\.host-linux, kernel\.lkl/);
  });
});
