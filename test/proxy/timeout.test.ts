import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, Received, startEchoServer, startHub, startProxy, waitFor } from './helpers.js';

test('timeout (real time): a blackhole — no data arrives — then the connection closes after the timeout', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'timeout', attributes: { timeout: 150 } });
  const connectedAt = performance.now();
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('is anyone there?');
  await waitFor(() => proxy.stats.downstream.bytesIn >= 16, 'the echo to reach the proxy');
  await client.waitForClose(5_000);
  const after = (client.closedAt as number) - connectedAt;
  assert.equal(client.bytes, 0, 'nothing got through during the window');
  assert.equal(client.error, undefined, 'closed, not reset');
  // Timers fire up to ~1 ms early by performance.now(); a loaded machine may run them a few hundred late.
  assert.ok(after >= 148 && after < 650, `closed ${after.toFixed(1)} ms after connecting, expected 150`);
});

// timeout 0 (never closes; removal releases the held data at once) is checked on the VirtualClock in
// toxic-schedules.test.ts.
