// Every group of shared option schemas that plugin manifests may reference as
// `virtlab:<group>#/<pointer>` (see expandFragments in plugin/manifest.ts), and the
// public validateManifest that expands them. Each group is defined beside the contract
// it parameterizes; this root module only assembles them, so core/plugin never imports
// a model.

import { validateManifest as validateWith, type OptionFragments, type PluginManifest } from './plugin/manifest';
import { MMU_OPTION_FRAGMENTS } from './models/memory/options';
import { MIGRATION_OPTION_FRAGMENTS } from './models/migration/options';
import { PLACEMENT_OPTION_FRAGMENTS } from './models/datacenter/options';
import { NETSTACK_OPTION_FRAGMENTS } from './models/netstack/options';
import { REGMAP_OPTION_FRAGMENTS } from './models/dbt/hostcode/options';

export const OPTION_FRAGMENTS: OptionFragments = Object.freeze({
  mmu: MMU_OPTION_FRAGMENTS,
  migration: MIGRATION_OPTION_FRAGMENTS,
  placement: PLACEMENT_OPTION_FRAGMENTS,
  netstack: NETSTACK_OPTION_FRAGMENTS,
  regmap: REGMAP_OPTION_FRAGMENTS,
});

/** Validates a parsed plugin.json, expanding references to core's option fragments. */
export function validateManifest(json: unknown, where: string): PluginManifest {
  return validateWith(json, where, OPTION_FRAGMENTS);
}
