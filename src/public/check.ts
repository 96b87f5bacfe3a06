/** faultline/check — checkers over operation histories: what a chaos test must prove. */
export {
  type Anomaly,
  type Checker,
  type CheckResult,
  combineValidity,
  type Validity,
} from '../checker/result.js';
export * from '../checker/safety.js';
