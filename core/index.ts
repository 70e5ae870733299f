// The public API of virtlab for plugins and embedders: import { … } from 'virtlab'.
// Everything a plugin needs is re-exported here, so plugins never reach into core/
// internals and the internals can move without breaking them.

export { definePlugin, type PluginApi, type PluginModule, type StateParticipant } from './plugin/define';
export { injectable, inject, type Binding } from './plugin/container';
export { token, type ServiceToken } from './plugin/tokens';
export { CAPABILITIES, isExclusive } from './plugin/capabilities';
export { PRESETS, type PresetName } from './plugin/presets';
export { PluginCatalog, selectPlugins, RegistryError, type CatalogEntry, type SelectedPlugin } from './plugin/registry';
export { validateManifest, resolveOptions, ManifestError, PluginOptionError, type PluginManifest } from './plugin/manifest';
export { STAGE_FIRST, STAGE_EARLY, STAGE_DEFAULT, STAGE_LATE, STAGE_OBSERVE } from './engine/stages';
export { PHASES, type Phase, type SystemDef } from './engine/schedule';
export type { Hooks, TickInfo, FinishContext, UnitPassContext, BlockTranslatedEvent } from './engine/hooks';
export type { SyscallEvent, TrapEvent, GuestView } from './engine/hooks';
export type { SimContext, ServiceLookup } from './engine/context';
export { Simulation, SimulationError, type RunResult, type SimSnapshot, type SimulationOptions } from './engine/simulation';
export { Rng, RngStreams } from './engine/rng';
export { ENGINE_VERSION } from './engine/version';
export { SimWorld, defineComponent, type ComponentDef, type Store, type FieldSpec } from './ecs/world';
export { Metrics, Counter, Gauge, Histogram } from './metrics/metrics';
export { Host, Vm, VmState, MemWorkload, Distribution } from './models/datacenter/components';
export { Datacenter, DatacenterToken, Placement } from './models/datacenter/datacenter';
export { CapacityIndex, HostCapacity, registerCapacityPlacement } from './models/datacenter/capacity-index';
export type { HostProfile } from './models/datacenter/host-profile';
export type { Scenario, VmGroup, HostGroup } from './scenario/types';
export { parseQuantity, formatQuantity } from './scenario/units';
export {
  MemoryActivity,
  PageBitmaps,
  ZipfSampler,
  DistinctPages,
  workloadSpecFrom,
  distributionCode,
  type WorkloadSpec,
  type WorkloadPhase,
} from './models/datacenter/workload';
export {
  ExecutionEngine,
  signalStatus,
  type GuestInstance,
  type GuestLaunch,
  type GuestStatus,
  type GuestFault,
} from './models/cpu/engine';
export { GuestCpu, GuestState, GUEST_WORKLOAD_SCHEMA } from './models/cpu/guest-workload';
export { GuestProcess, GuestLoadError, syscallName, type ProcessOptions, type ProcessStatus } from './models/riscv/process';
export { LINUX_SYSCALLS, RV64_SYSCALL_NAMES, type SyscallHandler } from './models/riscv/syscalls';
export { Network, NetworkToken } from './models/network/network';
export { FlowNetwork } from './models/network/flows';
export { Topology } from './models/network/topology';
export { MigrationEngine, MigrationService, MigrationController, registerMigrationMethod, type MigrationParams, type Tuning, type RoundContext, type MigrationRecord } from './models/migration/engine';
export { PhysicalMemory, RadixTable, WalkResult } from './models/memory/paging';
export { Tlb, TwoLevelTlb } from './models/memory/tlb';
export { MmuStrategy, MmuStats, MmuMetrics, GuestKernel, CostModel, BaseMmu, registerMmu, type MmuContext } from './models/memory/mmu';
export { NativeMmu, NestedMmu, ShadowMmu, SspMmu, CompromisMmu, SoftMmu, BtMmu } from './models/memory/strategies';
export { BlockLifter, type LiftOptions } from './models/dbt/lift';
export { W as WasmOp, ModuleBuilder, FuncBody, I32, I64, F32, F64 } from './models/wasm/encoder';

export { Unit, Block, Inst, CHECKED, operands, termOperands, mapOperands, mapTermOperands, isPure, directTargets, type Term, type RegRef } from './models/dbt/ir';
export { DbtRuntime, type Translator, type TranslatedUnit, type DbtCounters } from './models/dbt/runtime';
export { translatedEngine, type TranslatedEngineOptions } from './models/dbt/engine';
export type { EmitOptions } from './models/dbt/emit';

// The translators' IR kinds and the RISC-V operation numbers are const enums, which
// are objects at run time under our transpilers; plugins get them as plain values.
import * as irModule from './models/dbt/ir';
import * as decoderModule from './models/riscv/decoder';
import type { K as IrKindEnum } from './models/dbt/ir';
import type { Op as RiscvOpEnum } from './models/riscv/decoder';
export const IrKind = (irModule as unknown as { K: { readonly [P in keyof typeof IrKindEnum]: number } }).K;
export const RiscvOp = (decoderModule as unknown as { Op: { readonly [P in keyof typeof RiscvOpEnum]: number } }).Op;
