/**
 * A finished span as plain data, whoever made it: the run's own tracer (`RunTracer.finishedSpans()`)
 * or a target, whose spans reach the run through the OTLP receiver. Span expectations read this form.
 */
export type SpanAttributeValue = string | number | boolean | readonly (string | number | boolean)[];
export type SpanAttributes = Readonly<Record<string, SpanAttributeValue>>;

export interface SpanEventRecord {
  readonly name: string;
  /** Wall-clock ms since the Unix epoch (fractions kept). */
  readonly atMs: number;
  readonly attributes: SpanAttributes;
}

export interface SpanRecord {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** Absent on a root span. */
  readonly parentSpanId?: string;
  readonly name: string;
  /** Wall-clock ms since the Unix epoch (fractions kept). */
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: SpanAttributes;
  readonly status: { readonly code: 'unset' | 'ok' | 'error'; readonly message?: string };
  readonly events: readonly SpanEventRecord[];
  /** The resource's `service.name`, when it has one. */
  readonly serviceName?: string;
  /** The instrumentation scope that made it. */
  readonly scope: string;
}

/** `[seconds, nanoseconds]` (OpenTelemetry's HrTime) as fractional ms. */
export function hrTimeToMs(time: readonly [number, number]): number {
  return time[0] * 1000 + time[1] / 1e6;
}

/** Nanoseconds since the epoch (a decimal string or bigint, as OTLP carries them) as fractional ms. */
export function unixNanoToMs(nanos: bigint | string | number): number {
  const value = BigInt(nanos);
  return Number(value / 1_000_000n) + Number(value % 1_000_000n) / 1e6;
}
