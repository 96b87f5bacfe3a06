import type { Clock, TimerHandle } from '../../core/clock.js';
import { type DueEntry, DueHeap } from '../../core/due-heap.js';
import type { Random } from '../../core/random.js';
import type { Held, Next } from './held.js';
import type { UdpImpairments } from './impairments.js';

type DelaySpec = NonNullable<UdpImpairments['delay']>;

/** `seq` is the arrival order, so equal due times leave first in, first out. */
interface Delayed<T> extends Held<T>, DueEntry {}

/**
 * Holds each datagram for `ms` plus jitter, then releases it. As in netem, every datagram draws its own
 * delay, so jitter larger than the gap between datagrams reorders them; without jitter order is kept.
 * Uniform jitter draws from [ms - jitterMs, ms + jitterMs); normal jitter from N(ms, jitterMs²); both
 * are truncated at 0. A binary heap by due time, one timer for the earliest, bounded by count and bytes.
 */
export class DelayStage<T> {
  private spec: DelaySpec | undefined;
  private readonly heap = new DueHeap<Delayed<T>>();
  private heapBytes = 0;
  private seq = 0;
  private timer: TimerHandle | undefined;
  private timerDue = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly next: Next<T>,
    private readonly limits: { datagrams: number; bytes: number },
    private readonly onOverflow: () => void,
  ) {}

  get size(): number {
    return this.heap.size;
  }

  configure(spec: DelaySpec | undefined): void {
    this.spec = spec;
    if (spec === undefined) this.flush();
  }

  /** The delay for one datagram, ms. */
  sample(spec: DelaySpec): number {
    const jitter = spec.jitterMs ?? 0;
    if (jitter === 0) return spec.ms;
    const ms =
      spec.distribution === 'normal'
        ? this.random.normal(spec.ms, jitter)
        : spec.ms + this.random.between(-jitter, jitter);
    return Math.max(ms, 0);
  }

  push(item: Held<T>): void {
    const delay = this.spec === undefined ? 0 : this.sample(this.spec);
    if (delay === 0 && this.heap.size === 0) {
      this.next(item);
      return;
    }
    if (this.heap.size >= this.limits.datagrams || this.heapBytes + item.data.length > this.limits.bytes) {
      this.onOverflow();
      return;
    }
    const due = this.clock.now() + delay;
    this.heap.push({ data: item.data, target: item.target, due, seq: this.seq++ });
    this.heapBytes += item.data.length;
    if (due < this.timerDue) this.arm(due);
  }

  reset(): void {
    this.disarm();
    this.heap.clear();
    this.heapBytes = 0;
  }

  private flush(): void {
    this.disarm();
    for (let item = this.pop(); item !== undefined; item = this.pop()) this.next(item);
  }

  private release = (): void => {
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    // Node's timers have 1 ms granularity and may fire a fraction early; take what is due to within it.
    const now = this.clock.now() + 0.5;
    for (let top = this.heap.peek(); top !== undefined && top.due <= now; top = this.heap.peek()) {
      this.pop();
      this.next(top);
    }
    const top = this.heap.peek();
    if (top !== undefined) this.arm(top.due);
  };

  private arm(due: number): void {
    this.disarm();
    this.timerDue = due;
    this.timer = this.clock.setTimeout(this.release, Math.max(0, due - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  private pop(): Delayed<T> | undefined {
    const top = this.heap.pop();
    if (top !== undefined) this.heapBytes -= top.data.length;
    return top;
  }
}
