import { invalid } from '../core/assert.js';
import { type SpanAttributeValue, type SpanRecord, unixNanoToMs } from './span-record.js';

/**
 * Decodes an OTLP `ExportTraceServiceRequest` in protobuf (opentelemetry/proto/collector/trace/v1) into
 * span records. Only the fields a span record has are read; every other field is skipped by its wire
 * type, so newer senders' additions pass. Field numbers are the OTLP proto definitions':
 *   request: 1 resource_spans · ResourceSpans: 1 resource, 2 scope_spans · Resource: 1 attributes
 *   ScopeSpans: 1 scope, 2 spans · InstrumentationScope: 1 name
 *   Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 7 start_time_unix_nano, 8 end_time_unix_nano,
 *         9 attributes, 11 events, 15 status · Event: 1 time_unix_nano, 2 name, 3 attributes
 *   Status: 2 message, 3 code · KeyValue: 1 key, 2 value
 *   AnyValue: 1 string, 2 bool, 3 int, 4 double, 5 array (ArrayValue: 1 values), 6 kvlist, 7 bytes
 */
type Fields = Map<number, (Uint8Array | bigint)[]>;

class Reader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** Every field of this message, grouped by number: varints and fixed as bigint, the rest as bytes. */
  fields(): Fields {
    const fields: Fields = new Map();
    while (this.at < this.bytes.length) {
      const key = this.varint();
      const number = Number(key >> 3n);
      const wire = Number(key & 7n);
      let value: Uint8Array | bigint;
      if (wire === 0) value = this.varint();
      else if (wire === 1) value = this.fixed(8);
      else if (wire === 2) value = this.take(Number(this.varint()));
      else if (wire === 5) value = this.fixed(4);
      else throw invalid('body', `protobuf wire type ${wire} is not one OTLP uses`);
      const list = fields.get(number);
      if (list === undefined) fields.set(number, [value]);
      else list.push(value);
    }
    return fields;
  }

  private varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.bytes[this.at++];
      if (byte === undefined) throw invalid('body', 'the protobuf message ends inside a varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw invalid('body', 'a protobuf varint is longer than 10 bytes');
  }

  private fixed(size: 4 | 8): bigint {
    const bytes = this.take(size);
    const view = new DataView(bytes.buffer, bytes.byteOffset, size);
    return size === 8 ? view.getBigUint64(0, true) : BigInt(view.getUint32(0, true));
  }

  private take(length: number): Uint8Array {
    if (this.at + length > this.bytes.length) throw invalid('body', 'a protobuf field runs past the message');
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }
}

const utf8 = new TextDecoder();
const fieldsOf = (bytes: Uint8Array | bigint | undefined): Fields =>
  bytes instanceof Uint8Array ? new Reader(bytes).fields() : new Map();
const messages = (fields: Fields, number: number): Fields[] =>
  (fields.get(number) ?? []).filter((v) => v instanceof Uint8Array).map((v) => fieldsOf(v));
const bytesOf = (fields: Fields, number: number): Uint8Array | undefined => {
  const value = fields.get(number)?.at(-1);
  return value instanceof Uint8Array ? value : undefined;
};
const textOf = (fields: Fields, number: number): string | undefined => {
  const bytes = bytesOf(fields, number);
  return bytes === undefined ? undefined : utf8.decode(bytes);
};
const numberOf = (fields: Fields, number: number): bigint | undefined => {
  const value = fields.get(number)?.at(-1);
  return typeof value === 'bigint' ? value : undefined;
};
const hex = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? []).toString('hex');

function anyValue(fields: Fields): SpanAttributeValue | undefined {
  const text = textOf(fields, 1);
  if (text !== undefined) return text;
  const bool = numberOf(fields, 2);
  if (bool !== undefined) return bool !== 0n;
  const int = numberOf(fields, 3);
  if (int !== undefined) return Number(BigInt.asIntN(64, int));
  const double = numberOf(fields, 4);
  if (double !== undefined) {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, double, true);
    return view.getFloat64(0, true);
  }
  const array = bytesOf(fields, 5);
  if (array !== undefined)
    return messages(fieldsOf(array), 1)
      .map(anyValue)
      .filter((v): v is string | number | boolean => v !== undefined && !Array.isArray(v));
  const kvlist = bytesOf(fields, 6);
  if (kvlist !== undefined) return JSON.stringify(attributesOf(fieldsOf(kvlist), 1));
  const raw = bytesOf(fields, 7);
  return raw === undefined ? undefined : Buffer.from(raw).toString('base64');
}

function attributesOf(fields: Fields, number: number): Record<string, SpanAttributeValue> {
  const attributes: Record<string, SpanAttributeValue> = {};
  for (const pair of messages(fields, number)) {
    const key = textOf(pair, 1);
    const value = anyValue(fieldsOf(bytesOf(pair, 2)));
    if (key !== undefined && value !== undefined) attributes[key] = value;
  }
  return attributes;
}

const statusCodes = ['unset', 'ok', 'error'] as const;

/** The spans of one protobuf export request, at most `maxSpans` of them. */
export function decodeProtobufTraces(body: Uint8Array, maxSpans: number): SpanRecord[] {
  const spans: SpanRecord[] = [];
  for (const resourceSpans of messages(new Reader(body).fields(), 1)) {
    const resource = attributesOf(fieldsOf(bytesOf(resourceSpans, 1)), 1);
    const serviceName = resource['service.name'];
    for (const scopeSpans of messages(resourceSpans, 2)) {
      const scope = textOf(fieldsOf(bytesOf(scopeSpans, 1)), 1) ?? '';
      for (const span of messages(scopeSpans, 2)) {
        if (spans.length >= maxSpans) return spans;
        const status = fieldsOf(bytesOf(span, 15));
        const message = textOf(status, 2);
        const parent = hex(bytesOf(span, 4));
        spans.push({
          traceId: hex(bytesOf(span, 1)),
          spanId: hex(bytesOf(span, 2)),
          ...(parent === '' ? {} : { parentSpanId: parent }),
          name: textOf(span, 5) ?? '',
          startMs: unixNanoToMs(numberOf(span, 7) ?? 0n),
          endMs: unixNanoToMs(numberOf(span, 8) ?? 0n),
          attributes: attributesOf(span, 9),
          status: {
            code: statusCodes[Number(numberOf(status, 3) ?? 0n)] ?? 'unset',
            ...(message === undefined || message === '' ? {} : { message }),
          },
          events: messages(span, 11).map((event) => ({
            name: textOf(event, 2) ?? '',
            atMs: unixNanoToMs(numberOf(event, 1) ?? 0n),
            attributes: attributesOf(event, 3),
          })),
          ...(typeof serviceName === 'string' ? { serviceName } : {}),
          scope,
        });
      }
    }
  }
  return spans;
}
