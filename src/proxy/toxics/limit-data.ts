import type { Attributes, StageContext, ToxicKind, ToxicStage } from '../toxic.js';

/**
 * Passes exactly `limitBytes` bytes in its direction, then closes the connection: right after the chunk that
 * reaches the limit, as Toxiproxy. With `limitBytes` 0 the connection closes on the first data, not at once.
 * Lowering the limit below what already passed closes the connection at once.
 */
class LimitDataStage implements ToxicStage {
  private transmitted = 0;
  private closed = false;

  constructor(
    private readonly context: StageContext,
    private attributes: Attributes,
  ) {}

  write(chunk: Buffer): void {
    if (this.closed) {
      this.context.drop(chunk.length);
      return;
    }
    const remaining = (this.attributes.limitBytes ?? 0) - this.transmitted;
    const passed = remaining < chunk.length ? chunk.subarray(0, remaining) : chunk;
    if (passed.length < chunk.length) this.context.drop(chunk.length - passed.length);
    this.transmitted += passed.length;
    if (passed.length > 0) this.context.emit(passed);
    this.closeIfSpent();
  }

  end(): void {
    this.context.end();
  }

  update(attributes: Attributes): void {
    this.attributes = attributes;
    // Only a limit that data has already reached closes here; an untouched connection waits for data.
    if (this.transmitted > 0) this.closeIfSpent();
  }

  flush(): void {}

  dispose(): void {
    this.closed = true;
  }

  private closeIfSpent(): void {
    if (this.closed || this.transmitted < (this.attributes.limitBytes ?? 0)) return;
    this.closed = true;
    this.context.close();
  }
}

export const limitData: ToxicKind = {
  name: 'limit-data',
  summary: 'Closes the connection once the given number of bytes has passed in its direction.',
  attributes: {
    limitBytes: {
      default: 0,
      integer: true,
      unit: 'bytes',
      description: 'bytes let through before closing',
    },
  },
  create: (context, attributes) => new LimitDataStage(context, attributes),
};
