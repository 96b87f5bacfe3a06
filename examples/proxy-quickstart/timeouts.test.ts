// Run with: npm run build && node --test dist/examples/proxy-quickstart/timeouts.test.js
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ProxyHub } from 'faultline';

// The dependency under test: any TCP service (here a tiny HTTP server on a free loopback port).
const service = createServer((_request, response) => response.end('ok'));
const hub = new ProxyHub({ seed: 42 }); // the seed makes every random draw (toxicity, jitter) replayable
let url = '';

before(async () => {
  service.listen(0, '127.0.0.1');
  await once(service, 'listening');
  const { port } = service.address() as AddressInfo;
  // Point the client at the proxy instead of the service.
  const proxy = await hub.createProxy({
    name: 'service',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${port}`,
  });
  url = `http://${proxy.listen}/`;
});

after(async () => {
  await hub.close(); // stops every proxy and closes their connections
  service.close();
});

test('a client with a 200 ms deadline gives up when responses take 500 ms', async () => {
  await hub.addToxic('service', { type: 'latency', stream: 'downstream', attributes: { latency: 500 } });
  try {
    await assert.rejects(fetch(url, { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
  } finally {
    await hub.removeToxic('service', 'latency_downstream');
  }
  assert.equal(await (await fetch(url)).text(), 'ok');
});

test('a reset connection surfaces as an error, not a hang', async () => {
  await hub.addToxic('service', { type: 'reset_peer', stream: 'upstream' });
  try {
    await assert.rejects(fetch(url, { headers: { connection: 'close' } }), TypeError);
  } finally {
    await hub.reset(); // removes every toxic
  }
});
