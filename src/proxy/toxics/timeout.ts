import { ReleaseQueue } from '../release-queue.js';
import type { Attributes, StageContext, ToxicKind } from '../toxic.js';
import { TimedActionStage } from './timed-action.js';

/**
 * A blackhole: no data gets through. The data is held (bounded by the pipe's budget, so the sender
 * sees its window fill, as on a dead network path), and delivered if the toxic is removed. With
 * `timeoutMs` > 0 the connection is closed that long after the toxic took effect; with 0 it stays open.
 */
class TimeoutStage extends TimedActionStage {
  private readonly queue = new ReleaseQueue(this.context);

  constructor(context: StageContext, attributes: Attributes) {
    super(
      context,
      (current) => ((current.timeoutMs ?? 0) > 0 ? current.timeoutMs : undefined),
      () => context.close(),
      attributes,
    );
  }

  override write(chunk: Buffer): void {
    this.queue.push(chunk, Number.POSITIVE_INFINITY);
  }

  override end(): void {
    this.queue.pushEnd(Number.POSITIVE_INFINITY);
  }

  override flush(): void {
    this.queue.flush();
  }

  override dispose(): void {
    super.dispose();
    this.queue.dispose();
  }
}

export const timeout: ToxicKind = {
  name: 'timeout',
  summary: 'Stops all data from getting through; closes the connection after timeoutMs (0 = never).',
  attributes: {
    timeoutMs: {
      default: 0,
      unit: 'ms',
      description: 'time until the connection is closed; 0 keeps it open',
    },
  },
  create: (context, attributes) => new TimeoutStage(context, attributes),
};
