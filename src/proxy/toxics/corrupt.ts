import { type Attributes, PassThroughStage, type StageContext, type ToxicKind } from '../toxic.js';

/**
 * Flips each bit independently with `bitFlipProbability`. Positions are drawn as geometric gaps between
 * flips, so the cost is per flipped bit, not per byte, and the rate is exact across chunk borders.
 */
class CorruptStage extends PassThroughStage {
  private bitsUntilFlip = 0;

  constructor(
    context: StageContext,
    private probability: number,
  ) {
    super(context);
    this.bitsUntilFlip = this.drawGap();
  }

  override write(chunk: Buffer): void {
    const bits = chunk.length * 8;
    let position = this.bitsUntilFlip;
    while (position < bits) {
      chunk[position >>> 3] = (chunk[position >>> 3] as number) ^ (1 << (position & 7));
      position += 1 + this.drawGap();
    }
    this.bitsUntilFlip = position - bits;
    this.context.emit(chunk);
  }

  override update(attributes: Attributes): void {
    this.probability = attributes.bitFlipProbability ?? 0;
    this.bitsUntilFlip = this.drawGap();
  }

  /** Bits that pass unflipped before the next flip: Geometric(probability). */
  private drawGap(): number {
    const p = this.probability;
    if (p <= 0) return Number.POSITIVE_INFINITY;
    if (p >= 1) return 0;
    return Math.floor(Math.log(1 - this.context.random.next()) / Math.log(1 - p));
  }
}

export const corrupt: ToxicKind = {
  name: 'corrupt',
  summary: 'Flips bits at random in the data, each bit with the given probability.',
  attributes: {
    bitFlipProbability: {
      default: 0,
      max: 1,
      unit: '0..1',
      description: 'chance that any one bit is flipped',
    },
  },
  create: (context, attributes) => new CorruptStage(context, attributes.bitFlipProbability ?? 0),
};
