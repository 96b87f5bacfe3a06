/** faultline/process — supervised targets, process faults, probes and recovery timing. */

export {
  isAlive,
  processStartTime,
  requireSignal,
  type SignalName,
  signalNames,
} from '../os/index.js';
export {
  type CascadeDetails,
  type CrashLoopDetails,
  cascadingKillFault,
  crashLoopFault,
  type GracefulStopDetails,
  gracefulStopFault,
  type KillDetails,
  killFault,
  type PauseDetails,
  type ProcessFault,
  type ProcessInjection,
  pauseFault,
  type RestartDetails,
  restartFault,
} from '../process/faults.js';
export {
  type CommandProbeOptions,
  commandProbe,
  functionProbe,
  type HttpProbeOptions,
  httpProbe,
  type LogProbeOptions,
  type LogSource,
  type LogStream,
  logProbe,
  type Probe,
  type TcpProbeOptions,
  tcpProbe,
} from '../process/probes.js';
export {
  assertRecoveryWithin,
  type TimeToGreenOptions,
  type TimeToGreenResult,
  timeToGreen,
  type WaitOptions,
  type WaitResult,
  waitFor,
} from '../process/recovery.js';
export {
  type ExitInfo,
  type RestartPolicy,
  type StopResult,
  Supervisor,
  type SupervisorOptions,
  Target,
  type TargetSpec,
} from '../process/supervisor.js';
