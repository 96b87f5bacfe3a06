/**
 * demo/'s surface for its neighbours: the demo service's client (the scenario workloads speak its
 * protocol), and where the package ships the service and the scenario `faultline demo` runs.
 */
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export { KvClient } from './kv-client.js';

/** The demo service's script (dist/src/demo/kv-service.js). */
export const kvServicePath = fileURLToPath(new URL('./kv-service.js', import.meta.url));

/** The bundled scenario `faultline demo` runs: `<package>/scenarios/demo.toml` (from dist/src/demo/). */
export const demoScenarioPath = fileURLToPath(new URL('../../../scenarios/demo.toml', import.meta.url));

/** A loopback port free right now (the demo service keeps it across restarts, so it is fixed up front). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port from the OS');
  return address.port;
}
