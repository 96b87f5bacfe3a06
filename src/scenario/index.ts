/** scenario/'s surface for its neighbours: they import these from here, never its modules. */
// Scenarios can name every fault kind: loading this folder registers all of them.
import './fault-families.js';

export { describeCheck, explainCheck } from './checks.js';
export {
  type DocumentFormat,
  documentFormats,
  formatOf,
  readDocument,
  type SourceDocument,
} from './document.js';
export {
  methodLimitMs,
  type Scenario,
  type ScheduledFault,
  scenarioJsonSchema,
  validateScenario,
} from './format.js';
export { loadScenario, maxScenarioBytes } from './load.js';
export {
  LiveTargets,
  liveParams,
  resolveReferences,
} from './references.js';
export {
  type ProbeOutcome,
  type RunOptions,
  type RunPhase,
  type RunResult,
  type RunVerdict,
  runPhases,
  runScenario,
  scenarioSeed,
} from './runner.js';
export {
  describeStart,
  type EntryPlan,
  type FaultStart,
  type PlannedInjection,
  type ResolvedSchedule,
  resolveEntries,
  resolveSchedule,
} from './schedule.js';
export { startTargets } from './targets.js';
export { type RunningWorkload, startWorkload, type WorkloadSpec } from './workloads.js';
