// Hardware profiles of simulated hosts (hosts/*.host.yaml): the JSON Schema that
// validates them, and the normalized type the models read. Quantities are written
// with units in the files ("2.1GHz", "384GiB", "25Gbit/s") and converted to base
// units (Hz, bytes, ns, bit/s) by the loader before validation.

import { GPU_PROFILE_SCHEMA, type GpuProfile } from '../gpu/profile';

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
        walkCacheLines: {
          type: 'integer',
          minimum: 1,
          default: 16384,
          description:
            'Lines (64 bytes) of the data cache that page-walk references go through; a reference to a line held there costs cachedLatency, any other costs latency. Default: a 1 MiB per-core L2 (Intel Xeon Scalable, Skylake-SP and later).',
        },
        walkCacheWays: { type: 'integer', minimum: 1, default: 16, description: 'Associativity of that cache (16 for the Skylake-SP L2).' },
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
        pwcEntries: { type: 'integer', minimum: 0, default: 32, description: 'Page-walk cache entries per upper level (Intel documents 32-entry PDE caches, SDM vol. 3 §4.10.3).' },
        pwcWays: { type: 'integer', minimum: 1, default: 4, description: 'Associativity of the page-walk cache.' },
        nestedTlbEntries: {
          type: 'integer',
          minimum: 0,
          default: 32,
          description: 'Entries of the nested TLB that caches guest-physical to host-physical translations during two-dimensional walks (Bhargava et al., ASPLOS 2008, model a small one beside the page-walk cache).',
        },
        nestedTlbWays: { type: 'integer', minimum: 1, default: 4, description: 'Associativity of the nested TLB.' },
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
        softTlbHelperCycles: {
          type: 'number',
          minimum: 0,
          default: 60,
          description: 'Call and return of the software-TLB miss helper of a dynamic binary translator (QEMU tlb_fill: spill of live registers, the call, the refill of the entry), in cycles.',
        },
        softWalkStepCycles: {
          type: 'number',
          minimum: 0,
          default: 10,
          description: 'Bookkeeping of one level of a page walk done in software (index extraction, valid and permission checks), beyond the load itself, in cycles.',
        },
        softTlbFlushCyclesPerEntry: {
          type: 'number',
          minimum: 0,
          default: 1,
          description: 'Cycles per entry to empty a software TLB (QEMU tlb_flush clears 32-byte CPUTLBEntry slots with memset, about 32 bytes per cycle).',
        },
        translatorFaultCycles: {
          type: 'number',
          minimum: 0,
          default: 400,
          description: 'A guest page fault found by the translator itself (in the miss helper) and raised to the guest: unwinding out of the translated block to the CPU loop (QEMU cpu_loop_exit), in cycles.',
        },
        hostSignalCycles: {
          type: 'number',
          minimum: 0,
          default: 3000,
          description: 'A fault taken by the host MMU and bounced to the translator as a signal (kernel entry, signal frame, handler, sigreturn; about 1.5 µs on Linux), in cycles.',
        },
        exceptionEntryCycles: {
          type: 'number',
          minimum: 0,
          default: 40,
          description: 'Entry and return of a dedicated TLB-refill exception handler in the host kernel (a MIPS-style refill vector), in cycles.',
        },
        hostSyscallCycles: {
          type: 'number',
          minimum: 0,
          default: 500,
          description: 'A system call from the translator into a host kernel module and back (ioctl round trip), in cycles.',
        },
        rootRegisterWriteCycles: {
          type: 'number',
          minimum: 0,
          default: 200,
          description: 'A write of the host page-table root register that keeps the TLB (x86 MOV CR3 with PCID and the no-flush bit, RISC-V satp with an ASID), in cycles.',
        },
        pageFaultEntryCycles: {
          type: 'number',
          minimum: 0,
          default: 700,
          description: 'Entry into a kernel page-fault handler and return from it on a hardware MMU (exception entry, register save and restore, sret/iret), the handler itself excluded, in cycles.',
        },
      },
    },
    gpus: { type: 'array', items: GPU_PROFILE_SCHEMA, default: [], description: 'GPUs of the host, each passed through to at most one VM at a time.' },
    nic: {
      type: 'object',
      additionalProperties: false,
      required: ['bandwidth', 'latency'],
      properties: {
        bandwidth: { type: 'number', exclusiveMinimum: 0, unit: 'bit/s', description: 'NIC line rate.' },
        latency: { type: 'number', minimum: 0, unit: 'ns', description: 'One-way latency from the host to its top-of-rack switch.' },
        queues: { type: 'integer', minimum: 1, default: 8, description: 'Transmit/receive queue pairs (packet-level experiments).' },
        ringEntries: { type: 'integer', minimum: 8, default: 1024, description: 'Descriptors per transmit and per receive ring; a full receive ring drops frames.' },
        mtu: { type: 'number', minimum: 576, default: 1500, unit: 'bytes', bareNumber: true, description: 'Largest IP packet on the wire (written bare, as ip link shows it).' },
        tso: { type: 'boolean', default: true, description: 'TCP segmentation offload: the NIC cuts super-segments into MTU-sized frames.' },
        gsoMaxBytes: { type: 'number', minimum: 1500, default: 65536, unit: 'bytes', description: 'Largest super-segment the NIC accepts (TSO/GSO).' },
        checksum: { type: 'boolean', default: true, description: 'Checksum offload (transmit and receive).' },
        gro: { type: 'boolean', default: true, description: 'Generic receive offload in the driver: consecutive frames merged before the stack.' },
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
    readonly walkCacheLines: number;
    readonly walkCacheWays: number;
    readonly pageTableLevels: 3 | 4 | 5;
    /** bytes */
    readonly pageSize: number;
  };
  readonly tlb: {
    readonly l1d: TlbLevelProfile;
    readonly l1i?: TlbLevelProfile;
    readonly l2: TlbLevelProfile;
    readonly pwcEntries: number;
    readonly pwcWays: number;
    readonly nestedTlbEntries: number;
    readonly nestedTlbWays: number;
  };
  readonly virtualization: {
    readonly vmExitCycles: number;
    readonly machineModeTrapCycles: number;
    readonly softTlbCheckCycles: number;
    readonly nestedPaging: boolean;
    readonly softTlbHelperCycles: number;
    readonly softWalkStepCycles: number;
    readonly softTlbFlushCyclesPerEntry: number;
    readonly translatorFaultCycles: number;
    readonly hostSignalCycles: number;
    readonly exceptionEntryCycles: number;
    readonly hostSyscallCycles: number;
    readonly rootRegisterWriteCycles: number;
    readonly pageFaultEntryCycles: number;
  };
  /** GPUs of the host (none when the profile lists none). */
  readonly gpus: readonly GpuProfile[];
  readonly nic: {
    /** bit/s */
    readonly bandwidth: number;
    /** ns */
    readonly latency: number;
    readonly queues: number;
    readonly ringEntries: number;
    /** bytes */
    readonly mtu: number;
    readonly tso: boolean;
    /** bytes */
    readonly gsoMaxBytes: number;
    readonly checksum: boolean;
    readonly gro: boolean;
  };
}
