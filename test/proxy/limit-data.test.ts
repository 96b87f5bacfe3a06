import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, pattern, Received, startHub, startProxy, startServer, waitFor } from './helpers.js';

test('limit_data downstream: exactly N bytes arrive from one big chunk, then the connection closes', async (t) => {
  const data = pattern(50_000);
  const server = await startServer(t, (socket) => socket.write(data));
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'limit_data', attributes: { bytes: 1234 } });
  const received = new Received(await connect(t, proxy.port));
  await received.waitForClose();
  assert.equal(received.bytes, 1234);
  assert.ok(received.data.equals(data.subarray(0, 1234)));
  assert.equal(received.error, undefined, 'a graceful close, not a reset');
});

test('limit_data downstream: a chunk straddling the limit is cut at the limit', async (t) => {
  const server = await startServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'limit_data', attributes: { bytes: 1000 } });
  const received = new Received(await connect(t, proxy.port));
  const serverSocket = await server.nextSocket();
  const data = pattern(1200);
  serverSocket.write(data.subarray(0, 600));
  await received.waitForBytes(600);
  assert.equal(received.closed, false, 'still open below the limit');
  serverSocket.write(data.subarray(600)); // 600 more: 400 fit, 200 do not
  await received.waitForClose();
  assert.equal(received.bytes, 1000);
  assert.ok(received.data.equals(data.subarray(0, 1000)));
});

test('limit_data upstream: the server gets exactly N bytes, then both sides close', async (t) => {
  let atServer: Received | undefined;
  const server = await startServer(t, (socket) => {
    atServer = new Received(socket);
  });
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'limit_data', stream: 'upstream', attributes: { bytes: 777 } });
  const client = new Received(await connect(t, proxy.port));
  const data = pattern(5000);
  client.socket.write(data);
  await client.waitForClose();
  await waitFor(() => atServer?.closed === true, 'the server side to close');
  assert.equal(atServer?.bytes, 777);
  assert.ok(atServer?.data.equals(data.subarray(0, 777)));
});

test('limit_data bytes 0: the connection stays open until the first data, then closes', async (t) => {
  const server = await startServer(t, (socket) => socket.pipe(socket));
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'limit_data', stream: 'upstream', attributes: { bytes: 0 } });
  const client = new Received(await connect(t, proxy.port));
  await waitFor(() => proxy.stats.connectionsActive === 1, 'the proxied connection');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(client.closed, false, 'not closed on connect');
  client.socket.write('x');
  await client.waitForClose();
  assert.equal(client.bytes, 0);
});

test('limit_data before a latency toxic: the last bytes are delayed, not lost, then the connection closes', async (t) => {
  const data = pattern(10_000);
  const server = await startServer(t, (socket) => socket.write(data));
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'limit_data', attributes: { bytes: 4096 } });
  await hub.addToxic('test', { type: 'latency', attributes: { latency: 100 } });
  const start = performance.now();
  const received = new Received(await connect(t, proxy.port));
  await received.waitForClose();
  assert.equal(received.bytes, 4096);
  assert.ok(received.data.equals(data.subarray(0, 4096)));
  assert.ok((received.closedAt as number) - start >= 98, 'closed only after the delayed data');
});

test('limit_data on both streams counts each direction separately', async (t) => {
  let atServer: Received | undefined;
  const server = await startServer(t, (socket) => {
    atServer = new Received(socket);
  });
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'limit_data', stream: 'both', attributes: { bytes: 300 } });
  const client = new Received(await connect(t, proxy.port));
  client.socket.write(pattern(250));
  await waitFor(() => (atServer?.bytes ?? 0) >= 250, '250 bytes at the server');
  const server1 = atServer as Received;
  server1.socket.write(pattern(250));
  await client.waitForBytes(250);
  assert.equal(client.closed, false, '250 bytes each way is under the limit of each direction');
  server1.socket.write(pattern(100, 250)); // downstream reaches 300 here
  await client.waitForClose();
  assert.equal(client.bytes, 300);
  assert.ok(client.data.equals(pattern(300)));
  assert.equal(server1.bytes, 250);
});
