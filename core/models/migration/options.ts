// The options every live-migration method shares (they parameterize the migration
// engine, engine.ts, whichever method drives it), as one schema that the methods'
// manifests reference: `"options": { "$ref": "virtlab:migration#/method" }`. A method
// with options of its own adds them beside the reference under `properties`.

export const MIGRATION_OPTION_FRAGMENTS = {
  method: {
    type: 'object',
    additionalProperties: false,
    properties: {
      bandwidth: {
        type: 'number',
        exclusiveMinimum: 0,
        default: 1073741824,
        unit: 'bit/s',
        description: 'Bandwidth cap of a migration (QEMU max-bandwidth: 128 MiB/s).',
      },
      downtimeLimit: {
        type: 'number',
        exclusiveMinimum: 0,
        default: 300000000,
        unit: 'ns',
        description: 'Longest acceptable pause for the final copy (QEMU downtime-limit: 300 ms).',
      },
      maxRounds: {
        type: 'integer',
        minimum: 1,
        default: 30,
        unit: 'rounds',
        description: 'Rounds after which a migration that has not converged ends.',
      },
      deadline: {
        type: 'number',
        exclusiveMinimum: 0,
        default: 600000000000,
        unit: 'ns',
        description: 'Time after which a migration that has not converged ends.',
      },
      onTimeout: {
        enum: ['abort', 'force'],
        default: 'abort',
        description: 'What a non-converging migration does at its round limit or deadline: give up, or pause the VM and copy the rest however long it takes.',
      },
      pageSize: { type: 'integer', minimum: 512, default: 4096, unit: 'bytes', description: 'Page size of the dirty log.' },
      zeroPageBytes: { type: 'integer', minimum: 0, default: 16, unit: 'bytes', description: 'Bytes sent for a page the VM never wrote.' },
    },
  },
} as const;
