import { QueuedStage } from '../release-queue.js';
import type { Attributes, ToxicKind } from '../toxic.js';

/**
 * Cuts the data into slices of `averageSizeBytes` ± `sizeVariationBytes` (uniform, at least 1), sent
 * `delayMicros` apart. An average size of 0 leaves chunks whole. Slices are cut as they go out, so
 * a held chunk costs one queue item however small its slices.
 */
class SlicerStage extends QueuedStage {
  override write(chunk: Buffer): void {
    this.queue.push(chunk, this.context.clock.now());
  }

  override update(attributes: Attributes): void {
    const delayChanged = (attributes.delayMicros ?? 0) !== (this.attributes.delayMicros ?? 0);
    this.attributes = attributes;
    // A new delay acts at once, not after the gap the old one set.
    if (delayChanged) this.queue.repace(this.context.clock.now());
  }

  override pieceBytes(availableBytes: number): number {
    const { averageSizeBytes: average = 0, sizeVariationBytes: variation = 0 } = this.attributes;
    if (average <= 0) return availableBytes;
    const jitter = variation > 0 ? this.context.random.between(-variation, variation) : 0;
    return Math.max(1, Math.round(average + jitter));
  }

  override gapMs(): number {
    return (this.attributes.delayMicros ?? 0) / 1000;
  }
}

export const slicer: ToxicKind = {
  name: 'slicer',
  summary: 'Slices data into smaller bits, optionally adding a delay between each sliced packet.',
  attributes: {
    averageSizeBytes: {
      default: 0,
      integer: true,
      unit: 'bytes',
      description: 'average slice size; 0 = no slicing',
    },
    sizeVariationBytes: {
      default: 0,
      integer: true,
      unit: 'bytes',
      description: 'slice sizes vary uniformly by ± this',
    },
    delayMicros: { default: 0, unit: 'µs', description: 'time between slices' },
  },
  create: (context, attributes) => new SlicerStage(context, attributes),
};
