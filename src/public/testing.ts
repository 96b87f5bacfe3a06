/** faultline/testing — bind faults to a node:test or Vitest test: healed, stopped and seeded per test. */
export {
  type FaultlineTest,
  type FaultlineTestOptions,
  type NodeTestLike,
  runScenarioIn,
  type ScenarioSource,
  useFaultline,
  type VitestTestLike,
} from '../testing/index.js';
