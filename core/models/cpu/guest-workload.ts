// `workload: { kind: guest, … }`: a VM that runs a real guest program on its first
// vCPU. The schema is part of the scenario schema; the `workload.guest` plugin runs it.

import { defineComponent } from '../../ecs/world';

export const GUEST_WORKLOAD_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'program'],
  properties: {
    kind: { const: 'guest', description: 'A real guest program.' },
    program: { type: 'string', description: 'Static RISC-V Linux ELF, relative to the scenario file.' },
    args: { type: 'array', items: { type: 'string' }, default: [], description: 'Arguments after argv[0].' },
    env: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Environment variables.' },
    stdin: { type: 'string', default: '', description: 'Standard input, as text.' },
    ipc: { type: 'number', exclusiveMinimum: 0, default: 1, unit: 'instructions/cycle', description: 'Guest instructions retired per host cycle.' },
    maxInstructions: { type: 'number', minimum: 0, default: 0, unit: 'instructions', description: 'Stop the guest after this many instructions (0: no limit).' },
  },
} as const;

export const GuestState = { Running: 1, Exited: 2, Signaled: 3, Limit: 4 } as const;

export const GuestCpu = defineComponent('GuestCpu', 'A vCPU that runs a guest program.', {
  vm: { type: 'u32', unit: 'eid', description: 'The VM whose vCPU this is.' },
  state: { type: 'u8', unit: 'enum', description: 'GuestState: 1 running, 2 exited, 3 killed by a signal, 4 stopped at its instruction limit.' },
  exitCode: { type: 'i32', unit: 'status', description: 'Exit status (128 + signal when killed).' },
  instructions: { type: 'f64', unit: 'instructions', description: 'Instructions retired.' },
  ipc: { type: 'f32', unit: 'instructions/cycle', description: 'Instructions retired per host cycle.' },
  exitedAt: { type: 'f64', unit: 'ns', description: 'Simulated time at which the guest ended.' },
});
