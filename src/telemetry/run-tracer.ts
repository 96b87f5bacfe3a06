import { clearTimeout, setTimeout } from 'node:timers';
import {
  type Attributes,
  type AttributeValue,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { type Clock, realClock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import { type EventOf, type EventType, type FaultlineEvent, subscribe } from '../core/events.js';
import { journalLine } from '../report/index.js';
import { type TelemetryEnv, type TraceExport, traceExportFromEnv } from './export-config.js';
import { hrTimeToMs, type SpanRecord } from './span-record.js';

/**
 * Turns the Events of runs into OpenTelemetry spans with the real SDK, timed by the events themselves:
 * `faultline.run` (root, one trace per run) → `faultline.phase` → `faultline.fault` (inject → heal),
 * `faultline.probe` (a probe's status *change*, not every poll), `faultline.check`; cleanup outcomes are
 * events of the cleanup phase span. Ops are never traced: spans cost per fault, probe change and check.
 * Finished spans are kept in memory (bounded) for span expectations, and exported as the standard
 * OTEL_* variables say — with none set, no exporter exists and nothing touches the network.
 * One tracer follows one run at a time (events carry no run id); runs in sequence each get their trace.
 */
export interface RunTracerOptions {
  /** Read for the export when `export` is not given; default `process.env`. */
  readonly env?: TelemetryEnv;
  readonly export?: TraceExport;
  /** The run's clock: events' `atMs` are on it. Default the real clock. */
  readonly clock?: Clock;
  /** Finished spans kept in memory; later ones are counted, not kept. Default 10,000. */
  readonly maxSpans?: number;
  /** Where a failed export is said (one line). Default stderr. */
  readonly warn?: (line: string) => void;
}

export interface TracerCloseResult {
  /** False when an export failed or the flush ran out of time; `error` says why. */
  readonly exported: boolean;
  readonly error?: string;
}

/** The span names a run makes. */
export const spanNames = {
  run: 'faultline.run',
  phase: 'faultline.phase',
  fault: 'faultline.fault',
  probe: 'faultline.probe',
  check: 'faultline.check',
} as const;

const tracedEvents: readonly EventType[] = [
  'run',
  'phase',
  'fault.inject',
  'fault.heal',
  'probe',
  'check',
  'cleanup',
];
/** Faults in force at once, probes followed and anomalies per check span: bounds on what one run holds. */
const maxOpenFaults = 10_000;
const maxProbes = 1_000;
const maxAnomalyEvents = 20;
const maxAttributeChars = 4_096;

interface RunState {
  readonly root: Span;
  readonly rootContext: Context;
  readonly phases: { name: string; span: Span; context: Context }[];
  readonly faults: Map<number, Span>;
  readonly probes: Map<string, boolean>;
  /** When the next check began: the end of the one before, or the checks phase's start. */
  checkFrom: number;
}

export class RunTracer {
  readonly export: TraceExport;
  private readonly clock: Clock;
  private readonly provider: TracerProvider;
  private readonly tracer: ReturnType<TracerProvider['getTracer']>;
  private readonly kept: ReadableSpan[] = [];
  private readonly maxSpans: number;
  private readonly warn: (line: string) => void;
  private readonly unsubscribe: () => void;
  private exportError: string | undefined;
  private run: RunState | undefined;
  private lastTraceparent: string | undefined;
  private anchor = { atMs: 0, wallMs: 0 };
  private droppedSpans = 0;
  private closed: Promise<TracerCloseResult> | undefined;

  constructor(options: RunTracerOptions = {}) {
    this.export = options.export ?? traceExportFromEnv(options.env);
    this.clock = options.clock ?? realClock;
    this.maxSpans = options.maxSpans ?? 10_000;
    this.warn = options.warn ?? ((line) => process.stderr.write(`${line}\n`));
    this.anchor = { atMs: this.clock.now(), wallMs: this.clock.wallNow() };
    const keeper: SpanProcessor = {
      onStart: () => {},
      onEnd: (span) => {
        if (this.kept.length < this.maxSpans) this.kept.push(span);
        else this.droppedSpans++;
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: this.export.serviceName }),
      spanProcessors: [keeper, ...this.exportProcessors()],
      spanLimits: { attributeValueLengthLimit: maxAttributeChars, eventCountLimit: 128 },
    });
    this.tracer = this.provider.getTracer('faultline');
    this.unsubscribe = subscribe((event) => this.onEvent(event), tracedEvents);
  }

  /**
   * The W3C `traceparent` of the run in progress (its root span), for targets' environment
   * (`TRACEPARENT`) so their spans join the run's trace; after a run, the last run's.
   */
  traceparent(): string | undefined {
    return this.lastTraceparent;
  }

  /** Every span finished so far (at most `maxSpans`), oldest first, as plain records. */
  finishedSpans(): SpanRecord[] {
    return this.kept.map(toRecord);
  }

  /**
   * The finished spans and, while a run is in progress, its root span as it is now (ended now): span
   * expectations are checked after cleanup, before the root span ends.
   */
  spansSoFar(): SpanRecord[] {
    const open = this.run?.root as unknown as ReadableSpan | undefined;
    if (open === undefined) return this.finishedSpans();
    const endMs = hrTimeToMs(this.time(this.clock.now()));
    return [...this.finishedSpans(), { ...toRecord(open), endMs }];
  }

  /** Spans finished after `maxSpans` were kept, counted only. */
  get dropped(): number {
    return this.droppedSpans;
  }

  /**
   * Stops following events, ends what a run left open, and flushes the exporters within their timeout
   * (OTEL_EXPORTER_OTLP_TIMEOUT): an endpoint that refuses or hangs costs at most that, and is said in
   * one warning line. Idempotent.
   */
  close(): Promise<TracerCloseResult> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private exportProcessors(): SpanProcessor[] {
    const processors: SpanProcessor[] = [];
    const { otlp } = this.export;
    if (this.export.exporters.includes('console'))
      processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
    if (otlp !== undefined) {
      const config = { url: otlp.url, headers: { ...otlp.headers }, timeoutMillis: otlp.timeoutMs };
      const exporter =
        otlp.protocol === 'http/json' ? new OtlpJsonExporter(config) : new OtlpProtobufExporter(config);
      processors.push(
        new BatchSpanProcessor({
          exporter: this.noticingFailures(exporter),
          exportTimeoutMillis: otlp.timeoutMs,
          scheduledDelayMillis: 1_000,
          maxQueueSize: 4_096,
          maxExportBatchSize: 512,
        }),
      );
    }
    return processors;
  }

  /** The exporter, with its failures remembered for the warning at close. */
  private noticingFailures(exporter: SpanExporter): SpanExporter {
    return {
      export: (spans, done) =>
        exporter.export(spans, (result) => {
          if (result.code !== 0)
            this.exportError ??= result.error === undefined ? 'failed' : messageOf(result.error);
          done(result);
        }),
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
  }

  private async shutdown(): Promise<TracerCloseResult> {
    this.unsubscribe();
    if (this.run !== undefined) this.endRun(this.clock.now(), 'the tracer closed during the run');
    const boundMs = (this.export.otlp?.timeoutMs ?? 1_000) + 500;
    const flushed = await within(this.provider.forceFlush(), boundMs);
    // After a flush that ran out of time the exporter may still wait on its request: do not wait again.
    if (flushed) await within(this.provider.shutdown(), boundMs);
    else void this.provider.shutdown().catch(() => {});
    if (this.export.otlp === undefined) return { exported: true };
    const error = flushed ? this.exportError : (this.exportError ?? `no answer within ${boundMs} ms`);
    if (error === undefined) return { exported: true };
    this.warn(`faultline: exporting the run's spans to ${this.export.otlp.url} failed: ${error}`);
    return { exported: false, error };
  }

  private time(atMs: number): [number, number] {
    const wallMs = this.anchor.wallMs + (atMs - this.anchor.atMs);
    const seconds = Math.floor(wallMs / 1000);
    return [seconds, Math.round((wallMs - seconds * 1000) * 1e6)];
  }

  private onEvent(event: FaultlineEvent): void {
    try {
      this.trace(event);
    } catch (error) {
      // A publisher must never fail because of its subscribers: tracing is evidence, not control.
      this.exportError ??= `tracing: ${messageOf(error)}`;
    }
  }

  private trace(event: FaultlineEvent): void {
    if (event.type === 'run') {
      if (event.state === 'start') this.startRun(event);
      else this.endRun(event.atMs, event.reason, event);
      return;
    }
    const run = this.run;
    if (run === undefined) return;
    switch (event.type) {
      case 'phase':
        this.phase(run, event);
        return;
      case 'fault.inject':
        this.inject(run, event);
        return;
      case 'fault.heal':
        this.heal(run, event);
        return;
      case 'probe':
        this.probe(run, event);
        return;
      case 'check':
        this.check(run, event);
        return;
      case 'cleanup': {
        const attributes: Attributes = {
          'faultline.cleanup.residue': event.residue,
          'faultline.cleanup.outcome': event.outcome,
          ...(event.detail === undefined ? {} : { 'faultline.cleanup.detail': event.detail }),
        };
        const span = run.phases.at(-1)?.span ?? run.root;
        span.addEvent('faultline.cleanup', attributes, this.time(this.clock.now()));
        return;
      }
      default:
        return;
    }
  }

  private startRun(event: EventOf<'run'>): void {
    if (this.run !== undefined) this.endRun(event.atMs, 'another run started');
    this.anchor = { atMs: event.atMs, wallMs: this.clock.wallNow() };
    const root = this.tracer.startSpan(
      spanNames.run,
      {
        root: true,
        startTime: this.time(event.atMs),
        attributes: { 'faultline.scenario': event.scenario, 'faultline.seed': event.seed },
      },
      ROOT_CONTEXT,
    );
    const { traceId, spanId, traceFlags } = root.spanContext();
    this.lastTraceparent = `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
    this.run = {
      root,
      rootContext: trace.setSpan(ROOT_CONTEXT, root),
      phases: [],
      faults: new Map(),
      probes: new Map(),
      checkFrom: event.atMs,
    };
  }

  private endRun(atMs: number, reason: string, event?: EventOf<'run'>): void {
    const run = this.run;
    if (run === undefined) return;
    this.run = undefined;
    const at = this.time(atMs);
    for (const span of run.faults.values()) {
      span.setAttribute('faultline.fault.outcome', 'not-healed');
      span.end(at);
    }
    for (const phase of run.phases.reverse()) phase.span.end(at);
    if (event !== undefined && event.state === 'end') {
      run.root.setAttributes({
        'faultline.run.verdict': event.verdict,
        'faultline.run.reason': event.reason,
        'faultline.run.ops': event.ops,
        'faultline.run.elapsed_ms': event.elapsedMs,
      });
      // `unknown` is no failure of the run; `fail`, `error` and `interrupted` are.
      if (event.verdict === 'pass') run.root.setStatus({ code: SpanStatusCode.OK });
      else if (event.verdict !== 'unknown')
        run.root.setStatus({ code: SpanStatusCode.ERROR, message: `${event.verdict}: ${reason}` });
    } else {
      run.root.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    }
    run.root.end(at);
  }

  private parentOf(run: RunState): Context {
    return run.phases.at(-1)?.context ?? run.rootContext;
  }

  private phase(run: RunState, event: EventOf<'phase'>): void {
    if (event.state === 'start') {
      const span = this.tracer.startSpan(
        spanNames.phase,
        { startTime: this.time(event.atMs), attributes: { 'faultline.phase': event.name } },
        this.parentOf(run),
      );
      run.phases.push({ name: event.name, span, context: trace.setSpan(ROOT_CONTEXT, span) });
      if (event.name === 'checks') run.checkFrom = event.atMs;
      return;
    }
    // Phases nest (heal runs inside method): end the innermost of that name, and any left inside it.
    const index = run.phases.map((phase) => phase.name).lastIndexOf(event.name);
    if (index < 0) return;
    for (const phase of run.phases.splice(index).reverse()) phase.span.end(this.time(event.atMs));
  }

  private inject(run: RunState, event: EventOf<'fault.inject'>): void {
    if (run.faults.size >= maxOpenFaults) return;
    const span = this.tracer.startSpan(
      spanNames.fault,
      {
        startTime: this.time(event.atMs),
        attributes: {
          'faultline.fault.id': event.id,
          'faultline.fault.kind': event.kind,
          'faultline.fault.label': event.label,
          ...faultAttributes(event.params),
        },
      },
      this.parentOf(run),
    );
    run.faults.set(event.id, span);
  }

  private heal(run: RunState, event: EventOf<'fault.heal'>): void {
    // The Ledger reports every heal, also of what is no fault (a target, the run directory).
    const span = run.faults.get(event.id);
    if (span === undefined) return;
    run.faults.delete(event.id);
    if (event.error === undefined) {
      span.setAttribute('faultline.fault.outcome', 'healed');
    } else {
      const message = messageOf(event.error);
      span.setAttributes({ 'faultline.fault.outcome': 'heal-failed', 'faultline.fault.heal_error': message });
      span.setStatus({ code: SpanStatusCode.ERROR, message: `heal failed: ${message}` });
    }
    span.end(this.time(event.atMs));
  }

  private probe(run: RunState, event: EventOf<'probe'>): void {
    const before = run.probes.get(event.name);
    if (before === event.ok) return;
    if (before === undefined && run.probes.size >= maxProbes) return;
    run.probes.set(event.name, event.ok);
    const span = this.tracer.startSpan(
      spanNames.probe,
      {
        startTime: this.time(event.atMs - event.durationMs),
        attributes: {
          'faultline.probe.name': event.name,
          'faultline.probe.ok': event.ok,
          'faultline.probe.previous': before === undefined ? 'none' : before ? 'ok' : 'failing',
          'faultline.probe.duration_ms': event.durationMs,
          ...(event.error === undefined ? {} : { 'faultline.probe.error': clip(event.error) }),
        },
      },
      this.parentOf(run),
    );
    if (!event.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: clip(event.error ?? 'failed') });
    span.end(this.time(event.atMs));
  }

  private check(run: RunState, event: EventOf<'check'>): void {
    const stats = Object.fromEntries(
      Object.entries(event.stats ?? {}).map(([key, value]) => [`faultline.check.stats.${key}`, value]),
    );
    const span = this.tracer.startSpan(
      spanNames.check,
      {
        startTime: this.time(Math.min(run.checkFrom, event.atMs)),
        attributes: {
          'faultline.check.checker': event.checker,
          'faultline.check.valid': String(event.valid),
          'faultline.check.anomaly_count': event.anomalyCount,
          ...(event.reason === undefined ? {} : { 'faultline.check.reason': clip(event.reason) }),
          ...stats,
        },
      },
      this.parentOf(run),
    );
    for (const anomaly of event.anomalies.slice(0, maxAnomalyEvents))
      span.addEvent(
        'faultline.anomaly',
        { 'faultline.anomaly.type': anomaly.type, 'faultline.anomaly.message': clip(anomaly.message) },
        this.time(event.atMs),
      );
    if (event.valid === false)
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: clip(event.anomalies[0]?.message ?? `${event.anomalyCount} anomalies`),
      });
    span.end(this.time(event.atMs));
    run.checkFrom = event.atMs;
  }
}

/**
 * A fault's params as attributes, one `faultline.fault.param.<name>` each: numbers, strings and booleans
 * as they are, a live object (a proxy, a target) by its name, anything else as JSON. The live objects'
 * names are also `faultline.fault.target`: what the fault acts on.
 */
export function faultAttributes(params: unknown): Attributes {
  if (typeof params !== 'object' || params === null) return {};
  const attributes: Record<string, AttributeValue> = {};
  const targets: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    const name = `faultline.fault.param.${key}`;
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') attributes[name] = clip(value);
    else if (typeof value === 'number' || typeof value === 'boolean') attributes[name] = value;
    else if (typeof value === 'bigint') attributes[name] = value.toString();
    else if (liveName(value) !== undefined) {
      attributes[name] = liveName(value) as string;
      targets.push(liveName(value) as string);
    } else if (
      Array.isArray(value) &&
      value.length > 0 &&
      value.every((item) => liveName(item) !== undefined)
    ) {
      const names = value.map((item) => liveName(item) as string);
      attributes[name] = names;
      targets.push(...names);
    } else attributes[name] = clip(journalLine(value));
  }
  if (targets.length > 0) attributes['faultline.fault.target'] = targets.join(', ');
  else if (typeof attributes['faultline.fault.param.target'] === 'string')
    attributes['faultline.fault.target'] = attributes['faultline.fault.param.target'];
  return attributes;
}

/** The name of a live object (a class instance with a string `name`), else undefined. */
function liveName(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype === Object.prototype || prototype === null) return undefined;
  const name = (value as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

function clip(text: string): string {
  return text.length > maxAttributeChars ? `${text.slice(0, maxAttributeChars - 1)}…` : text;
}

/** Whether `promise` settled within `boundMs` (a rejection counts as settled). */
async function within(promise: Promise<unknown>, boundMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), boundMs);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function toRecord(span: ReadableSpan): SpanRecord {
  const context = span.spanContext();
  const attributes = plainAttributes(span.attributes);
  const serviceName = span.resource.attributes[ATTR_SERVICE_NAME];
  const code =
    span.status.code === SpanStatusCode.OK
      ? 'ok'
      : span.status.code === SpanStatusCode.ERROR
        ? 'error'
        : 'unset';
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    ...(span.parentSpanContext === undefined ? {} : { parentSpanId: span.parentSpanContext.spanId }),
    name: span.name,
    startMs: hrTimeToMs(span.startTime),
    endMs: hrTimeToMs(span.endTime),
    attributes,
    status: span.status.message === undefined ? { code } : { code, message: span.status.message },
    events: span.events.map((event) => ({
      name: event.name,
      atMs: hrTimeToMs(event.time),
      attributes: plainAttributes(event.attributes ?? {}),
    })),
    ...(typeof serviceName === 'string' ? { serviceName } : {}),
    scope: span.instrumentationScope.name,
  };
}

function plainAttributes(attributes: Attributes): SpanRecord['attributes'] {
  const plain: Record<string, SpanRecord['attributes'][string]> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    plain[key] = Array.isArray(value)
      ? (value.filter((item) => item !== null && item !== undefined) as (string | number | boolean)[])
      : (value as string | number | boolean);
  }
  return plain;
}
