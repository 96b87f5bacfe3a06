import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  type AckMessage,
  decode,
  encode,
  type JsonValue,
  MAX_STATE_BYTES,
  type ResetMessage,
  type State,
  type SyncMessage,
  stateBytes,
} from './protocol.js';

export interface SyncServerOptions {
  /** A session that sends nothing for this long is forgotten (default 30 s). */
  readonly sessionTimeoutMs?: number;
  /** Most sessions held at once; syncs that would open one more are dropped (default 1024). */
  readonly maxSessions?: number;
}

/** A copy of one session as the server holds it. */
export interface SessionInfo {
  readonly id: string;
  /** Where replies go: the source of the newest datagram (highest packet number) seen. */
  readonly address: string;
  readonly port: number;
  /** The client version the state equals. */
  readonly appliedSeq: number;
  readonly state: State;
  /** performance.now() times, ms. */
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly packets: number;
  readonly roams: number;
}

/** One diff taking effect: the server's state went from the client's version `baseSeq`… to `seq`. */
export interface ApplyEvent {
  readonly session: string;
  readonly seq: number;
  readonly baseSeq: number;
  readonly set: State;
  readonly del: readonly string[];
  /** The session's state after the diff. */
  readonly state: State;
}

export interface RoamEvent {
  readonly session: string;
  readonly from: string;
  readonly to: string;
}

export interface ServerStats {
  received: number;
  malformed: number;
  applied: number;
  /** seq equal to the applied one: a heartbeat, a duplicate, or a resend whose ack was lost. */
  current: number;
  /** seq below the applied one: a reordered or late duplicate, superseded. */
  stale: number;
  resets: number;
  refused: number;
  acks: number;
}

export interface SyncServerEvents {
  session: [SessionInfo];
  apply: [ApplyEvent];
  roam: [RoamEvent];
  expire: [SessionInfo];
}

interface Session {
  readonly id: string;
  address: string;
  port: number;
  appliedSeq: number;
  state: Map<string, JsonValue>;
  readonly createdAt: number;
  lastSeenAt: number;
  highestPacket: number;
  packets: number;
  roams: number;
}

/**
 * The udp-sync server: holds one state per client session and acknowledges the version it holds.
 * A session is named by the id in each datagram, so a client whose address changes keeps its session.
 */
export class SyncServer extends EventEmitter<SyncServerEvents> {
  readonly stats: ServerStats = {
    received: 0,
    malformed: 0,
    applied: 0,
    current: 0,
    stale: 0,
    resets: 0,
    refused: 0,
    acks: 0,
  };
  private readonly sessionTimeoutMs: number;
  private readonly maxSessions: number;
  private readonly table = new Map<string, Session>();
  private socket: Socket | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: SyncServerOptions = {}) {
    super();
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.maxSessions = options.maxSessions ?? 1024;
  }

  /** Binds the UDP socket; port 0 picks a free one. */
  async start(options: { host?: string; port?: number } = {}): Promise<{ address: string; port: number }> {
    if (this.socket !== undefined) throw new Error('udp-sync server: already started');
    const host = options.host ?? '127.0.0.1';
    const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    socket.on('message', (bytes, from) => this.receive(bytes, from));
    // UDP errors (e.g. ICMP unreachable for a client that left) are transient; the protocol retries.
    socket.on('error', () => {});
    socket.bind(options.port ?? 0, host);
    await once(socket, 'listening');
    this.socket = socket;
    const sweepMs = Math.max(10, Math.min(1000, this.sessionTimeoutMs / 4));
    this.sweeper = setInterval(() => this.expire(), sweepMs);
    return this.address();
  }

  address(): { address: string; port: number } {
    if (this.socket === undefined) throw new Error('udp-sync server: not started');
    const { address, port } = this.socket.address();
    return { address, port };
  }

  get port(): number {
    return this.address().port;
  }

  sessions(): SessionInfo[] {
    return [...this.table.values()].map(info);
  }

  session(id: string): SessionInfo | undefined {
    const session = this.table.get(id);
    return session === undefined ? undefined : info(session);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const socket = this.socket;
    this.socket = undefined;
    this.table.clear();
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private receive(bytes: Buffer, from: RemoteInfo): void {
    this.stats.received++;
    const decoded = decode(bytes);
    if (!decoded.ok || decoded.message.type !== 'sync') {
      this.stats.malformed++;
      return;
    }
    const message = decoded.message;
    const session = this.table.get(message.session) ?? this.open(message, from);
    if (session === undefined) return;
    session.lastSeenAt = performance.now();
    session.packets++;
    this.follow(session, message.packet, from);

    if (message.seq === session.appliedSeq) {
      this.stats.current++; // a heartbeat, a duplicate, or a resend whose ack was lost: ack again
    } else if (message.seq < session.appliedSeq) {
      this.stats.stale++; // superseded by a version already applied: ack the newer one
    } else if (message.baseSeq > session.appliedSeq) {
      this.reset(session.id, session.address, session.port);
      return;
    } else if (!this.apply(session, message)) {
      return;
    }
    this.send({ type: 'ack', session: session.id, seq: session.appliedSeq }, session.address, session.port);
  }

  /** A new session, or undefined (after asking for the whole state) when this sync cannot open one. */
  private open(message: SyncMessage, from: RemoteInfo): Session | undefined {
    // Only a diff from empty can open a session: any other base is a state this server never held
    // (it expired the session, or restarted), so ask for the whole state.
    if (message.baseSeq !== 0) {
      this.reset(message.session, from.address, from.port);
      return undefined;
    }
    if (this.table.size >= this.maxSessions) {
      this.stats.refused++;
      return undefined;
    }
    const now = performance.now();
    const session: Session = {
      id: message.session,
      address: from.address,
      port: from.port,
      appliedSeq: 0,
      state: new Map(),
      createdAt: now,
      lastSeenAt: now,
      highestPacket: message.packet,
      packets: 0,
      roams: 0,
    };
    this.table.set(session.id, session);
    this.emit('session', info(session));
    return session;
  }

  /**
   * Roaming: replies go to the source of the newest datagram. Comparing packet numbers, not arrival
   * order, keeps a late datagram from the old address from pulling the session back.
   */
  private follow(session: Session, packet: number, from: RemoteInfo): void {
    if (packet < session.highestPacket) return;
    session.highestPacket = packet;
    if (from.address === session.address && from.port === session.port) return;
    const before = `${session.address}:${session.port}`;
    session.address = from.address;
    session.port = from.port;
    session.roams++;
    this.emit('roam', { session: session.id, from: before, to: `${from.address}:${from.port}` });
  }

  /**
   * Applies a diff whose seq is newer than the held version and whose base the server holds. The server
   * holds the client's version appliedSeq, and the diff lists every key changed after baseSeq ≤
   * appliedSeq, so the result is exactly the client's version seq — however many versions between
   * were lost. Base 0 means "from empty": the diff is the whole state, so it replaces ours.
   */
  private apply(session: Session, message: SyncMessage): boolean {
    const next = message.baseSeq === 0 ? new Map<string, JsonValue>() : new Map(session.state);
    for (const [key, value] of Object.entries(message.set)) next.set(key, value);
    for (const key of message.del) next.delete(key);
    const state = toState(next);
    if (stateBytes(state) > MAX_STATE_BYTES) {
      this.stats.refused++; // no honest client sends this: its own state would not fit either
      return false;
    }
    session.state = next;
    session.appliedSeq = message.seq;
    this.stats.applied++;
    this.emit('apply', {
      session: session.id,
      seq: message.seq,
      baseSeq: message.baseSeq,
      set: message.set,
      del: message.del,
      state: structuredClone(state),
    });
    return true;
  }

  private reset(session: string, address: string, port: number): void {
    this.stats.resets++;
    this.send({ type: 'reset', session }, address, port);
  }

  private send(message: AckMessage | ResetMessage, address: string, port: number): void {
    if (message.type === 'ack') this.stats.acks++;
    // Errors are ignored: the client resends until acknowledged, so a lost reply is only a delay.
    this.socket?.send(encode(message), port, address, () => {});
  }

  private expire(): void {
    const now = performance.now();
    for (const session of this.table.values()) {
      if (now - session.lastSeenAt <= this.sessionTimeoutMs) continue;
      this.table.delete(session.id);
      this.emit('expire', info(session));
    }
  }
}

/** A plain object from a map; Object.fromEntries defines own properties, so a key like "__proto__" is safe. */
function toState(map: ReadonlyMap<string, JsonValue>): State {
  return Object.fromEntries(map);
}

function info(session: Session): SessionInfo {
  return {
    id: session.id,
    address: session.address,
    port: session.port,
    appliedSeq: session.appliedSeq,
    state: structuredClone(toState(session.state)),
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    packets: session.packets,
    roams: session.roams,
  };
}
