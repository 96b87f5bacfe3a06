/** checker/'s surface for its neighbours: they import these from here, never its modules. */

export {
  type CounterexampleOp,
  type LinearizabilityCounterexample,
  LinearizabilityRun,
  type LinearizabilitySearchOptions,
  type Partition,
} from './linearizability.js';
export { type PartitionBudget, type PartitionOutcome, PartitionSearch } from './linearizability-core.js';
export type { Model } from './model.js';
export { builtInModel, modelNames } from './models/index.js';
export { type CheckResult, combineValidity } from './result.js';
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
