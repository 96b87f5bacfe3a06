/** scenario/'s surface for its neighbours: they import these from here, never its modules. */
export {
  type DocumentFormat,
  documentFormats,
  formatOf,
  readDocument,
  type SourceDocument,
} from './document.js';
export {
  type FaultChoice,
  type Scenario,
  type ScheduledFault,
  scenarioJsonSchema,
  validateScenario,
} from './format.js';
export { maxPlannedInjections, type PlannedInjection, resolveSchedule } from './schedule.js';
export { type RunningWorkload, startWorkload, type WorkloadOptions, type WorkloadSpec } from './workloads.js';
