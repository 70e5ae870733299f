// The GPU part of a host profile (`gpus:` in hosts/*.host.yaml): the JSON Schema of
// one device and the normalized type the GPU model reads. Host profiles list their
// devices; the loader converts quantities with units ("1.38GHz", "96KiB",
// "900GB/s") to base units (Hz, bytes, bit/s, ns) before validation. Cycle counts
// are in the GPU's own clock.

export const GPU_PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'name',
    'clock',
    'computeUnits',
    'warpWidth',
    'maxWorkGroupSize',
    'registersPerCu',
    'localMemoryPerCu',
    'globalMemory',
    'globalLatencyCycles',
    'globalBandwidth',
    'transactionBytes',
    'localLatencyCycles',
    'localBanks',
    'barrierCycles',
    'launchOverhead',
    'transferBandwidth',
  ],
  properties: {
    name: { type: 'string', description: 'Marketing name of the device and where its figures come from.' },
    clock: { type: 'number', exclusiveMinimum: 0, unit: 'Hz', description: 'Shader clock (boost).' },
    computeUnits: { type: 'integer', minimum: 1, description: 'Compute units (NVIDIA streaming multiprocessors, AMD CUs, Intel Xe cores).' },
    warpWidth: { type: 'integer', minimum: 1, description: 'Work-items that execute one instruction together (NVIDIA warp 32, AMD GCN wavefront 64).' },
    schedulersPerCu: { type: 'integer', minimum: 1, default: 4, description: 'Warp instructions a compute unit issues per cycle.' },
    maxWorkGroupSize: { type: 'integer', minimum: 1, description: 'Largest work-group the device accepts (CL_DEVICE_MAX_WORK_GROUP_SIZE).' },
    maxWorkItemsPerCu: { type: 'integer', minimum: 1, default: 2048, description: 'Work-items resident on one compute unit at most.' },
    maxWorkGroupsPerCu: { type: 'integer', minimum: 1, default: 32, description: 'Work-groups resident on one compute unit at most.' },
    registersPerCu: { type: 'integer', minimum: 1, description: '32-bit registers of one compute unit, shared by its resident work-items.' },
    localMemoryPerCu: { type: 'number', exclusiveMinimum: 0, unit: 'bytes', description: 'Local (shared) memory of one compute unit, shared by its resident work-groups.' },
    localMemoryPerGroup: { type: 'number', minimum: 0, unit: 'bytes', default: 0, description: 'Most local memory one work-group may allocate; 0 means all of localMemoryPerCu.' },
    localLatencyCycles: { type: 'number', minimum: 0, description: 'Latency of a local-memory load without bank conflicts, in cycles.' },
    localBanks: { type: 'integer', minimum: 1, description: 'Banks of local memory, 4 bytes wide; accesses of one warp to distinct words of one bank are serialized.' },
    globalMemory: { type: 'number', exclusiveMinimum: 0, unit: 'bytes', description: 'Device memory.' },
    globalLatencyCycles: { type: 'number', minimum: 0, description: 'Latency of a global load that misses the L2, in cycles.' },
    globalBandwidth: { type: 'number', exclusiveMinimum: 0, unit: 'bit/s', description: 'Device-memory bandwidth (write it in GB/s).' },
    transactionBytes: { type: 'integer', minimum: 4, description: 'Coalescing granularity: the lanes of a warp that touch the same aligned segment of this many bytes share one transaction.' },
    l1: {
      type: 'object',
      additionalProperties: false,
      required: ['size', 'ways', 'latencyCycles', 'bytesPerCycle'],
      description: 'The L1 data cache of each compute unit, which global loads go through (stores pass it by); omit for none.',
      properties: {
        size: { type: 'number', exclusiveMinimum: 0, unit: 'bytes', description: 'Capacity per compute unit.' },
        ways: { type: 'integer', minimum: 1, description: 'Associativity (lines are transactionBytes long).' },
        latencyCycles: { type: 'number', minimum: 0, description: 'Latency of a global load that hits the L1, in cycles.' },
        bytesPerCycle: { type: 'number', exclusiveMinimum: 0, description: 'Bytes the L1 delivers per cycle to its compute unit.' },
      },
    },
    l2: {
      type: 'object',
      additionalProperties: false,
      required: ['size', 'ways', 'latencyCycles', 'bandwidth'],
      description: 'The L2 cache between compute units and device memory; omit for none.',
      properties: {
        size: { type: 'number', exclusiveMinimum: 0, unit: 'bytes', description: 'Capacity.' },
        ways: { type: 'integer', minimum: 1, description: 'Associativity (lines are transactionBytes long).' },
        latencyCycles: { type: 'number', minimum: 0, description: 'Latency of a global load that hits the L2, in cycles.' },
        bandwidth: { type: 'number', exclusiveMinimum: 0, unit: 'bit/s', description: 'L2 bandwidth to the compute units (write it in GB/s).' },
      },
    },
    barrierCycles: { type: 'number', minimum: 0, description: 'Cost of a work-group barrier once every warp has arrived, in cycles.' },
    launchOverhead: { type: 'number', minimum: 0, unit: 'ns', description: 'Time from a kernel launch to its first work-group running (driver and command processor).' },
    transferBandwidth: { type: 'number', exclusiveMinimum: 0, unit: 'bit/s', description: 'Host↔device copy bandwidth over the bus (write it in GB/s).' },
    transferLatency: { type: 'number', minimum: 0, unit: 'ns', default: 10000, description: 'Fixed cost of one host↔device copy.' },
  },
} as const;

/** One GPU of a host profile, in base units (Hz, bytes, bit/s, ns; latencies in GPU cycles). */
export interface GpuProfile {
  readonly name: string;
  readonly clock: number;
  readonly computeUnits: number;
  readonly warpWidth: number;
  readonly schedulersPerCu: number;
  readonly maxWorkGroupSize: number;
  readonly maxWorkItemsPerCu: number;
  readonly maxWorkGroupsPerCu: number;
  readonly registersPerCu: number;
  readonly localMemoryPerCu: number;
  readonly localMemoryPerGroup: number;
  readonly localLatencyCycles: number;
  readonly localBanks: number;
  readonly globalMemory: number;
  readonly globalLatencyCycles: number;
  readonly globalBandwidth: number;
  readonly transactionBytes: number;
  readonly l1?: { readonly size: number; readonly ways: number; readonly latencyCycles: number; readonly bytesPerCycle: number };
  readonly l2?: { readonly size: number; readonly ways: number; readonly latencyCycles: number; readonly bandwidth: number };
  readonly barrierCycles: number;
  readonly launchOverhead: number;
  readonly transferBandwidth: number;
  readonly transferLatency: number;
}
