import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  connect,
  Received,
  roundTrips,
  startEchoServer,
  startHub,
  startProxy,
  summarize,
  waitFor,
} from './helpers.js';

test('adding, updating and removing a toxic act on an already open connection', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  const client = await connect(t, proxy.port);
  const before = summarize(await roundTrips(client, 10)).max;
  assert.ok(before < 50, `no delay before the toxic (max ${before.toFixed(1)} ms)`);

  await hub.addToxic('test', { type: 'latency', attributes: { latency: 100 } });
  const added = summarize(await roundTrips(client, 3));
  assert.ok(added.min >= 99, `added: round trips ≥ 100 ms (min ${added.min.toFixed(1)})`);

  await hub.updateToxic('test', 'latency_downstream', { attributes: { latency: 30 } });
  const updated = summarize(await roundTrips(client, 5));
  assert.ok(
    updated.min >= 29 && updated.max < 90,
    `updated: ~30 ms (${updated.min.toFixed(1)}–${updated.max.toFixed(1)})`,
  );

  await hub.removeToxic('test', 'latency_downstream');
  const removed = summarize(await roundTrips(client, 5)).max;
  assert.ok(removed < 25, `removed: no delay (max ${removed.toFixed(1)} ms)`);
});

test('removing a toxic releases what it holds at once, in order', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  const client = new Received(await connect(t, proxy.port));
  await hub.addToxic('test', { type: 'latency', attributes: { latency: 10_000, jitter: 5_000 } });
  const messages = Array.from({ length: 20 }, (_, i) => `message ${i};`);
  for (const message of messages) client.socket.write(message);
  const total = messages.join('').length;
  await waitFor(() => proxy.stats.downstream.bytesIn >= total, 'the echoes to be held by the proxy');
  assert.equal(client.bytes, 0);
  const removedAt = performance.now();
  await hub.removeToxic('test', 'latency_downstream');
  await client.waitForBytes(total, 2_000);
  assert.ok(performance.now() - removedAt < 500, 'released at once');
  assert.equal(client.data.toString(), messages.join(''));
});

test('lowering a latency applies to chunks already held', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  const client = new Received(await connect(t, proxy.port));
  await hub.addToxic('test', { type: 'latency', attributes: { latency: 10_000 } });
  const sentAt = performance.now();
  client.socket.write('held');
  await waitFor(() => proxy.stats.downstream.bytesIn >= 4, 'the echo to be held');
  await hub.updateToxic('test', 'latency_downstream', { attributes: { latency: 200 } });
  await client.waitForBytes(4, 3_000);
  const after = (client.readTimes[0] as number) - sentAt;
  assert.ok(after >= 198 && after < 1_000, `arrived ${after.toFixed(0)} ms after sending, expected ~200`);
});
