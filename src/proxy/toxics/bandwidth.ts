import { QueuedStage } from '../release-queue.js';
import type { Attributes, ToxicKind } from '../toxic.js';

/** Slices of at most this much transfer time, so the stream flows smoothly rather than in bursts. */
const sliceMs = 10;

/**
 * Limits the rate to `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy). Each byte is given a release time
 * on a schedule of rate-spaced slots that never runs ahead of real time, so idle time earns no burst.
 * A rate of 0 lets nothing through until the rate is raised or the toxic removed (as in Toxiproxy).
 */
class BandwidthStage extends QueuedStage {
  private nextFreeAt = Number.NEGATIVE_INFINITY;

  override write(chunk: Buffer): void {
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

  override update(attributes: Attributes): void {
    const previousRate = this.attributes.rate ?? 0;
    this.attributes = attributes;
    const rate = attributes.rate ?? 0;
    if (rate === previousRate) return;
    // A new rate acts at once: everything still held is rescheduled at the new rate from now (at rate 0
    // it stalls), rather than draining the backlog at the old rate first.
    if (rate <= 0) {
      this.queue.retime((previous, bytes) => (bytes === 0 ? previous : Number.POSITIVE_INFINITY));
      this.nextFreeAt = Number.NEGATIVE_INFINITY;
      return;
    }
    let at = this.context.clock.now();
    this.queue.retime((previous, bytes) => {
      if (bytes === 0) return previous; // the half-close: FIFO keeps it behind the data anyway
      at += bytes / rate;
      return at;
    });
    this.nextFreeAt = at;
  }
}

export const bandwidth: ToxicKind = {
  type: 'bandwidth',
  summary: 'Limits a connection to a maximum number of kilobytes per second.',
  attributes: {
    rate: {
      default: 0,
      unit: 'KB/s',
      description: 'rate in kilobytes (1000 bytes) per second; 0 = nothing passes',
    },
  },
  create: (context, attributes) => new BandwidthStage(context, attributes),
};
