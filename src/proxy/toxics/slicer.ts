import { QueuedStage } from '../release-queue.js';
import type { Attributes, ToxicKind } from '../toxic.js';

/**
 * Cuts the data into slices of `average_size` ± `size_variation` bytes (uniform, at least 1), sent
 * `delay` microseconds apart. An average size of 0 leaves chunks whole. Slices are cut as they go out, so
 * a held chunk costs one queue item however small its slices.
 */
class SlicerStage extends QueuedStage {
  override write(chunk: Buffer): void {
    this.queue.push(chunk, this.context.clock.now());
  }

  override update(attributes: Attributes): void {
    const delayChanged = (attributes.delay ?? 0) !== (this.attributes.delay ?? 0);
    this.attributes = attributes;
    // A new delay acts at once, not after the gap the old one set.
    if (delayChanged) this.queue.repace(this.context.clock.now());
  }

  override pieceBytes(availableBytes: number): number {
    const { average_size: average = 0, size_variation: variation = 0 } = this.attributes;
    if (average <= 0) return availableBytes;
    const jitter = variation > 0 ? this.context.random.between(-variation, variation) : 0;
    return Math.max(1, Math.round(average + jitter));
  }

  override gapMs(): number {
    return (this.attributes.delay ?? 0) / 1000;
  }
}

export const slicer: ToxicKind = {
  type: 'slicer',
  summary: 'Slices data into smaller bits, optionally adding a delay between each sliced packet.',
  attributes: {
    average_size: {
      param: 'averageSizeBytes',
      default: 0,
      integer: true,
      unit: 'bytes',
      description: 'average slice size; 0 = no slicing',
    },
    size_variation: {
      param: 'sizeVariationBytes',
      default: 0,
      integer: true,
      unit: 'bytes',
      description: 'slice sizes vary uniformly by ± this',
    },
    delay: { param: 'delayMicros', default: 0, unit: 'µs', description: 'time between slices' },
  },
  create: (context, attributes) => new SlicerStage(context, attributes),
};
