// Capabilities that plugins provide. An exclusive capability may have one provider
// per simulation (two MMU strategies cannot both translate addresses); the registry
// refuses a second one. Capabilities not listed here are free-form and shared.
// A capability is listed once a plugin provides it, not before.

export interface CapabilityInfo {
  readonly exclusive: boolean;
  readonly description: string;
}

export const CAPABILITIES: Readonly<Record<string, CapabilityInfo>> = Object.freeze({
  datacenter: { exclusive: true, description: 'Holds the hosts and VMs and admits VMs as they arrive (service DatacenterToken).' },
  network: { exclusive: true, description: 'Carries flows between hosts on the datacenter topology (service NetworkToken).' },
  placement: { exclusive: true, description: 'Chooses the host of each VM.' },
  'workload.synthetic': { exclusive: true, description: 'Runs `kind: synthetic` VM workloads.' },
  'workload.guest': { exclusive: true, description: 'Runs `kind: guest` VM workloads (real guest programs).' },
  'workload.linux': { exclusive: true, description: 'Runs `kind: linux` VM workloads (a virt machine booting a kernel).' },
  'cpu.engine': { exclusive: true, description: 'Executes guest code: interpreter or translator.' },
  'dbt.regmap': { exclusive: true, description: 'Places guest registers on the host for the host code model (service RegMapToken).' },
  mmu: { exclusive: true, description: 'Translates guest addresses: the memory-virtualization strategy.' },
  'dirty-log': { exclusive: true, description: 'Tells the hypervisor which pages a VM wrote (write-protection, PML, PRL): service DirtyLog.' },
  wss: { exclusive: false, description: 'Estimates working-set sizes of VMs (several at once).' },
  'memory.policy': { exclusive: true, description: 'Sizes VM memory (ballooning, overcommitment).' },
  'workload.paging': { exclusive: true, description: 'Drives synthetic page-table workloads through the MMU strategy.' },
  'migration.method': { exclusive: true, description: 'Moves a running VM between hosts.' },
  'migration.controller': { exclusive: true, description: 'Decides how a migration proceeds (adaptive policies).' },
  'migration.trigger': { exclusive: false, description: 'Starts migrations (schedules, maintenance).' },
  'network.traffic': { exclusive: false, description: 'Generates traffic on the datacenter network.' },
  netstack: { exclusive: true, description: 'The network stack of the containers: a kernel personality with its TCP features, costs and offloads (service NetstackToken).' },
  'workload.tcp-stream': { exclusive: true, description: 'Runs `kind: tcp-stream` workloads (netperf TCP_STREAM) on the packet-level network.' },
  'workload.tcp-rr': { exclusive: true, description: 'Runs `kind: tcp-rr` workloads (netperf TCP_RR) on the packet-level network.' },
  'workload.http': { exclusive: true, description: 'Runs `kind: http` workloads (nginx served, wrk load) on the packet-level network.' },
  'gpu.jit': { exclusive: true, description: 'Compiles GPU kernels: the passes it taps on hooks.gpu.optimizeKernel.' },
  'workload.gpu': { exclusive: true, description: 'Runs `kind: gpu` VM workloads (GPU kernels through passthrough).' },
  trace: { exclusive: false, description: 'Records events for the visualizer and reports.' },
  bench: { exclusive: false, description: 'Measures the framework itself.' },
});

export function isExclusive(capability: string): boolean {
  return CAPABILITIES[capability]?.exclusive ?? false;
}
