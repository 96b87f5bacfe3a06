import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  connect,
  pattern,
  Received,
  roundTrips,
  startEchoServer,
  startHub,
  startProxy,
  startServer,
  waitFor,
} from './helpers.js';

// Timer-driven effects are checked against "setting - 2 ms": Node timers count whole milliseconds from
// the event loop's cached time, so one may fire up to ~1 ms early by performance.now(), and the test's
// own timestamps are taken a little before or after the event they stand for. The upper bound allows a
// loaded machine to run a timer a few hundred ms late. The exact schedules are checked on the
// VirtualClock in toxic-schedules.test.ts.

test('slow_open (real time): the upstream connection and the first data wait for the delay; open connections do not', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  const early = await connect(t, proxy.port);
  await roundTrips(early, 1);
  await hub.addToxic('test', { type: 'slow_open', stream: 'upstream', attributes: { delay: 150 } });
  const connectedAt = performance.now();
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('ping');
  await waitFor(() => echo.sockets.length === 2, 'the upstream connection to be opened');
  const acceptedAfter = performance.now() - connectedAt;
  await client.waitForBytes(4, 5_000);
  const echoedAfter = (client.readTimes[0] as number) - connectedAt;
  assert.ok(
    acceptedAfter >= 148 && acceptedAfter < 650,
    `upstream opened ${acceptedAfter.toFixed(1)} ms after connect, expected 150`,
  );
  assert.ok(echoedAfter >= 148 && echoedAfter < 650, `first echo after ${echoedAfter.toFixed(1)} ms`);
  const [early1] = await roundTrips(early, 1);
  assert.ok((early1 as number) < 100, 'the connection opened before the toxic is not delayed');
});

test('slow_open removed while a connection waits: held data goes at once and the upstream opens', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'slow_open', stream: 'both', attributes: { delay: 60_000 } });
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('held');
  await waitFor(() => proxy.stats.upstream.bytesIn >= 4, 'the proxy to hold the data');
  assert.equal(echo.sockets.length, 0, 'the upstream is not connected yet');
  await hub.removeToxic('test', 'slow_open_both');
  await client.waitForBytes(4, 5_000);
  assert.equal(client.data.toString(), 'held');
  const [roundTrip] = await roundTrips(client.socket, 1);
  assert.ok((roundTrip as number) < 1_000, 'the connection works normally afterwards');
});

test('limit_time (real time): data flows normally, then the connection closes after the time', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'limit_time', stream: 'both', attributes: { time: 150 } });
  const connectedAt = performance.now();
  const client = new Received(await connect(t, proxy.port));
  const [roundTrip] = await roundTrips(client.socket, 1);
  assert.ok((roundTrip as number) < 100, `data flows before the limit (round trip ${roundTrip} ms)`);
  await client.waitForClose(5_000);
  const after = (client.closedAt as number) - connectedAt;
  assert.equal(client.error, undefined, 'a graceful close');
  assert.ok(after >= 148 && after < 650, `closed ${after.toFixed(1)} ms after connecting, expected 150`);
});

test('corrupt: flips bits at the configured rate, leaving the length unchanged', async (t) => {
  const data = pattern(1_000_000);
  const server = await startServer(t, (socket) => socket.end(data));
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  const probability = 0.001;
  await hub.addToxic('test', { type: 'corrupt', attributes: { probability } });
  const received = new Received(await connect(t, proxy.port));
  await received.waitForEnd();
  assert.equal(received.bytes, data.length, 'length unchanged');
  const got = received.data;
  let flipped = 0;
  for (let i = 0; i < data.length; i++) {
    let diff = ((got[i] as number) ^ (data[i] as number)) & 0xff;
    while (diff) {
      flipped += diff & 1;
      diff >>>= 1;
    }
  }
  // Binomial(8e6, 0.001): mean 8000, standard deviation ~89; ±5 standard deviations.
  const bits = data.length * 8;
  const expected = bits * probability;
  const tolerance = 5 * Math.sqrt(bits * probability * (1 - probability));
  assert.ok(
    Math.abs(flipped - expected) <= tolerance,
    `${flipped} bits flipped, expected ${expected} ± ${tolerance.toFixed(0)}`,
  );
});

test('noop: data passes unchanged both ways, on stream both', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  const toxic = await hub.addToxic('test', { type: 'noop', stream: 'both' });
  assert.equal(toxic.name, 'noop_both');
  const client = new Received(await connect(t, proxy.port));
  const data = pattern(300_000);
  client.socket.write(data);
  await client.waitForBytes(data.length);
  assert.ok(client.data.equals(data));
});
