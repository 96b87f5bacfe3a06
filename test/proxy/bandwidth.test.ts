import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  connect,
  pattern,
  Received,
  startHub,
  startProxy,
  startServer,
  waitFor,
  writeAll,
} from './helpers.js';

// The rate is measured at the reader, from its first read to its last, so connection set-up and the
// first slice's wait do not count: what remains is the toxic's own pacing.

function measuredRate(received: Received): number {
  const first = received.readTimes[0] as number;
  const last = received.readTimes.at(-1) as number;
  const afterFirst = received.bytes - (received.chunks[0] as Buffer).length;
  return afterFirst / ((last - first) / 1000) / 1000; // KB/s, KB = 1000 bytes
}

test('bandwidth: downstream rate is within ±5 % of the setting over 2.5 MB', async (t) => {
  const data = pattern(2_500_000);
  const server = await startServer(t, (socket) => void writeAll(socket, data));
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'bandwidth', attributes: { rate: 1500 } }); // ~1.7 s
  const received = new Received(await connect(t, proxy.port));
  await received.waitForBytes(data.length, 20_000);
  const rate = measuredRate(received);
  assert.ok(Math.abs(rate - 1500) <= 75, `measured ${rate.toFixed(1)} KB/s, expected 1500 ± 5 %`);
  assert.ok(received.data.equals(data), 'data arrived intact and in order');
});

test('bandwidth: upstream rate is within ±5 % of the setting over 2 MB', async (t) => {
  const data = pattern(2_000_000);
  let received: Received | undefined;
  const server = await startServer(t, (socket) => {
    received = new Received(socket);
  });
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'bandwidth', stream: 'upstream', attributes: { rate: 2000 } }); // ~1 s
  const client = await connect(t, proxy.port);
  await writeAll(client, data);
  await waitFor(() => (received?.bytes ?? 0) >= data.length, 'all bytes at the server', 20_000);
  const rate = measuredRate(received as Received);
  assert.ok(Math.abs(rate - 2000) <= 100, `measured ${rate.toFixed(1)} KB/s, expected 2000 ± 5 %`);
  assert.ok((received as Received).data.equals(data), 'data arrived intact and in order');
});

test('bandwidth: rate 0 stalls the stream; raising the rate releases it', async (t) => {
  const data = pattern(100_000);
  const server = await startServer(t, (socket) => void writeAll(socket, data));
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'bandwidth', attributes: { rate: 0 } });
  const received = new Received(await connect(t, proxy.port));
  // The proxy has read everything the server sent, and holds it.
  await waitFor(() => proxy.stats.downstream.bytesIn >= data.length, 'the proxy to read the data');
  const heldSince = performance.now();
  await waitFor(() => performance.now() - heldSince >= 300, '300 ms of stall');
  assert.equal(received.bytes, 0, 'nothing passes at rate 0');
  await hub.updateToxic('test', 'bandwidth_downstream', { attributes: { rate: 1000 } }); // 100 KB in ~0.1 s
  const releasedAt = performance.now();
  await received.waitForBytes(data.length, 5_000);
  const elapsed = performance.now() - releasedAt;
  assert.ok(
    elapsed >= 80 && elapsed < 2_000,
    `released in ${elapsed.toFixed(0)} ms, expected ~100 ms at 1000 KB/s`,
  );
  assert.ok(received.data.equals(data));
});
