/** The safety checkers (everything but linearizability), each as a function and as a `Checker` factory. */

/** `stableKey` is `valueKey` (one value identity for every checker), under its former name. */
export { deepEqual, valueKey as stableKey } from '../history/index.js';
export { type AckedWritesCheckOptions, ackedWritesChecker, checkAckedWrites } from './acked-writes.js';
export {
  type ConvergenceCheckOptions,
  checkConvergence,
  convergenceChecker,
  type ReplicaId,
} from './convergence.js';
export { type CounterCheckOptions, checkCounter, counterChecker } from './counter.js';
export {
  type ApplicationId,
  checkNoDuplicates,
  type NoDuplicatesCheckOptions,
  noDuplicatesChecker,
} from './duplicates.js';
export {
  checkMonotonicReads,
  type MonotonicReadsCheckOptions,
  monotonicReadsChecker,
} from './monotonic-reads.js';
export {
  checkQueue,
  checkTotalQueue,
  type QueueCheckOptions,
  queueChecker,
  type TotalQueueCheckOptions,
  totalQueueChecker,
} from './queue.js';
export type { BaseCheckOptions } from './safety-support.js';
export { checkSet, type SetCheckOptions, setChecker } from './set.js';
