/** resource/'s surface for its neighbours: they import these from here, never its modules. */
export { cpuQuotaFault, fdLimitFault, memoryLimitFault, pidsLimitFault } from './faults.js';
export { cpuBurnFault, diskFillFault, memoryHogFault } from './stressors.js';
