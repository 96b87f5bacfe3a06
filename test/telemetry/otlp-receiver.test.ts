// The OTLP/HTTP receiver on its own: what it refuses, and that both encodings decode to the same spans
// as the SDK's own exporters sent them (the full path is in spans.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startOtlpReceiver } from '../../src/telemetry/index.js';

describe('the OTLP receiver', () => {
  it('answers only POST /v1/traces in protobuf or JSON, and refuses bad or oversized bodies', async (t) => {
    const receiver = await startOtlpReceiver({ maxBodyBytes: 1024 });
    t.after(() => receiver.close());
    assert.match(receiver.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const post = (body: string | Uint8Array, type: string, path = '/v1/traces') =>
      fetch(`${receiver.url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });
    assert.equal((await post('{}', 'application/json', '/v1/metrics')).status, 404);
    assert.equal((await fetch(receiver.tracesUrl)).status, 405);
    assert.equal((await post('x', 'text/plain')).status, 415);
    assert.equal((await post('{"nope": 1}', 'application/json')).status, 400);
    assert.equal((await post('not json', 'application/json')).status, 400);
    // A length-delimited field (resource_spans) that claims more bytes than follow.
    assert.equal((await post(new Uint8Array([0x0a, 0x7f, 0x01]), 'application/x-protobuf')).status, 400);
    assert.equal((await post('x'.repeat(2048), 'application/json')).status, 413);
    assert.deepEqual(receiver.spans(), []);
  });

  it('decodes an OTLP/JSON request, ids in hex, times as strings, every attribute type', async (t) => {
    const receiver = await startOtlpReceiver({ maxSpans: 1 });
    t.after(() => receiver.close());
    const span = (spanId: string) => ({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId,
      parentSpanId: 'b7ad6b7169203331',
      name: 'work',
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000250000000',
      attributes: [
        { key: 's', value: { stringValue: 'x' } },
        { key: 'b', value: { boolValue: true } },
        { key: 'i', value: { intValue: '42' } },
        { key: 'd', value: { doubleValue: 0.5 } },
        { key: 'a', value: { arrayValue: { values: [{ stringValue: 'p' }, { stringValue: 'q' }] } } },
      ],
      events: [{ name: 'e', timeUnixNano: '1700000000100000000', attributes: [] }],
      status: { code: 2, message: 'broke' },
    });
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeSpans: [
            { scope: { name: 'lib' }, spans: [span('00f067aa0ba902b7'), span('00f067aa0ba902b8')] },
          ],
        },
      ],
    };
    const response = await fetch(receiver.tracesUrl, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {});
    assert.deepEqual(receiver.spans(), [
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: '00f067aa0ba902b7',
        parentSpanId: 'b7ad6b7169203331',
        name: 'work',
        startMs: 1_700_000_000_000,
        endMs: 1_700_000_000_250,
        attributes: { s: 'x', b: true, i: 42, d: 0.5, a: ['p', 'q'] },
        status: { code: 'error', message: 'broke' },
        events: [{ name: 'e', atMs: 1_700_000_000_100, attributes: {} }],
        serviceName: 'svc',
        scope: 'lib',
      },
    ]);
    assert.equal(receiver.requests.json, 1);
    await assert.rejects(
      receiver.waitForSpans((spans) => spans.length > 1, 50),
      /within 50 ms \(1 received: work\)/,
    );
  });
});
