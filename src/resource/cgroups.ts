// Kept for the public entry point (src/public/resource.ts); the mechanism lives in os/.
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
