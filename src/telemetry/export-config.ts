import { invalid } from '../core/assert.js';

/**
 * Where a run's spans go, read from the standard OpenTelemetry variables (OTEL_TRACES_EXPORTER,
 * OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT / _PROTOCOL / _HEADERS / _TIMEOUT). Unlike the SDK's default
 * (`otlp` to localhost:4318), nothing is exported unless a variable asks: a chaos run must not reach for
 * the network on its own. No OpenTelemetry package is loaded to read them.
 */
export type TraceExporterName = 'otlp' | 'console';
export const otlpProtocols = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof otlpProtocols)[number];

export interface OtlpExport {
  /** The full traces URL (`…/v1/traces`). */
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  /** Each export request's bound; also bounds the flush at the end of a run. */
  readonly timeoutMs: number;
}

export interface TraceExport {
  /** Empty: spans are kept in memory only and nothing touches the network. */
  readonly exporters: readonly TraceExporterName[];
  /** Set when `otlp` is among the exporters. */
  readonly otlp?: OtlpExport;
  readonly serviceName: string;
}

export type TelemetryEnv = Readonly<Record<string, string | undefined>>;

/** OTel's default per-request timeout. */
export const defaultOtlpTimeoutMs = 10_000;

/** The export a run's tracer uses under `env` (default `process.env`); bad values name the variable. */
export function traceExportFromEnv(env: TelemetryEnv = process.env): TraceExport {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const serviceName = get('OTEL_SERVICE_NAME') ?? 'faultline';
  const endpoint = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const named = get('OTEL_TRACES_EXPORTER');
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { exporters: [], serviceName };
  const names =
    named === undefined ? (endpoint === undefined ? [] : ['otlp']) : named.split(',').map((n) => n.trim());
  const exporters: TraceExporterName[] = [];
  for (const name of names) {
    if (name === 'none') return { exporters: [], serviceName };
    if (name !== 'otlp' && name !== 'console')
      throw invalid(
        'OTEL_TRACES_EXPORTER',
        `${JSON.stringify(name)} is not an exporter faultline has: use otlp, console or none`,
        'otlp, console or none (comma-separated)',
      );
    if (!exporters.includes(name)) exporters.push(name);
  }
  if (!exporters.includes('otlp')) return { exporters, serviceName };
  return { exporters, serviceName, otlp: otlpFromEnv(get) };
}

function otlpFromEnv(get: (name: string) => string | undefined): OtlpExport {
  const tracesEndpoint = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  // The signal-specific endpoint is used as given; the base one gets the traces path appended.
  const url =
    tracesEndpoint !== undefined
      ? checkedUrl(tracesEndpoint, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
      : `${checkedUrl(base ?? 'http://localhost:4318', 'OTEL_EXPORTER_OTLP_ENDPOINT').replace(/\/+$/, '')}/v1/traces`;
  const protocolVariable =
    get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined
      ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
      : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = get(protocolVariable) ?? 'http/protobuf';
  if (!(otlpProtocols as readonly string[]).includes(protocol))
    throw invalid(
      protocolVariable,
      `${JSON.stringify(protocol)} is not supported${protocol === 'grpc' ? ' (faultline exports over HTTP only)' : ''}: use http/protobuf or http/json`,
      otlpProtocols.join(' or '),
    );
  const headers = {
    ...parseHeaders(get('OTEL_EXPORTER_OTLP_HEADERS'), 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseHeaders(get('OTEL_EXPORTER_OTLP_TRACES_HEADERS'), 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
  const timeoutVariable =
    get('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') !== undefined
      ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'
      : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const timeoutText = get(timeoutVariable);
  const timeoutMs = timeoutText === undefined ? defaultOtlpTimeoutMs : Number(timeoutText);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw invalid(
      timeoutVariable,
      `${JSON.stringify(timeoutText)} is not a timeout: use a positive whole number of ms`,
      'a positive integer of ms',
    );
  return { url, protocol: protocol as OtlpProtocol, headers, timeoutMs };
}

function checkedUrl(text: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(
      variable,
      `${JSON.stringify(text)} is not a URL: use an http:// or https:// URL`,
      'an http:// or https:// URL',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid(
      variable,
      `${JSON.stringify(text)} is not an HTTP URL: use an http:// or https:// URL`,
      'an http:// or https:// URL',
    );
  return text;
}

/** `key=value,key2=value2`, values percent-decoded (the W3C baggage form the OTel spec uses). */
function parseHeaders(text: string | undefined, variable: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (text === undefined) return headers;
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at < 0 ? '' : pair.slice(0, at).trim();
    if (key === '')
      throw invalid(
        variable,
        `${JSON.stringify(pair)} is not key=value: use key=value pairs, comma-separated`,
        'key=value pairs, comma-separated',
      );
    try {
      headers[decodeURIComponent(key)] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw invalid(variable, `${JSON.stringify(pair)} is badly percent-encoded`, 'key=value pairs');
    }
  }
  return headers;
}
