import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Random } from '../../core/random.js';
import type { Held, Next } from './held.js';
import type { UdpImpairments } from './impairments.js';

type ReorderSpec = NonNullable<UdpImpairments['reorder']>;

interface Waiting<T> extends Held<T> {
  /** Datagrams still to overtake this one before it goes. */
  remaining: number;
  readonly gap: number;
  readonly deadline: number;
}

/**
 * Reordering: each datagram is chosen with `probability` and held back until `gap` later datagrams
 * have gone past it, then sent. So that a quiet path does not hold one forever, a held datagram also
 * goes after at most `holdMs`, and the oldest goes at once when `maxHeld` are waiting.
 */
export class ReorderStage<T> {
  private spec: ReorderSpec | undefined;
  private held: Waiting<T>[] = [];
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly next: Next<T>,
    private readonly limits: { held: number; holdMs: number },
    /** Called for each held datagram that went out after at least one later one. */
    private readonly onReordered: () => void,
  ) {}

  get size(): number {
    return this.held.length;
  }

  configure(spec: ReorderSpec | undefined): void {
    this.spec = spec;
    if (spec === undefined) this.releaseWhere(() => true);
  }

  push(item: Held<T>): void {
    const spec = this.spec;
    if (spec !== undefined && this.random.chance(spec.probability)) {
      if (this.held.length >= this.limits.held) this.releaseFirst();
      const gap = spec.gap ?? 1;
      this.held.push({
        data: item.data,
        target: item.target,
        remaining: gap,
        gap,
        deadline: this.clock.now() + this.limits.holdMs,
      });
      this.arm();
      return;
    }
    this.next(item);
    if (this.held.length === 0) return;
    for (const waiting of this.held) waiting.remaining--;
    this.releaseWhere((waiting) => waiting.remaining <= 0);
  }

  reset(): void {
    this.disarm();
    this.held = [];
  }

  private releaseFirst(): void {
    const first = this.held.shift();
    if (first !== undefined) this.send(first);
  }

  private send(waiting: Waiting<T>): void {
    if (waiting.remaining < waiting.gap) this.onReordered();
    this.next(waiting);
  }

  /** Sends, in the order they were held, the datagrams that match; keeps the rest. */
  private releaseWhere(match: (waiting: Waiting<T>) => boolean): void {
    const going = this.held.filter(match);
    if (going.length === 0) return;
    this.held = this.held.filter((waiting) => !match(waiting));
    for (const waiting of going) this.send(waiting);
    if (this.held.length === 0) this.disarm();
  }

  private expire = (): void => {
    this.timer = undefined;
    const now = this.clock.now() + 0.5;
    this.releaseWhere((waiting) => waiting.deadline <= now);
    this.arm();
  };

  private arm(): void {
    const first = this.held[0];
    if (this.timer !== undefined || first === undefined) return;
    this.timer = this.clock.setTimeout(this.expire, Math.max(0, first.deadline - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
