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

/**
 * Told what became of datagrams a session held while its socket was being opened: `sent` went out,
 * `dropped` did not — because the socket could not be opened (`failed`), or the session closed first.
 */
export type SettlePending = (sent: number, dropped: number, failed: boolean) => void;

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
  /** Closed because its upstream socket could not be opened (see `fail`). */
  failed = false;
  /** Where replies to this client go, prepared once on the listen socket. */
  readonly destination: Destination;
  private socket: DatagramSocket | undefined;
  private local: string;
  private pending: Buffer[] = [];

  constructor(
    destination: Destination,
    bindHost: string,
    now: number,
    private readonly settle: SettlePending,
  ) {
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

  /**
   * Starts using `socket` (bound and connected), sends what waited for it (and settles it); returns the
   * old socket.
   */
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
    if (pending.length > 0) {
      this.pending = [];
      let sent = 0;
      for (const data of pending) if (socket.send(data)) sent++;
      this.settle(sent, pending.length - sent, false);
    }
    return old;
  }

  /**
   * Sends to the server: true if it went out, false if the session is closed or too much waits for its
   * socket, `'pending'` if it waits for the socket being opened (settled later, see `SettlePending`),
   * `'no-session'` if the session failed: its socket could not be opened.
   */
  send(data: Buffer): boolean | 'pending' | 'no-session' {
    if (this.closed) return this.failed ? 'no-session' : false;
    if (this.socket !== undefined) return this.socket.send(data);
    if (this.pending.length >= pendingMax) return false;
    this.pending.push(data);
    return 'pending';
  }

  /** Closes the session and its socket; what waited for a socket is dropped. */
  close(): void {
    this.end(false);
  }

  /**
   * Closes a session whose socket could not be opened; what waited for it is dropped for that reason, and
   * so is what reaches `send` later (datagrams an impairment held meanwhile).
   */
  fail(): void {
    if (this.closed) return;
    this.failed = true;
    this.end(true);
  }

  private end(failed: boolean): void {
    if (this.closed) return;
    this.closed = true;
    const waiting = this.pending.length;
    this.pending = [];
    if (waiting > 0) this.settle(0, waiting, failed);
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
