/** faultline/testing — bind faults to a node:test or Vitest test: healed, stopped and seeded per test. */
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
