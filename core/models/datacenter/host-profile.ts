// Hardware profiles of simulated hosts (hosts/*.host.yaml): the JSON Schema that
// validates them, and the normalized type the models read. Quantities are written
// with units in the files ("2.1GHz", "384GiB", "25Gbit/s") and converted to base
// units (Hz, bytes, ns, bit/s) by the loader before validation.

export const HOST_PROFILE_SCHEMA = {
  $id: 'virtlab:host-profile',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'description', 'isa', 'cpu', 'memory', 'tlb', 'virtualization', 'nic'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', description: 'Profile id; the file is <id>.host.yaml.' },
    description: { type: 'string', description: 'What machine this models.' },
    isa: { enum: ['x86-64', 'aarch64', 'riscv64', 'mips64'], description: 'Host instruction set.' },
    cpu: {
      type: 'object',
      additionalProperties: false,
      required: ['cores', 'frequency', 'gprs', 'simd'],
      properties: {
        cores: { type: 'integer', minimum: 1, description: 'Hardware threads available to VMs.' },
        frequency: { type: 'number', exclusiveMinimum: 0, unit: 'Hz', description: 'Core clock.' },
        gprs: { type: 'integer', minimum: 4, description: 'General-purpose registers of the host ISA.' },
        simd: {
          type: 'object',
          additionalProperties: false,
          required: ['registers', 'widthBits'],
          properties: {
            registers: { type: 'integer', minimum: 0, description: 'SIMD registers.' },
            widthBits: { type: 'integer', minimum: 0, description: 'Width of one SIMD register in bits.' },
          },
        },
      },
    },
    memory: {
      type: 'object',
      additionalProperties: false,
      required: ['size', 'latency', 'pageTableLevels'],
      properties: {
        size: { type: 'number', exclusiveMinimum: 0, unit: 'bytes', description: 'Physical memory.' },
        latency: { type: 'number', exclusiveMinimum: 0, unit: 'ns', description: 'Latency of one DRAM access (a page-walk reference that misses the caches).' },
        cachedLatency: { type: 'number', minimum: 0, unit: 'ns', default: 5, description: 'Latency of a page-walk reference that hits the data caches.' },
        walkCacheHitRatio: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          default: 0.5,
          description: 'Fraction of page-walk references served by the data caches rather than DRAM.',
        },
        pageTableLevels: { enum: [3, 4, 5], description: 'Levels of the host page table (Sv39 3, x86-64 4 or 5, Sv48 4).' },
        pageSize: { type: 'number', unit: 'bytes', default: 4096, description: 'Base page size.' },
      },
    },
    tlb: {
      type: 'object',
      additionalProperties: false,
      required: ['l1d', 'l2'],
      properties: {
        l1d: { $ref: '#/definitions/tlbLevel' },
        l1i: { $ref: '#/definitions/tlbLevel' },
        l2: { $ref: '#/definitions/tlbLevel' },
        pwcEntries: { type: 'integer', minimum: 0, default: 32, description: 'Page-walk cache entries per upper level.' },
      },
    },
    virtualization: {
      type: 'object',
      additionalProperties: false,
      required: ['vmExitCycles'],
      properties: {
        vmExitCycles: { type: 'integer', minimum: 0, description: 'Round-trip cost of a VM exit and re-entry, in cycles.' },
        machineModeTrapCycles: { type: 'integer', minimum: 0, default: 150, description: 'Cost of a trap into the highest privilege mode (RISC-V M-mode) and back, in cycles.' },
        softTlbCheckCycles: { type: 'number', minimum: 0, default: 3, description: 'Inline software-TLB check in translated code (QEMU SoftMMU), in cycles per access.' },
        nestedPaging: { type: 'boolean', default: true, description: 'Hardware two-dimensional paging (EPT/NPT/G-stage).' },
      },
    },
    nic: {
      type: 'object',
      additionalProperties: false,
      required: ['bandwidth', 'latency'],
      properties: {
        bandwidth: { type: 'number', exclusiveMinimum: 0, unit: 'bit/s', description: 'NIC line rate.' },
        latency: { type: 'number', minimum: 0, unit: 'ns', description: 'One-way latency from the host to its top-of-rack switch.' },
      },
    },
  },
  definitions: {
    tlbLevel: {
      type: 'object',
      additionalProperties: false,
      required: ['entries', 'ways'],
      properties: {
        entries: { type: 'integer', minimum: 1, description: 'Entries.' },
        ways: { type: 'integer', minimum: 1, description: 'Associativity; entries/ways sets.' },
        latencyCycles: { type: 'integer', minimum: 0, default: 1, description: 'Lookup latency in cycles.' },
      },
    },
  },
} as const;

export interface TlbLevelProfile {
  readonly entries: number;
  readonly ways: number;
  readonly latencyCycles: number;
}

/** A validated host profile, in base units. */
export interface HostProfile {
  readonly id: string;
  readonly description: string;
  readonly isa: 'x86-64' | 'aarch64' | 'riscv64' | 'mips64';
  readonly cpu: {
    readonly cores: number;
    /** Hz */
    readonly frequency: number;
    readonly gprs: number;
    readonly simd: { readonly registers: number; readonly widthBits: number };
  };
  readonly memory: {
    /** bytes */
    readonly size: number;
    /** ns */
    readonly latency: number;
    /** ns */
    readonly cachedLatency: number;
    readonly walkCacheHitRatio: number;
    readonly pageTableLevels: 3 | 4 | 5;
    /** bytes */
    readonly pageSize: number;
  };
  readonly tlb: {
    readonly l1d: TlbLevelProfile;
    readonly l1i?: TlbLevelProfile;
    readonly l2: TlbLevelProfile;
    readonly pwcEntries: number;
  };
  readonly virtualization: {
    readonly vmExitCycles: number;
    readonly machineModeTrapCycles: number;
    readonly softTlbCheckCycles: number;
    readonly nestedPaging: boolean;
  };
  readonly nic: {
    /** bit/s */
    readonly bandwidth: number;
    /** ns */
    readonly latency: number;
  };
}
