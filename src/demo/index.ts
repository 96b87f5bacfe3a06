/**
 * demo/'s surface for its neighbours: the demo service's client (the scenario workloads speak its
 * protocol), and where the package ships the service and the scenario `faultline demo` runs.
 */
import { fileURLToPath } from 'node:url';

export { KvClient } from './kv-client.js';

/** The demo service's script (dist/src/demo/kv-service.js). */
export const kvServicePath = fileURLToPath(new URL('./kv-service.js', import.meta.url));

/** The bundled scenario `faultline demo` runs: `<package>/scenarios/demo.toml` (from dist/src/demo/). */
export const demoScenarioPath = fileURLToPath(new URL('../../../scenarios/demo.toml', import.meta.url));
