import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { type TestContext, test } from 'node:test';
import type { Direction } from '../../src/proxy/toxic.js';
import { connect, pattern, startHub, startProxy, startServer, waitFor } from './helpers.js';

// A writer that always has more to send, a reader that stops reading, and the proxy in between: the
// proxy must stop reading too (TCP's window then stops the writer), not soak the stream up in memory.

const budgetBytes = 256 * 1024;
/** One socket read (64 KiB) plus Node's default write high-water mark (16 KiB), with room to spare. */
const slackBytes = 128 * 1024;
const block = pattern(1024 * 1024);

/** Writes the repeating block until `totalBytes` or until stopped, respecting drain; counts what it wrote. */
function startWriter(socket: Socket, totalBytes: number): { written: () => number; stop: () => void } {
  let written = 0;
  let stopped = false;
  const pump = (): void => {
    while (!stopped && written < totalBytes) {
      const ok = socket.write(block);
      written += block.length;
      if (!ok) {
        socket.once('drain', pump);
        return;
      }
    }
    if (!stopped) socket.end();
  };
  pump();
  return {
    written: () => written,
    stop: () => {
      stopped = true;
    },
  };
}

/** Checks every received byte against the repeating block, so loss, duplication or reordering shows. */
function startChecker(socket: Socket): { bytes: () => number; mismatchAt: () => number | undefined } {
  let bytes = 0;
  let mismatch: number | undefined;
  socket.on('data', (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length && mismatch === undefined) {
      const at = bytes % block.length;
      const length = Math.min(chunk.length - offset, block.length - at);
      if (!chunk.subarray(offset, offset + length).equals(block.subarray(at, at + length))) mismatch = bytes;
      offset += length;
      bytes += length;
    }
  });
  return { bytes: () => bytes, mismatchAt: () => mismatch };
}

/** Waits until `value` has not changed for `quietMs` (the pipeline is full and stalled). */
async function waitUntilStable(value: () => number, what: string, quietMs = 300): Promise<void> {
  let last = value();
  let since = performance.now();
  await waitFor(
    () => {
      const now = value();
      if (now !== last) {
        last = now;
        since = performance.now();
      }
      return performance.now() - since >= quietMs;
    },
    `${what} to stop growing`,
    20_000,
  );
}

async function slowReader(t: TestContext, direction: Direction, withLatency: boolean): Promise<void> {
  // Kernel socket buffers on loopback take ~10 MB before the writer stalls. Through a 10 ms latency
  // toxic the budget caps a connection at budget/latency ≈ 25 MB/s, so that case moves less data. (The
  // latency only has to hold data in the toxic: a longer one would check the same bound, more slowly.)
  const totalBytes = (withLatency ? 16 : 32) * 1024 * 1024;
  const hub = startHub(t, { budgetBytes });
  let writerSide: Socket | undefined;
  const server = await startServer(t, (socket) => {
    if (direction === 'downstream') writerSide = socket;
    else socket.pause();
  });
  const proxy = await startProxy(hub, server.port);
  if (withLatency)
    await hub.addToxic('test', { type: 'latency', stream: direction, attributes: { latency: 10 } });
  const client = await connect(t, proxy.port);
  const serverSocket = await server.nextSocket();
  const reader = direction === 'downstream' ? client : serverSocket;
  const writerSocket = direction === 'downstream' ? (writerSide as Socket) : client;
  reader.pause();
  const checker = startChecker(reader);
  const writer = startWriter(writerSocket, totalBytes);
  t.after(() => writer.stop());

  const counters = () => hub.proxy('test').stats[direction];
  await waitUntilStable(() => counters().bytesIn, `the proxy's ${direction} bytesIn`);
  const { bytesIn, bytesOut } = counters();
  const buffered = proxy.bufferedBytes()[direction];
  // The writer's socket stopped taking data: it has written far more than the proxy has read.
  assert.ok(writer.written() < totalBytes, `the writer was never held back (wrote ${writer.written()})`);
  assert.ok(
    writer.written() - bytesIn >= 4 * budgetBytes,
    `wrote ${writer.written()}, proxy read ${bytesIn}: the writer should be well ahead of the proxy`,
  );
  assert.ok(
    bytesIn - bytesOut <= budgetBytes + slackBytes,
    `proxy holds ${bytesIn - bytesOut} bytes in its toxics, bound ${budgetBytes + slackBytes}`,
  );
  assert.ok(
    buffered <= budgetBytes + slackBytes,
    `proxy buffers ${buffered} bytes, bound ${budgetBytes + slackBytes}`,
  );

  reader.resume();
  await waitFor(
    () => checker.bytes() >= totalBytes,
    `all ${totalBytes} bytes (have ${checker.bytes()})`,
    60_000,
  );
  assert.equal(
    checker.mismatchAt(),
    undefined,
    `data differs from what was sent at byte ${checker.mismatchAt()}`,
  );
  assert.equal(checker.bytes(), totalBytes);
}

test('backpressure: a paused reader holds back the writer (downstream, no toxic)', (t) =>
  slowReader(t, 'downstream', false));
test('backpressure: a paused reader holds back the writer (upstream, no toxic)', (t) =>
  slowReader(t, 'upstream', false));
test('backpressure: a paused reader holds back the writer through a latency toxic (downstream)', (t) =>
  slowReader(t, 'downstream', true));
test('backpressure: a paused reader holds back the writer through a latency toxic (upstream)', (t) =>
  slowReader(t, 'upstream', true));
