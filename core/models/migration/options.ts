// The options every live-migration method shares (they parameterize the migration
// engine, engine.ts, whichever method drives it), as one schema that the methods'
// manifests reference: `"options": { "$ref": "virtlab:migration#/method" }`. A method
// with options of its own adds them beside the reference under `properties`. Both
// methods take the pre-copy options too, because a controller may start a migration in
// pre-copy and finish it in post-copy; a post-copy migration from the start ignores them.
// Add-ons (addons.ts) have their own plugins and options.

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
        description: 'Longest acceptable pause for the final copy of pre-copy (QEMU downtime-limit: 300 ms).',
      },
      maxRounds: {
        type: 'integer',
        minimum: 1,
        default: 30,
        unit: 'rounds',
        description: 'Pre-copy rounds after which a migration that has not converged ends.',
      },
      deadline: {
        type: 'number',
        exclusiveMinimum: 0,
        default: 600000000000,
        unit: 'ns',
        description: 'Time after which a pre-copy migration that has not converged ends.',
      },
      onTimeout: {
        enum: ['abort', 'force'],
        default: 'abort',
        description: 'What a non-converging pre-copy migration does at its round limit or deadline: give up, or pause the VM and copy the rest however long it takes.',
      },
      pageSize: { type: 'integer', minimum: 512, default: 4096, unit: 'bytes', description: 'Page size of the dirty log.' },
      zeroPageBytes: { type: 'integer', minimum: 0, default: 16, unit: 'bytes', description: 'Bytes pre-copy sends for a page the VM never wrote (a zero-page marker).' },
      rules: {
        enum: ['qemu', 'simgrid'],
        default: 'qemu',
        description:
          "Pre-copy's rules: qemu (zero-page markers, the round limit) or simgrid, SimGrid 3.32's model for comparisons with it: every page sent in full, no round limit (the deadline still applies).",
      },
    },
  },
} as const;
