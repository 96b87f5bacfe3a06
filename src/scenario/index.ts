/** scenario/'s surface for its neighbours: they import these from here, never its modules. */
// Scenarios can name every fault kind: loading this folder registers all of them.
import './fault-families.js';

export {
  type DocumentFormat,
  documentFormats,
  formatOf,
  readDocument,
  type SourceDocument,
} from './document.js';
export {
  type FaultChoice,
  methodLimitMs,
  type Scenario,
  type ScheduledFault,
  scenarioJsonSchema,
  validateScenario,
} from './format.js';
export {
  type LiveTarget,
  LiveTargets,
  liveParams,
  resolveReferences,
  type TargetType,
} from './references.js';
export {
  type ProbeOutcome,
  type RunOptions,
  type RunPhase,
  type RunResult,
  type RunVerdict,
  runPhases,
  runScenario,
} from './runner.js';
export { maxPlannedInjections, type PlannedInjection, resolveSchedule } from './schedule.js';
export { type ProbeOfOptions, probeOf, type StartTargetsOptions, startTargets } from './targets.js';
export { type RunningWorkload, startWorkload, type WorkloadOptions, type WorkloadSpec } from './workloads.js';
