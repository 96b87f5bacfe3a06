import { QueuedStage } from '../release-queue.js';
import type { Attributes, ToxicKind } from '../toxic.js';

/**
 * Delays every chunk by `latencyMs` ± `jitterMs` (uniform), counted from when the chunk arrived.
 * Order is kept: a chunk never overtakes an earlier one, as on a TCP stream.
 */
class LatencyStage extends QueuedStage {
  override write(chunk: Buffer): void {
    const { latencyMs = 0, jitterMs = 0 } = this.attributes;
    const delay =
      jitterMs > 0 ? Math.max(0, latencyMs + this.context.random.between(-jitterMs, jitterMs)) : latencyMs;
    this.queue.push(chunk, this.context.clock.now() + delay);
  }

  override update(attributes: Attributes): void {
    const shift = (attributes.latencyMs ?? 0) - (this.attributes.latencyMs ?? 0);
    this.attributes = attributes;
    // Chunks already held take the new latency too (each keeps its own jitter), so lowering it takes
    // effect at once; the queue stays in order, so no chunk overtakes an earlier one.
    if (shift !== 0) this.queue.retime((releaseAt) => releaseAt + shift);
  }
}

export const latency: ToxicKind = {
  name: 'latency',
  summary: 'Adds a delay to all data going through the proxy, with optional jitter.',
  attributes: {
    latencyMs: { default: 0, unit: 'ms', description: 'delay added to every chunk' },
    jitterMs: {
      default: 0,
      unit: 'ms',
      description: 'each delay is latencyMs plus a uniform draw in [-jitterMs, +jitterMs]',
    },
  },
  create: (context, attributes) => new LatencyStage(context, attributes),
};
