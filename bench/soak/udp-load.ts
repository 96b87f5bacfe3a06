/**
 * The UDP clients of the soak, run in the benchmark process: up to `concurrency` clients at once, each
 * on a fresh socket (a fresh port, so a new session in the proxy), sending a few dozen datagrams paced
 * a few ms apart, waiting until replies stop, then closing — and a new client takes its place. The
 * proxy's idle sessions expire behind them. Counts every datagram sent and every reply received.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { Random } from '../../src/core/random.js';
import { literalLookup } from '../../src/proxy/udp/dgram-socket.js';

export interface UdpLoadOptions {
  readonly port: number;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly random: Random;
  readonly sources: readonly string[];
  /** A client closes once no reply came for this long after its last datagram. */
  readonly quietMs: number;
}

export interface UdpLoadFigures {
  clients: number;
  /**
   * Distinct client addresses (address:port) among them. The OS may hand a closed client's port to a new
   * one; within the session's idle time that client continues the old session instead of opening one.
   */
  endpoints: number;
  sent: number;
  received: number;
  bytesSent: number;
  bytesReceived: number;
  /** Replies whose bytes differ from every datagram the client sent (upstream/downstream corrupt). */
  changed: number;
}

const maxDatagrams = 40;
const maxPayloadBytes = 1200;
const headerBytes = 8;
/** The longest a client waits for its replies, whatever happens. */
const maxWaitMs = 5000;

export class UdpLoad {
  readonly figures: UdpLoadFigures = {
    clients: 0,
    endpoints: 0,
    sent: 0,
    received: 0,
    bytesSent: 0,
    bytesReceived: 0,
    changed: 0,
  };
  private readonly sockets = new Set<Socket>();
  private readonly endpoints = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private started = 0;
  private stopping = false;
  private endAt = 0;
  private done: (() => void) | undefined;

  constructor(private readonly options: UdpLoadOptions) {}

  get open(): number {
    return this.inFlight;
  }

  run(): Promise<void> {
    this.endAt = performance.now() + this.options.durationMs;
    return new Promise((resolve) => {
      this.done = resolve;
      if (this.options.concurrency === 0) return resolve();
      for (let i = 0; i < this.options.concurrency; i++) this.launch();
    });
  }

  stop(): void {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.close();
    this.sockets.clear();
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private launch(): void {
    const { random, sources, port, quietMs } = this.options;
    const id = this.started++;
    const count = 1 + random.int(maxDatagrams);
    const gapMs = 2 + random.int(18);
    this.inFlight++;
    const socket = createSocket({ type: 'udp4', recvBufferSize: 256 * 1024, lookup: literalLookup });
    this.sockets.add(socket);
    const sentDigests = new Set<string>();
    let sent = 0;
    /** This client's replies: it waits for its own to stop, whatever the other clients get. */
    let received = 0;
    let lastActivity = performance.now();
    const startedAt = lastActivity;
    socket.on('error', () => {}); // ICMP errors for a datagram in flight: the counts tell
    socket.on('message', (data) => {
      lastActivity = performance.now();
      received++;
      this.figures.received++;
      this.figures.bytesReceived += data.length;
      if (!sentDigests.has(data.toString('latin1'))) this.figures.changed++;
    });
    const finish = (): void => {
      this.sockets.delete(socket);
      socket.close();
      this.figures.clients++;
      this.inFlight--;
      if (!this.stopping && performance.now() < this.endAt) this.launch();
      else if (this.inFlight === 0) this.done?.();
    };
    const waitQuiet = (): void => {
      if (this.stopping) return;
      const now = performance.now();
      if (now - lastActivity < quietMs && now - startedAt <= maxWaitMs) {
        this.later(quietMs - (now - lastActivity) + 1, waitQuiet);
        return;
      }
      // Timers run before the loop polls sockets: let it read what already arrived before closing.
      const seen = received;
      setImmediate(() =>
        setImmediate(() => {
          if (this.stopping) return;
          if (received !== seen && now - startedAt <= maxWaitMs) this.later(quietMs, waitQuiet);
          else finish();
        }),
      );
    };
    const sendOne = (): void => {
      if (this.stopping) return;
      const data = Buffer.alloc(headerBytes + random.int(maxPayloadBytes - headerBytes + 1));
      data.writeUInt32BE(id, 0);
      data.writeUInt32BE(sent, 4);
      for (let i = headerBytes; i < data.length; i++) data[i] = (i * 31 + id) & 0xff;
      sentDigests.add(data.toString('latin1'));
      socket.send(data, port, '127.0.0.1');
      sent++;
      lastActivity = performance.now();
      this.figures.sent++;
      this.figures.bytesSent += data.length;
      if (sent < count) this.later(gapMs, sendOne);
      else this.later(quietMs, waitQuiet);
    };
    socket.bind(0, sources[id % sources.length] as string, () => {
      const { address, port: clientPort } = socket.address();
      this.endpoints.add(`${address}:${clientPort}`);
      this.figures.endpoints = this.endpoints.size;
      sendOne();
    });
  }
}
