// Shared fixtures for the proxy tests: real loopback servers and sockets, a hub per test, and waits that
// poll a condition with a deadline instead of sleeping and hoping. Everything a helper opens is closed by
// `t.after`, so a failing assertion never leaves a listener or socket behind.
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { ProxyHub, type ProxyHubOptions } from '../../src/api/hub.js';
import type { TcpProxy } from '../../src/proxy/tcp-proxy.js';

export interface TestServer {
  readonly server: Server;
  readonly port: number;
  /** Server-side sockets, in accept order. */
  readonly sockets: Socket[];
  /** Resolves with the next accepted socket. */
  nextSocket(): Promise<Socket>;
}

/** A loopback server that hands each connection to `onConnection`; closed with every socket after the test. */
export async function startServer(
  t: TestContext,
  onConnection: (socket: Socket) => void = () => {},
  options: { allowHalfOpen?: boolean } = {},
): Promise<TestServer> {
  const sockets: Socket[] = [];
  const waiters: ((socket: Socket) => void)[] = [];
  const server = createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => {}); // resets are part of what these tests provoke
    onConnection(socket);
    waiters.shift()?.(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  let handed = 0;
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sockets,
    nextSocket: () => {
      if (handed < sockets.length) return Promise.resolve(sockets[handed++] as Socket);
      return new Promise((resolve) => {
        waiters.push((socket) => {
          handed++;
          resolve(socket);
        });
      });
    },
  };
}

/** A server that echoes every byte back. */
export function startEchoServer(t: TestContext): Promise<TestServer> {
  return startServer(t, (socket) => socket.pipe(socket));
}

/** A hub that is closed after the test. */
export function startHub(t: TestContext, options: ProxyHubOptions = {}): ProxyHub {
  const hub = new ProxyHub({ seed: 1, ...options });
  t.after(() => hub.close());
  return hub;
}

/** A proxy named `name` on a free loopback port in front of `upstreamPort`; returns the live proxy. */
export async function startProxy(hub: ProxyHub, upstreamPort: number, name = 'test'): Promise<TcpProxy> {
  await hub.createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstreamPort}` });
  return hub.proxy(name);
}

/**
 * A connected client socket, destroyed after the test. Like most clients it closes when the peer does;
 * `allowHalfOpen` keeps its sending side open after the peer's FIN, for half-close tests.
 */
export async function connect(
  t: TestContext,
  port: number,
  options: { allowHalfOpen?: boolean } = {},
): Promise<Socket> {
  const socket = new Socket({ allowHalfOpen: options.allowHalfOpen ?? false });
  t.after(() => socket.destroy());
  socket.setNoDelay(true);
  socket.connect(port, '127.0.0.1');
  await Promise.race([
    once(socket, 'connect'),
    once(socket, 'error').then(([error]) => Promise.reject(error)),
  ]);
  return socket;
}

/** Polls `condition` every few ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Rejects after `timeoutMs` unless `promise` settles first. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything a socket receives, with the time of each read, and how it ended. */
export class Received {
  readonly chunks: Buffer[] = [];
  readonly readTimes: number[] = [];
  bytes = 0;
  endedAt: number | undefined;
  closedAt: number | undefined;
  error: NodeJS.ErrnoException | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.readTimes.push(performance.now());
      this.bytes += chunk.length;
    });
    socket.on('end', () => {
      this.endedAt = performance.now();
    });
    socket.on('close', () => {
      this.closedAt = performance.now();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error;
    });
  }

  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Waits until at least `bytes` have arrived. */
  waitForBytes(bytes: number, timeoutMs = 10_000): Promise<void> {
    return waitFor(() => this.bytes >= bytes, `${bytes} bytes (have ${this.bytes})`, timeoutMs);
  }

  waitForClose(timeoutMs = 10_000): Promise<void> {
    return waitFor(() => this.closed, 'the socket to close', timeoutMs);
  }

  waitForEnd(timeoutMs = 10_000): Promise<void> {
    return waitFor(() => this.endedAt !== undefined, 'the end (FIN)', timeoutMs);
  }
}

/** Deterministic test data: byte i is a function of i, so order and integrity are checkable. */
export function pattern(length: number, offset = 0): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buffer[i] = ((i + offset) * 31 + ((i + offset) >>> 8)) & 0xff;
  return buffer;
}

/** Writes `data` in `chunkBytes` pieces, waiting for drain, so the writer respects backpressure. */
export async function writeAll(socket: Socket, data: Buffer, chunkBytes = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    if (!socket.write(data.subarray(offset, offset + chunkBytes))) await once(socket, 'drain');
  }
}

/** Median, mean, min and max of a sample. */
export function summarize(values: readonly number[]): {
  mean: number;
  median: number;
  min: number;
  max: number;
} {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return {
    mean,
    median: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Round trips of a 1-byte message through an echo path; returns each in ms. */
export async function roundTrips(socket: Socket, count: number): Promise<number[]> {
  const times: number[] = [];
  const message = Buffer.from([0x2a]);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const reply = once(socket, 'data');
    socket.write(message);
    await within(reply, 10_000, `echo ${i}`);
    times.push(performance.now() - start);
  }
  return times;
}
