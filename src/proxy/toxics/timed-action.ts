import type { TimerHandle } from '../../core/clock.js';
import type { Attributes, StageContext, ToxicStage } from '../toxic.js';

/**
 * A stage that lets data through and acts on the connection once, `delayMs(attributes)` after the
 * toxic took effect on it (at accept for new connections, at once for live ones). An update re-arms
 * the timer from the original start.
 */
export class TimedActionStage implements ToxicStage {
  private readonly startedAt: number;
  private timer: TimerHandle | undefined;

  constructor(
    protected readonly context: StageContext,
    private readonly delayMs: (attributes: Attributes) => number,
    private readonly action: () => void,
    attributes: Attributes,
  ) {
    this.startedAt = context.clock.now();
    this.arm(attributes);
  }

  write(chunk: Buffer): void {
    this.context.emit(chunk);
  }

  end(): void {
    this.context.end();
  }

  update(attributes: Attributes): void {
    this.arm(attributes);
  }

  flush(): void {}

  dispose(): void {
    if (this.timer !== undefined) this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(attributes: Attributes): void {
    this.dispose();
    const remaining = this.startedAt + this.delayMs(attributes) - this.context.clock.now();
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      this.action();
    }, remaining);
  }
}
