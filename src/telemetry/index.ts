/**
 * telemetry/'s surface for its neighbours: they import these from here, never its modules. The
 * OpenTelemetry SDK is loaded only by `startRunTracer` (a dynamic import), so a command or a library
 * user that does not trace never loads it.
 */
import type { RunTracer, RunTracerOptions } from './run-tracer.js';

export {
  evaluateExpectations,
  expectationName,
  type SpanExpectation,
  type SpanExpectations,
  type SpanSources,
} from './expectations.js';
export {
  defaultOtlpTimeoutMs,
  type OtlpExport,
  type OtlpProtocol,
  otlpProtocols,
  type TelemetryEnv,
  type TraceExport,
  type TraceExporterName,
  traceExportFromEnv,
} from './export-config.js';
export { decodeProtobufTraces } from './otlp-protobuf.js';
export {
  decodeJsonTraces,
  type OtlpReceiver,
  type OtlpReceiverOptions,
  startOtlpReceiver,
} from './otlp-receiver.js';
export type { RunTracer, RunTracerOptions, TracerCloseResult } from './run-tracer.js';
export type { SpanAttributes, SpanAttributeValue, SpanEventRecord, SpanRecord } from './span-record.js';

/**
 * A tracer that turns the Events of the runs that follow into OpenTelemetry spans (see `RunTracer`),
 * exported as OTEL_* say; pass it to `runScenario` (`{ tracer }`) so targets
 * join the trace, and `close()` it after the run.
 */
export async function startRunTracer(options: RunTracerOptions = {}): Promise<RunTracer> {
  const { RunTracer } = await import('./run-tracer.js');
  return new RunTracer(options);
}
