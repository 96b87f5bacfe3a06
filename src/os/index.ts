/**
 * os/ — the one place that touches /proc, process groups, signals, cgroups (v1/v2) and rlimits. Importing
 * it registers the undo of every residue kind it creates (process-group, stopped-process, cgroup, rlimit,
 * file) with core/residue.ts, for `faultline cleanup`.
 */
// Registers the `file` residue kind (nothing else of it is re-exported).
import './files.js';

export {
  type CgroupController,
  type CgroupFs,
  type CgroupProbeOptions,
  type CgroupSupport,
  type ControllerSupport,
  cgroupControllers,
  cgroupSupport,
  nodeCgroupFs,
} from './cgroup-support.js';
export {
  cgroupResidues,
  FaultCgroup,
  type FaultCgroupOptions,
  type FreezeMechanism,
  findFaultCgroups,
  limitFiles,
  refuseNested,
  removeGroupDir,
} from './cgroups.js';
export { deathSignalSupported, findExecutable, withDeathSignal } from './death-signal.js';
export { freeLoopbackPorts } from './ports.js';
export {
  describeStart,
  environValue,
  groupMembers,
  identifyProcess,
  isAlive,
  isSameProcess,
  listProcesses,
  type ProcEntry,
  type ProcStat,
  processCommand,
  processLinks,
  processStartTime,
  readProcStat,
} from './proc.js';
export { hasSysResource, type NofileLimit, readNofile, writeNofile } from './rlimit.js';
export {
  groupTokenPrefix,
  groupTokenVariable,
  newGroupToken,
  processGroupResidue,
  requireSignal,
  type SignalName,
  signalGroup,
  signalNames,
  trySignalGroup,
} from './signals.js';
export { type BoundSocket, listBoundSockets, socketInodes } from './sockets.js';
