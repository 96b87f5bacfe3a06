import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, Received, startEchoServer, startHub, startProxy, waitFor } from './helpers.js';

test('timeout: a blackhole — no data arrives — then the connection closes after the timeout', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'timeout', attributes: { timeout: 400 } });
  const connectedAt = performance.now();
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('is anyone there?');
  await waitFor(() => proxy.stats.downstream.bytesIn >= 16, 'the echo to reach the proxy');
  await client.waitForClose(5_000);
  const after = (client.closedAt as number) - connectedAt;
  assert.equal(client.bytes, 0, 'nothing got through during the window');
  assert.equal(client.error, undefined, 'closed, not reset');
  assert.ok(after >= 398 && after < 2_000, `closed ${after.toFixed(1)} ms after connecting, expected ≥ 400`);
});

test('timeout 0: never closes; removing the toxic releases the held data at once, in order', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  const client = new Received(await connect(t, proxy.port));
  await hub.addToxic('test', { type: 'timeout', attributes: { timeout: 0 } }); // on a live connection
  const messages = ['one ', 'two ', 'three ', 'four'];
  for (const message of messages) client.socket.write(message);
  const total = messages.join('').length;
  await waitFor(() => proxy.stats.downstream.bytesIn >= total, 'the echoes to reach the proxy');
  const heldSince = performance.now();
  await waitFor(() => performance.now() - heldSince >= 300, '300 ms of blackhole');
  assert.equal(client.bytes, 0, 'nothing passes while the toxic is there');
  assert.equal(client.closed, false, 'timeout 0 never closes');
  const removedAt = performance.now();
  await hub.removeToxic('test', 'timeout_downstream');
  await client.waitForBytes(total, 2_000);
  assert.ok(performance.now() - removedAt < 500, 'released at once');
  assert.equal(client.data.toString(), messages.join(''));
  assert.equal(client.closed, false);
});
