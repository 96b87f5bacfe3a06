import type { Clock, TimerHandle } from '../../core/clock.js';

/** One pending action, due `delayMs` after `from` on the stage's clock; arming again replaces it. */
export class DueTimer {
  private timer: TimerHandle | undefined;

  constructor(private readonly clock: Clock) {}

  get armed(): boolean {
    return this.timer !== undefined;
  }

  arm(from: number, delayMs: number, action: () => void): void {
    this.cancel();
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        action();
      },
      from + delayMs - this.clock.now(),
    );
  }

  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
