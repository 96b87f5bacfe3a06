import { createServer, type Server, type Socket } from 'node:net';
import { requireBoolean, requireString, requireUrlName } from '../core/assert.js';
import { type Clock, realClock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { listenTcp } from '../core/listen.js';
import { Random } from '../core/random.js';
import { formatHostPort, type HostPort, isWildcardHost, parseHostPort } from './address.js';
import { type ActiveToxic, ProxiedConnection } from './connection.js';
import type { DirectionCounters } from './pipe.js';
import { type Direction, type ToxicConfig, tcpProxies } from './toxic.js';
import { mergeToxicUpdate, normalizeToxic } from './toxic-config.js';
import { toxicKind } from './toxic-registry.js';
import { type ToxicVocabulary, typedVocabulary } from './toxic-vocabulary.js';

export interface ProxyOptions {
  name: string;
  /** `host:port` to listen on; port 0 picks a free port. */
  listen: string;
  /** `host:port` of the upstream service. */
  upstream: string;
  enabled?: boolean;
  /** Seed of the proxy's draws (toxicity, jitter); default `FAULTLINE_SEED`, else a fresh one. */
  seed?: number;
  /** Stream to fork the proxy's draws from, instead of `seed`. */
  random?: Random;
  clock?: Clock;
  /** Bytes each direction of a connection may hold inside its toxics before reading pauses. Default 1 MiB. */
  budgetBytes?: number;
}

/** A change prepared by `TcpProxy.prepareUpdate`: apply it with `commit` or drop it with `abort`. */
export interface PreparedUpdate {
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A proxy's configuration, as `toJSON` gives it. (api/ maps it to Toxiproxy's JSON shape.) */
export interface TcpProxyState {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: ToxicConfig[];
}

export interface ProxyStats {
  readonly connectionsTotal: number;
  readonly connectionsActive: number;
  readonly upstream: Readonly<DirectionCounters>;
  readonly downstream: Readonly<DirectionCounters>;
}

const defaultBudgetBytes = 1024 * 1024;

/**
 * A TCP proxy from `listen` to `upstream` with toxics on each direction. Toxic changes act on live
 * connections at once. A disabled proxy closes its connections and its listener, so new ones are refused.
 */
export class TcpProxy {
  readonly name: string;
  /** The seed its draws come from: replaying with it replays them. */
  readonly seed: number;
  readonly clock: Clock;
  readonly budgetBytes: number;
  readonly counters: Record<Direction, DirectionCounters> = {
    upstream: { bytesIn: 0, bytesOut: 0, bytesDropped: 0 },
    downstream: { bytesIn: 0, bytesOut: 0, bytesDropped: 0 },
  };
  /** Where the listener is bound (the port the OS chose for port 0, the address `localhost` became). */
  private listenAddress: HostPort;
  /** Where it was asked to listen, as given: `localhost` may bind 127.0.0.1 or ::1. */
  private requestedListen: HostPort;
  private upstreamAddress: HostPort;
  private upstreamText: string;
  private isEnabled: boolean;
  private server: Server | undefined;
  private readonly random: Random;
  private readonly toxicMap = new Map<string, ActiveToxic>();
  private readonly connections = new Set<ProxiedConnection>();
  private connectionsTotal = 0;

  constructor(options: ProxyOptions) {
    tcpProxies.add(this);
    this.name = requireUrlName(options.name, 'name');
    this.listenAddress = parseHostPort(options.listen, 'listen');
    this.requestedListen = this.listenAddress;
    this.upstreamText = requireString(options.upstream, 'upstream', { nonEmpty: true });
    this.upstreamAddress = parseHostPort(options.upstream, 'upstream');
    this.isEnabled = options.enabled === undefined ? true : requireBoolean(options.enabled, 'enabled');
    this.random = Random.from(options, `proxy/${this.name}`);
    this.seed = this.random.seed;
    this.clock = options.clock ?? realClock;
    this.budgetBytes = options.budgetBytes ?? defaultBudgetBytes;
  }

  get enabled(): boolean {
    return this.isEnabled;
  }

  /** The address it listens on, with the real port once listening. */
  get listen(): string {
    return formatHostPort(this.listenAddress.host, this.listenAddress.port);
  }

  get port(): number {
    return this.listenAddress.port;
  }

  get upstream(): string {
    return this.upstreamText;
  }

  get toxics(): ToxicConfig[] {
    return [...this.toxicMap.values()].map((toxic) => toxic.config);
  }

  get stats(): ProxyStats {
    return {
      connectionsTotal: this.connectionsTotal,
      connectionsActive: this.connections.size,
      upstream: { ...this.counters.upstream },
      downstream: { ...this.counters.downstream },
    };
  }

  /**
   * Bytes held inside the proxy per direction, summed over live connections: data inside toxics plus
   * data written to a socket that the kernel has not taken yet. Bounded per connection by about
   * `budgetBytes` + one socket read + the socket's high-water mark, whatever the peers do. Computed on
   * demand (it walks the connections), so it costs the data path nothing.
   */
  bufferedBytes(): Record<Direction, number> {
    const result: Record<Direction, number> = { upstream: 0, downstream: 0 };
    for (const connection of this.connections) {
      result.upstream += connection.bufferedBytes('upstream');
      result.downstream += connection.bufferedBytes('downstream');
    }
    return result;
  }

  toJSON(): TcpProxyState {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      toxics: this.toxics,
    };
  }

  /** Starts listening if enabled. Rejects with FL_ERR_ADDRESS_IN_USE when the port is taken. */
  async start(): Promise<void> {
    if (this.isEnabled && this.server === undefined) {
      const bound = await this.bindListener(this.listenAddress);
      if (this.server === undefined) {
        this.server = bound.server;
        this.listenAddress = bound.address;
      } else {
        await closeListener(bound.server); // a concurrent start won
      }
    }
  }

  /** `stop()`, for `await using` and `useFaultline(t).own()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Stops listening and closes every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropConnections();
    if (server) await closeListener(server);
  }

  /** Whether a listening socket is open now. */
  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Whether this proxy already listens where `listen` asks (port 0 = any port). */
  listensAt(listen: string): boolean {
    return this.listensAtAddress(parseHostPort(listen, 'listen'));
  }

  /** As bound or as asked: a second populate with the same text finds it whatever `localhost` became. */
  private listensAtAddress(wanted: HostPort): boolean {
    return listenMatches(this.listenAddress, wanted) || listenMatches(this.requestedListen, wanted);
  }

  private dropConnections(): void {
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
  }

  async setEnabled(enabled: boolean): Promise<void> {
    await this.update({ enabled: requireBoolean(enabled, 'enabled') });
  }

  /**
   * Changes listen/upstream/enabled. As in Toxiproxy, a new listen address or upstream drops live
   * connections. The new address is bound before the old one is let go, so a failure (e.g. a taken
   * port) leaves the proxy as it was, connections included.
   */
  async update(changes: { listen?: string; upstream?: string; enabled?: boolean }): Promise<void> {
    const prepared = await this.prepareUpdate(changes);
    await prepared.commit();
  }

  /**
   * The first half of `update`: validates every change and binds the listener the result needs, changing
   * nothing. `commit()` then applies the change at once and cannot fail (it resolves once a listener let
   * go is closed); `abort()` releases what was bound. Lets a caller prepare changes to many proxies and
   * apply all or none.
   */
  async prepareUpdate(changes: {
    listen?: string;
    upstream?: string;
    enabled?: boolean;
  }): Promise<PreparedUpdate> {
    const listen = changes.listen === undefined ? undefined : parseHostPort(changes.listen, 'listen');
    const upstream = changes.upstream === undefined ? undefined : parseHostPort(changes.upstream, 'upstream');
    const enabled =
      changes.enabled === undefined ? this.isEnabled : requireBoolean(changes.enabled, 'enabled');
    const moveListener = listen !== undefined && !this.listensAtAddress(listen);
    const newUpstream = upstream !== undefined && changes.upstream !== this.upstreamText;
    const fresh =
      enabled && (moveListener || this.server === undefined)
        ? await this.bindListener(moveListener ? listen : this.listenAddress)
        : undefined;
    let settled = false;
    return {
      commit: async () => {
        if (settled) return;
        settled = true;
        const old = this.server;
        if (moveListener || newUpstream || !enabled) this.dropConnections();
        if (fresh) {
          this.server = fresh.server;
          this.listenAddress = fresh.address;
        } else if (moveListener) {
          this.listenAddress = listen;
        }
        if (moveListener) {
          this.requestedListen = listen;
        }
        if (!enabled) this.server = undefined;
        if (newUpstream) {
          this.upstreamAddress = upstream;
          this.upstreamText = changes.upstream as string;
        }
        this.isEnabled = enabled;
        if (old !== undefined && old !== this.server) await closeListener(old);
      },
      abort: async () => {
        if (settled) return;
        settled = true;
        if (fresh) await closeListener(fresh.server);
      },
    };
  }

  /**
   * Takes over `from`'s listening socket, bound where this (enabled, not yet listening) proxy wants to
   * listen, a non-zero port: a replacement keeps the port with no gap and no bind that could fail. `from`
   * is left without a listener or connections. The caller checks that it can (`listensAt`).
   */
  adoptListener(from: TcpProxy): void {
    const server = from.server;
    if (
      server === undefined ||
      !this.isEnabled ||
      this.server !== undefined ||
      this.listenAddress.port === 0 ||
      !from.listensAtAddress(this.listenAddress)
    ) {
      throw new FaultlineError(
        codes.internal,
        `proxy ${this.name} cannot take over the listener of ${from.name}`,
      );
    }
    from.server = undefined;
    from.dropConnections();
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => this.accept(socket));
    this.server = server;
    this.listenAddress = from.listenAddress;
  }

  hasToxic(name: string): boolean {
    return this.toxicMap.has(name);
  }

  getToxic(name: string): ToxicConfig {
    return this.toxicEntry(name).config;
  }

  /**
   * Validates and adds a toxic; it acts on live connections at once. Apply toxics as faults (`tcp.latency`
   * …) or through `ProxyHub`, which record their heals in a Ledger.
   * @internal
   */
  addToxic(input: unknown): ToxicConfig {
    const spec = normalizeToxic(input);
    if (this.toxicMap.has(spec.name)) {
      throw new FaultlineError(
        codes.alreadyExists,
        `toxic already exists: "${spec.name}" on proxy "${this.name}"`,
        {
          details: { field: 'name' },
        },
      );
    }
    const toxic = { config: spec, kind: toxicKind(spec.kind) };
    this.toxicMap.set(spec.name, toxic);
    for (const connection of this.connections) connection.apply(toxic);
    return spec;
  }

  /**
   * Merges new attributes and toxicity probability (named in `vocabulary`) into a toxic; live connections
   * see the change at once.
   */
  updateToxic(name: string, input: unknown, vocabulary: ToxicVocabulary = typedVocabulary): ToxicConfig {
    const entry = this.toxicEntry(name);
    const toxic = { config: mergeToxicUpdate(entry.config, input, vocabulary), kind: entry.kind };
    this.toxicMap.set(name, toxic);
    for (const connection of this.connections) connection.apply(toxic);
    return toxic.config;
  }

  /**
   * Removes a toxic; data it held is released at once.
   * @internal
   */
  removeToxic(name: string): void {
    this.toxicEntry(name);
    this.toxicMap.delete(name);
    for (const connection of this.connections) connection.forget(name);
  }

  private toxicEntry(name: string): ActiveToxic {
    const entry = this.toxicMap.get(name);
    if (entry === undefined) {
      throw new FaultlineError(codes.notFound, `toxic not found: "${name}" on proxy "${this.name}"`, {
        details: { field: 'toxic' },
      });
    }
    return entry;
  }

  /** A listening socket at `where` that hands connections to this proxy, and the address it got. */
  private async bindListener(where: HostPort): Promise<{ server: Server; address: HostPort }> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) =>
      this.accept(socket),
    );
    await listenTcp(server, where.host, where.port, 'listen', 4096);
    server.on('error', () => {}); // accept errors (EMFILE) are per connection; the listener lives on
    const address = server.address();
    return {
      server,
      address: address && typeof address === 'object' ? { host: address.address, port: address.port } : where,
    };
  }

  private accept(socket: Socket): void {
    if (!this.isEnabled) {
      socket.destroy();
      return;
    }
    const id = this.connectionsTotal++;
    const connection = new ProxiedConnection(
      id,
      socket,
      this.upstreamAddress,
      [...this.toxicMap.values()],
      this.random.fork(`connection/${id}`),
      this,
    );
    this.connections.add(connection);
  }

  /** @internal */
  onClosed(connection: ProxiedConnection): void {
    this.connections.delete(connection);
  }
}

/** Same address, counting `localhost` as 127.0.0.1, the wildcards alike, and port 0 as any port. */
function listenMatches(live: HostPort, wanted: HostPort): boolean {
  const host = (h: string): string => (h === 'localhost' ? '127.0.0.1' : isWildcardHost(h) ? '*' : h);
  return host(live.host) === host(wanted.host) && (wanted.port === 0 || wanted.port === live.port);
}

/** Stops accepting; resolves once the listening socket is closed (connections are dropped apart). */
function closeListener(server: Server): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
