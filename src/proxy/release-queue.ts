import type { TimerHandle } from '../core/clock.js';
import type { Attributes, StageContext, ToxicStage } from './toxic.js';

const END = Symbol('end');
/** A held chunk (from `offset` on: a paced chunk goes out in pieces) or the half-close. */
type Item = { data: Buffer | typeof END; releaseAt: number; offset: number };

/**
 * What one held item costs besides its bytes (the item, its Buffer object, the array slot), charged to
 * the connection's budget so that many tiny chunks are bounded like a few large ones. Measured with
 * 1-byte socket reads held by a latency toxic: ~190 bytes of heap per item.
 */
export const queuedItemCostBytes = 192;

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
 * How a queue lets held chunks out: whole (a queue without a pace, or `QueuedStage`'s default) or in pieces
 * spaced in time (slicer, bandwidth). Pieces are cut when they go out, so a chunk held for a long time
 * costs one item, whatever the piece size.
 */
export interface Pace {
  /** How many of the `availableBytes` at the head go out as the next piece (≥ 1), or 0 to hold them. */
  pieceBytes(availableBytes: number): number;
  /** How long after a piece of `bytes` the next piece (of this chunk or a later one) may go. */
  gapMs(bytes: number): number;
}

/**
 * A FIFO of chunks (and the half-close) each released at its time, in order. Items that are due when
 * pushed onto an empty queue go out synchronously (unless what follows is congested), so a zero delay
 * costs no timer; items released by a
 * timer may go out up to `timerSlackMs` early (see above). A queue never reorders.
 *
 * Bounded: each held item is charged to the pipe's budget (bytes plus `queuedItemCostBytes`), so the pipe
 * stops reading while its toxics hold too much; and while what follows the stage is congested (the socket
 * or later toxics cannot take more), the queue waits for `resume()` instead of pushing on.
 */
export class ReleaseQueue {
  private readonly items: Item[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** With a pace: nothing goes out before this (the gap after the last piece). */
  private notBefore = Number.NEGATIVE_INFINITY;
  private pumping = false;
  private disposed = false;

  constructor(
    private readonly context: StageContext,
    private readonly pace?: Pace,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(chunk: Buffer, releaseAt: number): void {
    this.enqueue({ data: chunk, releaseAt, offset: 0 });
  }

  /** Queues the half-close behind everything held; it goes out at `releaseAt` or when the data does. */
  pushEnd(releaseAt = Number.NEGATIVE_INFINITY): void {
    this.enqueue({ data: END, releaseAt, offset: 0 });
  }

  /** Re-times every held item in order (the half-close counts as 0 bytes), e.g. after an update. */
  retime(releaseAtOf: (previousReleaseAt: number, bytes: number) => number): void {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as Item;
      item.releaseAt = releaseAtOf(item.releaseAt, item.data === END ? 0 : item.data.length - item.offset);
    }
    this.restart();
  }

  /** With a pace: the next piece may go at `at` (e.g. at once, after the pace changed). */
  repace(at: number): void {
    this.notBefore = at;
    this.restart();
  }

  /** What follows has room again: carry on releasing what is due. */
  resume(): void {
    // The wait was not idle time: a paced queue goes on at its pace from now, not in a catch-up burst.
    this.notBefore = Math.max(this.notBefore, this.context.clock.now());
    this.pump();
  }

  /** Emits everything held now, in order, whatever its time, pace or congestion. */
  flush(): void {
    this.cancelTimer();
    this.pump(Number.POSITIVE_INFINITY);
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
    this.context.charge(queuedItemCostBytes);
    if (this.length === 1) this.pump();
  }

  /** The armed timer was for the old times: cancel it, or it would outlive the schedule it was for. */
  private restart(): void {
    this.cancelTimer();
    this.pump();
  }

  /** Releases what is due by now + `slackMs`; an infinite slack flushes (no pace, no congestion). */
  private pump(slackMs = 0): void {
    // A release can lead back here (emit → a congestion relief → resume): the running loop carries on.
    if (this.pumping) return;
    this.pumping = true;
    const flushing = slackMs === Number.POSITIVE_INFINITY;
    const dueBy = this.context.clock.now() + slackMs;
    let waiting = false;
    while (!this.disposed && this.head < this.items.length) {
      const item = this.items[this.head] as Item;
      const at = Math.max(item.releaseAt, this.notBefore);
      if (!flushing && at > dueBy) break;
      if (item.data === END) {
        this.release();
        this.context.end();
        continue;
      }
      if (!flushing && this.context.mustWait()) {
        waiting = true;
        break;
      }
      const available = item.data.length - item.offset;
      const bytes = flushing || !this.pace ? available : Math.min(available, this.pace.pieceBytes(available));
      if (bytes <= 0) {
        this.notBefore = Number.POSITIVE_INFINITY; // a pace that holds everything (bandwidth 0) until repace()
        break;
      }
      const piece =
        bytes === item.data.length ? item.data : item.data.subarray(item.offset, item.offset + bytes);
      item.offset += bytes;
      if (item.offset === item.data.length) this.release();
      if (this.pace && !flushing) this.notBefore = at + this.pace.gapMs(bytes);
      this.context.emit(piece);
    }
    this.pumping = false;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    // Congested: resume() restarts the release; a timer for an item already due would only spin.
    if (waiting) this.cancelTimer();
    else this.arm();
  }

  /** The head item has gone out whole. */
  private release(): void {
    this.head++;
    this.context.charge(-queuedItemCostBytes);
  }

  private arm(): void {
    const next =
      this.length === 0
        ? Number.POSITIVE_INFINITY
        : Math.max((this.items[this.head] as Item).releaseAt, this.notBefore);
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
 * releases everything at once, congestion relief resumes the queue, and disposal stops its timer.
 * It is the queue's pace: whole chunks unless a toxic cuts them (slicer, bandwidth).
 */
export abstract class QueuedStage implements ToxicStage, Pace {
  protected readonly queue: ReleaseQueue;

  constructor(
    protected readonly context: StageContext,
    protected attributes: Attributes,
  ) {
    this.queue = new ReleaseQueue(context, this);
  }

  abstract write(chunk: Buffer): void;

  pieceBytes(availableBytes: number): number {
    return availableBytes;
  }

  gapMs(_bytes: number): number {
    return 0;
  }

  end(): void {
    this.queue.pushEnd();
  }

  update(attributes: Attributes): void {
    this.attributes = attributes;
  }

  resume(): void {
    this.queue.resume();
  }

  flush(): void {
    this.queue.flush();
  }

  dispose(): void {
    this.queue.dispose();
  }
}
