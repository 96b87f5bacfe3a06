import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { invalid, requireNumber, requireObject, requireOneOf, requireString } from '../../core/assert.js';
import { conflict } from '../../core/claims.js';
import { type Clock, realClock, type TimerHandle } from '../../core/clock.js';
import { codes } from '../../core/codes.js';
import { FaultlineError, messageOf } from '../../core/errors.js';
import type { FaultContext, Injection } from '../../core/fault.js';
import { announce } from '../../core/fault-registry.js';
import { Ledger } from '../../core/ledger.js';
import { Random } from '../../core/random.js';
import { formatHostPort, type HostPort, parseHostPort } from '../address.js';
import type { DatagramSocket, Endpoint, UdpIo } from './datagram-socket.js';
import { applyImpairment, directionsOf, impairmentKind } from './impairment-faults.js';
import { type UdpImpairments, udpProxies, validateImpairments } from './impairments.js';
import { DirectionPipeline, type UdpCounters } from './pipeline.js';
import { UdpSession, type UdpSessionInfo } from './session.js';
import { chooseIo, openSocket } from './socket-io.js';

export type { UdpIo } from './datagram-socket.js';
export type { UdpImpairments, UdpLoss } from './impairments.js';
export { validateImpairments } from './impairments.js';
export type { UdpCounters } from './pipeline.js';
export type { UdpSessionInfo } from './session.js';

/** `upstream` is client → server, `downstream` server → client. */
export type UdpDirection = 'upstream' | 'downstream';

/** What happened to sessions: each new client's attempt to open an upstream socket is `opened` or `failed`. */
export interface UdpSessionCounters {
  /**
   * Sessions whose upstream socket was opened — or that `roam()` gave a socket before their first open
   * finished, whatever that open did.
   */
  opened: number;
  /**
   * Sessions whose upstream socket could not be opened (out of descriptors — EMFILE, ENFILE — or any
   * other bind error). Their datagrams are dropped and counted in upstream `sessionDropped`; the
   * session is not kept, so the client's next datagram tries again. See `lastSessionError`.
   */
  failed: number;
  /** Sessions closed after `sessionIdleMs` without a datagram. */
  expired: number;
  /** Sessions closed to make room for a new client at `maxSessions`. */
  evicted: number;
}

/** What `counters()` gives: per direction, and for sessions. */
export interface UdpProxyCounters {
  upstream: UdpCounters;
  downstream: UdpCounters;
  sessions: UdpSessionCounters;
}

/** Why the last session that could not be opened failed. */
export interface UdpSessionError {
  /** The client's `host:port`. */
  client: string;
  /** The system error code (EMFILE, ENFILE, EADDRNOTAVAIL, …), else the FL_ERR_ code. */
  code: string;
  message: string;
  /** Clock time (`Clock.now()`) of the failure. */
  atMs: number;
}

export interface UdpProxyOptions {
  name: string;
  /** `host:port` to receive client datagrams on; port 0 picks a free port. */
  listen: string;
  /** `host:port` of the server. */
  upstream: string;
  /** Seed of the impairments' draws; default `FAULTLINE_SEED`, else a fresh one. */
  seed?: number;
  /** Stream to fork the impairments' draws from, instead of `seed`. */
  random?: Random;
  clock?: Clock;
  /** A session with no datagram either way for this long is closed. Default 60 s. */
  sessionIdleMs?: number;
  /** At most this many sessions; a new client beyond it evicts the least recently active. Default 10,000. */
  maxSessions?: number;
  /**
   * How datagrams are read and written: `batch` (many per system call, Linux, needs the native addon
   * that `npm install` builds), `dgram` (node:dgram) or `auto` (batch when available). Default: the
   * FAULTLINE_UDP_IO environment variable, else `auto`.
   */
  io?: UdpIo;
}

const directions: readonly UdpDirection[] = ['upstream', 'downstream'];
const defaultSessionIdleMs = 60_000;
const defaultMaxSessions = 10_000;
/** Socket buffers asked of the kernel (it caps them at net.core.rmem_max / wmem_max). */
const socketBufferBytes = 4 * 1024 * 1024;
/** Receive buffer of each session socket: replies in a burst wait here, not in the kernel's bin. */
const sessionBufferBytes = 1024 * 1024;
/** Recency order is refreshed at most this often per session, so the hot path rarely touches the map. */
const reorderEveryMs = 1000;

/** 127/8 and ::1: an upstream there is reached from a loopback socket, anything else from the wildcard. */
function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1';
}

async function resolve(address: HostPort): Promise<Endpoint> {
  const host = isIP(address.host) === 0 ? (await lookup(address.host)).address : address.host;
  return { host, port: address.port, type: isIP(host) === 6 ? 'udp6' : 'udp4' };
}

/**
 * A UDP proxy from `listen` to `upstream` with impairments per direction (see docs/udp.md). Each client
 * address gets a session with its own upstream-facing socket, so the server tells clients apart and
 * replies reach the right one; `roam` moves that socket to make the client's address change mid-session.
 */
export class UdpProxy {
  readonly name: string;
  /** The seed its draws come from: replaying with it replays them. */
  readonly seed: number;
  readonly clock: Clock;
  readonly sessionIdleMs: number;
  readonly maxSessions: number;
  /** The I/O in use (see `UdpProxyOptions.io`). */
  readonly io: 'batch' | 'dgram';
  private listenAddress: HostPort;
  private readonly upstreamAddress: HostPort;
  private readonly upstreamText: string;
  private upstreamEndpoint: Endpoint | undefined;
  private socket: DatagramSocket | undefined;
  private readonly sessionMap = new Map<string, UdpSession>();
  private readonly pipelines: Record<UdpDirection, DirectionPipeline<UdpSession>>;
  private sweepTimer: TimerHandle | undefined;
  private readonly roamers = new Set<{ stop(): void }>();
  private lastSession: UdpSession | undefined;
  private readonly sessionCounters: UdpSessionCounters = { opened: 0, failed: 0, expired: 0, evicted: 0 };
  private lastFailure: UdpSessionError | undefined;
  /** What `impair` set, per direction: faults in the proxy's own ledger. */
  private readonly ownImpairments: Record<UdpDirection, Map<keyof UdpImpairments, Injection>> = {
    upstream: new Map(),
    downstream: new Map(),
  };
  private readonly faultContext: FaultContext;

  constructor(options: UdpProxyOptions) {
    requireObject(options, 'options');
    udpProxies.add(this);
    this.name = requireString(options.name, 'name', { nonEmpty: true });
    this.listenAddress = parseHostPort(options.listen, 'listen');
    this.upstreamText = requireString(options.upstream, 'upstream', { nonEmpty: true });
    this.upstreamAddress = parseHostPort(options.upstream, 'upstream');
    this.clock = options.clock ?? realClock;
    this.sessionIdleMs =
      options.sessionIdleMs === undefined
        ? defaultSessionIdleMs
        : requireNumber(options.sessionIdleMs, 'sessionIdleMs', { min: 1 });
    this.maxSessions =
      options.maxSessions === undefined
        ? defaultMaxSessions
        : requireNumber(options.maxSessions, 'maxSessions', { min: 1, integer: true });
    this.io = chooseIo(options.io);
    const random = Random.from(options, `udp/${this.name}`);
    this.seed = random.seed;
    const ledger = new Ledger({ clock: this.clock });
    this.faultContext = { ledger, clock: this.clock, random };
    this.pipelines = {
      upstream: new DirectionPipeline(random.fork('upstream'), this.clock, (data, session) =>
        session.send(data),
      ),
      downstream: new DirectionPipeline(random.fork('downstream'), this.clock, (data, session) => {
        if (session.closed || this.socket === undefined) return false;
        return this.socket.sendTo(data, session.destination);
      }),
    };
  }

  /** The address it listens on, with the real port once started. */
  get listen(): string {
    return formatHostPort(this.listenAddress.host, this.listenAddress.port);
  }

  get port(): number {
    return this.listenAddress.port;
  }

  get upstream(): string {
    return this.upstreamText;
  }

  /** Binds the listen address. Rejects with FL_ERR_ADDRESS_IN_USE when the port is taken. */
  async start(): Promise<void> {
    if (this.socket !== undefined) return;
    const listen = await resolve(this.listenAddress);
    const upstream = await resolve(this.upstreamAddress);
    const socket = await openSocket(this.io, {
      type: listen.type,
      host: listen.host,
      port: listen.port,
      field: 'listen',
      recvBufferSize: socketBufferBytes,
      sendBufferSize: socketBufferBytes,
    });
    socket.onMessage((data, host, port) => this.fromClient(data, host, port));
    this.upstreamEndpoint = upstream;
    this.socket = socket;
    this.listenAddress = { host: socket.local.host, port: socket.local.port };
  }

  /** `stop()`, for `await using` and `useFaultline(t).own()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Closes every socket and timer; held datagrams are dropped. Counters and impairments stay. */
  async stop(): Promise<void> {
    for (const roamer of [...this.roamers]) roamer.stop();
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const direction of directions) this.pipelines[direction].reset();
    for (const session of this.sessionMap.values()) session.close();
    this.sessionMap.clear();
    this.lastSession = undefined;
    const socket = this.socket;
    this.socket = undefined;
    await socket?.close();
  }

  /**
   * Replaces the impairments this method set on a direction (or both): each becomes a fault (`udp.loss`,
   * `udp.delay` …) in the proxy's own Ledger. Validated first, and checked against impairments that
   * faults from other ledgers hold (FL_ERR_CONFLICT): on error nothing changes. Acts at once, on live
   * sessions too; a removed stage releases what it holds.
   */
  impair(direction: UdpDirection | 'both', impairments: UdpImpairments): void {
    const which = requireOneOf(direction, 'direction', ['upstream', 'downstream', 'both'] as const);
    const valid = validateImpairments(impairments, which);
    const names = (Object.keys(valid) as (keyof UdpImpairments)[]).filter((name) => valid[name] !== false);
    for (const d of directionsOf(which)) {
      const own = this.ownImpairments[d];
      for (const name of names) {
        if (this.pipelines[d].impairments[name] !== undefined && !own.has(name)) {
          throw conflict(
            `${d}.${name}`,
            `a fault from another ledger holds ${name} on ${d} of proxy "${this.name}"; heal it first`,
          );
        }
      }
    }
    for (const d of directionsOf(which)) {
      const own = this.ownImpairments[d];
      for (const [name, entry] of own) {
        if (names.includes(name)) continue;
        void entry.heal(); // its undo runs now, before the first await
        own.delete(name);
      }
      for (const name of names) {
        const value = valid[name] as NonNullable<UdpImpairments[typeof name]>;
        // One this method set already changes in place, so its stage keeps what it holds (a reorder gap).
        if (own.has(name)) {
          this.setImpairment(d, name, structuredClone(value));
          continue;
        }
        const kind = impairmentKind(name, value);
        const entry = applyImpairment(this.faultContext, kind, this, d, name, value);
        announce(kind, entry, { direction: d, [name]: value }, this.clock);
        own.set(name, entry);
      }
    }
  }

  /** Heals what `impair` set on a direction (default both); faults from other ledgers stay. */
  heal(direction: UdpDirection | 'both' = 'both'): void {
    this.healOwn(requireOneOf(direction, 'direction', ['upstream', 'downstream', 'both'] as const));
  }

  /** Each heal's undo runs before its first await, so the impairments are gone when this returns. */
  private healOwn(which: UdpDirection | 'both'): void {
    for (const d of directionsOf(which)) {
      for (const entry of this.ownImpairments[d].values()) void entry.heal();
      this.ownImpairments[d].clear();
    }
  }

  /**
   * Sets one impairment of a direction, or removes it when `value` is undefined. The impairment faults
   * call this; everything else applies impairments through them.
   * @internal
   */
  setImpairment<K extends keyof UdpImpairments>(
    direction: UdpDirection,
    name: K,
    value: UdpImpairments[K] | undefined,
  ): void {
    const next: UdpImpairments = { ...this.pipelines[direction].impairments };
    if (value === undefined) delete next[name];
    else next[name] = value;
    this.pipelines[direction].configure(next);
  }

  impairments(): Record<UdpDirection, UdpImpairments> {
    return {
      upstream: structuredClone(this.pipelines.upstream.impairments),
      downstream: structuredClone(this.pipelines.downstream.impairments),
    };
  }

  counters(): UdpProxyCounters {
    return {
      upstream: { ...this.pipelines.upstream.counters },
      downstream: { ...this.pipelines.downstream.counters },
      sessions: { ...this.sessionCounters },
    };
  }

  /** Why the last session that could not be opened failed (undefined while none has). */
  get lastSessionError(): UdpSessionError | undefined {
    return this.lastFailure === undefined ? undefined : { ...this.lastFailure };
  }

  /**
   * Datagrams held inside the impairments now, per direction, with those waiting for a new session's
   * socket.
   */
  queued(): Record<UdpDirection, number> {
    return { upstream: this.pipelines.upstream.queued, downstream: this.pipelines.downstream.queued };
  }

  sessions(): UdpSessionInfo[] {
    return [...this.sessionMap.values()].map((session) => session.info());
  }

  /**
   * Moves the upstream-facing socket of one session (`client`, its `host:port`) or of all: to `port`
   * (default a fresh ephemeral one) on `address` (default where it is now). Every new socket is bound
   * before any old one is let go, so a failure (a taken port) changes nothing. Datagrams the server
   * sends to the old address afterwards are lost, as they would be for a client that really moved.
   */
  async roam(options: { client?: string; address?: string; port?: number } = {}): Promise<UdpSessionInfo[]> {
    const input = requireObject(options, 'options');
    for (const key of Object.keys(input)) {
      if (!['client', 'address', 'port'].includes(key))
        throw invalid(key, 'unknown field; expected one of client, address, port', 'client, address or port');
    }
    const upstream = this.upstreamEndpoint;
    const address = options.address === undefined ? undefined : this.roamAddress(options.address, 'address');
    const port =
      options.port === undefined
        ? 0
        : requireNumber(options.port, 'port', { min: 0, max: 65535, integer: true });
    let targets: UdpSession[];
    if (options.client !== undefined) {
      const wanted = parseHostPort(options.client, 'client');
      const key = formatHostPort(wanted.host, wanted.port);
      const session = this.sessionMap.get(key);
      if (session === undefined) {
        throw new FaultlineError(codes.notFound, `udp session not found: "${key}" on proxy "${this.name}"`, {
          details: { field: 'client' },
        });
      }
      targets = [session];
    } else {
      targets = [...this.sessionMap.values()];
    }
    if (upstream === undefined || targets.length === 0) return [];
    const opened = await Promise.allSettled(
      targets.map((session) =>
        this.openUpstream(address ?? session.bindHost, port, upstream, port === 0 ? 'address' : 'port'),
      ),
    );
    const failure = opened.find((result) => result.status === 'rejected');
    if (failure !== undefined) {
      for (const result of opened) if (result.status === 'fulfilled') void result.value.close();
      throw failure.reason;
    }
    const moved: UdpSessionInfo[] = [];
    targets.forEach((session, i) => {
      const socket = (opened[i] as PromiseFulfilledResult<DatagramSocket>).value;
      if (session.closed || this.socket === undefined) {
        void socket.close(); // expired or stopped while the new socket was being bound
        return;
      }
      const old = session.attach(socket, address ?? session.bindHost, (data) =>
        this.fromUpstream(session, data),
      );
      void old?.close();
      moved.push(session.info());
    });
    return moved;
  }

  /**
   * Roams every session each `intervalMs`: through `addresses` in turn if given (e.g. 127.0.0.2 to
   * 127.0.0.5), else to a fresh port on the same address. A failed move is skipped; the next tick tries
   * again. `stop()` (or stopping the proxy) ends it.
   */
  roamEvery(intervalMs: number, options: { addresses?: string[] } = {}): { stop(): void } {
    requireNumber(intervalMs, 'intervalMs', { min: 1 });
    requireObject(options, 'options');
    let addresses: string[] = [];
    if (options.addresses !== undefined) {
      if (!Array.isArray(options.addresses) || options.addresses.length === 0)
        throw invalid('addresses', 'expected a non-empty array of IP addresses', 'an array of IP addresses');
      addresses = options.addresses.map((address, i) => this.roamAddress(address, `addresses[${i}]`));
    }
    let timer: TimerHandle | undefined;
    let stopped = false;
    let tick = 0;
    const roamer = {
      stop: (): void => {
        stopped = true;
        if (timer !== undefined) this.clock.clearTimeout(timer);
        timer = undefined;
        this.roamers.delete(roamer);
      },
    };
    const schedule = (): void => {
      timer = this.clock.setTimeout(() => {
        timer = undefined;
        const address = addresses.length === 0 ? undefined : addresses[tick++ % addresses.length];
        this.roam(address === undefined ? {} : { address })
          .catch(() => {}) // e.g. every port taken: this tick is skipped
          .finally(() => {
            if (!stopped) schedule();
          });
      }, intervalMs);
    };
    this.roamers.add(roamer);
    schedule();
    return roamer;
  }

  private roamAddress(value: unknown, field: string): string {
    const address = requireString(value, field, { nonEmpty: true });
    const family = isIP(address);
    const wanted = this.upstreamEndpoint?.type === 'udp6' ? 6 : isIP(this.upstreamAddress.host) === 6 ? 6 : 4;
    if (family !== wanted) {
      const expected = wanted === 4 ? 'an IPv4 address such as "127.0.0.2"' : 'an IPv6 address';
      throw invalid(field, `expected ${expected}, got ${JSON.stringify(address)}`, expected);
    }
    return address;
  }

  /**
   * A socket bound to host:port and connected to the server, so the kernel drops datagrams from others.
   * Protected only so a test can hold a session's first open back (test/proxy/udp/sessions-roam.test.ts).
   */
  protected openUpstream(
    host: string,
    port: number,
    upstream: Endpoint,
    field: string,
  ): Promise<DatagramSocket> {
    return openSocket(this.io, {
      type: upstream.type,
      host,
      port,
      field,
      recvBufferSize: sessionBufferBytes,
      connectTo: upstream,
    });
  }

  private fromClient(data: Buffer, host: string, port: number): void {
    const now = this.clock.now();
    // Most datagrams come from the same client as the one before: skip building its key then.
    let session = this.lastSession;
    if (
      session === undefined ||
      session.closed ||
      session.clientPort !== port ||
      session.clientHost !== host
    ) {
      const key = formatHostPort(host, port);
      session = this.sessionMap.get(key);
      if (session === undefined) session = this.openSession(key, host, port, now);
      this.lastSession = session;
    }
    this.touch(session.client, session, now);
    session.datagramsUp++;
    this.pipelines.upstream.push(data, session);
  }

  private fromUpstream(session: UdpSession, data: Buffer): void {
    if (session.closed) return;
    this.touch(session.client, session, this.clock.now());
    session.datagramsDown++;
    this.pipelines.downstream.push(data, session);
  }

  private touch(key: string, session: UdpSession, now: number): void {
    session.lastSeenMs = now;
    if (now - session.orderedAtMs >= reorderEveryMs) {
      // Keep the map roughly in recency order, so eviction takes its first entry in O(1).
      session.orderedAtMs = now;
      this.sessionMap.delete(key);
      this.sessionMap.set(key, session);
    }
  }

  private openSession(key: string, host: string, port: number, now: number): UdpSession {
    const upstream = this.upstreamEndpoint as Endpoint;
    if (this.sessionMap.size >= this.maxSessions) {
      const [oldestKey, oldest] = this.sessionMap.entries().next().value as [string, UdpSession];
      this.sessionMap.delete(oldestKey);
      oldest.close();
      this.sessionCounters.evicted++;
    }
    const bindHost = isLoopback(upstream.host)
      ? upstream.type === 'udp6'
        ? '::1'
        : '127.0.0.1'
      : upstream.type === 'udp6'
        ? '::'
        : '0.0.0.0';
    const session = new UdpSession(
      (this.socket as DatagramSocket).destination(host, port),
      bindHost,
      now,
      this.settlePending,
    );
    this.sessionMap.set(key, session);
    this.openUpstream(bindHost, 0, upstream, 'upstream').then(
      (socket) => {
        this.sessionCounters.opened++;
        // Closed meanwhile (expired, evicted, stopped), or roamed onto a socket of its own already.
        if (session.closed || session.ready) void socket.close();
        else session.attach(socket, bindHost, (data) => this.fromUpstream(session, data));
      },
      (error: unknown) => {
        // Roamed onto a socket of its own meanwhile: the session has its socket, so it was opened, and
        // neither it nor its datagrams are touched by this late failure.
        if (session.ready && !session.closed) {
          this.sessionCounters.opened++;
          return;
        }
        // Not kept: the client's next datagram opens a new session, which tries again.
        this.sessionCounters.failed++;
        const cause = error instanceof Error ? error.cause : undefined;
        const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? (error as { code?: unknown }).code;
        this.lastFailure = {
          client: key,
          code: typeof code === 'string' ? code : 'unknown',
          message: `udp session ${key}: cannot open its upstream socket: ${messageOf(cause ?? error)}`,
          atMs: this.clock.now(),
        };
        session.fail();
        if (this.sessionMap.get(key) === session) this.sessionMap.delete(key);
      },
    );
    if (this.sweepTimer === undefined) this.armSweep(now + this.sessionIdleMs);
    return session;
  }

  private readonly settlePending = (sent: number, dropped: number, failed: boolean): void => {
    this.pipelines.upstream.settle(sent, dropped, failed ? dropped : 0);
  };

  private closeSession(session: UdpSession): void {
    session.close();
    if (this.sessionMap.get(session.client) === session) this.sessionMap.delete(session.client);
  }

  private armSweep(at: number): void {
    // Sweeps walk every session, so they come no closer together than a tenth of the idle time (≤ 1 s).
    const spacing = Math.min(1000, this.sessionIdleMs / 10);
    const now = this.clock.now();
    this.sweepTimer = this.clock.setTimeout(this.sweep, Math.max(at - now, spacing));
  }

  private sweep = (): void => {
    this.sweepTimer = undefined;
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const session of [...this.sessionMap.values()]) {
      const expiresAt = session.lastSeenMs + this.sessionIdleMs;
      if (expiresAt <= now) {
        this.closeSession(session);
        this.sessionCounters.expired++;
      } else next = Math.min(next, expiresAt);
    }
    if (next !== Number.POSITIVE_INFINITY) this.armSweep(next);
  };
}
