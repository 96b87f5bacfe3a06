import { ReleaseQueue } from '../release-queue.js';
import type { Attributes, StageContext, ToxicKind, ToxicStage } from '../toxic.js';

/** Slices of at most this much transfer time, so the stream flows smoothly rather than in bursts. */
const sliceMs = 10;

/**
 * Limits the rate to `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy). Each byte is given a release time
 * on a schedule of rate-spaced slots that never runs ahead of real time, so idle time earns no burst.
 * A rate of 0 lets nothing through until the rate is raised or the toxic removed (as in Toxiproxy).
 */
class BandwidthStage implements ToxicStage {
  private readonly queue: ReleaseQueue;
  private nextFreeAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly context: StageContext,
    private attributes: Attributes,
  ) {
    this.queue = new ReleaseQueue(context);
  }

  write(chunk: Buffer): void {
    const rate = this.attributes.rate ?? 0;
    if (rate <= 0) {
      this.queue.push(chunk, Number.POSITIVE_INFINITY);
      return;
    }
    const bytesPerMs = rate; // rate KB/s = rate * 1000 bytes / 1000 ms
    const sliceBytes = Math.max(1, Math.floor(bytesPerMs * sliceMs));
    let at = Math.max(this.context.clock.now(), this.nextFreeAt);
    for (let offset = 0; offset < chunk.length; offset += sliceBytes) {
      const slice = chunk.subarray(offset, offset + sliceBytes);
      at += slice.length / bytesPerMs;
      this.queue.push(slice, at);
    }
    this.nextFreeAt = at;
  }

  end(): void {
    this.queue.pushEnd();
  }

  update(attributes: Attributes): void {
    const stalled = (this.attributes.rate ?? 0) <= 0;
    this.attributes = attributes;
    const rate = attributes.rate ?? 0;
    // Data stalled at rate 0 is scheduled at the new rate from now; data already timed keeps its time.
    if (stalled && rate > 0) {
      this.nextFreeAt = this.context.clock.now();
      this.queue.retime((previous, bytes) => {
        if (previous !== Number.POSITIVE_INFINITY) return previous;
        this.nextFreeAt += bytes / rate;
        return this.nextFreeAt;
      });
    }
  }

  flush(): void {
    this.queue.flush();
  }

  dispose(): void {
    this.queue.dispose();
  }
}

export const bandwidth: ToxicKind = {
  type: 'bandwidth',
  summary: 'Limits a connection to a maximum number of kilobytes per second.',
  attributes: {
    rate: { default: 0, unit: 'KB/s', description: 'rate in kilobytes (1000 bytes) per second; 0 = nothing passes' },
  },
  create: (context, attributes) => new BandwidthStage(context, attributes),
};
