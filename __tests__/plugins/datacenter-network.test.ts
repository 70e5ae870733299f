// datacenter.racks and network.flows: the world's hosts, VMs and network come from
// plugins. They populate the world before any plugin's boot handler runs, keep their
// state across a checkpoint, and a scenario that declares hosts without them is
// refused with the missing capability named.
import { DatacenterToken, NetworkToken, RegistryError } from 'virtlab';
import { bootText } from '../../tools/node/testing';

const world = (preset: string, plugins: string) => `name: dc-net
seed: 7
preset: ${preset}
tick: 10ms
duration: 2s
hosts:
  - { profile: x86-64-server, racks: 2, perRack: 3 }
vms:
  - { name: early, count: 4, vcpus: 2, memory: 4GiB }
  - { name: late, count: 2, vcpus: 2, memory: 4GiB, arrival: 1500ms }
${plugins ? `plugins:\n${plugins}` : ''}`;

const traffic = '  network.background: { steadyFlows: 3, arrivalsPerSecond: 20, meanFlowSize: 50MiB }\n';

describe('the datacenter and network plugins', () => {
  it('spawn hosts, VMs and the topology before boot handlers run', async () => {
    const sim = await bootText(world('default', traffic));
    const dc = sim.services.get(DatacenterToken);
    expect(dc.hosts).toHaveLength(6);
    expect(dc.vms).toHaveLength(6);
    expect(sim.services.get(NetworkToken).topology.capacity.length).toBeGreaterThan(0);
    // network.background starts its long-lived flows in lifecycle.boot, between hosts that must exist by then.
    expect(sim.metrics.value('net.background.flows')).toBe(3);
    expect(sim.selectedPlugins.map((p) => p.id).slice(0, 2)).toEqual(['datacenter.racks', 'network.flows']);
  });

  it('own the systems that admit VMs and advance flows', async () => {
    const sim = await bootText(world('default', ''));
    const owners = Object.fromEntries(sim.systemOrder.map((s) => [s.name, s.owner]));
    expect(owners['datacenter.racks/admit-vms']).toBe('datacenter.racks');
    expect(owners['network.flows/advance']).toBe('network.flows');
    expect(sim.systemOrder.some((s) => s.owner === 'core')).toBe(false);
  });

  it('resume from a checkpoint with pending VMs and flows in progress exactly', async () => {
    const text = world('default', traffic);
    const whole = await bootText(text);
    whole.run();
    const expected = (await whole.finish()).metricsJson;

    const first = await bootText(text);
    first.runUntil(1_000_000_000);
    const snap = first.snapshot();
    expect(Object.keys(snap.participants)).toEqual(expect.arrayContaining(['datacenter.racks/pending', 'network.flows/flows']));
    const resumed = await bootText(text);
    resumed.restore(snap);
    resumed.run();
    expect((await resumed.finish()).metricsJson).toBe(expected);
  });

  it('are refused under the minimal preset when the scenario declares hosts, naming the capability', async () => {
    const e = await bootText(world('minimal', '  trace.events: {}\n')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RegistryError);
    expect((e as RegistryError).message).toMatch(/declares hosts or VMs, but no selected plugin provides datacenter/);
    expect((e as RegistryError).hint).toMatch(/datacenter\.racks/);
  });

  it('are named when a placement policy is selected without them', async () => {
    const e = await bootText(world('minimal', '  placement.first-fit: {}\n')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RegistryError);
    expect((e as RegistryError).message).toMatch(/'placement.first-fit' requires 'datacenter'/);
    expect((e as RegistryError).hint).toBe('add one of: datacenter.racks');
  });

  it('refuse a network without a datacenter', async () => {
    await expect(bootText('name: n\npreset: minimal\ntick: 1ms\nduration: 1ms\nplugins:\n  network.flows: {}\n')).rejects.toThrow(
      /'network.flows' requires 'datacenter'/,
    );
  });

  it('are absent from a minimal simulation that declares no hosts', async () => {
    const sim = await bootText('name: n\npreset: minimal\ntick: 1ms\nduration: 1ms\n');
    expect(sim.services.tryGet(DatacenterToken)).toBeUndefined();
    expect(sim.services.tryGet(NetworkToken)).toBeUndefined();
    sim.run();
    expect((await sim.finish()).metrics).toMatchObject({ ticks: 1 });
  });
});
