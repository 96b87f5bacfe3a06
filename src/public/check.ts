/** faultline/check — checkers over operation histories: what a chaos test must prove. */

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
export { deepEqual, valueKey as stableKey } from '../history/value-key.js';
export { renderLinearizabilityHtml, type TimelineOptions } from '../report/linearizability-html.js';
