import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, Received, startEchoServer, startHub, startProxy } from './helpers.js';

test('reset_peer: the client gets ECONNRESET (a real RST) right after its first data', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'reset_peer', stream: 'upstream' });
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('hello');
  await client.waitForClose(5_000);
  assert.equal(client.error?.code, 'ECONNRESET');
  assert.equal(client.bytes, 0, 'the data that triggered the reset is dropped');
});

test('reset_peer with a timeout: nothing happens before data; the reset comes timeout ms after it', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'reset_peer', stream: 'upstream', attributes: { timeout: 300 } });
  const client = new Received(await connect(t, proxy.port));
  const idleSince = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(
    client.closed,
    false,
    `still open ${(performance.now() - idleSince).toFixed(0)} ms after connect`,
  );
  const sentAt = performance.now();
  client.socket.write('hello');
  await client.waitForClose(5_000);
  const after = (client.closedAt as number) - sentAt;
  assert.equal(client.error?.code, 'ECONNRESET');
  assert.ok(after >= 298 && after < 2_000, `reset ${after.toFixed(1)} ms after the data, expected ≥ 300`);
});
