import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, Received, startHub, startProxy, startServer, waitFor } from './helpers.js';

test('slow_close (real time): data passes at once, but the FIN reaches the client delay ms after the server closed', async (t) => {
  let serverEndedAt = 0;
  const server = await startServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'slow_close', attributes: { delay: 150 } });
  const client = new Received(await connect(t, proxy.port));
  const serverSocket = await server.nextSocket();
  serverSocket.end('goodbye', () => {
    serverEndedAt = performance.now();
  });
  await client.waitForBytes(7);
  assert.ok(performance.now() - serverEndedAt < 200 || serverEndedAt === 0, 'data is not delayed');
  await client.waitForEnd(5_000);
  await waitFor(() => serverEndedAt > 0, 'the server end callback');
  const finAfter = (client.endedAt as number) - serverEndedAt;
  assert.equal(client.data.toString(), 'goodbye');
  assert.ok(
    finAfter >= 148 && finAfter < 650,
    `FIN arrived ${finAfter.toFixed(1)} ms after the close, expected 150`,
  );
});
