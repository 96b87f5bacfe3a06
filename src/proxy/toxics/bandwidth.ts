import { QueuedStage } from '../release-queue.js';
import type { Attributes, ToxicKind } from '../toxic.js';

/** Slices of at most this much transfer time, so the stream flows smoothly rather than in bursts. */
const sliceMs = 10;

/**
 * Limits the rate to `rateKBPerSec` (1 KB = 1000 bytes, as Toxiproxy): data goes out in slices of at most
 * `sliceMs` of transfer time, each followed by its transfer time, on a schedule that never runs ahead of
 * real time, so idle time earns no burst. Slices are cut as they go out, so a held chunk costs one queue
 * item at any rate. A rate of 0 lets nothing through until the rate is raised or the toxic removed (as in
 * Toxiproxy).
 */
class BandwidthStage extends QueuedStage {
  override write(chunk: Buffer): void {
    this.queue.push(chunk, this.context.clock.now());
  }

  override pieceBytes(availableBytes: number): number {
    const bytesPerMs = this.attributes.rateKBPerSec ?? 0; // KB/s = 1000 bytes / 1000 ms
    return bytesPerMs <= 0 ? 0 : Math.min(availableBytes, Math.max(1, Math.floor(bytesPerMs * sliceMs)));
  }

  override gapMs(bytes: number): number {
    return bytes / (this.attributes.rateKBPerSec as number);
  }

  override update(attributes: Attributes): void {
    const previousRate = this.attributes.rateKBPerSec ?? 0;
    this.attributes = attributes;
    // A new rate acts at once: what is still held goes on at the new rate from now (at rate 0 it stalls),
    // rather than draining the backlog at the old rate first.
    if ((attributes.rateKBPerSec ?? 0) !== previousRate) this.queue.repace(this.context.clock.now());
  }
}

export const bandwidth: ToxicKind = {
  name: 'bandwidth',
  summary: 'Limits a connection to a maximum number of kilobytes per second.',
  attributes: {
    rateKBPerSec: {
      default: 0,
      unit: 'KB/s',
      description: 'rate in kilobytes (1000 bytes) per second; 0 = nothing passes',
    },
  },
  create: (context, attributes) => new BandwidthStage(context, attributes),
};
