import type { Clock, TimerHandle } from '../../core/clock.js';
import { Fifo, type Held, type Next } from './held.js';
import type { UdpImpairments } from './impairments.js';

type RateSpec = NonNullable<UdpImpairments['rate']>;

export const defaultRateQueueBytes = 64 * 1024;

/** A late timer may send a backlog at once to keep the average rate, but never more than this much. */
const catchUpMs = 20;

/**
 * Limits a direction to `bytesPerSec`: each datagram occupies the link for size / rate seconds, and
 * starts when the one before it has finished (a token bucket one datagram deep, so idle time earns no
 * burst). Datagrams that must wait queue up to `queueBytes`; one that does not fit is dropped and
 * reported through `onOverflow`. One timer, for the head of the queue.
 */
export class RateStage<T> {
  private spec: RateSpec | undefined;
  private readonly queue = new Fifo<Held<T>>();
  private queuedBytes = 0;
  private nextFreeAt = Number.NEGATIVE_INFINITY;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly next: Next<T>,
    private readonly onOverflow: () => void,
  ) {}

  get size(): number {
    return this.queue.size;
  }

  configure(spec: RateSpec | undefined): void {
    this.spec = spec;
    if (spec === undefined) {
      this.nextFreeAt = Number.NEGATIVE_INFINITY;
      this.flush();
    } else {
      this.arm();
    }
  }

  push(item: Held<T>): void {
    const spec = this.spec;
    const now = this.clock.now();
    if (spec === undefined || (this.queue.size === 0 && now >= this.nextFreeAt)) {
      if (spec !== undefined) this.nextFreeAt = now + this.costMs(item, spec);
      if (this.queue.size === 0) {
        this.next(item);
        return;
      }
    }
    const limit = spec?.queueBytes ?? defaultRateQueueBytes;
    if (this.queuedBytes + item.data.length > limit && spec !== undefined) {
      this.onOverflow();
      return;
    }
    this.queue.push(item);
    this.queuedBytes += item.data.length;
    this.arm();
  }

  /** Drops everything held (the proxy is stopping). */
  reset(): void {
    this.disarm();
    this.queue.clear();
    this.queuedBytes = 0;
    this.nextFreeAt = Number.NEGATIVE_INFINITY;
  }

  private costMs(item: Held<T>, spec: RateSpec): number {
    return (item.data.length * 1000) / spec.bytesPerSec;
  }

  private flush(): void {
    this.disarm();
    for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
      this.queuedBytes -= item.data.length;
      this.next(item);
    }
  }

  private release = (): void => {
    this.timer = undefined;
    const spec = this.spec;
    if (spec === undefined) {
      this.flush();
      return;
    }
    const now = this.clock.now();
    this.nextFreeAt = Math.max(this.nextFreeAt, now - catchUpMs);
    for (let head = this.queue.peek(); head !== undefined; head = this.queue.peek()) {
      if (this.nextFreeAt > now) break;
      this.queue.shift();
      this.queuedBytes -= head.data.length;
      this.nextFreeAt += this.costMs(head, spec);
      this.next(head);
    }
    this.arm();
  };

  private arm(): void {
    if (this.timer !== undefined || this.queue.size === 0) return;
    this.timer = this.clock.setTimeout(this.release, Math.max(0, this.nextFreeAt - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
