// The GPU component of host entities: how many GPUs a host has and how busy they
// were over the last step, for metrics and the visualizer. Added to hosts whose
// profile lists `gpus:` by the plugin that runs GPU workloads.

import { defineComponent } from '../../ecs/world';

export const HostGpu = defineComponent('HostGpu', 'The GPUs of a host.', {
  gpus: { type: 'u8', unit: 'count', description: 'GPUs of the host profile.' },
  busy: { type: 'f32', unit: 'ratio', description: 'Fraction of the host’s GPU time spent running kernels over the last step.' },
  kernels: { type: 'f64', unit: 'count', description: 'Kernels completed on the host’s GPUs since boot.' },
});
