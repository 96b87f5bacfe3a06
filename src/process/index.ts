/** process/'s surface for its neighbours: they import these from here, never its modules. */
export {
  cascadingKillFault,
  crashLoopFault,
  gracefulStopFault,
  killFault,
  pauseFault,
  restartFault,
} from './faults.js';
export { Supervisor, Target } from './supervisor.js';
