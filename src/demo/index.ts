/** demo/'s surface for its neighbours (the CLI's `faultline demo`): they import these from here. */
export { KvClient } from './kv-client.js';
export { type DemoOptions, type DemoResult, kvServicePath, runDemo } from './run.js';
