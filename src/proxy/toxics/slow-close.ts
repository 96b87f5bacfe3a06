import type { TimerHandle } from '../../core/clock.js';
import type { Attributes, StageContext, ToxicKind, ToxicStage } from '../toxic.js';

/** Passes data at once but holds the half-close (FIN) for `delay` ms. */
class SlowCloseStage implements ToxicStage {
  private timer: TimerHandle | undefined;
  private endedAt: number | undefined;

  constructor(
    private readonly context: StageContext,
    private attributes: Attributes,
  ) {}

  write(chunk: Buffer): void {
    this.context.emit(chunk);
  }

  end(): void {
    this.endedAt = this.context.clock.now();
    this.arm();
  }

  update(attributes: Attributes): void {
    this.attributes = attributes;
    // A held FIN is re-timed from when it arrived, with the new delay.
    if (this.timer !== undefined) this.arm();
  }

  private arm(): void {
    this.dispose();
    const due = (this.endedAt ?? 0) + (this.attributes.delay ?? 0);
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      this.context.end();
    }, due - this.context.clock.now());
  }

  flush(): void {
    if (this.timer === undefined) return;
    this.dispose();
    this.context.end();
  }

  dispose(): void {
    if (this.timer !== undefined) this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export const slowClose: ToxicKind = {
  type: 'slow_close',
  summary: 'Delays the TCP socket from closing until delay has elapsed.',
  attributes: { delay: { default: 0, unit: 'ms', description: 'how long the close is held' } },
  create: (context, attributes) => new SlowCloseStage(context, attributes),
};
