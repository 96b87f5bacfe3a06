import type { Attributes, StageContext, ToxicKind, ToxicStage } from '../toxic.js';
import { DueTimer } from './due-timer.js';

/** Passes data at once but holds the half-close (FIN) for `delayMs`. */
class SlowCloseStage implements ToxicStage {
  private readonly timer: DueTimer;
  private endedAt: number | undefined;

  constructor(
    private readonly context: StageContext,
    private attributes: Attributes,
  ) {
    this.timer = new DueTimer(context.clock);
  }

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
    if (this.timer.armed) this.arm();
  }

  private arm(): void {
    this.timer.arm(this.endedAt ?? 0, this.attributes.delayMs ?? 0, () => this.context.end());
  }

  flush(): void {
    if (!this.timer.armed) return;
    this.timer.cancel();
    this.context.end();
  }

  dispose(): void {
    this.timer.cancel();
  }
}

export const slowClose: ToxicKind = {
  name: 'slow-close',
  summary: 'Delays the TCP socket from closing until delayMs has elapsed.',
  attributes: {
    delayMs: { default: 0, unit: 'ms', description: 'how long the close is held' },
  },
  create: (context, attributes) => new SlowCloseStage(context, attributes),
};
