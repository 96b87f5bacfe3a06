import { formatHostPort } from '../address.js';
import type { DatagramSocket, Destination } from './datagram-socket.js';

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

/** Datagrams a session holds while its upstream socket is still being bound; more are dropped. */
const pendingMax = 256;

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
  /** Where replies to this client go, prepared once on the listen socket. */
  readonly destination: Destination;
  private socket: DatagramSocket | undefined;
  private local: string;
  private pending: Buffer[] = [];

  constructor(destination: Destination, bindHost: string, now: number) {
    const { host: clientHost, port: clientPort } = destination;
    this.destination = destination;
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
  attach(
    socket: DatagramSocket,
    bindHost: string,
    onMessage: (data: Buffer) => void,
  ): DatagramSocket | undefined {
    const old = this.socket;
    this.socket = socket;
    this.bindHost = bindHost;
    this.local = formatHostPort(socket.local.host, socket.local.port);
    socket.onMessage(onMessage);
    const pending = this.pending;
    this.pending = [];
    for (const data of pending) socket.send(data);
    return old;
  }

  /** Sends to the server; false if the session is closed or too much waits for its socket. */
  send(data: Buffer): boolean {
    if (this.closed) return false;
    if (this.socket !== undefined) return this.socket.send(data);
    if (this.pending.length >= pendingMax) return false;
    this.pending.push(data);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    void this.socket?.close();
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
