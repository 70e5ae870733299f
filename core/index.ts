// The public API of virtlab for plugins and embedders: import { … } from 'virtlab'.
// Everything a plugin needs is re-exported here, so plugins never reach into core/
// internals and the internals can move without breaking them.

export { definePlugin, type PluginApi, type PluginModule, type StateParticipant } from './plugin/define';
export { injectable, inject, type Binding } from './plugin/container';
export { token, type ServiceToken } from './engine/tokens';
export { CAPABILITIES, isExclusive } from './plugin/capabilities';
export { PRESETS, type PresetName } from './plugin/presets';
export { PluginCatalog, selectPlugins, RegistryError, resolvePluginOptions, catalogEntry, type CatalogEntry, type FoundPlugin, type SelectedPlugin } from './plugin/registry';
export { resolveOptions, ManifestError, PluginOptionError, type PluginManifest, type OptionFragments } from './plugin/manifest';
export { validateManifest, OPTION_FRAGMENTS } from './option-fragments';
export { STAGE_FIRST, STAGE_EARLY, STAGE_DEFAULT, STAGE_LATE, STAGE_OBSERVE } from './engine/stages';
export { PHASES, type Phase, type SystemDef } from './engine/schedule';
export type { Hooks, LifecycleHooks, TickInfo, FinishContext } from './engine/hooks';
export type { DatacenterHooks, VmPlacedEvent, PlacementFailedEvent } from './models/datacenter/hooks';
export type { CpuHooks, SyscallEvent, TrapEvent, GuestView } from './models/cpu/hooks';
export type { UnitPassContext, BlockTranslatedEvent } from './models/dbt/hooks';
export { ALL_RULES, type PassRules } from './models/dbt/pass-rules';
export type { MemoryHooks, TlbMissEvent, PageWalkEvent, PageFaultEvent, PtWriteEvent, TlbFlushEvent, RootSwitchEvent, PrivilegeSwitchEvent, VmExitEvent } from './models/memory/hooks';
export type { NetworkHooks, FlowEvent } from './models/network/hooks';
export type { GpuHooks, KernelPassContext, KernelLaunchEvent, KernelCompletedEvent } from './models/gpu/hooks';
export type { GpuProfile } from './models/gpu/profile';
export * as gpuKernel from './models/gpu/kernel';
export { KernelBuilder, ArrayRef, VarRef, affineOf, exprOfAffine, mapExpr, mapStmts, forEachLoad, storedArrays, type Kernel, type Expr as KernelExpr, type Stmt as KernelStmt, type ArrayDecl, type ElemType, type ReduceOp, type Affine } from './models/gpu/kernel';
export { runKernel, occupancyOf, estimateRegisters, type GpuBuffer, type GpuCounts, type LaunchResult, type Occupancy } from './models/gpu/executor';
export { HostGpu } from './models/gpu/components';
export { compileKernel, defaultWorkGroup, treeReduction, lowerReductions, lowerReductionsGlobal, combine as combineReduction } from './models/gpu/compile';
export type { MigrationHooks, MigrationEvent, MigrationRoundEvent, MigrationSwitchEvent, MigrationEndEvent } from './models/migration/hooks';
export type { SimContext, ServiceLookup } from './engine/context';
export { Simulation, SimulationError, type RunResult, type SimSnapshot, type SimulationOptions, type BootPhase } from './simulation';
export type { ProfileEntry } from './engine/profile';
export { Rng, RngStreams } from './engine/rng';
export { ENGINE_VERSION } from './engine/version';
export { SimWorld, defineComponent, type ComponentDef, type Store, type FieldSpec } from './ecs/world';
export { Metrics, Counter, Gauge, Peak, Histogram } from './metrics/metrics';
export { Host, Vm, VmState, MemWorkload, Distribution } from './models/datacenter/components';
export { Datacenter, DatacenterToken, Placement, type DatacenterState } from './models/datacenter/datacenter';
export { entityNames, hostName, simulationNames, vmName, type EntityNames } from './models/datacenter/names';
export { CapacityIndex, HostCapacity, registerCapacityPlacement } from './models/datacenter/capacity-index';
export type { HostProfile } from './models/datacenter/host-profile';
export type { Scenario, VmGroup, HostGroup } from './scenario/types';
export {
  loadScenario,
  readScenarioDocument,
  applyOverrides,
  resolveScenario,
  parseDocumentText,
  loadHostProfile,
  loadHostProfiles,
  isEffectiveConfig,
  scenarioFromConfig,
  loadBuiltScenario,
  ScenarioError,
  CommandLineError,
  PositionedDocument,
  type ParsedScenario,
  type ScenarioEnv,
  type ScenarioOverrides,
  type Override,
} from './scenario/loader';
export * as limits from './scenario/limits';
export { estimateWork, type WorkEstimate } from './scenario/limits';
export { parseQuantity, formatQuantity } from './units/units';
export { formatBytes, formatChange, formatDuration, formatMetric, formatNumber, formatOptionValue, formatValue, groupThousands, type MetricRecord } from './units/format';
export {
  scenario,
  ScenarioBuilder,
  type ScenarioDocument,
  type HostGroupDocument,
  type VmGroupDocument,
  type WorkloadDocument,
  type ExpectationDocument,
  type PluginOptionsDocument,
  type PluginPlace,
  type Quantity,
} from './scenario/builder';
export {
  EptAccessBits,
  ACCESS_SET,
  DIRTY_SET,
  invalidation,
  PageAccessStream,
  GuestPageAccessStream,
  DirtyLog,
  WssEstimators,
  wssEstimators,
  type InvalidationCost,
  type PageAccessBatch,
  type PageAccessSink,
  type WssEstimator,
} from './models/memory/dirty-log';
export {
  MemoryActivity,
  PageBitmaps,
  ZipfSampler,
  DistinctPages,
  workloadSpecFrom,
  distributionCode,
  PageClass,
  PAGE_CLASS_NAMES,
  pageClassOf,
  normalizeShares,
  type PageClassName,
  type PageClassShares,
  type WorkloadSpec,
  type WorkloadPhase,
} from './models/datacenter/workload';
export {
  ExecutionEngine,
  signalStatus,
  type GuestInstance,
  type GuestLaunch,
  type BackgroundCompiler,
  type GuestStatus,
  type GuestFault,
} from './models/cpu/engine';
export { GuestCpu, GuestState } from './models/cpu/guest-workload';
export { GuestProcess, GuestLoadError, syscallName, type ProcessOptions, type ProcessStatus } from './models/riscv/process';
export { LINUX_SYSCALLS, RV64_SYSCALL_NAMES, type SyscallHandler } from './models/riscv/syscalls';
export { GUEST_MEMORY } from './models/riscv/memory';
export { Interpreter } from './models/riscv/interpreter';
export { PacedMachine, COMMITTED_LINUX_FILES, type PacedMachineOptions, type PacedEnd } from './models/riscv/system/paced';
export { attachMmu, detachMmu, MmuBridge, type BridgeCounters, type MmuBridgeOptions } from './models/riscv/system/mmu-bridge';
export { Network, NetworkToken } from './models/network/network';
export { FlowNetwork } from './models/network/flows';
export { Topology } from './models/network/topology';
export { NetstackToken, personalityFromOptions, type NetstackPersonality, type TcpFeatures, type NetstackCosts, type NetstackOffloads, type PersonalityOptions } from './models/netstack/personality';
export { TcpEndpoint, type TcpEnv, type TcpState, type TimerKind } from './models/netstack/tcp';
export { EventQueue } from './models/netstack/events';
export { Nic } from './models/netstack/components';
export type { PacketHooks, PacketExperimentEvent, PacketExperimentEndEvent } from './models/netstack/hooks';
export { PacketExperiment, type ExperimentSpec, type ExperimentResults, type NicSpec, type PathSpec, type WorkloadSpec as PacketWorkload } from './models/netstack/experiment';
export { SYN, ACK, FIN, RST, PSH, formatSegment, type Segment, type TcpOptions } from './models/netstack/segment';
export { MigrationEngine, MigrationService, MigrationController, registerMigrationMethod, registerMigrationAddon, type MigrationParams, type RoundContext, type RoundStats, type MigrationRecord, type Decision } from './models/migration/engine';
export { MigrationAddons, type MigrationAddon, type AddonControls, type AddonRoundEnd, type AddonSlot, type HostCores, type TransferPlan } from './models/migration/addons';
export { PhysicalMemory, RadixTable, WalkResult, PAGE, F_USER, type GuestTable } from './models/memory/paging';
export { Tlb, TwoLevelTlb } from './models/memory/tlb';
export { MmuStrategy, MmuStats, MmuMetrics, GuestKernel, PRIV_USER, PRIV_SUPERVISOR, PRIV_SUPERVISOR_SUM, type GuestPrivilege, CostModel, BaseMmu, registerMmu, guestMemoryOffset, CYCLE_CAUSES, type CycleCause, type MmuContext } from './models/memory/mmu';
export { PageWalkCache, WalkLineCache, Walker, HostBacking, type WalkCounters } from './models/memory/walker';
export { ShadowTables, BaseShadowMmu, identityBacking } from './models/memory/shadow';
export { DirectSegments, type DirectSegment, type GuestProcessSpace } from './models/memory/guest-kernel';
export { BlockLifter, type LiftOptions } from './models/dbt/lift';
export { W as WasmOp, ModuleBuilder, FuncBody, I32, I64, F32, F64 } from './models/wasm/encoder';

export { Unit, Block, Inst, CHECKED, operands, operandsInto, termOperands, mapOperands, mapTermOperands, isPure, directTargets, type Term, type RegRef } from './models/dbt/ir';
export { DbtRuntime, type Translator, type TranslatedUnit, type DbtCounters } from './models/dbt/runtime';
export { translatedEngine, hostCodeOf, remoteTranslatorOf, type TranslatedEngineOptions, type TranslationTarget, type RemoteCapableEngine, type ModelledGuestInstance } from './models/dbt/engine';
export { TranslationServer, type BackgroundTranslator, type RemoteInit, type RemoteRequest, type RemoteReply, type RemoteUnit, type PageUpdate } from './models/dbt/remote';
export { systemEngine, SystemDbtRuntime, type SystemTranslator, type TranslationProfile } from './models/dbt/system-runtime';
export { HOST_CLASSES, HOST_PROFILES, hostProfile, lanesOf, type HostClass, type HostCodeProfile } from './models/dbt/hostcode/profile';
export { RegMapToken, IN_HOST_REGISTER, IN_CPU_STATE, GUEST_REGISTERS, type Home, type Placement as RegPlacement, type RegisterUsage, type RegMap } from './models/dbt/hostcode/regmap';
export { HostCodeModel, hostCodeCounters, type HostCodeReport } from './models/dbt/hostcode/model';
export { lowerUnit, cyclesOf, type BlockHostCode } from './models/dbt/hostcode/lower';
export type { EmitOptions } from './models/dbt/emit';

// The translators' IR kinds and the RISC-V operation numbers are const enums, which
// are objects at run time under our transpilers; plugins get them as plain values.
import * as irModule from './models/dbt/ir';
import * as decoderModule from './models/riscv/decoder';
import type { K as IrKindEnum } from './models/dbt/ir';
import type { Op as RiscvOpEnum } from './models/riscv/decoder';
export const IrKind = (irModule as unknown as { K: { readonly [P in keyof typeof IrKindEnum]: number } }).K;
export const RiscvOp = (decoderModule as unknown as { Op: { readonly [P in keyof typeof RiscvOpEnum]: number } }).Op;
