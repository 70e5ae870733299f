// Components of the datacenter model: hosts, VMs and their synthetic memory
// workloads. Each field is one typed array indexed by entity id (see core/ecs/world.ts);
// the unit of every field is given here once.

import { defineComponent } from '../../ecs/world';

export const Host = defineComponent('Host', 'A physical machine in a rack.', {
  rack: { type: 'u32', unit: 'index', description: 'Rack number, from 0.' },
  slot: { type: 'u32', unit: 'index', description: 'Position in the rack, from 0.' },
  profile: { type: 'u16', unit: 'index', description: 'Index of the host profile in the scenario’s profile list.' },
  cores: { type: 'u32', unit: 'count', description: 'Hardware threads.' },
  frequency: { type: 'f64', unit: 'Hz', description: 'Core clock.' },
  memory: { type: 'f64', unit: 'bytes', description: 'Physical memory.' },
  allocatedVcpus: { type: 'u32', unit: 'count', description: 'vCPUs of the VMs placed here.' },
  allocatedMemory: { type: 'f64', unit: 'bytes', description: 'Memory of the VMs placed here.' },
  vmCount: { type: 'u32', unit: 'count', description: 'VMs placed here.' },
  cpuLoad: { type: 'f32', unit: 'ratio', description: 'CPU demand of the VMs placed here, plus host services, over the host’s cores (may exceed 1).' },
  serviceCores: { type: 'f32', unit: 'cores', description: 'Cores busy with host services (migration compression threads).' },
});

export const VmState = {
  /** Waiting for its arrival time or for a host with room. */
  Pending: 0,
  Running: 1,
  Migrating: 2,
  Stopped: 3,
  /** Gone: its state was split between two hosts when one of them or the link failed (a post-copy migration). */
  Lost: 4,
} as const;

export const Vm = defineComponent('Vm', 'A virtual machine.', {
  group: { type: 'u16', unit: 'index', description: 'Index of the scenario’s VM group that declared it.' },
  vcpus: { type: 'u16', unit: 'count', description: 'Virtual CPUs.' },
  memory: { type: 'f64', unit: 'bytes', description: 'Guest memory.' },
  cpuDemand: { type: 'f32', unit: 'ratio', description: 'Fraction of its vCPUs the VM keeps busy.' },
  host: { type: 'u32', unit: 'eid', description: 'Host entity it runs on; 0 when not placed.' },
  state: { type: 'u8', unit: 'enum', description: 'VmState: 0 pending, 1 running, 2 migrating, 3 stopped, 4 lost.' },
  arrival: { type: 'f64', unit: 'ns', description: 'Simulated time at which it asks for a host.' },
  speed: { type: 'f32', unit: 'ratio', description: 'Speed of the guest relative to unthrottled (1); migration throttling lowers it.' },
  placedAt: { type: 'f64', unit: 'ns', description: 'Simulated time at which it was last placed.' },
});

/** Page-access distributions of the synthetic workload. */
export const Distribution = { Uniform: 0, Zipf: 1, Sequential: 2 } as const;
export type DistributionName = 'uniform' | 'zipf' | 'sequential';

export const MemWorkload = defineComponent('MemWorkload', 'A synthetic workload that reads and dirties guest pages.', {
  spec: { type: 'u16', unit: 'index', description: 'Index of the workload specification (phases) it follows.' },
  phase: { type: 'u16', unit: 'index', description: 'Current phase in its specification.' },
  phaseEnd: { type: 'f64', unit: 'ns', description: 'Simulated time at which the current phase ends.' },
  pages: { type: 'f64', unit: 'pages', description: 'Pages in its working set, over which accesses are distributed.' },
  readsSinceReset: { type: 'f64', unit: 'accesses', description: 'Page reads since the accessed log was last reset.' },
  writesSinceReset: { type: 'f64', unit: 'accesses', description: 'Page writes since the dirty log was last reset.' },
  accessesSinceReset: { type: 'f64', unit: 'accesses', description: 'Reads and writes since the accessed log was last reset.' },
  reads: { type: 'f64', unit: 'accesses', description: 'Page reads since boot.' },
  writes: { type: 'f64', unit: 'accesses', description: 'Page writes since boot.' },
  detail: { type: 'u8', unit: 'bool', description: '1 when a plugin asked for exact per-page tracking of this VM.' },
});
