import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clearTimeout, setTimeout } from 'node:timers';
import { gunzipSync } from 'node:zlib';
import { invalid } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { decodeProtobufTraces } from './otlp-protobuf.js';
import { type SpanAttributeValue, type SpanRecord, unixNanoToMs } from './span-record.js';

/**
 * A small OTLP/HTTP traces receiver on loopback: targets export their spans to it (its `url` as their
 * OTEL_EXPORTER_OTLP_ENDPOINT) in http/protobuf or http/json, and the run reads them back decoded, to
 * check span expectations against them. Not a collector: it keeps spans in memory, bounded, and
 * forwards nothing. No OpenTelemetry package is needed to decode.
 */
export interface OtlpReceiverOptions {
  /** Spans kept; later ones are counted in `dropped`. Default 10,000. */
  readonly maxSpans?: number;
  /** A larger request body is refused with 413. Default 8 MiB. */
  readonly maxBodyBytes?: number;
}

export interface OtlpReceiver {
  /** The base URL (`http://127.0.0.1:PORT`), as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  /** The traces URL (`…/v1/traces`), as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. */
  readonly tracesUrl: string;
  /** Every span received so far, in arrival order. */
  spans(): readonly SpanRecord[];
  /** Spans received past `maxSpans`, counted only. */
  readonly dropped: number;
  /** Export requests answered, per content type (`protobuf`, `json`). */
  readonly requests: Readonly<Record<'protobuf' | 'json', number>>;
  /** Resolves with the spans once `until(spans)` holds; rejects after `timeoutMs` (default 10 s). */
  waitForSpans(
    until: (spans: readonly SpanRecord[]) => boolean,
    timeoutMs?: number,
  ): Promise<readonly SpanRecord[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const maxSpans = options.maxSpans ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const received: SpanRecord[] = [];
  const requests = { protobuf: 0, json: 0 };
  let dropped = 0;
  const waiters = new Set<() => void>();

  const accept = (spans: readonly SpanRecord[]): void => {
    for (const span of spans) {
      if (received.length < maxSpans) received.push(span);
      else dropped++;
    }
    for (const wake of [...waiters]) wake();
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://receiver').pathname;
    if (path !== '/v1/traces') return answer(response, 404, `${path} is not /v1/traces`);
    if (request.method !== 'POST') return answer(response, 405, 'POST the export request');
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const format =
      type === 'application/x-protobuf' ? 'protobuf' : type === 'application/json' ? 'json' : undefined;
    if (format === undefined) return answer(response, 415, 'send application/x-protobuf or application/json');
    let body = await readBody(request, maxBodyBytes);
    if (body === undefined) return answer(response, 413, `the body is over ${maxBodyBytes} bytes`);
    try {
      const encoding = request.headers['content-encoding'];
      if (encoding === 'gzip') body = gunzipSync(body, { maxOutputLength: maxBodyBytes });
      else if (encoding !== undefined && encoding !== 'identity')
        return answer(response, 415, `content-encoding ${encoding} is not supported (gzip is)`);
      const room = Math.max(1, maxSpans - received.length);
      const spans =
        format === 'protobuf'
          ? decodeProtobufTraces(body, room)
          : decodeJsonTraces(JSON.parse(body.toString('utf8')) as unknown, room);
      requests[format]++;
      accept(spans);
    } catch (error) {
      return answer(response, 400, messageOf(error));
    }
    // An empty ExportTraceServiceResponse: full success.
    if (format === 'protobuf') {
      response.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      response.end();
    } else {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => answer(response, 500, messageOf(error)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    spans: () => received,
    get dropped() {
      return dropped;
    },
    requests,
    waitForSpans(until, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        if (until(received)) return resolve(received);
        const done = (): void => {
          waiters.delete(check);
          clearTimeout(timer);
        };
        const check = (): void => {
          if (!until(received)) return;
          done();
          resolve(received);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new FaultlineError(
              codes.timeout,
              `the OTLP receiver did not get the spans awaited within ${timeoutMs} ms (${received.length} received: ${[
                ...new Set(received.map((span) => span.name)),
              ]
                .slice(0, 20)
                .join(', ')})`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const wake of waiters) wake();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(response: ServerResponse, status: number, message: string): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, {
    'content-type': 'application/json',
    ...(status === 413 ? { connection: 'close' } : {}),
  });
  response.end(JSON.stringify({ code: status, message }));
}

/** The request body, or undefined once it passes `maxBytes` (the rest is read and dropped, not kept). */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      request.off('data', onData);
      request.resume();
      resolve(undefined);
    };
    request.on('data', onData);
    request.once('end', () => resolve(size <= maxBytes ? Buffer.concat(chunks) : undefined));
    request.once('error', reject);
  });
}

type Json = Record<string, unknown>;
const object = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.map(object) : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** OTLP/JSON ids are hex; a sender that base64-encodes them (as protobuf's JSON mapping would) is read too. */
function jsonId(value: unknown, bytes: number): string {
  const id = text(value) ?? '';
  if (id === '' || new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

/** A 64-bit time as OTLP/JSON carries it: a decimal string, a number, or `{low, high}`. */
function jsonNanos(value: unknown): number {
  if (typeof value === 'string' || typeof value === 'number') return unixNanoToMs(BigInt(value));
  const { low, high } = object(value);
  if (typeof low === 'number' && typeof high === 'number')
    return unixNanoToMs((BigInt(high >>> 0) << 32n) | BigInt(low >>> 0));
  return 0;
}

function jsonValue(value: Json): SpanAttributeValue | undefined {
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.arrayValue !== undefined)
    return list(object(value.arrayValue).values)
      .map(jsonValue)
      .filter((v): v is string | number | boolean => v !== undefined && !Array.isArray(v));
  if (value.kvlistValue !== undefined)
    return JSON.stringify(jsonAttributes(object(value.kvlistValue).values));
  return text(value.bytesValue);
}

function jsonAttributes(value: unknown): Record<string, SpanAttributeValue> {
  const attributes: Record<string, SpanAttributeValue> = {};
  for (const pair of list(value)) {
    const key = text(pair.key);
    const decoded = jsonValue(object(pair.value));
    if (key !== undefined && decoded !== undefined) attributes[key] = decoded;
  }
  return attributes;
}

const jsonStatusCodes: Readonly<Record<string, SpanRecord['status']['code']>> = {
  0: 'unset',
  1: 'ok',
  2: 'error',
  STATUS_CODE_UNSET: 'unset',
  STATUS_CODE_OK: 'ok',
  STATUS_CODE_ERROR: 'error',
};

/** The spans of one OTLP/JSON export request, at most `maxSpans` of them. */
export function decodeJsonTraces(body: unknown, maxSpans: number): SpanRecord[] {
  if (!Array.isArray(object(body).resourceSpans))
    throw invalid('body', 'an OTLP/JSON traces request has a resourceSpans list');
  const spans: SpanRecord[] = [];
  for (const resourceSpans of list(object(body).resourceSpans)) {
    const serviceName = jsonAttributes(object(resourceSpans.resource).attributes)['service.name'];
    for (const scopeSpans of list(resourceSpans.scopeSpans)) {
      const scope = text(object(scopeSpans.scope).name) ?? '';
      for (const span of list(scopeSpans.spans)) {
        if (spans.length >= maxSpans) return spans;
        const status = object(span.status);
        const parent = jsonId(span.parentSpanId, 8);
        const message = text(status.message);
        spans.push({
          traceId: jsonId(span.traceId, 16),
          spanId: jsonId(span.spanId, 8),
          ...(parent === '' ? {} : { parentSpanId: parent }),
          name: text(span.name) ?? '',
          startMs: jsonNanos(span.startTimeUnixNano),
          endMs: jsonNanos(span.endTimeUnixNano),
          attributes: jsonAttributes(span.attributes),
          status: {
            code: jsonStatusCodes[String(status.code ?? 0)] ?? 'unset',
            ...(message === undefined || message === '' ? {} : { message }),
          },
          events: list(span.events).map((event) => ({
            name: text(event.name) ?? '',
            atMs: jsonNanos(event.timeUnixNano),
            attributes: jsonAttributes(event.attributes),
          })),
          ...(typeof serviceName === 'string' ? { serviceName } : {}),
          scope,
        });
      }
    }
  }
  return spans;
}
