// Toxic schedules on a VirtualClock: real sockets carry the data, the virtual clock decides when a toxic
// lets it go, so the delay is exact and the test takes no real time waiting for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { connect, Received, startEchoServer, startHub, startProxy, waitFor } from './helpers.js';

test('latency on a virtual clock: the echo leaves exactly when the clock reaches the latency', async (t) => {
  const clock = new VirtualClock();
  const echo = await startEchoServer(t);
  const hub = startHub(t, { clock });
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'latency', attributes: { latency: 10_000 } });
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('ping');
  await waitFor(() => proxy.stats.downstream.bytesIn >= 4, 'the echo to reach the toxic');
  assert.equal(clock.nextDueAt(), 10_000, 'released at exactly the latency');
  clock.advance(9_999);
  assert.equal(proxy.stats.downstream.bytesOut, 0, 'nothing before its time');
  clock.advance(1);
  assert.equal(proxy.stats.downstream.bytesOut, 4, 'out at 10 s of virtual time');
  await client.waitForBytes(4);
  assert.equal(client.data.toString(), 'ping');
});

test('bandwidth on a virtual clock: 1 KB/s paces 100 bytes as 10 slices 10 ms apart', async (t) => {
  const clock = new VirtualClock();
  const echo = await startEchoServer(t);
  const hub = startHub(t, { clock });
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'bandwidth', attributes: { rate: 1 } });
  const client = new Received(await connect(t, proxy.port));
  client.socket.write(Buffer.alloc(100, 1));
  await waitFor(() => proxy.stats.downstream.bytesIn >= 100, 'the echo to reach the toxic');
  const out: number[] = [];
  for (let i = 0; i < 10; i++) {
    out.push(proxy.stats.downstream.bytesOut);
    clock.advance(10);
  }
  assert.deepEqual(out, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  await client.waitForBytes(100);
});
