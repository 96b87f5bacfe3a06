import { QueuedStage } from '../release-queue.js';
import type { Attributes, ToxicKind } from '../toxic.js';

/**
 * Delays every chunk by `latency` ± `jitter` ms (uniform), counted from when the chunk arrived.
 * Order is kept: a chunk never overtakes an earlier one, as on a TCP stream.
 */
class LatencyStage extends QueuedStage {
  override write(chunk: Buffer): void {
    const { latency = 0, jitter = 0 } = this.attributes;
    const delay = jitter > 0 ? Math.max(0, latency + this.context.random.between(-jitter, jitter)) : latency;
    this.queue.push(chunk, this.context.clock.now() + delay);
  }

  override update(attributes: Attributes): void {
    const shift = (attributes.latency ?? 0) - (this.attributes.latency ?? 0);
    this.attributes = attributes;
    // Chunks already held take the new latency too (each keeps its own jitter), so lowering it takes
    // effect at once; the queue stays in order, so no chunk overtakes an earlier one.
    if (shift !== 0) this.queue.retime((releaseAt) => releaseAt + shift);
  }
}

export const latency: ToxicKind = {
  type: 'latency',
  summary: 'Adds a delay to all data going through the proxy, with optional jitter.',
  attributes: {
    latency: { param: 'latencyMs', default: 0, unit: 'ms', description: 'delay added to every chunk' },
    jitter: {
      param: 'jitterMs',
      default: 0,
      unit: 'ms',
      description: 'each delay is latency plus a uniform draw in [-jitter, +jitter]',
    },
  },
  create: (context, attributes) => new LatencyStage(context, attributes),
};
