// The budget bounds what a connection holds whatever the slice size or rate: held items are charged
// besides their bytes, slices are cut only as they go out, and a stage never floods a congested next hop.
// Before, 4 connections through `slicer average_size 1` grew the heap by ~1 GB in a second.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { test } from 'node:test';
import type { ToxicInput } from '../../src/proxy/hub.js';
import { connect, pattern, startHub, startProxy, startServer, waitFor, writeAll } from './helpers.js';

const connections = 6;
const pushMs = 1_500;
const chunk = Buffer.alloc(64 * 1024, 7);

/** Clients that write as fast as the proxy takes for `pushMs`; returns the peak heap growth in MB. */
async function peakHeapGrowthMb(t: import('node:test').TestContext, toxics: ToxicInput[]): Promise<number> {
  const sink = await startServer(t, (socket) => socket.resume());
  const hub = startHub(t);
  const proxy = await startProxy(hub, sink.port);
  for (const [index, toxic] of toxics.entries()) {
    await hub.addToxic('test', { name: `toxic${index}`, stream: 'upstream', ...toxic });
  }
  const baseline = process.memoryUsage().heapUsed;
  const clients: Socket[] = [];
  for (let i = 0; i < connections; i++) {
    const client = new Socket();
    t.after(() => client.destroy());
    client.on('error', () => {});
    const push = (): void => {
      while (client.write(chunk)) {}
    };
    client.on('drain', push);
    client.connect(proxy.port, '127.0.0.1', push);
    clients.push(client);
  }
  let peak = baseline;
  const started = performance.now();
  while (performance.now() - started < pushMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  for (const client of clients) client.destroy();
  await Promise.all(clients.map((client) => (client.closed ? undefined : once(client, 'close'))));
  assert.ok(proxy.stats.upstream.bytesOut > 0, 'data went through');
  return (peak - baseline) / 1e6;
}

const cases: { label: string; toxics: ToxicInput[]; limitMb: number }[] = [
  {
    label: 'slicer of 1-byte slices, 10 µs apart',
    toxics: [{ type: 'slicer', attributes: { average_size: 1, delay: 10 } }],
    limitMb: 64,
  },
  { label: 'bandwidth at 1 KB/s', toxics: [{ type: 'bandwidth', attributes: { rate: 1 } }], limitMb: 48 },
  {
    label: 'slicer of 1-byte slices before a 500 ms latency',
    toxics: [
      { type: 'slicer', attributes: { average_size: 1 } },
      { type: 'latency', attributes: { latency: 500 } },
    ],
    limitMb: 48,
  },
];

for (const { label, toxics, limitMb } of cases) {
  test(`${connections} connections pushing through ${label} keep the heap within ${limitMb} MB`, async (t) => {
    const growthMb = await peakHeapGrowthMb(t, toxics);
    t.diagnostic(`heap grew by ${growthMb.toFixed(1)} MB`);
    assert.ok(growthMb < limitMb, `heap grew by ${growthMb.toFixed(0)} MB`);
  });
}

test('through a chain of toxics that wait on each other, every byte arrives once and in order', async (t) => {
  const received: Buffer[] = [];
  let receivedBytes = 0;
  const sink = await startServer(t, (socket) =>
    socket.on('data', (data: Buffer) => {
      received.push(data);
      receivedBytes += data.length;
    }),
  );
  // A small budget makes the slicer wait for the latency and the latency for the bandwidth often.
  const hub = startHub(t, { budgetBytes: 16 * 1024 });
  const proxy = await startProxy(hub, sink.port);
  const toxics: ToxicInput[] = [
    { type: 'slicer', attributes: { average_size: 64, size_variation: 32 } },
    { type: 'latency', attributes: { latency: 10, jitter: 5 } },
    { type: 'bandwidth', attributes: { rate: 4000 } },
  ];
  for (const [index, toxic] of toxics.entries()) {
    await hub.addToxic('test', { name: `toxic${index}`, stream: 'upstream', ...toxic });
  }
  const data = pattern(256 * 1024);
  const client = await connect(t, proxy.port);
  await writeAll(client, data);
  await waitFor(() => receivedBytes >= data.length, `${data.length} bytes (have ${receivedBytes})`, 20_000);
  assert.ok(Buffer.concat(received).equals(data), 'the bytes arrived intact and in order');
  await waitFor(() => proxy.bufferedBytes().upstream === 0, 'the toxics to hold nothing');
});
