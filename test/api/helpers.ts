import { request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { ProxyHub } from '../../src/api/hub.js';
import { type ApiServer, startApiServer } from '../../src/api/server.js';

/** A fixed seed keeps toxicity and jitter draws the same on every run. */
export const testSeed = 20240611;

export interface Api {
  readonly hub: ProxyHub;
  readonly server: ApiServer;
  readonly log: string[];
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
}

export interface CallOptions {
  /** Sent as is; objects are JSON-encoded. */
  readonly body?: string | object;
  readonly headers?: Record<string, string>;
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed body; fails the test if it is not JSON. */
  readonly json: unknown;
}

export interface StartOptions {
  readonly token?: string;
  readonly allowedHosts?: readonly string[];
  readonly allowRemoteListen?: boolean;
}

/** A hub and an API server on an ephemeral loopback port, both closed after the test. */
export async function startApi(t: TestContext, options: StartOptions = {}): Promise<Api> {
  const hub = new ProxyHub({
    seed: testSeed,
    ...(options.allowRemoteListen === undefined ? {} : { allowRemoteListen: options.allowRemoteListen }),
  });
  const log: string[] = [];
  let server: ApiServer;
  try {
    server = await startApiServer({
      hub,
      port: 0,
      log: (line) => log.push(line),
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
    });
  } catch (error) {
    await hub.close();
    throw error;
  }
  t.after(async () => {
    await server.close();
    await hub.close();
  });
  return { hub, server, log, call: (method, path, options) => call(server.url, method, path, options) };
}

/** One HTTP request on its own connection, so nothing lingers in a pool. */
export function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply> {
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      `${baseUrl}${path}`,
      { method, agent: false, headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            get json(): unknown {
              return JSON.parse(text) as unknown;
            },
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface Echo {
  readonly port: number;
  /** `127.0.0.1:port`, as an upstream. */
  readonly address: string;
  /** Connections the echo server has accepted so far. */
  readonly accepted: number;
}

/** An echo server on loopback; it and its connections are closed after the test. */
export async function startEcho(t: TestContext): Promise<Echo> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await listen(server);
  t.after(() => closeServer(server, sockets));
  const port = portOf(server);
  return {
    port,
    address: `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
  };
}

/** A port that is taken: a listener bound on it for the rest of the test. */
export async function busyPort(t: TestContext): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  await listen(server);
  t.after(() => closeServer(server, new Set()));
  return portOf(server);
}

/** A client socket with a buffer of what it received. */
export class Peer {
  readonly socket: Socket;
  private received = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private isClosed = false;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise<void>((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Connects to 127.0.0.1:port; the socket is destroyed after the test. */
  static async connect(t: TestContext, port: number): Promise<Peer> {
    const socket = connect({ host: '127.0.0.1', port });
    t.after(() => {
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Peer(socket);
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Waits for `n` bytes (or the close) and takes them from the buffer. */
  async receive(n: number): Promise<Buffer> {
    while (this.received.length < n && !this.isClosed) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.received.length < n) {
      throw new Error(`connection closed after ${this.received.length} of ${n} expected bytes`);
    }
    const head = this.received.subarray(0, n);
    this.received = this.received.subarray(n);
    return head;
  }

  /** Sends `payload` and waits for the echo; returns the round-trip time in ms. */
  async roundTrip(payload: Buffer | string): Promise<number> {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const started = performance.now();
    this.socket.write(data);
    const echoed = await this.receive(data.length);
    const elapsed = performance.now() - started;
    if (!echoed.equals(data)) throw new Error('the echo differs from what was sent');
    return elapsed;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** The error code of a connection attempt to 127.0.0.1:port (`ECONNREFUSED`), or 'connected'. */
export function tryConnect(port: number): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs` (generous: CI machines are slow). */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Listening TCP servers of this process (proxies, echo servers, API servers), counted once the event
 * loop has run its close callbacks, so servers closed just before are not counted.
 */
export async function listeningServers(): Promise<number> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPServerWrap').length;
}

function listen(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('server has no TCP address');
  return address.port;
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface RawReply {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: string;
}

/** Sends raw bytes to the API and reads the whole response, up to the server's close. */
export function rawExchange(port: number, data: string | Buffer): Promise<RawReply> {
  return new Promise<RawReply>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.end(data);
  });
}
