// The budget bounds what a connection holds whatever the slice size or rate: held items are charged
// besides their bytes, slices are cut only as they go out, and a stage never floods a congested next hop.
// Memory is measured with Buffer contents (array buffers) included, and what the toxics hold is sampled.
// Before, 4 connections through `slicer average_size 1` grew the heap by ~1 GB in a second.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { test } from 'node:test';
import type { ToxicInput } from '../../src/api/hub.js';
import { connect, pattern, startHub, startProxy, startServer, waitFor, writeAll } from './helpers.js';

const connections = 6;
const pushMs = 1_500;
const chunk = Buffer.alloc(64 * 1024, 7);

const defaultBudgetBytes = 1024 * 1024;
/** Past the budget: one socket read that arrived before the pause, and the socket's write buffer. */
const slackBytes = 2 * 64 * 1024;

/** Memory outside the V8 heap's objects too: Buffer contents live in array buffers. */
const usedBytes = (): number => {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

/**
 * Clients that write as fast as the proxy takes for `pushMs`; returns the peak memory growth in MB and
 * the most the connections held in their toxics at any sample.
 */
async function pushThrough(
  t: import('node:test').TestContext,
  toxics: ToxicInput[],
): Promise<{ growthMb: number; peakHeldBytes: number }> {
  const sink = await startServer(t, (socket) => socket.resume());
  const hub = startHub(t);
  const proxy = await startProxy(hub, sink.port);
  for (const [index, toxic] of toxics.entries()) {
    await hub.addToxic('test', { name: `toxic${index}`, stream: 'upstream', ...toxic });
  }
  const baseline = usedBytes();
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
  let peakHeldBytes = 0;
  const started = performance.now();
  while (performance.now() - started < pushMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    peak = Math.max(peak, usedBytes());
    peakHeldBytes = Math.max(peakHeldBytes, proxy.bufferedBytes().upstream);
  }
  for (const client of clients) client.destroy();
  await Promise.all(clients.map((client) => (client.closed ? undefined : once(client, 'close'))));
  assert.ok(proxy.stats.upstream.bytesOut > 0, 'data went through');
  return { growthMb: (peak - baseline) / 1e6, peakHeldBytes };
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
  test(`${connections} connections pushing through ${label} stay within the budget and ${limitMb} MB`, async (t) => {
    const { growthMb, peakHeldBytes } = await pushThrough(t, toxics);
    t.diagnostic(
      `memory grew by ${growthMb.toFixed(1)} MB; the connections held at most ${peakHeldBytes} bytes`,
    );
    assert.ok(growthMb < limitMb, `memory grew by ${growthMb.toFixed(0)} MB`);
    const boundBytes = connections * (defaultBudgetBytes + slackBytes);
    assert.ok(peakHeldBytes <= boundBytes, `held ${peakHeldBytes} bytes, bound ${boundBytes}`);
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

test('removing a toxic that later toxics waited on keeps the stream in order', async (t) => {
  const echo = await startServer(t, (socket) => socket.pipe(socket));
  const hub = startHub(t, { budgetBytes: 16 * 1024 });
  const proxy = await startProxy(hub, echo.port);
  // The slicer waits, holding the rest of a chunk, behind a slow bandwidth that holds more than the budget.
  await hub.addToxic('test', { name: 'cut', type: 'slicer', attributes: { average_size: 1000 } });
  await hub.addToxic('test', { name: 'slow', type: 'bandwidth', attributes: { rate: 1 } });
  const client = await connect(t, proxy.port);
  const received: Buffer[] = [];
  let receivedBytes = 0;
  client.on('data', (data: Buffer) => {
    received.push(data);
    receivedBytes += data.length;
  });
  const data = pattern(512 * 1024);
  const writing = writeAll(client, data);
  await waitFor(
    () => proxy.bufferedBytes().downstream > 16 * 1024,
    'the bandwidth to hold more than the budget',
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  await hub.removeToxic('test', 'slow');
  await writing;
  await waitFor(() => receivedBytes >= data.length, `${data.length} bytes (have ${receivedBytes})`, 20_000);
  assert.ok(Buffer.concat(received).equals(data), 'the bytes arrived in order');
});
