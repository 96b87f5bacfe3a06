import type { TimerHandle } from '../../core/clock.js';
import { ReleaseQueue } from '../release-queue.js';
import type { Attributes, StageContext, ToxicKind, ToxicStage } from '../toxic.js';

/**
 * A blackhole: no data gets through. The data is held (bounded by the pipe's budget, so the sender
 * sees its window fill, as on a dead network path), and delivered if the toxic is removed. With
 * `timeout` > 0 the connection is closed that long after the toxic took effect; with 0 it stays open.
 */
class TimeoutStage implements ToxicStage {
  private readonly queue: ReleaseQueue;
  private readonly startedAt: number;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly context: StageContext,
    attributes: Attributes,
  ) {
    this.queue = new ReleaseQueue(context);
    this.startedAt = context.clock.now();
    this.arm(attributes);
  }

  write(chunk: Buffer): void {
    this.queue.push(chunk, Number.POSITIVE_INFINITY);
  }

  end(): void {
    this.queue.pushEnd(Number.POSITIVE_INFINITY);
  }

  update(attributes: Attributes): void {
    this.arm(attributes);
  }

  flush(): void {
    this.queue.flush();
  }

  dispose(): void {
    this.disarm();
    this.queue.dispose();
  }

  private arm(attributes: Attributes): void {
    this.disarm();
    const timeout = attributes.timeout ?? 0;
    if (timeout <= 0) return;
    this.timer = this.context.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.context.close();
      },
      this.startedAt + timeout - this.context.clock.now(),
    );
  }

  private disarm(): void {
    if (this.timer !== undefined) this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export const timeout: ToxicKind = {
  type: 'timeout',
  summary: 'Stops all data from getting through; closes the connection after timeout (0 = never).',
  attributes: {
    timeout: { default: 0, unit: 'ms', description: 'time until the connection is closed; 0 keeps it open' },
  },
  create: (context, attributes) => new TimeoutStage(context, attributes),
};
