import type { Attributes, StageContext, ToxicStage } from '../toxic.js';
import { DueTimer } from './due-timer.js';

/**
 * A stage that lets data through and acts on the connection once, `delayMs(attributes)` after the
 * toxic took effect on it (at accept for new connections, at once for live ones); a delay of
 * `undefined` means never. An update re-arms the timer from the original start.
 */
export class TimedActionStage implements ToxicStage {
  private readonly startedAt: number;
  private readonly timer: DueTimer;

  constructor(
    protected readonly context: StageContext,
    private readonly delayMs: (attributes: Attributes) => number | undefined,
    private readonly action: () => void,
    attributes: Attributes,
  ) {
    this.startedAt = context.clock.now();
    this.timer = new DueTimer(context.clock);
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
    this.timer.cancel();
  }

  private arm(attributes: Attributes): void {
    const delay = this.delayMs(attributes);
    if (delay === undefined) this.timer.cancel();
    else this.timer.arm(this.startedAt, delay, this.action);
  }
}
