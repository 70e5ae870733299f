// The options of placement policies that search the shared index of free capacity
// (capacity-index.ts): how far a host may be overcommitted. Manifests reference them
// as `"options": { "$ref": "virtlab:placement#/capacity" }`, or one of them as
// `{ "$ref": "virtlab:placement#/capacity/properties/cpuOvercommit" }`.

export const PLACEMENT_OPTION_FRAGMENTS = {
  capacity: {
    type: 'object',
    additionalProperties: false,
    properties: {
      cpuOvercommit: { type: 'number', minimum: 1, default: 1, unit: 'ratio', description: 'vCPUs a host may promise per hardware thread.' },
      memoryOvercommit: { type: 'number', minimum: 1, default: 1, unit: 'ratio', description: 'Guest memory a host may promise per byte of physical memory.' },
    },
  },
} as const;
