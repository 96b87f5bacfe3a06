// Shared fixtures for the UDP proxy tests: real datagram sockets on loopback, closed after each test.
// Senders are paced against the proxy's own `received` counter (a window of datagrams in flight), so the
// kernel's socket buffers never overflow on a loaded machine and every figure is the proxy's doing.
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { TestContext } from 'node:test';
import { setTimeout as sleep, setImmediate as yieldLoop } from 'node:timers/promises';
import { Random } from '../../../src/core/random.js';
import { UdpProxy, type UdpProxyOptions } from '../../../src/proxy/udp/udp-proxy.js';

export const bufferBytes = 4 * 1024 * 1024;

/** A socket bound to 127.0.0.1 (or `host`) on a free port with large buffers; closed after the test. */
export async function udpSocket(t: TestContext, host = '127.0.0.1'): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  t.after(() => {
    try {
      socket.close();
    } catch {
      // closed by the test itself
    }
  });
  return socket;
}

export function portOf(socket: Socket): number {
  return socket.address().port;
}

/** A started proxy to `upstreamPort`, seed 1 unless given; stopped after the test. */
export async function startUdpProxy(
  t: TestContext,
  upstreamPort: number,
  options: Partial<UdpProxyOptions> & { seed?: number } = {},
): Promise<UdpProxy> {
  const { seed, ...rest } = options;
  const proxy = new UdpProxy({
    name: 'udp-test',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${upstreamPort}`,
    random: new Random(seed ?? 1),
    ...rest,
  });
  await proxy.start();
  t.after(() => proxy.stop());
  return proxy;
}

/** A datagram carrying a sequence number and its send time (performance.now()). */
export function stamped(seq: number, size = 32): Buffer {
  const data = Buffer.alloc(Math.max(12, size));
  data.writeUInt32BE(seq, 0);
  data.writeDoubleBE(performance.now(), 4);
  return data;
}

export interface Arrival {
  readonly seq: number;
  readonly latencyMs: number;
  readonly at: number;
  readonly bytes: number;
  readonly from: string;
}

/** A server that records every stamped datagram (and echoes it when `echo`). */
export async function startSink(t: TestContext, options: { echo?: boolean; host?: string } = {}) {
  const socket = await udpSocket(t, options.host);
  const arrivals: Arrival[] = [];
  const sources = new Set<string>();
  socket.on('message', (data, info) => {
    const at = performance.now();
    const from = `${info.address}:${info.port}`;
    sources.add(from);
    if (data.length >= 12) {
      arrivals.push({
        seq: data.readUInt32BE(0),
        latencyMs: at - data.readDoubleBE(4),
        at,
        bytes: data.length,
        from,
      });
    }
    if (options.echo) socket.send(data, info.port, info.address);
  });
  return { socket, port: portOf(socket), arrivals, sources };
}

/**
 * Sends `count` datagrams from `socket` to `port` in batches, each time waiting until at most `window`
 * are unaccounted for by `accounted()` (e.g. the proxy's received counter), or until that stops moving
 * (the kernel lost some), so that bursts never outrun the receivers.
 */
export async function sendPaced(
  socket: Socket,
  port: number,
  count: number,
  options: { make?: (seq: number) => Buffer; accounted: () => number; batch?: number; window?: number },
): Promise<void> {
  const make = options.make ?? ((seq: number) => stamped(seq));
  const batch = options.batch ?? 200;
  const window = options.window ?? 400;
  let seq = 0;
  while (seq < count) {
    const end = Math.min(count, seq + batch);
    for (; seq < end; seq++) socket.send(make(seq), port, '127.0.0.1');
    let last = options.accounted();
    let stalledSince = performance.now();
    while (seq - options.accounted() > window) {
      await yieldLoop();
      const now = options.accounted();
      if (now !== last) {
        last = now;
        stalledSince = performance.now();
      } else if (performance.now() - stalledSince > 100) {
        break;
      }
    }
  }
}

/** Polls `condition` until true or `timeoutMs` passes (then fails, saying `what`). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Waits until `value()` has not changed for `quietMs`. */
export async function settle(value: () => number, quietMs = 150, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = value();
  let since = performance.now();
  while (performance.now() - since < quietMs && performance.now() < deadline) {
    await sleep(10);
    const now = value();
    if (now !== last) {
      last = now;
      since = performance.now();
    }
  }
}

/** The q-quantile (0..1) of `values`, by linear interpolation. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (position - low);
}

/**
 * For `sendPaced`: datagrams the proxy has taken in, less those it has sent on that the sink has not
 * read yet. Counting only the proxy would let the sink fall behind (the proxy can forward more than it
 * reads, e.g. with duplication) until the sink's buffer overflows.
 */
export function accountedThrough(proxy: UdpProxy, sink: { arrivals: readonly unknown[] }): () => number {
  return () => {
    const c = proxy.counters().upstream;
    return c.received - Math.max(0, c.forwarded - sink.arrivals.length);
  };
}
