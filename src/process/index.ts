/** process/'s surface for its neighbours: they import these from here, never its modules. */
export {
  cascadingKillFault,
  crashLoopFault,
  gracefulStopFault,
  killFault,
  pauseFault,
  restartFault,
} from './faults.js';
export {
  commandProbe,
  functionProbe,
  httpProbe,
  type LogSource,
  logProbe,
  type Probe,
  tcpProbe,
} from './probes.js';
export { checkProbe, type WaitOptions, type WaitResult, waitFor } from './recovery.js';
export { type RestartPolicy, Supervisor, Target, type TargetSpec } from './supervisor.js';
export {
  describeStatus,
  type JsonCheck,
  parseJsonPath,
  requireExitCodes,
  requireJsonCheck,
  requireRange,
  requireRegex,
  requireStatus,
} from './tolerances.js';
