import { QueuedStage } from '../release-queue.js';
import type { Attributes, ToxicKind } from '../toxic.js';

/**
 * Makes a new connection slow to open: nothing passes in its direction until `delayMs` after the
 * connection was accepted, and on the upstream stream the connection to the upstream itself is only
 * opened then. The delay counts from accept, so a connection open for longer than `delayMs` when the
 * toxic is added is not affected (one opened more recently waits out the rest).
 */
class SlowOpenStage extends QueuedStage {
  private get openAt(): number {
    return this.context.acceptedAt + (this.attributes.delayMs ?? 0);
  }

  override write(chunk: Buffer): void {
    this.queue.push(chunk, this.openAt);
  }

  override end(): void {
    this.queue.pushEnd(this.openAt);
  }

  override update(attributes: Attributes): void {
    this.attributes = attributes;
    this.queue.retime(() => this.openAt);
  }
}

export const slowOpen: ToxicKind = {
  name: 'slow-open',
  summary: 'Delays connection establishment: no data passes until delayMs after the connection is accepted.',
  attributes: {
    delayMs: { default: 0, unit: 'ms', description: 'time from accept until data may pass' },
  },
  openDelayMs: (attributes) => attributes.delayMs ?? 0,
  create: (context, attributes) => new SlowOpenStage(context, attributes),
};
