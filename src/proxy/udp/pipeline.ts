import type { Clock } from '../../core/clock.js';
import type { Random } from '../../core/random.js';
import { DelayStage } from './delay.js';
import type { Held } from './held.js';
import type { UdpImpairments } from './impairments.js';
import { LossStage } from './loss.js';
import { RateStage } from './rate.js';
import { ReorderStage } from './reorder.js';

/** Counters of one direction. `dropped` counts every datagram that did not go out (loss, blackhole,
 * queue overflow, a session gone before release, a session whose socket could not be opened);
 * `queueDropped` is the share of it due to a full queue, `sessionDropped` the share due to a session
 * whose upstream socket could not be opened (EMFILE and the like; upstream only). */
export interface UdpCounters {
  received: number;
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  queueDropped: number;
  sessionDropped: number;
}

/** Bounds of the queues a direction holds, whatever the impairments (rate's own is `queueBytes`). */
export const queueLimits = {
  delayDatagrams: 16_384,
  delayBytes: 16 * 1024 * 1024,
  reorderHeld: 1024,
  reorderHoldMs: 100,
} as const;

/**
 * Sends a released datagram to its target: true if it went out, false if it is lost (the target is
 * gone), `'no-session'` if it is lost because the target is a session whose socket could not be opened
 * (counted in `sessionDropped` too), `'pending'` if the target holds it for now (a session whose socket
 * is still being opened) and will account for it later through `DirectionPipeline.settle`.
 */
export type Deliver<T> = (data: Buffer, target: T) => boolean | 'pending' | 'no-session';

export function zeroCounters(): UdpCounters {
  return {
    received: 0,
    forwarded: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    queueDropped: 0,
    sessionDropped: 0,
  };
}

/**
 * The impairments of one direction, applied to each datagram in this order:
 * blackhole → loss → corrupt → duplicate → rate → delay/jitter → reorder.
 * Each random decision draws from its own stream forked from the direction's, so the same seed and the
 * same datagram order give the same decisions, whichever other impairments are set.
 */
export class DirectionPipeline<T> {
  readonly counters: UdpCounters = zeroCounters();
  private config: UdpImpairments = {};
  private clean = true;
  private readonly loss: LossStage;
  private readonly corruptRandom: Random;
  private readonly duplicateRandom: Random;
  private readonly rate: RateStage<T>;
  private readonly delay: DelayStage<T>;
  private readonly reorder: ReorderStage<T>;
  /** Datagrams released to targets that hold them for now (`'pending'`), not yet settled. */
  private pending = 0;

  constructor(
    random: Random,
    clock: Clock,
    private readonly deliver: Deliver<T>,
  ) {
    const overflow = (): void => {
      this.counters.dropped++;
      this.counters.queueDropped++;
    };
    this.loss = new LossStage(random.fork('loss'));
    this.corruptRandom = random.fork('corrupt');
    this.duplicateRandom = random.fork('duplicate');
    this.reorder = new ReorderStage(
      clock,
      random.fork('reorder'),
      this.emit,
      { held: queueLimits.reorderHeld, holdMs: queueLimits.reorderHoldMs },
      () => this.counters.reordered++,
    );
    this.delay = new DelayStage(
      clock,
      random.fork('delay'),
      (item) => this.reorder.push(item),
      { datagrams: queueLimits.delayDatagrams, bytes: queueLimits.delayBytes },
      overflow,
    );
    this.rate = new RateStage(clock, (item) => this.delay.push(item), overflow);
  }

  get impairments(): UdpImpairments {
    return this.config;
  }

  /** Datagrams held inside the stages now, or by their targets until they settle. */
  get queued(): number {
    return this.rate.size + this.delay.size + this.reorder.size + this.pending;
  }

  /**
   * Accounts for datagrams a target held (`'pending'`) and has now sent (`forwarded`) or lost
   * (`dropped`, of which `sessionDropped` because the target's socket could not be opened).
   */
  settle(forwarded: number, dropped: number, sessionDropped = 0): void {
    const counters = this.counters;
    this.pending -= forwarded + dropped;
    counters.forwarded += forwarded;
    counters.dropped += dropped;
    counters.sessionDropped += sessionDropped;
  }

  /**
   * Replaces the impairments (already validated). Acts at once: a stage that is removed releases what
   * it holds into the stages after it, in pipeline order.
   */
  configure(impairments: UdpImpairments): void {
    const previous = this.config;
    this.config = impairments;
    this.clean = Object.keys(impairments).every(
      (key) => key === 'blackhole' && impairments.blackhole === false,
    );
    this.loss.configure(previous.loss, impairments.loss);
    this.rate.configure(impairments.rate);
    this.delay.configure(impairments.delay);
    this.reorder.configure(impairments.reorder);
  }

  push(data: Buffer, target: T): void {
    const counters = this.counters;
    counters.received++;
    if (this.clean) {
      this.emit({ data, target });
      return;
    }
    const config = this.config;
    if (config.blackhole === true || (config.loss !== undefined && this.loss.drops(config.loss))) {
      counters.dropped++;
      return;
    }
    // From here a datagram may be held or changed: it gets bytes of its own, so it never pins (or
    // alters) the receive batch it arrived in.
    data = Buffer.from(data);
    if (
      config.corrupt !== undefined &&
      data.length > 0 &&
      this.corruptRandom.chance(config.corrupt.probability)
    ) {
      const bit = this.corruptRandom.int(data.length * 8);
      data[bit >> 3] = (data[bit >> 3] as number) ^ (1 << (bit & 7));
      counters.corrupted++;
    }
    let copies = 1;
    if (config.duplicate !== undefined && this.duplicateRandom.chance(config.duplicate.probability)) {
      const extra = config.duplicate.copies ?? 1;
      copies += extra;
      counters.duplicated += extra;
    }
    const item = { data, target };
    for (let i = 0; i < copies; i++) this.rate.push(item);
  }

  /** Drops everything held and cancels every timer (the proxy is stopping). */
  reset(): void {
    this.rate.reset();
    this.delay.reset();
    this.reorder.reset();
  }

  private emit = (item: Held<T>): void => {
    const result = this.deliver(item.data, item.target);
    if (result === true) this.counters.forwarded++;
    else if (result === false) this.counters.dropped++;
    else if (result === 'pending') this.pending++;
    else {
      this.counters.dropped++;
      this.counters.sessionDropped++;
    }
  };
}
