import { Socket } from 'node:net';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { HostPort } from './address.js';
import { type DirectionCounters, Pipe, type PipeOwner } from './pipe.js';
import type { Direction, ToxicKind, ToxicSpec } from './toxic.js';

/** What a connection needs from its proxy. */
export interface ConnectionHost {
  readonly clock: Clock;
  readonly budgetBytes: number;
  readonly counters: Record<Direction, DirectionCounters>;
  onClosed(connection: ProxiedConnection): void;
}

export interface ActiveToxic {
  readonly spec: ToxicSpec;
  readonly kind: ToxicKind;
}

const directions: readonly Direction[] = ['upstream', 'downstream'];

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
      downstream: new Pipe('downstream', this.upstream, client, this, host.counters.downstream, host.budgetBytes),
    };
    for (const socket of [client, this.upstream]) {
      socket.on('error', (error: NodeJS.ErrnoException) => this.onSocketError(socket, error));
      socket.on('close', () => this.onSocketClose(socket));
    }
    let openDelayMs = 0;
    for (const toxic of toxics) {
      this.apply(toxic);
      if (this.applied.has(toxic.spec.name) && toxic.spec.stream !== 'downstream' && toxic.kind.openDelayMs) {
        openDelayMs = Math.max(openDelayMs, toxic.kind.openDelayMs(toxic.spec.attributes));
      }
    }
    const open = (): void => {
      if (!this.closed) this.upstream.connect(target.port, target.host);
    };
    if (openDelayMs > 0) this.clock.setTimeout(open, openDelayMs);
    else open();
  }

  /** Puts a toxic on this connection if its toxicity draw says so, or takes it off if no longer. */
  apply(toxic: ActiveToxic): void {
    const { spec, kind } = toxic;
    let draw = this.draws.get(spec.name);
    if (draw === undefined) {
      draw = this.random.fork(`toxicity/${spec.name}`).next();
      this.draws.set(spec.name, draw);
    }
    const wanted = draw < spec.toxicity;
    const present = this.applied.has(spec.name);
    if (wanted && !present) {
      this.applied.add(spec.name);
      for (const direction of directions) {
        if (spec.stream === direction || spec.stream === 'both') {
          const random = this.random.fork(`toxic/${spec.name}/${direction}`);
          this.pipes[direction].add(spec.name, kind, spec.attributes, random);
        }
      }
    } else if (wanted && present) {
      for (const direction of directions) this.pipes[direction].update(spec.name, spec.attributes);
    } else if (!wanted && present) {
      this.remove(spec.name);
    }
  }

  remove(name: string): void {
    if (!this.applied.delete(name)) return;
    for (const direction of directions) this.pipes[direction].remove(name);
  }

  forget(name: string): void {
    this.remove(name);
    this.draws.delete(name);
  }

  /** Closes both sides with FIN once what was already sent is flushed. */
  close(): void {
    if (this.closed) return;
    this.shutdown();
    this.client.destroySoon();
    this.upstream.destroySoon();
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

  private shutdown(): void {
    this.closed = true;
    this.pipes.upstream.dispose();
    this.pipes.downstream.dispose();
  }

  private onSocketError(socket: Socket, error: NodeJS.ErrnoException): void {
    // A reset on one side is passed on as a reset to the other, so peers see what really happened.
    const other = socket === this.client ? this.upstream : this.client;
    if (this.closed) return;
    this.shutdown();
    if (error.code === 'ECONNRESET') resetSocket(other);
    else other.destroy();
  }

  private onSocketClose(socket: Socket): void {
    const other = socket === this.client ? this.upstream : this.client;
    if (!other.destroyed) {
      // After a graceful close both halves of the other side are done or flushing; never leave it open.
      other.destroySoon();
      return;
    }
    if (!this.closed) this.shutdown();
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
