import type { TimerHandle } from '../core/clock.js';
import type { Attributes, StageContext, ToxicStage } from './toxic.js';

const END = Symbol('end');
type Item = { data: Buffer | typeof END; releaseAt: number };

/**
 * Node timers count in whole milliseconds from the event loop's cached time, so a timer can fire up to
 * ~1 ms before its due time by `clock.now()`. Re-arming for the remainder would cost a further 1–2 ms
 * (Node's minimum timeout is 1 ms), making every delay ~1 ms long on average. Instead, when a timer
 * fires, items due within this slack go out at once, so delays are centred on the setting instead of
 * biased late. Measured with a 20 ms latency toxic on loopback (mean of 150 echoes): 20.9 ms with no
 * slack, 19.6 ms with 1 ms, 19.9–20.3 ms with 0.75 ms.
 */
const timerSlackMs = 0.75;

/**
 * A FIFO of chunks (and the half-close) each released at its time, in order. Items that are due when
 * pushed onto an empty queue go out synchronously, so a zero delay costs no timer; items released by a
 * timer may go out up to `timerSlackMs` early (see above). A queue never reorders.
 * Bounded by the pipe's byte budget: the pipe stops reading while its toxics hold too much.
 */
export class ReleaseQueue {
  private readonly items: Item[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private disposed = false;

  constructor(private readonly context: StageContext) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Release time of the newest item still held, or -Infinity when empty. */
  get lastReleaseAt(): number {
    return this.length === 0 ? Number.NEGATIVE_INFINITY : (this.items.at(-1) as Item).releaseAt;
  }

  push(chunk: Buffer, releaseAt: number): void {
    this.enqueue({ data: chunk, releaseAt });
  }

  /** Queues the half-close behind everything held; it goes out at `releaseAt` or when the data does. */
  pushEnd(releaseAt = Number.NEGATIVE_INFINITY): void {
    this.enqueue({ data: END, releaseAt });
  }

  /** Re-times every held item in order (the half-close counts as 0 bytes), e.g. after an update. */
  retime(releaseAtOf: (previousReleaseAt: number, bytes: number) => number): void {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as Item;
      item.releaseAt = releaseAtOf(item.releaseAt, item.data === END ? 0 : item.data.length);
    }
    // The armed timer was for the old times: cancel it, or it would outlive the schedule it was for.
    this.cancelTimer();
    this.pump();
  }

  /** Emits everything held now, in order. */
  flush(): void {
    this.retime(() => Number.NEGATIVE_INFINITY);
  }

  dispose(): void {
    this.disposed = true;
    this.cancelTimer();
    this.items.length = 0;
    this.head = 0;
  }

  private enqueue(item: Item): void {
    if (this.disposed) return;
    this.items.push(item);
    if (this.length === 1) this.pump();
  }

  private pump(slackMs = 0): void {
    const dueBy = this.context.clock.now() + slackMs;
    while (!this.disposed && this.head < this.items.length) {
      const item = this.items[this.head] as Item;
      if (item.releaseAt > dueBy) break;
      this.head++;
      if (item.data === END) this.context.end();
      else this.context.emit(item.data);
    }
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }

  private arm(): void {
    const next = this.length === 0 ? Number.POSITIVE_INFINITY : (this.items[this.head] as Item).releaseAt;
    if (next === this.timerAt) return;
    this.cancelTimer();
    if (next === Number.POSITIVE_INFINITY || this.disposed) return;
    this.timerAt = next;
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump(timerSlackMs);
    }, next - this.context.clock.now());
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}

/**
 * Base of toxics that hold data in a ReleaseQueue: the half-close follows the data out, removal
 * releases everything at once, and disposal stops the queue's timer.
 */
export abstract class QueuedStage implements ToxicStage {
  protected readonly queue: ReleaseQueue;

  constructor(
    protected readonly context: StageContext,
    protected attributes: Attributes,
  ) {
    this.queue = new ReleaseQueue(context);
  }

  abstract write(chunk: Buffer): void;

  end(): void {
    this.queue.pushEnd();
  }

  update(attributes: Attributes): void {
    this.attributes = attributes;
  }

  flush(): void {
    this.queue.flush();
  }

  dispose(): void {
    this.queue.dispose();
  }
}
