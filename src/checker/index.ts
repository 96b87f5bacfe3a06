/** checker/'s surface for its neighbours: they import these from here, never its modules. */

export {
  type AnomalyRef,
  type AnomalySummary,
  type AnomalySummaryOptions,
  describeRef,
  formatAnomalySummary,
  formatSinceStart,
  summariseAnomalies,
  whereOfRef,
} from './anomaly-summary.js';
export {
  type CounterexampleOp,
  type LinearizabilityCounterexample,
  LinearizabilityRun,
  type LinearizabilitySearchOptions,
  type Partition,
} from './linearizability.js';
export { type PartitionBudget, type PartitionOutcome, PartitionSearch } from './linearizability-core.js';
export type { Model } from './model.js';
export {
  builtInModel,
  createModel,
  isModelName,
  type ModelFactory,
  type ModelName,
  type ModelOptions,
  type ModelSpec,
  modelFactories,
  modelNames,
  modelSpecOf,
  models,
} from './models/index.js';
export { type Anomaly, type CheckResult, combineValidity, type Validity } from './result.js';
export {
  checkAckedWrites,
  checkConvergence,
  checkCounter,
  checkMonotonicReads,
  checkNoDuplicates,
  checkQueue,
  checkSet,
  checkTotalQueue,
} from './safety.js';
