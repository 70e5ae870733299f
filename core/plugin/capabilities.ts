// Capabilities that plugins provide. An exclusive capability may have one provider
// per simulation (two MMU strategies cannot both translate addresses); the registry
// refuses a second one. Capabilities not listed here are free-form and shared.

export interface CapabilityInfo {
  readonly exclusive: boolean;
  readonly description: string;
}

export const CAPABILITIES: Readonly<Record<string, CapabilityInfo>> = Object.freeze({
  placement: { exclusive: true, description: 'Chooses the host of each VM.' },
  'workload.synthetic': { exclusive: true, description: 'Runs `kind: synthetic` VM workloads.' },
  'workload.guest': { exclusive: true, description: 'Runs `kind: guest` VM workloads (real guest programs).' },
  'cpu.engine': { exclusive: true, description: 'Executes guest code: interpreter or translator.' },
  mmu: { exclusive: true, description: 'Translates guest addresses: the memory-virtualization strategy.' },
  'workload.paging': { exclusive: true, description: 'Drives synthetic page-table workloads through the MMU strategy.' },
  'dirty-log': { exclusive: true, description: 'Tracks pages dirtied by a VM.' },
  'migration.method': { exclusive: true, description: 'Moves a running VM between hosts.' },
  'migration.controller': { exclusive: true, description: 'Decides how a migration proceeds (adaptive policies).' },
  'migration.trigger': { exclusive: false, description: 'Starts migrations (schedules, maintenance).' },
  netstack: { exclusive: true, description: 'The network stack personality of containers.' },
  'network.traffic': { exclusive: false, description: 'Generates traffic on the datacenter network.' },
  trace: { exclusive: false, description: 'Records events for the visualizer and reports.' },
  bench: { exclusive: false, description: 'Measures the framework itself.' },
});

export function isExclusive(capability: string): boolean {
  return CAPABILITIES[capability]?.exclusive ?? false;
}
