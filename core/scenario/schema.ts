// The scenario schema: the core part (hosts, VMs, duration, recording,
// expectations) composed with the option schema of every selected plugin, so that a
// scenario is validated as one document and an option error points at its line.

import type { PluginManifest } from '../plugin/manifest';
import { PRESET_NAMES } from '../plugin/presets';
import { workloadBranches } from './workloads';

const pluginIdPattern = '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+$';

export const CORE_SCENARIO_SCHEMA = {
  $id: 'virtlab:scenario',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'duration'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 1, description: 'Short name of the scenario.' },
    description: { type: 'string', default: '', description: 'What the scenario shows.' },
    seed: { type: 'integer', minimum: 0, default: 1, description: 'Seed of every random stream.' },
    tick: { type: 'number', exclusiveMinimum: 0, unit: 'ns', default: 1e6, description: 'Length of one tick of simulated time.' },
    advance: {
      enum: ['tick', 'event'],
      default: 'tick',
      description:
        'How simulated time moves: every tick, or (event) straight to the tick of the next event, sample or end whenever every system is event-driven (declares nextEventNs); a system that needs every tick keeps the run tick by tick.',
    },
    duration: { type: 'number', exclusiveMinimum: 0, unit: 'ns', description: 'Simulated time to run.' },
    preset: { enum: PRESET_NAMES, default: 'default', description: 'Plugin preset to start from.' },
    without: {
      type: 'array',
      items: { type: 'string', pattern: pluginIdPattern },
      default: [],
      description: 'Preset plugins to leave out.',
    },
    pluginPaths: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Extra folders to search for plugins, relative to the scenario file.',
    },
    hostPaths: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Extra folders to search for host profiles, relative to the scenario file.',
    },
    hosts: {
      type: 'array',
      default: [],
      description: 'Groups of identical hosts, racked.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['profile'],
        properties: {
          name: { type: 'string', description: 'Name of the group (defaults to the profile id).' },
          profile: { type: 'string', description: 'Host profile id: hosts/<id>.host.yaml.' },
          racks: { type: 'integer', minimum: 1, default: 1, description: 'Racks of this group.' },
          perRack: { type: 'integer', minimum: 1, default: 1, description: 'Hosts per rack.' },
        },
      },
    },
    topology: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        oversubscription: { type: 'number', minimum: 1, default: 1, description: 'Rack uplink oversubscription: host NIC bandwidth of a rack over its uplink bandwidth.' },
      },
    },
    vms: {
      type: 'array',
      default: [],
      description: 'Groups of identical VMs.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['memory'],
        properties: {
          name: { type: 'string', description: 'Name of the group (defaults to vm-<index>).' },
          count: { type: 'integer', minimum: 1, default: 1, description: 'VMs in the group.' },
          vcpus: { type: 'integer', minimum: 1, default: 1, description: 'vCPUs of each VM.' },
          memory: { type: 'number', exclusiveMinimum: 0, unit: 'bytes', description: 'Memory of each VM.' },
          arrival: { type: 'number', minimum: 0, unit: 'ns', default: 0, description: 'When the VMs ask for a host.' },
          workload: {
            type: 'object',
            required: ['kind'],
            properties: { kind: { type: 'string', description: 'Workload kind: synthetic, guest, … (each declared by the plugin that runs it).' } },
            description: 'What the VMs run; the rest of the mapping is checked against the schema of its kind (see scenario/workloads.ts).',
          },
        },
      },
    },
    plugins: {
      type: 'object',
      default: {},
      description: 'Plugins by id, with their options (or nothing for the defaults).',
    },
    record: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        every: { type: 'number', exclusiveMinimum: 0, unit: 'ns', description: 'Sampling period of the time series (default: duration / 100).' },
        series: { type: 'array', items: { type: 'string' }, default: [], description: 'Metrics to sample as time series.' },
      },
    },
    expect: {
      type: 'object',
      default: {},
      description: 'Ranges the metrics must fall in at the end; they make the scenario a test.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          min: { type: 'number', description: 'Lowest accepted value.' },
          max: { type: 'number', description: 'Highest accepted value.' },
          equals: { type: 'number', description: 'The exact accepted value.' },
        },
      },
    },
    files: {
      type: 'object',
      default: {},
      description: 'Host files guests may read: guest path → host path relative to the scenario file.',
      additionalProperties: { type: 'string' },
    },
  },
} as const;

/**
 * The core schema with `plugins` narrowed to the given plugins' option schemas and
 * each VM group's `workload` to the kinds they declare (for editors and generated docs).
 */
export function composeScenarioSchema(manifests: readonly PluginManifest[]): Record<string, unknown> {
  const pluginProps: Record<string, unknown> = {};
  for (const m of manifests) {
    pluginProps[m.id] = {
      anyOf: [{ type: 'null' }, { ...m.options, additionalProperties: false }],
      description: m.description,
    };
  }
  const vms = CORE_SCENARIO_SCHEMA.properties.vms;
  const workload = { ...vms.items.properties.workload, allOf: workloadBranches(manifests) };
  return {
    ...CORE_SCENARIO_SCHEMA,
    properties: {
      ...CORE_SCENARIO_SCHEMA.properties,
      vms: { ...vms, items: { ...vms.items, properties: { ...vms.items.properties, workload } } },
      plugins: { ...CORE_SCENARIO_SCHEMA.properties.plugins, properties: pluginProps, additionalProperties: false },
    },
  };
}
