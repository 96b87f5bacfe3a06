import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, pattern, Received, startEchoServer, startHub, startProxy, startServer } from './helpers.js';

test('slicer: the reader sees slices of average ± variation, with every byte intact and in order', async (t) => {
  const data = pattern(20_000);
  const server = await startServer(t, (socket) => socket.write(data));
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  // 2 ms between slices keeps each one a separate read on the client.
  await hub.addToxic('test', {
    type: 'slicer',
    attributes: { average_size: 200, size_variation: 50, delay: 2000 },
  });
  // A loaded machine can leave the reader unscheduled for longer than a gap, so several slices arrive as
  // one read: up to three transfers, each fully checked; a slicing bug fails all three.
  const misses: string[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    const received = new Received(await connect(t, proxy.port));
    await received.waitForBytes(data.length);
    assert.ok(received.data.equals(data), 'all bytes, in order');
    const sizes = received.chunks.map((chunk) => chunk.length);
    const inRange = sizes.filter((size) => size >= 150 && size <= 250).length;
    const elapsed = (received.readTimes.at(-1) as number) - (received.readTimes[0] as number);
    // ~100 slices; each write's tail slice is a remainder.
    const problems = [
      sizes.length >= 70 ? '' : `only ${sizes.length} reads for ${data.length} bytes`,
      inRange >= 0.8 * sizes.length ? '' : `${inRange} of ${sizes.length} reads are 150..250 bytes`,
      new Set(sizes).size >= 10
        ? ''
        : `slice sizes do not vary: ${[...new Set(sizes)].slice(0, 20).join(', ')}`,
      elapsed >= 0.9 * (sizes.length - 1) * 2 ? '' : `slices came ${elapsed.toFixed(0)} ms apart in total`,
    ].filter(Boolean);
    if (problems.length === 0) return;
    misses.push(`attempt ${attempt}: ${problems.join('; ')}`);
  }
  assert.fail(misses.join('\n'));
});

test('slicer: a new delay acts at once, not after the gap the old one set', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t);
  const proxy = await startProxy(hub, echo.port);
  // One byte a minute: the first goes out at once, the next would wait a minute.
  await hub.addToxic('test', { type: 'slicer', attributes: { average_size: 1, delay: 60_000_000 } });
  const client = new Received(await connect(t, proxy.port));
  client.socket.write('abc');
  await client.waitForBytes(1, 5_000);
  await hub.updateToxic('test', 'slicer_downstream', { attributes: { delay: 0 } });
  await client.waitForBytes(3, 2_000);
  assert.equal(client.data.toString(), 'abc');
});
