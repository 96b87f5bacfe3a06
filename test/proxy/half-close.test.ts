// A client that writes its request and half-closes at once (HTTP/1.0 clients, `nc -N`, `redis-cli` piping a
// file) must get the whole reply through every toxic that holds data, and the FIN only after it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ToxicInput } from '../../src/api/hub.js';
import { connect, pattern, Received, startEchoServer, startHub, startProxy, startServer } from './helpers.js';

const requestBytes = 1000;

/** Toxics that hold or pace data without losing any; each must deliver the whole echo before the FIN. */
const holdingToxics: { label: string; toxic: ToxicInput; minimumMs?: number }[] = [
  { label: 'latency', toxic: { type: 'latency', attributes: { latency: 100 } }, minimumMs: 100 },
  {
    label: 'latency with jitter',
    toxic: { type: 'latency', attributes: { latency: 60, jitter: 30 } },
    minimumMs: 30,
  },
  { label: 'bandwidth', toxic: { type: 'bandwidth', attributes: { rate: 10 } }, minimumMs: 90 },
  {
    label: 'slicer',
    toxic: { type: 'slicer', attributes: { average_size: 10, size_variation: 5, delay: 1000 } },
    minimumMs: 60,
  },
  { label: 'slicer of single bytes', toxic: { type: 'slicer', attributes: { average_size: 1 } } },
  { label: 'slow_open', toxic: { type: 'slow_open', attributes: { delay: 100 } }, minimumMs: 100 },
  { label: 'slow_close', toxic: { type: 'slow_close', attributes: { delay: 100 } }, minimumMs: 100 },
  { label: 'noop', toxic: { type: 'noop' } },
  { label: 'corrupt at probability 0', toxic: { type: 'corrupt', attributes: { probability: 0 } } },
];

for (const { label, toxic, minimumMs } of holdingToxics) {
  for (const stream of ['downstream', 'upstream', 'both'] as const) {
    test(`half-close through ${label} on ${stream}: the whole reply arrives, then the FIN`, async (t) => {
      const echo = await startEchoServer(t);
      const hub = startHub(t);
      const proxy = await startProxy(hub, echo.port);
      await hub.addToxic('test', { ...toxic, stream });
      // Timed from before connecting: slow_open counts from the accept, which the connect resolves after.
      const connectingAt = performance.now();
      const socket = await connect(t, proxy.port);
      const client = new Received(socket);
      const request = pattern(requestBytes);
      socket.end(request);
      await client.waitForEnd(10_000);
      assert.equal(client.bytes, requestBytes, `received ${client.bytes} of ${requestBytes} bytes`);
      assert.ok(client.data.equals(request), 'the reply is the request, in order');
      const tookMs = (client.endedAt as number) - connectingAt;
      if (minimumMs !== undefined) assert.ok(tookMs >= minimumMs - 2, `FIN after ${tookMs.toFixed(1)} ms`);
    });
  }
}

test('slow_close keeps its delay when the server closes after a half-closed request', async (t) => {
  // The server replies and closes as soon as the client's request ends (an HTTP/1.0 exchange).
  const server = await startServer(t, (socket) => {
    socket.on('data', () => {});
    socket.on('end', () => socket.end('reply'));
  });
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'slow_close', attributes: { delay: 300 } });
  const socket = await connect(t, proxy.port);
  const client = new Received(socket);
  const sentAt = performance.now();
  socket.end('request');
  await client.waitForEnd(5_000);
  assert.equal(client.data.toString(), 'reply');
  const finAfterMs = (client.endedAt as number) - sentAt;
  assert.ok(finAfterMs >= 298 && finAfterMs < 3_000, `FIN after ${finAfterMs.toFixed(1)} ms, expected ≥ 300`);
});
