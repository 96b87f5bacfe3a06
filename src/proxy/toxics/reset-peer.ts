import type { Attributes, StageContext, ToxicKind, ToxicStage } from '../toxic.js';
import { DueTimer } from './due-timer.js';

/**
 * As Toxiproxy: waits for the first data (or the half-close) in its direction, discards it, and
 * `timeoutMs` later resets the connection — TCP RST on both sides, so peers see ECONNRESET.
 */
class ResetPeerStage implements ToxicStage {
  private triggeredAt: number | undefined;
  private readonly timer: DueTimer;

  constructor(
    private readonly context: StageContext,
    private attributes: Attributes,
  ) {
    this.timer = new DueTimer(context.clock);
  }

  write(chunk: Buffer): void {
    this.context.drop(chunk.length);
    this.trigger();
  }

  end(): void {
    this.trigger();
  }

  update(attributes: Attributes): void {
    this.attributes = attributes;
    if (this.triggeredAt !== undefined) this.arm();
  }

  flush(): void {}

  dispose(): void {
    this.timer.cancel();
  }

  private trigger(): void {
    if (this.triggeredAt !== undefined) return;
    this.triggeredAt = this.context.clock.now();
    this.arm();
  }

  private arm(): void {
    this.timer.arm(this.triggeredAt as number, this.attributes.timeoutMs ?? 0, () => this.context.reset());
  }
}

export const resetPeer: ToxicKind = {
  name: 'reset-peer',
  summary:
    'Resets the connection (TCP RST, "connection reset by peer") once data arrives, after an optional timeout.',
  attributes: {
    timeoutMs: {
      default: 0,
      unit: 'ms',
      description: 'time from the first data until the reset',
    },
  },
  create: (context, attributes) => new ResetPeerStage(context, attributes),
};
