/** demo/'s surface for its neighbours (the CLI's `faultline demo`): they import these from here. */
export { KvClient } from './kv-client.js';
export type { Variant } from './kv-store.js';
export { type DemoOptions, type DemoResult, kvServicePath, runDemo } from './run.js';
export { type DemoVerdict, judge, type LostWrite, type VerdictOptions } from './verdict.js';
export { KvWorkload, type KvWorkloadOptions } from './workload.js';
