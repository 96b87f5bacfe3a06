import { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { HostPort } from './address.js';
import { type DirectionCounters, Pipe, type PipeOwner } from './pipe.js';
import { type Direction, directions, type ToxicConfig, type ToxicKind } from './toxic.js';

/** What a connection needs from its proxy. */
export interface ConnectionHost {
  readonly clock: Clock;
  readonly budgetBytes: number;
  readonly counters: Record<Direction, DirectionCounters>;
  onClosed(connection: ProxiedConnection): void;
}

export interface ActiveToxic {
  readonly config: ToxicConfig;
  readonly kind: ToxicKind;
}

/**
 * A graceful close waits for the sockets to flush what was written to them; a peer that never reads
 * would hold the connection open for ever. After this long the sockets are destroyed instead.
 */
const closeGraceMs = 5000;

/**
 * One client connection and its connection to the upstream, joined by two pipes. Toxicity is drawn once
 * per toxic per connection from the connection's own random stream, so the same seed and connection
 * order always give the same draws, whatever the timing.
 */
export class ProxiedConnection implements PipeOwner {
  readonly clock: Clock;
  readonly acceptedAt: number;
  private readonly upstream: Socket;
  private readonly pipes: Record<Direction, Pipe>;
  /** The uniform draw per toxic name: the toxic acts here while draw < toxicity. */
  private readonly draws = new Map<string, number>();
  private readonly applied = new Set<string>();
  private closed = false;
  private openTimer: TimerHandle | undefined;
  private opened = false;
  private readonly target: HostPort;
  private closeTimer: TimerHandle | undefined;

  constructor(
    readonly id: number,
    private readonly client: Socket,
    target: HostPort,
    toxics: readonly ActiveToxic[],
    private readonly random: Random,
    private readonly host: ConnectionHost,
  ) {
    this.clock = host.clock;
    this.acceptedAt = host.clock.now();
    client.setNoDelay(true);
    this.upstream = new Socket({ allowHalfOpen: true });
    this.upstream.setNoDelay(true);
    this.pipes = {
      upstream: new Pipe('upstream', client, this.upstream, this, host.counters.upstream, host.budgetBytes),
      downstream: new Pipe(
        'downstream',
        this.upstream,
        client,
        this,
        host.counters.downstream,
        host.budgetBytes,
      ),
    };
    for (const socket of [client, this.upstream]) {
      socket.on('error', (error: NodeJS.ErrnoException) => this.onSocketError(socket, error));
      socket.on('close', () => this.onSocketClose(socket));
    }
    let openDelayMs = 0;
    for (const toxic of toxics) {
      this.apply(toxic);
      const { config, kind } = toxic;
      if (this.applied.has(config.name) && config.stream !== 'downstream' && kind.openDelayMs) {
        openDelayMs = Math.max(openDelayMs, kind.openDelayMs(config.attributes));
      }
    }
    this.target = target;
    if (openDelayMs > 0) {
      this.openTimer = this.clock.setTimeout(() => this.openUpstream(), openDelayMs);
      // Data may reach the upstream socket before the open timer fires: slow-open's own release timer
      // can fire first (same due time), and removing or shortening the toxic releases data early. The
      // first write then opens the connection, since a socket that was never told to connect fails it.
      this.pipes.upstream.beforeFirstWrite = () => this.openUpstream();
    } else this.openUpstream();
  }

  /** Connects to the upstream now (once), cancelling a delayed open. */
  private openUpstream(): void {
    this.cancelOpenTimer();
    this.pipes.upstream.beforeFirstWrite = undefined;
    if (this.closed || this.opened) return;
    this.opened = true;
    this.upstream.connect(this.target.port, this.target.host);
  }

  /** Puts a toxic on this connection if its toxicity draw says so, or takes it off if no longer. */
  apply(toxic: ActiveToxic): void {
    if (this.closed) return;
    const { config, kind } = toxic;
    let draw = this.draws.get(config.name);
    if (draw === undefined) {
      draw = this.random.fork(`toxicity/${config.name}`).next();
      this.draws.set(config.name, draw);
    }
    const wanted = draw < config.toxicityProbability;
    const present = this.applied.has(config.name);
    if (wanted && !present) {
      this.applied.add(config.name);
      for (const direction of directions) {
        if (config.stream === direction || config.stream === 'both') {
          const random = this.random.fork(`toxic/${config.name}/${direction}`);
          this.pipes[direction].add(config.name, kind, config.attributes, random);
        }
      }
    } else if (wanted && present) {
      for (const direction of directions) this.pipes[direction].update(config.name, config.attributes);
    } else if (!wanted && present) {
      this.remove(config.name);
    }
  }

  remove(name: string): void {
    if (!this.applied.delete(name)) return;
    for (const direction of directions) this.pipes[direction].remove(name);
    // Without the toxic that delayed the open (slow-open), new data would go straight to a socket that
    // was never told to connect.
    if (this.openTimer !== undefined) this.openUpstream();
  }

  forget(name: string): void {
    this.remove(name);
    this.draws.delete(name);
  }

  /** Bytes held in this connection's toxics and userland write buffers, for one direction. */
  bufferedBytes(direction: Direction): number {
    return this.pipes[direction].bufferedBytes;
  }

  /** Closes both sides with FIN once what was already sent is flushed (bounded by `closeGraceMs`). */
  close(): void {
    if (this.closed) return;
    this.shutdown();
    for (const socket of [this.client, this.upstream]) {
      // An upstream never told to connect (slow-open) has nothing to flush; one still connecting
      // flushes what was written to it once connected, like an open one.
      if (socket.pending && !socket.connecting) socket.destroy();
      else socket.destroySoon();
    }
    this.closeTimer = this.clock.setTimeout(() => {
      this.closeTimer = undefined;
      this.client.destroy();
      this.upstream.destroy();
    }, closeGraceMs);
  }

  /** Closes both sides with RST. */
  reset(): void {
    if (this.closed) return;
    this.shutdown();
    for (const socket of [this.client, this.upstream]) resetSocket(socket);
  }

  /** Closes both sides at once, dropping what is in flight. */
  destroy(): void {
    if (this.closed) return;
    this.shutdown();
    this.client.destroy();
    this.upstream.destroy();
  }

  private cancelOpenTimer(): void {
    if (this.openTimer !== undefined) this.clock.clearTimeout(this.openTimer);
    this.openTimer = undefined;
  }

  private otherSide(socket: Socket): Socket {
    return socket === this.client ? this.upstream : this.client;
  }

  private pipeFrom(socket: Socket): Pipe {
    return socket === this.client ? this.pipes.upstream : this.pipes.downstream;
  }

  private shutdown(): void {
    this.closed = true;
    this.cancelOpenTimer();
    this.pipes.upstream.dispose();
    this.pipes.downstream.dispose();
  }

  private onSocketError(socket: Socket, error: NodeJS.ErrnoException): void {
    // A reset on one side is passed on as a reset to the other, so peers see what really happened.
    const other = this.otherSide(socket);
    if (this.closed) return;
    this.shutdown();
    if (error.code === 'ECONNRESET') resetSocket(other);
    else other.destroy();
  }

  private onSocketClose(socket: Socket): void {
    const other = this.otherSide(socket);
    if (!other.destroyed) {
      // A graceful close means `socket` sent its FIN, but toxics may still hold what it sent before:
      // close the other side only once that data and the FIN have gone out, never before (a client that
      // half-closed its request would otherwise get a bare FIN instead of the reply).
      // Then the connection closes as a whole (FIN, flush, then destroyed after `closeGraceMs` at most).
      // A toxic that never lets the FIN out (timeout 0, bandwidth 0) keeps the other side open, as in
      // Toxiproxy, until its peer closes or the toxic is removed.
      if (this.closed) other.destroySoon();
      else this.pipeFrom(socket).whenEnded(() => this.close());
      return;
    }
    if (!this.closed) this.shutdown();
    if (this.closeTimer !== undefined) this.clock.clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.host.onClosed(this);
  }
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    if (socket.connecting || socket.readyState === 'closed') socket.destroy();
    else socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
