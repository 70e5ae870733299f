// The NIC component: what a host's network adapter is doing for packet-level
// experiments, for the visualizer and reports to read. Only hosts that run such an
// experiment carry it (workload.netperf adds it), so other scenarios pay nothing.

import { defineComponent } from '../../ecs/world';

export const Nic = defineComponent('Nic', 'The packet activity of a host’s NIC (hosts that run packet-level experiments).', {
  txQueue: { type: 'f32', unit: 'descriptors', description: 'Transmit descriptors in use plus segments waiting for a free descriptor, at the end of the last step.' },
  rxRing: { type: 'f32', unit: 'frames', description: 'Frames waiting in the receive ring for a poll, at the end of the last step.' },
  framesPerS: { type: 'f32', unit: 'frames/s', description: 'Frames sent and received per second over the last step.' },
  frames: { type: 'f64', unit: 'frames', description: 'Frames sent and received since the first experiment started.' },
});
