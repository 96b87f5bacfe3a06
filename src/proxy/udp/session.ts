import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { codes } from '../../core/codes.js';
import { FaultlineError, messageOf } from '../../core/errors.js';
import { formatHostPort } from '../address.js';

/** A resolved address: an IP literal and the socket type that reaches it. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly type: SocketType;
}

/** What `UdpProxy.sessions()` reports about one client. */
export interface UdpSessionInfo {
  /** The client's `host:port`, as the listen socket sees it. */
  client: string;
  /** The address the server sees this client's datagrams come from. */
  upstreamLocal: string;
  /** Clock time (`Clock.now()`) of the last datagram either way. */
  lastSeenMs: number;
  /** Datagrams received from the client / from the server (before impairments). */
  datagramsUp: number;
  datagramsDown: number;
}

/** Receive buffer asked for each session socket: replies in a burst wait here, not in the kernel's bin. */
const sessionBufferBytes = 1024 * 1024;

/** Datagrams a session holds while its upstream socket is still being bound; more are dropped. */
const pendingMax = 256;

/**
 * Hostnames are resolved once at start, so every address a socket sees is an IP literal; answering
 * the lookup at once spares the `dns.lookup` round through the event loop on each send.
 */
export function literalLookup(
  address: string,
  _family: unknown,
  callback: (error: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

function bindError(error: unknown, where: string, field: string): FaultlineError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new FaultlineError(codes.addressInUse, `listen udp ${where}: bind: address already in use`, {
      cause: error,
      details: { field },
    });
  }
  return new FaultlineError(codes.listenFailed, `listen udp ${where}: ${messageOf(error)}`, {
    cause: error,
    details: { field },
  });
}

/** Binds a datagram socket to host:port; rejects with FL_ERR_ADDRESS_IN_USE or FL_ERR_LISTEN_FAILED. */
export function bindSocket(
  type: SocketType,
  host: string,
  port: number,
  field: string,
  options: { recvBufferSize?: number; sendBufferSize?: number } = {},
): Promise<Socket> {
  const socket = createSocket({ type, lookup: literalLookup, ...options });
  return new Promise<Socket>((resolve, reject) => {
    const onError = (error: Error): void => {
      try {
        socket.close();
      } catch {
        // already closed by the failed bind
      }
      reject(bindError(error, formatHostPort(host, port), field));
    };
    socket.once('error', onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** A socket bound to host:port and connected to `upstream`, so the kernel drops datagrams from others. */
export async function openUpstreamSocket(
  bindHost: string,
  port: number,
  upstream: Endpoint,
  field: string,
): Promise<Socket> {
  const socket = await bindSocket(upstream.type, bindHost, port, field, {
    recvBufferSize: sessionBufferBytes,
  });
  await new Promise<void>((resolve, reject) => {
    socket.connect(upstream.port, upstream.host, (error?: Error) => {
      if (error === undefined || error === null) return resolve();
      socket.close();
      reject(
        new FaultlineError(
          codes.listenFailed,
          `connect udp ${formatHostPort(upstream.host, upstream.port)}: ${messageOf(error)}`,
          { cause: error, details: { field } },
        ),
      );
    });
  });
  // A connected datagram socket reports ICMP errors (ECONNREFUSED while the server is down) as events.
  socket.on('error', () => {});
  return socket;
}

function addressOf(socket: Socket): string {
  const address = socket.address();
  return formatHostPort(address.address, address.port);
}

/** One client of a UDP proxy: its address and the socket that speaks for it to the server. */
export class UdpSession {
  readonly client: string;
  readonly clientHost: string;
  readonly clientPort: number;
  /** Where the upstream socket is bound (changes on roam). */
  bindHost: string;
  lastSeenMs: number;
  /** When the session was last moved to the back of the proxy's map (its recency order). */
  orderedAtMs: number;
  datagramsUp = 0;
  datagramsDown = 0;
  closed = false;
  private socket: Socket | undefined;
  private local: string;
  private pending: Buffer[] = [];

  constructor(clientHost: string, clientPort: number, bindHost: string, now: number) {
    this.clientHost = clientHost;
    this.clientPort = clientPort;
    this.client = formatHostPort(clientHost, clientPort);
    this.bindHost = bindHost;
    this.local = formatHostPort(bindHost, 0);
    this.lastSeenMs = now;
    this.orderedAtMs = now;
  }

  get ready(): boolean {
    return this.socket !== undefined;
  }

  /** Starts using `socket` (bound and connected), sends what waited for it; returns the old socket. */
  attach(socket: Socket, bindHost: string, onMessage: (data: Buffer) => void): Socket | undefined {
    const old = this.socket;
    old?.removeAllListeners('message');
    this.socket = socket;
    this.bindHost = bindHost;
    this.local = addressOf(socket);
    socket.on('message', onMessage);
    const pending = this.pending;
    this.pending = [];
    for (const data of pending) socket.send(data);
    return old;
  }

  /** Sends to the server; false if the session is closed or too much waits for its socket. */
  send(data: Buffer): boolean {
    if (this.closed) return false;
    if (this.socket !== undefined) {
      this.socket.send(data);
      return true;
    }
    if (this.pending.length >= pendingMax) return false;
    this.pending.push(data);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.socket?.close();
    this.socket = undefined;
  }

  info(): UdpSessionInfo {
    return {
      client: this.client,
      upstreamLocal: this.local,
      lastSeenMs: this.lastSeenMs,
      datagramsUp: this.datagramsUp,
      datagramsDown: this.datagramsDown,
    };
  }
}
