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

test('reset_peer with a timeout (real time): the reset comes timeout ms after the data', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'reset_peer', stream: 'upstream', attributes: { timeout: 150 } });
  const client = new Received(await connect(t, proxy.port));
  // That nothing happens before data is checked on the VirtualClock (toxic-schedules.test.ts).
  const sentAt = performance.now();
  client.socket.write('hello');
  await client.waitForClose(5_000);
  const after = (client.closedAt as number) - sentAt;
  assert.equal(client.error?.code, 'ECONNRESET');
  assert.ok(after >= 148 && after < 650, `reset ${after.toFixed(1)} ms after the data, expected 150`);
});
