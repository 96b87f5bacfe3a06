// Every timed toxic's schedule on a VirtualClock: real sockets carry the data, the virtual clock decides
// when a toxic acts, so each time is exact and no test waits for it. A toxic acts only from a timer on
// the clock, so "its timer is still pending" is proof it has not acted yet. The real-time tests beside
// each toxic (timeout.test.ts, slow-close.test.ts, …) keep the real path honest.
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { ToxicInput } from '../../src/api/hub.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import {
  connect,
  pattern,
  Received,
  startEchoServer,
  startHub,
  startProxy,
  startServer,
  waitFor,
  writeAll,
} from './helpers.js';

async function echoRig(t: TestContext, toxic?: ToxicInput) {
  const clock = new VirtualClock();
  const echo = await startEchoServer(t);
  const hub = startHub(t, { clock });
  const proxy = await startProxy(hub, echo.port);
  if (toxic) await hub.addToxic('test', toxic);
  return { clock, echo, hub, proxy };
}

/** Writes `text` and waits for its echo, with the clock standing still. */
async function roundTrip(client: Received, text: string): Promise<void> {
  const before = client.bytes;
  client.socket.write(text);
  await client.waitForBytes(before + text.length);
}

test('timeout 400, virtual clock: nothing passes, and the connection closes at exactly 400 ms', async (t) => {
  const { clock, proxy } = await echoRig(t, { type: 'timeout', attributes: { timeout: 400 } });
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('is anyone there?');
  await waitFor(() => proxy.stats.downstream.bytesIn >= 16, 'the echo to reach the toxic');
  assert.equal(clock.nextDueAt(), 400, 'the close is due 400 ms after accept');
  clock.advance(399);
  assert.equal(clock.pendingTimers, 1, 'not closed before 400 ms');
  assert.equal(proxy.stats.downstream.bytesOut, 0, 'nothing got through');
  clock.advance(1);
  await client.waitForClose();
  await waitFor(() => clock.pendingTimers === 0, 'the connection to be gone, with its timers');
  assert.equal(client.bytes, 0, 'nothing got through during the window');
  assert.equal(client.error, undefined, 'closed, not reset');
});

test('timeout 0, virtual clock: never closes; removing the toxic releases the held data at once, in order', async (t) => {
  const { clock, hub, proxy } = await echoRig(t);
  const client = new Received(await connect(t, proxy.port));
  await hub.addToxic('test', { type: 'timeout', attributes: { timeout: 0 } }); // on a live connection
  const messages = ['one ', 'two ', 'three ', 'four'];
  for (const message of messages) client.socket.write(message);
  const total = messages.join('').length;
  await waitFor(() => proxy.stats.downstream.bytesIn >= total, 'the echoes to reach the proxy');
  assert.equal(clock.pendingTimers, 0, 'timeout 0 sets no timer: it never closes');
  clock.advance(24 * 3600_000);
  assert.equal(proxy.stats.downstream.bytesOut, 0, 'nothing passes, even a day later');
  assert.equal(proxy.stats.connectionsActive, 1);
  await hub.removeToxic('test', 'timeout_downstream');
  assert.equal(proxy.stats.downstream.bytesOut, total, 'released at once, with the clock standing still');
  await client.waitForBytes(total);
  assert.equal(client.data.toString(), messages.join(''));
  assert.equal(client.closed, false);
});

test('limit_time 400, virtual clock: data flows until exactly 400 ms, then a graceful close', async (t) => {
  const { clock, proxy } = await echoRig(t, {
    type: 'limit_time',
    stream: 'both',
    attributes: { time: 400 },
  });
  const client = new Received(await connect(t, proxy.port));
  await roundTrip(client, 'early');
  // Both streams' limits run from accept.
  assert.equal(clock.nextDueAt(), 400);
  clock.advance(399);
  assert.equal(clock.pendingTimers, 2, 'neither limit has acted');
  await roundTrip(client, 'late');
  clock.advance(1);
  await client.waitForClose();
  await waitFor(() => clock.pendingTimers === 0, 'the connection to be gone, with its timers');
  assert.equal(client.error, undefined, 'a graceful close');
  assert.equal(client.data.toString(), 'earlylate');
});

test('reset_peer timeout 300, virtual clock: nothing before data; the reset comes exactly 300 ms after it', async (t) => {
  const { clock, proxy } = await echoRig(t, {
    type: 'reset_peer',
    stream: 'upstream',
    attributes: { timeout: 300 },
  });
  const client = new Received(await connect(t, proxy.port));
  await waitFor(() => proxy.stats.connectionsActive === 1, 'the proxy to accept');
  clock.advance(10_000);
  assert.equal(clock.pendingTimers, 0, 'no reset armed while no data came');
  assert.equal(client.closed, false);
  client.socket.write('hello');
  await waitFor(() => clock.pendingTimers === 1, 'the data to reach the toxic');
  assert.equal(clock.nextDueAt(), 10_300, 'the reset is due 300 ms after the data');
  clock.advance(299);
  assert.equal(clock.pendingTimers, 1, 'no reset before 300 ms');
  clock.advance(1);
  await client.waitForClose();
  assert.equal(client.error?.code, 'ECONNRESET');
  assert.equal(client.bytes, 0, 'the data that triggered the reset is dropped');
});

test('slow_close 400, virtual clock: data passes at once; the FIN goes exactly 400 ms after it came', async (t) => {
  const clock = new VirtualClock();
  const server = await startServer(t);
  const hub = startHub(t, { clock });
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'slow_close', attributes: { delay: 400 } });
  const client = new Received(await connect(t, proxy.port));
  const serverSocket = await server.nextSocket();
  clock.advance(1_000); // the FIN's delay counts from when it came, not from accept
  serverSocket.end('goodbye');
  await client.waitForBytes(7); // with the clock standing still
  await waitFor(() => clock.pendingTimers === 1, 'the FIN to reach the toxic');
  assert.equal(clock.nextDueAt(), 1_400);
  clock.advance(399);
  assert.equal(clock.pendingTimers, 1, 'the FIN is held until 400 ms');
  assert.equal(client.endedAt, undefined);
  clock.advance(1);
  await client.waitForEnd();
  assert.equal(client.data.toString(), 'goodbye');
});

test('slow_open 300, virtual clock: the upstream opens at exactly 300 ms after accept; open connections pass', async (t) => {
  const { clock, echo, hub, proxy } = await echoRig(t);
  const early = new Received(await connect(t, proxy.port));
  await roundTrip(early, 'a');
  await hub.addToxic('test', { type: 'slow_open', stream: 'upstream', attributes: { delay: 300 } });
  clock.advance(1_000); // the early connection was accepted at 0: long open by now
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('ping');
  await waitFor(() => proxy.stats.upstream.bytesIn >= 1 + 4, 'the data to reach the proxy');
  assert.equal(clock.nextDueAt(), 1_300, 'the upstream opens 300 ms after accept');
  await roundTrip(early, 'b'); // the connection opened before the toxic is not delayed
  clock.advance(299);
  assert.equal(echo.sockets.length, 1, 'the new connection has no upstream yet');
  assert.equal(client.bytes, 0);
  clock.advance(1);
  await waitFor(() => echo.sockets.length === 2, 'the upstream connection to be opened');
  await client.waitForBytes(4);
  assert.equal(client.data.toString(), 'ping');
});

test('slow_open added to a connection accepted 200 ms ago, virtual clock: it waits out the other 100 ms', async (t) => {
  const { clock, hub, proxy } = await echoRig(t);
  const client = new Received(await connect(t, proxy.port));
  await roundTrip(client, 'a');
  clock.advance(200);
  await hub.addToxic('test', { type: 'slow_open', stream: 'downstream', attributes: { delay: 300 } });
  client.socket.write('b');
  await waitFor(() => proxy.stats.downstream.bytesIn >= 2, 'the echo to reach the toxic');
  assert.equal(clock.nextDueAt(), 300);
  clock.advance(99);
  assert.equal(proxy.stats.downstream.bytesOut, 1, 'held until 300 ms after accept');
  clock.advance(1);
  await client.waitForBytes(2);
});

test('slicer 200 ± 50 bytes every 2 ms, virtual clock: one slice per 2 ms exactly, every byte in order', async (t) => {
  const clock = new VirtualClock();
  const data = pattern(20_000);
  const server = await startServer(t, (socket) => socket.write(data));
  const hub = startHub(t, { clock });
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', {
    type: 'slicer',
    attributes: { average_size: 200, size_variation: 50, delay: 2000 },
  });
  const received = new Received(await connect(t, proxy.port));
  await waitFor(() => proxy.stats.downstream.bytesIn === data.length, 'the proxy to read the data');
  const sizes = [proxy.stats.downstream.bytesOut]; // the first slice goes at once
  while (proxy.stats.downstream.bytesOut < data.length) {
    // Let the socket take the last slice, as 2 ms of real time would: the toxic waits while its next
    // hop is congested, and a client socket written to with no turn of the event loop stays congested.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(clock.nextDueAt() !== undefined, `the next slice is scheduled (${sizes.length} so far)`);
    const before = proxy.stats.downstream.bytesOut;
    clock.advance(1.9);
    assert.equal(proxy.stats.downstream.bytesOut, before, `no slice before its 2 ms (at ${clock.now()})`);
    clock.advance(0.1);
    sizes.push(proxy.stats.downstream.bytesOut - before);
  }
  assert.ok(
    sizes.every((size) => size >= 1 && size <= 250),
    'one slice each time, never more than 250 bytes',
  );
  // Slices of 150..250 bytes, but a socket read's last slice is its remainder.
  const inRange = sizes.filter((size) => size >= 150).length;
  assert.ok(inRange >= 0.9 * sizes.length, `${inRange} of ${sizes.length} slices are 150..250 bytes`);
  assert.ok(new Set(sizes).size >= 10, 'slice sizes vary');
  assert.equal(clock.now(), 2 * (sizes.length - 1), 'exactly 2 ms apart');
  await received.waitForBytes(data.length);
  assert.ok(received.data.equals(data), 'all bytes, in order');
});

test('slicer, virtual clock: a new delay acts at once, not after the gap the old one set', async (t) => {
  const { clock, hub, proxy } = await echoRig(t, {
    type: 'slicer',
    attributes: { average_size: 1, delay: 60_000_000 },
  });
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('abc');
  await client.waitForBytes(1); // the first byte goes at once
  assert.equal(clock.nextDueAt(), 60_000, 'the next would wait a minute');
  await hub.updateToxic('test', 'slicer_downstream', { attributes: { delay: 0 } });
  await client.waitForBytes(3); // with the clock standing still
  assert.equal(client.data.toString(), 'abc');
  assert.equal(clock.now(), 0);
});

test('bandwidth, virtual clock: rate 0 holds everything for ever; raised to 1000 KB/s, 100 KB take 100 ms', async (t) => {
  const clock = new VirtualClock();
  const data = pattern(100_000);
  const server = await startServer(t, (socket) => void writeAll(socket, data));
  const hub = startHub(t, { clock });
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'bandwidth', attributes: { rate: 0 } });
  const received = new Received(await connect(t, proxy.port));
  await waitFor(() => proxy.stats.downstream.bytesIn >= data.length, 'the proxy to read the data');
  assert.equal(clock.pendingTimers, 0, 'rate 0 sets no timer');
  clock.advance(3600_000);
  assert.equal(proxy.stats.downstream.bytesOut, 0, 'nothing passes at rate 0, even an hour later');
  const from = clock.now();
  await hub.updateToxic('test', 'bandwidth_downstream', { attributes: { rate: 1000 } }); // 1000 bytes/ms
  // Slices of at most 10 ms of transfer (10,000 bytes), each followed by its transfer time: by t ms after
  // the change, between 1000·t and 1000·t + 10,000 bytes have gone.
  for (let ms = 0; ms < 100; ms += 5) {
    const out = proxy.stats.downstream.bytesOut;
    assert.ok(out >= 1000 * ms && out <= 1000 * ms + 10_000, `${out} bytes out ${ms} ms after the change`);
    await new Promise((resolve) => setImmediate(resolve)); // the socket takes each slice, as in real time
    clock.advance(5);
  }
  assert.equal(proxy.stats.downstream.bytesOut, data.length, 'all out by 100 ms');
  assert.equal(clock.now() - from, 100);
  await received.waitForBytes(data.length);
  assert.ok(received.data.equals(data));
});
