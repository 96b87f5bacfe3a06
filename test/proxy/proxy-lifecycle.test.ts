import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import { test } from 'node:test';
import {
  connect,
  Received,
  roundTrips,
  startEchoServer,
  startHub,
  startProxy,
  startServer,
  within,
} from './helpers.js';

async function connectError(port: number): Promise<NodeJS.ErrnoException | undefined> {
  const socket = new Socket();
  socket.connect(port, '127.0.0.1');
  try {
    const [outcome] = await within(
      Promise.race([once(socket, 'connect').then(() => [undefined]), once(socket, 'error')]),
      5_000,
      'connect or error',
    );
    return outcome as NodeJS.ErrnoException | undefined;
  } finally {
    socket.destroy();
  }
}

test('disabling a proxy closes live connections and refuses new ones; enabling listens on the same port', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  const port = proxy.port;
  const client = new Received(await connect(t, port));
  await roundTrips(client.socket, 1);

  await hub.updateProxy('test', { enabled: false });
  await client.waitForClose(5_000);
  assert.equal((await connectError(port))?.code, 'ECONNREFUSED');
  assert.equal(proxy.stats.connectionsActive, 0);

  await hub.updateProxy('test', { enabled: true });
  assert.equal(proxy.port, port);
  const again = await connect(t, port);
  const [roundTrip] = await roundTrips(again, 1);
  assert.ok((roundTrip as number) < 1_000);
});

test('an upstream that refuses connections: the client connection is closed promptly', async (t) => {
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const deadPort = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const hub = startHub(t);
  const proxy = await startProxy(hub, deadPort);
  const startedAt = performance.now();
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('anyone?');
  await client.waitForClose(2_000);
  assert.ok((client.closedAt as number) - startedAt < 1_000, 'closed promptly');
  assert.equal(client.bytes, 0);
});

test('half-close: client end() reaches the server, which can still send', async (t) => {
  for (const withToxic of [false, true]) {
    const server = await startServer(t, () => {}, { allowHalfOpen: true });
    const hub = startHub(t);
    const proxy = await startProxy(hub, server.port);
    if (withToxic)
      await hub.addToxic('test', { type: 'latency', stream: 'both', attributes: { latency: 20 } });
    const client = new Received(await connect(t, proxy.port, { allowHalfOpen: true }));
    const atServer = new Received(await server.nextSocket());
    client.socket.end('request');
    await atServer.waitForEnd(5_000);
    assert.equal(atServer.data.toString(), 'request');
    atServer.socket.write('response after your FIN');
    await client.waitForBytes(23, 5_000);
    assert.equal(client.endedAt, undefined, 'the server has not ended its side');
    atServer.socket.end();
    await client.waitForEnd(5_000);
    await client.waitForClose(5_000);
    assert.equal(client.data.toString(), 'response after your FIN');
    await hub.close();
  }
});

test('half-close: server end() reaches the client, which can still send', async (t) => {
  for (const withToxic of [false, true]) {
    const server = await startServer(t, () => {}, { allowHalfOpen: true });
    const hub = startHub(t);
    const proxy = await startProxy(hub, server.port);
    if (withToxic)
      await hub.addToxic('test', { type: 'slicer', stream: 'both', attributes: { average_size: 4 } });
    const client = new Received(await connect(t, proxy.port, { allowHalfOpen: true }));
    const atServer = new Received(await server.nextSocket());
    atServer.socket.end('bye');
    await client.waitForEnd(5_000);
    assert.equal(client.data.toString(), 'bye');
    client.socket.write('but wait, one more thing');
    await atServer.waitForBytes(24, 5_000);
    client.socket.end();
    await atServer.waitForEnd(5_000);
    assert.equal(atServer.data.toString(), 'but wait, one more thing');
    await client.waitForClose(5_000);
    await hub.close();
  }
});
