/** faultline/resource — resource faults: cgroup memory/CPU/pids limits, fd limits and bounded stressors. */
export {
  type CgroupController,
  type CgroupFs,
  type CgroupProbeOptions,
  type CgroupSupport,
  type ControllerSupport,
  cgroupControllers,
  cgroupSupport,
  findFaultCgroups,
} from '../os/index.js';
export {
  type CgroupInjection,
  type CpuQuotaParams,
  cpuQuotaFault,
  type FdLimitInjection,
  type FdLimitParams,
  fdLimitFault,
  type MemoryLimitInjection,
  type MemoryLimitParams,
  memoryLimitFault,
  type PidsLimitParams,
  pidsLimitFault,
  type ResourceTarget,
} from '../resource/faults.js';
export {
  type CpuBurnParams,
  cpuBurnFault,
  type DiskFillInjection,
  type DiskFillParams,
  diskFillFault,
  type MemoryHogParams,
  memoryHogFault,
  type StressorExit,
  type StressorInjection,
} from '../resource/stressors.js';
