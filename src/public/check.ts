/** faultline/check — checkers over operation histories: what a chaos test must prove. */

export { checkLinearizability, type LinearizabilityOptions } from '../check-driver/index.js';
export { bruteForceMaxOps, checkBruteForce } from '../checker/brute-force.js';
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
  type Anomaly,
  type Checker,
  type CheckResult,
  combineValidity,
  type Validity,
} from '../checker/result.js';
export * from '../checker/safety.js';
export { renderLinearizabilityHtml, type TimelineOptions } from '../report/linearizability-html.js';
