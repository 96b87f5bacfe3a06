/**
 * faultline — chaos engineering for TypeScript and Node.js. The root lists by name everything the
 * subpaths (faultline/proxy, /net, /process, /resource, /history, /check, /api, /scenario, /telemetry, /testing) export, plus the
 * core; test/package/exports.test.ts keeps the two in step.
 */

export { ToxiproxyClient } from '../api/client.js';
export {
  ProxyHub,
  type ProxyHubOptions,
  type ProxyInput,
  type ToxicInput,
  type ToxiproxyApi,
} from '../api/hub.js';
export { type ApiServer, type ApiServerOptions, startApiServer } from '../api/server.js';
export type { ProxyState, ToxicSpec } from '../api/toxiproxy-toxics.js';
export { checkLinearizability, type LinearizabilityOptions } from '../check-driver/index.js';
export {
  type AckedWritesCheckOptions,
  ackedWritesChecker,
  checkAckedWrites,
} from '../checker/acked-writes.js';
export { bruteForceMaxOps, checkBruteForce } from '../checker/brute-force.js';
export {
  type ConvergenceCheckOptions,
  checkConvergence,
  convergenceChecker,
  type ReplicaId,
} from '../checker/convergence.js';
export { type CounterCheckOptions, checkCounter, counterChecker } from '../checker/counter.js';
export {
  type ApplicationId,
  checkNoDuplicates,
  type NoDuplicatesCheckOptions,
  noDuplicatesChecker,
} from '../checker/duplicates.js';
export {
  type CounterexampleOp,
  checkLinearizabilitySync,
  type LinearizabilityCounterexample,
  type LinearizabilitySearchOptions,
  type LinearizabilitySyncOptions,
} from '../checker/linearizability.js';
export {
  describeOperation,
  keyedTuple,
  type Model,
  requireF,
  shapeError,
  showValue,
  valueKey,
} from '../checker/model.js';
export { builtInModel, isModelName, type ModelName, modelNames, models } from '../checker/models/index.js';
export {
  checkMonotonicReads,
  type MonotonicReadsCheckOptions,
  monotonicReadsChecker,
} from '../checker/monotonic-reads.js';
export {
  checkQueue,
  checkTotalQueue,
  type QueueCheckOptions,
  queueChecker,
  type TotalQueueCheckOptions,
  totalQueueChecker,
} from '../checker/queue.js';
export {
  type Anomaly,
  type Checker,
  type CheckResult,
  combineValidity,
  type Validity,
} from '../checker/result.js';
export type { BaseCheckOptions } from '../checker/safety-support.js';
export { checkSet, type SetCheckOptions, setChecker } from '../checker/set.js';
export { type Clock, RealClock, realClock, type TimerHandle } from '../core/clock.js';
export { codes, type ErrorCode } from '../core/codes.js';
export { formatDuration, parseDuration } from '../core/duration.js';
export { type ErrorDetails, FaultlineError, isFaultlineError } from '../core/errors.js';
export {
  type EventOf,
  type EventType,
  eventChannelNames,
  type FaultlineEvent,
  subscribe,
} from '../core/events.js';
export { applyWithHeal, type Fault, type FaultContext, type Injection } from '../core/fault.js';
export {
  createFault,
  defineFault,
  type FaultDefinition,
  type FaultFactory,
  type FaultKindInfo,
  faultKinds,
  type TypedFault,
} from '../core/fault-registry.js';
export {
  defaultStateDir,
  type Residue,
  type ResidueRecord,
} from '../core/journal.js';
export { type Heal, Ledger, type LedgerEntry, type LedgerOptions } from '../core/ledger.js';
export type {
  BooleanParam,
  ListParam,
  NumberParam,
  ObjectParam,
  ParamSpec,
  ParamSpecs,
  RefParam,
  ShapeParam,
  StringParam,
} from '../core/params.js';
export { Random } from '../core/random.js';
export { VirtualClock } from '../core/virtual-clock.js';
export {
  EdnKeyword,
  EdnSymbol,
  type EdnValue,
  keyword,
} from '../history/edn.js';
export {
  buildHistory,
  detectFormat,
  type HistoryFormat,
  historyFormats,
  type OpInput,
  type ParsedHistory,
  type ParseHistoryOptions,
  parseHistory,
  serializeHistory,
  type ValidateHistoryOptions,
  validateHistory,
} from '../history/formats.js';
export {
  type History,
  historyError,
  type Op,
  type Operation,
  type OpType,
  opTypes,
  type ProcessId,
  pairOperations,
} from '../history/op.js';
export {
  type CallOptions,
  type CallOutcome,
  clientErrors,
  defaultReads,
  FailError,
  isDefiniteFailure,
} from '../history/recorder.js';
export { deepEqual, valueKey as stableKey } from '../history/value-key.js';
export type { NetImpairments } from '../net/impairments.js';
export {
  type NetProtocol,
  Network,
  type NetworkNode,
  type NetworkOptions,
  type NetworkState,
  type Pair,
  type PartitionState,
} from '../net/network.js';
export {
  type NetBlockParams,
  type NetBridgeParams,
  type NetImpairParams,
  type NetIsolateParams,
  type NetPartitionParams,
  type NetRingParams,
  net,
} from '../net/network-faults.js';
export { type NetPresetName, netPreset, netPresetNames, netPresets } from '../net/presets.js';
export {
  type CgroupController,
  type CgroupFs,
  type CgroupProbeOptions,
  type CgroupSupport,
  type ControllerSupport,
  cgroupControllers,
  cgroupSupport,
  findFaultCgroups,
  isAlive,
  processStartTime,
  requireSignal,
  type SignalName,
  signalNames,
} from '../os/index.js';
export {
  type CascadeDetails,
  type CascadingKillParams,
  type CrashLoopDetails,
  type CrashLoopParams,
  cascadingKillFault,
  crashLoopFault,
  type GracefulStopDetails,
  type GracefulStopParams,
  gracefulStopFault,
  type KillDetails,
  type KillParams,
  killFault,
  type PauseDetails,
  type PauseMechanism,
  type PauseMethod,
  type PauseParams,
  type PauseTarget,
  type ProcessInjection,
  pauseFault,
  type RestartDetails,
  type RestartParams,
  restartFault,
} from '../process/faults.js';
export {
  type CommandProbeOptions,
  commandProbe,
  functionProbe,
  type HttpProbeOptions,
  httpProbe,
  type LogProbeOptions,
  type LogSource,
  type LogStream,
  logProbe,
  type Probe,
  type TcpProbeOptions,
  tcpProbe,
} from '../process/probes.js';
export {
  assertRecoveryWithin,
  type TimeToGreenOptions,
  type TimeToGreenResult,
  timeToGreen,
  type WaitOptions,
  type WaitResult,
  waitFor,
} from '../process/recovery.js';
export {
  type ExitInfo,
  type RestartPolicy,
  type StopResult,
  Supervisor,
  type SupervisorOptions,
  Target,
  type TargetSpec,
} from '../process/supervisor.js';
export { type Pace, ReleaseQueue } from '../proxy/release-queue.js';
export {
  type TcpBandwidthParams,
  type TcpCorruptParams,
  type TcpLatencyParams,
  type TcpLimitDataParams,
  type TcpLimitTimeParams,
  type TcpResetPeerParams,
  type TcpSlicerParams,
  type TcpSlowCloseParams,
  type TcpSlowOpenParams,
  type TcpTimeoutParams,
  type ToxicFaultParams,
  tcp,
} from '../proxy/tcp-faults.js';
export { type ProxyOptions, type ProxyStats, TcpProxy, type TcpProxyState } from '../proxy/tcp-proxy.js';
export {
  type AttributeSpec,
  type Attributes,
  type Direction,
  PassThroughStage,
  type StageContext,
  type ToxicConfig,
  type ToxicKind,
  type ToxicStage,
  type ToxicStream,
} from '../proxy/toxic.js';
export { registerToxic, toxicKind, toxicKinds } from '../proxy/toxic-registry.js';
export type { UdpIo } from '../proxy/udp/datagram-socket.js';
export {
  type ImpairmentFaultParams,
  type UdpBurstLossParams,
  type UdpCorruptParams,
  type UdpDelayParams,
  type UdpDuplicateParams,
  type UdpLossParams,
  type UdpRateParams,
  type UdpReorderParams,
  udp,
} from '../proxy/udp/impairment-faults.js';
export { type UdpImpairments, type UdpLoss, validateImpairments } from '../proxy/udp/impairments.js';
export type { UdpCounters } from '../proxy/udp/pipeline.js';
export type { UdpSessionInfo } from '../proxy/udp/session.js';
export {
  type UdpDirection,
  UdpProxy,
  type UdpProxyCounters,
  type UdpProxyOptions,
  type UdpSessionCounters,
  type UdpSessionError,
} from '../proxy/udp/udp-proxy.js';
export { renderLinearizabilityHtml, type TimelineOptions } from '../report/linearizability-html.js';
export {
  type CgroupInjection,
  type CpuQuotaParams,
  cpuQuotaFault,
  type FdLimitInjection,
  type FdLimitParams,
  fdLimitFault,
  type MemoryLimitInjection,
  type MemoryLimitParams,
  memoryLimitFault,
  type PidsLimitParams,
  pidsLimitFault,
  type ResourceTarget,
} from '../resource/faults.js';
export {
  type CpuBurnParams,
  cpuBurnFault,
  type DiskFillInjection,
  type DiskFillParams,
  diskFillFault,
  type MemoryHogParams,
  memoryHogFault,
  type StressorExit,
  type StressorInjection,
} from '../resource/stressors.js';
export {
  type DocumentFormat,
  documentFormats,
  type FaultEntryInput,
  formatOf,
  type PlannedInjection,
  type ProbeOutcome,
  type RunOptions,
  type RunPhase,
  type RunResult,
  type RunVerdict,
  readDocument,
  resolveSchedule,
  runPhases,
  runScenario,
  type Scenario,
  type ScenarioInput,
  type ScheduledFault,
  type SourceDocument,
  scenarioJsonSchema,
  validateScenario,
} from '../scenario/index.js';
export {
  decodeJsonTraces,
  decodeProtobufTraces,
  evaluateExpectations,
  expectationName,
  type OtlpExport,
  type OtlpProtocol,
  type OtlpReceiver,
  type OtlpReceiverOptions,
  otlpProtocols,
  type RunTracer,
  type RunTracerOptions,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanEventRecord,
  type SpanExpectation,
  type SpanExpectations,
  type SpanRecord,
  type SpanSources,
  startOtlpReceiver,
  startRunTracer,
  type TelemetryEnv,
  type TraceExport,
  type TraceExporterName,
  type TracerCloseResult,
  traceExportFromEnv,
} from '../telemetry/index.js';
export {
  type FaultlineTest,
  type FaultlineTestOptions,
  type NodeTestLike,
  runScenarioIn,
  type ScenarioRunOptions,
  type ScenarioSource,
  type ScenarioTest,
  scenarioTest,
  useFaultline,
  type VitestTestLike,
} from '../testing/index.js';
export { Recorder, type RecorderOptions } from './history.js';
