// The composition of the hooks record: the engine's lifecycle group and every
// model's group, frozen at every level. The engine declares the record's type and
// knows no model; each model declares its group beside its contract (see
// core/engine/hooks.ts), and this file, above both, puts them together. The
// `Hooks` return type makes the type checker refuse a group that a model declares
// but that is not composed here.

import { createLifecycleHooks, type Hooks } from './engine/hooks';
import { createGuestCpuHooks } from './models/cpu/hooks';
import { createDatacenterHooks } from './models/datacenter/hooks';
import { createTranslatorHooks } from './models/dbt/hooks';
import { createGpuHooks } from './models/gpu/hooks';
import { createMemoryHooks } from './models/memory/hooks';
import { createMigrationHooks } from './models/migration/hooks';
import { createNetworkHooks } from './models/network/hooks';
import { createPacketHooks } from './models/netstack/hooks';

/** A fresh hooks record, as each simulation gets one. */
export function createHooks(): Hooks {
  return Object.freeze({
    lifecycle: createLifecycleHooks(),
    datacenter: createDatacenterHooks(),
    cpu: Object.freeze({ ...createTranslatorHooks(), ...createGuestCpuHooks() }),
    memory: createMemoryHooks(),
    network: createNetworkHooks(),
    packets: createPacketHooks(),
    migration: createMigrationHooks(),
    gpu: createGpuHooks(),
  });
}
