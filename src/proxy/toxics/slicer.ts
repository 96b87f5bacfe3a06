import { QueuedStage } from '../release-queue.js';
import type { ToxicKind } from '../toxic.js';

/**
 * Cuts every chunk into slices of `average_size` ± `size_variation` bytes (uniform, at least 1),
 * sent `delay` microseconds apart. An average size of 0 leaves chunks whole.
 */
class SlicerStage extends QueuedStage {
  private nextAt = Number.NEGATIVE_INFINITY;

  override write(chunk: Buffer): void {
    const { average_size: average = 0, size_variation: variation = 0, delay = 0 } = this.attributes;
    const gapMs = delay / 1000;
    let at = Math.max(this.context.clock.now(), this.nextAt);
    let offset = 0;
    while (offset < chunk.length) {
      const size =
        average <= 0
          ? chunk.length
          : Math.max(
              1,
              Math.round(average + (variation > 0 ? this.context.random.between(-variation, variation) : 0)),
            );
      this.queue.push(chunk.subarray(offset, offset + size), at);
      offset += size;
      at += gapMs;
    }
    this.nextAt = at;
  }
}

export const slicer: ToxicKind = {
  type: 'slicer',
  summary: 'Slices data into smaller bits, optionally adding a delay between each sliced packet.',
  attributes: {
    average_size: {
      default: 0,
      integer: true,
      unit: 'bytes',
      description: 'average slice size; 0 = no slicing',
    },
    size_variation: {
      default: 0,
      integer: true,
      unit: 'bytes',
      description: 'slice sizes vary uniformly by ± this',
    },
    delay: { default: 0, unit: 'µs', description: 'time between slices' },
  },
  create: (context, attributes) => new SlicerStage(context, attributes),
};
