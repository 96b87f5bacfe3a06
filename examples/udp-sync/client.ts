import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { EventEmitter, once } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  decode,
  encode,
  isJsonValue,
  type JsonValue,
  MAX_STATE_BYTES,
  type State,
  type SyncMessage,
  stateBytes,
} from './protocol.js';

export interface SyncClientOptions {
  /** While the server lags behind, the current diff is sent this often (default 100 ms). */
  readonly resendIntervalMs?: number;
  /** When everything is acknowledged, an empty sync is sent this often to keep the session alive (default 250 ms). */
  readonly heartbeatIntervalMs?: number;
  /** With no reply for this long the client reports `down`; it keeps sending regardless (default 3 s). */
  readonly serverTimeoutMs?: number;
  /** Most deleted keys remembered while unacknowledged; beyond it the client falls back to full syncs (default 256). */
  readonly maxTombstones?: number;
}

export interface SyncClientStats {
  sent: number;
  acks: number;
  resets: number;
  malformed: number;
}

export interface SyncClientEvents {
  /** The server acknowledged a newer version. */
  ack: [seq: number];
  /** A reply arrived after none for serverTimeoutMs (or for the first time). */
  up: [];
  /** No reply for serverTimeoutMs. */
  down: [];
  /** The server lost the base of our diffs; the next sync carries the whole state. */
  reset: [];
  close: [];
}

/** A key's latest change: its value, or undefined for a deletion (a tombstone), and the version that made it. */
interface Entry {
  readonly value: JsonValue | undefined;
  readonly seq: number;
}

/**
 * The udp-sync client: keeps a state object, and keeps telling the server how it differs from the last
 * version the server acknowledged, until the server acknowledges the current one.
 */
export class SyncClient extends EventEmitter<SyncClientEvents> {
  /** 128 random bits: unguessable enough to name a session, not a secret (see README). */
  readonly session = randomBytes(16).toString('hex');
  readonly stats: SyncClientStats = { sent: 0, acks: 0, resets: 0, malformed: 0 };
  private readonly resendIntervalMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly serverTimeoutMs: number;
  private readonly maxTombstones: number;
  private readonly entries = new Map<string, Entry>();
  private version = 0;
  private acked = 0;
  /** An ack arrived since the session was (re)opened: until then even version 0 is not known to the server. */
  private confirmed = false;
  /** Acks below this are unusable: the tombstones a diff against them would need were dropped. */
  private floorSeq = 0;
  private packet = 0;
  private socket: Socket | undefined;
  private server: { address: string; port: number; family: 4 | 6 } | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private sendQueued = false;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private lastHeard = Number.NEGATIVE_INFINITY;
  private up = false;
  private closed = false;

  constructor(options: SyncClientOptions = {}) {
    super();
    this.resendIntervalMs = options.resendIntervalMs ?? 100;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 250;
    this.serverTimeoutMs = options.serverTimeoutMs ?? 3000;
    this.maxTombstones = options.maxTombstones ?? 256;
  }

  /**
   * Starts syncing with the server at host:port. Resolves once the socket is bound, not when the server
   * answers: UDP has no handshake. Use whenSynced() to wait for the server.
   */
  async connect(options: { host: string; port: number; localAddress?: string }): Promise<void> {
    if (this.server !== undefined || this.closed)
      throw new Error('udp-sync client: connect() once per client');
    const { address, family } = await lookup(options.host);
    this.server = { address, port: options.port, family: family === 6 ? 6 : 4 };
    await this.bind(options.localAddress);
    this.ticker = setInterval(() => this.tick(), this.resendIntervalMs);
    this.sendNow(); // opens the session
  }

  /** Sets one key; returns the new version. Throws RangeError, changing nothing, if the state would outgrow a datagram. */
  set(key: string, value: JsonValue): number {
    return this.change([[key, value]]);
  }

  /** Sets several keys as one version. */
  update(partial: Readonly<Record<string, JsonValue>>): number {
    return this.change(Object.entries(partial));
  }

  delete(key: string): number {
    return this.change([[key, undefined]]);
  }

  /** A copy of the current local state. */
  get state(): State {
    return structuredClone(liveState(this.entries));
  }

  /** The current local version (0 before the first change). */
  get seq(): number {
    return this.version;
  }

  /** The newest version the server acknowledged holding. */
  get ackedSeq(): number {
    return this.acked;
  }

  /** True while the server is known to hold the current version. */
  get synced(): boolean {
    return this.confirmed && this.acked === this.version;
  }

  /** True while replies arrive (none missing for serverTimeoutMs). */
  get connected(): boolean {
    return this.up;
  }

  /** Resolves when the server acknowledges the current version; rejects after timeoutMs or on close. */
  whenSynced(timeoutMs = 10_000): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        this.off('ack', onAck);
        this.off('close', onClose);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAck = (): void => {
        if (this.synced) done();
      };
      const onClose = (): void => done(new Error('udp-sync client: closed before synced'));
      const timer = setTimeout(
        () =>
          done(
            new Error(
              `udp-sync client: not synced within ${timeoutMs} ms (seq ${this.version}, acknowledged ${this.acked})`,
            ),
          ),
        timeoutMs,
      );
      this.on('ack', onAck);
      this.on('close', onClose);
    });
  }

  /**
   * Moves to a new local socket (a new port, and localAddress if given) — what a phone does when it
   * switches networks. The session continues: the server follows the new source address.
   */
  async rebind(localAddress?: string): Promise<void> {
    if (this.server === undefined || this.closed) throw new Error('udp-sync client: not connected');
    const old = this.socket;
    await this.bind(localAddress);
    old?.close();
    this.sendNow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    const socket = this.socket;
    this.socket = undefined;
    this.emit('close');
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private change(changes: readonly (readonly [string, JsonValue | undefined])[]): number {
    if (this.closed) throw new Error('udp-sync client: closed');
    const next = new Map(this.entries);
    const seq = this.version + 1;
    for (const [key, value] of changes) {
      if (typeof key !== 'string') throw new TypeError('udp-sync client: keys are strings');
      if (value !== undefined && !isJsonValue(value)) {
        throw new TypeError(`udp-sync client: the value of ${JSON.stringify(key)} is not plain JSON`);
      }
      // A copy, so the caller mutating its object later cannot change our state behind our back.
      next.set(key, { value: value === undefined ? undefined : structuredClone(value), seq });
    }
    const bytes = stateBytes(liveState(next));
    if (bytes > MAX_STATE_BYTES) {
      throw new RangeError(
        `udp-sync client: the state would be ${bytes} bytes; at most ${MAX_STATE_BYTES} fit a datagram`,
      );
    }
    this.version = seq;
    this.entries.clear();
    for (const [key, entry] of next) this.entries.set(key, entry);
    this.compactTombstones();
    this.queueSend();
    return seq;
  }

  /**
   * Tombstones are kept until acknowledged, since a diff must say which keys went away. If too many pile
   * up (a long partition full of deletes), drop them and resync from empty: acknowledging less is
   * always safe, and a diff from 0 needs no tombstones.
   */
  private compactTombstones(): void {
    let tombstones = 0;
    for (const entry of this.entries.values()) if (entry.value === undefined) tombstones++;
    if (tombstones <= this.maxTombstones) return;
    for (const [key, entry] of this.entries) if (entry.value === undefined) this.entries.delete(key);
    this.acked = 0;
    this.floorSeq = this.version;
  }

  /** The datagram that brings the server from the acknowledged version to ours: the diff, or the whole state if smaller. */
  private message(): SyncMessage {
    const full: SyncMessage = {
      type: 'sync',
      session: this.session,
      packet: this.packet,
      seq: this.version,
      baseSeq: 0,
      set: liveState(this.entries),
      del: [],
    };
    if (this.acked === 0) return full;
    const set: State = {};
    const del: string[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.seq <= this.acked) continue;
      if (entry.value === undefined) del.push(key);
      else define(set, key, entry.value);
    }
    const diff: SyncMessage = { ...full, baseSeq: this.acked, set, del };
    return JSON.stringify(diff).length < JSON.stringify(full).length ? diff : full;
  }

  private tick(): void {
    const now = performance.now();
    if (this.up && now - this.lastHeard > this.serverTimeoutMs) {
      this.up = false;
      this.emit('down');
    }
    // Resend while unacknowledged; otherwise a heartbeat. Every datagram carries the whole truth
    // relative to the acked version, so "resend" never means "retransmit that one lost packet".
    // Half a tick of slack: interval timers drift, and a heartbeat a little early beats one a tick late.
    const heartbeatDue = now - this.lastSentAt >= this.heartbeatIntervalMs - this.resendIntervalMs / 2;
    if (!this.synced || heartbeatDue) this.sendNow();
  }

  /** Several changes in one tick of the event loop go out as one datagram. */
  private queueSend(): void {
    if (this.sendQueued) return;
    this.sendQueued = true;
    queueMicrotask(() => {
      this.sendQueued = false;
      this.sendNow();
    });
  }

  private sendNow(): void {
    const { socket, server } = this;
    if (socket === undefined || server === undefined || this.closed) return;
    this.packet++;
    this.stats.sent++;
    this.lastSentAt = performance.now();
    // Send errors are ignored: the next tick sends again.
    socket.send(encode(this.message()), server.port, server.address, () => {});
  }

  private receive(bytes: Buffer, from: RemoteInfo): void {
    const server = this.server;
    if (server === undefined || from.address !== server.address || from.port !== server.port) return;
    const decoded = decode(bytes);
    if (!decoded.ok || decoded.message.type === 'sync' || decoded.message.session !== this.session) {
      this.stats.malformed++;
      return;
    }
    this.lastHeard = performance.now();
    if (!this.up) {
      this.up = true;
      this.emit('up');
    }
    const message = decoded.message;
    if (message.type === 'reset') {
      this.stats.resets++;
      this.acked = 0;
      this.confirmed = false;
      this.emit('reset');
      this.queueSend();
      return;
    }
    // Acks arrive late, twice or out of order: only a newer one counts (the first counts even for
    // version 0), and never one for a version we could not diff against.
    if (message.seq > this.version || message.seq < this.floorSeq) return;
    if (this.confirmed && message.seq <= this.acked) return;
    this.confirmed = true;
    this.stats.acks++;
    this.acked = message.seq;
    for (const [key, entry] of this.entries) {
      if (entry.value === undefined && entry.seq <= this.acked) this.entries.delete(key);
    }
    this.emit('ack', message.seq);
  }

  private async bind(localAddress?: string): Promise<void> {
    const server = this.server as { family: 4 | 6 };
    const socket = createSocket(server.family === 6 ? 'udp6' : 'udp4');
    socket.on('message', (bytes, from) => {
      if (socket === this.socket) this.receive(bytes, from);
    });
    socket.on('error', () => {}); // transient (ICMP unreachable during an outage); we keep sending
    socket.bind(0, localAddress);
    await once(socket, 'listening');
    this.socket = socket;
  }
}

function liveState(entries: ReadonlyMap<string, Entry>): State {
  const state: State = {};
  for (const [key, entry] of entries) {
    if (entry.value !== undefined) define(state, key, entry.value);
  }
  return state;
}

/** defineProperty, not assignment: a key named "__proto__" must stay a plain key. */
function define(state: State, key: string, value: JsonValue): void {
  Object.defineProperty(state, key, { value, enumerable: true, writable: true, configurable: true });
}
