// The GuestCpu component: a vCPU that runs a real guest program, for VMs whose
// workload is `{ kind: guest, … }` (the workload.guest plugin declares that schema
// and runs them; other plugins and the visualizer read the component).

import { defineComponent } from '../../ecs/world';

export const GuestState = { Running: 1, Exited: 2, Signaled: 3, Limit: 4 } as const;

export const GuestCpu = defineComponent('GuestCpu', 'A vCPU that runs a guest program.', {
  vm: { type: 'u32', unit: 'eid', description: 'The VM whose vCPU this is.' },
  state: { type: 'u8', unit: 'enum', description: 'GuestState: 1 running, 2 exited, 3 killed by a signal, 4 stopped at its instruction limit.' },
  exitCode: { type: 'i32', unit: 'status', description: 'Exit status (128 + signal when killed).' },
  instructions: { type: 'f64', unit: 'instructions', description: 'Instructions retired.' },
  ipc: { type: 'f32', unit: 'instructions/cycle', description: 'Instructions retired per host cycle.' },
  exitedAt: { type: 'f64', unit: 'ns', description: 'Simulated time at which the guest ended.' },
});
