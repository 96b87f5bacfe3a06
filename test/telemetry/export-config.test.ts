// OTEL_* variables → where a run's spans go. Nothing is exported unless a variable asks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFaultlineError } from '../../src/core/errors.js';
import { traceExportFromEnv } from '../../src/telemetry/index.js';

describe('traceExportFromEnv', () => {
  it('with nothing set exports nothing (no default localhost endpoint)', () => {
    assert.deepEqual(traceExportFromEnv({}), { exporters: [], serviceName: 'faultline' });
    assert.deepEqual(traceExportFromEnv({ OTEL_SERVICE_NAME: 'ci', OTEL_EXPORTER_OTLP_HEADERS: 'a=b' }), {
      exporters: [],
      serviceName: 'ci',
    });
  });

  it('an endpoint alone means otlp, http/protobuf, the traces path appended, 10 s', () => {
    assert.deepEqual(traceExportFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), {
      exporters: ['otlp'],
      serviceName: 'faultline',
      otlp: {
        url: 'http://collector:4318/v1/traces',
        protocol: 'http/protobuf',
        headers: {},
        timeoutMs: 10_000,
      },
    });
  });

  it('the traces-specific variables win, their endpoint used as given; headers percent-decoded', () => {
    const config = traceExportFromEnv({
      OTEL_TRACES_EXPORTER: 'otlp,console',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example:443/custom',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-team=a',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=b',
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1500',
    });
    assert.deepEqual(config, {
      exporters: ['otlp', 'console'],
      serviceName: 'faultline',
      otlp: {
        url: 'https://traces.example:443/custom',
        protocol: 'http/json',
        headers: { authorization: 'Bearer abc', 'x-team': 'b' },
        timeoutMs: 1500,
      },
    });
  });

  it('none, console alone, and OTEL_SDK_DISABLED', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    assert.deepEqual(traceExportFromEnv({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).exporters, []);
    assert.deepEqual(traceExportFromEnv({ OTEL_TRACES_EXPORTER: 'console' }), {
      exporters: ['console'],
      serviceName: 'faultline',
    });
    assert.deepEqual(traceExportFromEnv({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).exporters, []);
    // otlp named without an endpoint: the OTel default, localhost:4318.
    assert.equal(
      traceExportFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).otlp?.url,
      'http://localhost:4318/v1/traces',
    );
  });

  it('bad values name the variable and what is valid', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ OTEL_TRACES_EXPORTER: 'zipkin' }, /^OTEL_TRACES_EXPORTER: "zipkin" .*otlp, console or none/],
      [
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' },
        /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" .*http\/protobuf or http\/json/,
      ],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /^OTEL_EXPORTER_OTLP_ENDPOINT: .*http:\/\//],
      [
        { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' },
        /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "not a url"/,
      ],
      [
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_EXPORTER_OTLP_TIMEOUT: '-5' },
        /^OTEL_EXPORTER_OTLP_TIMEOUT: "-5" .*positive whole number of ms/,
      ],
      [
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' },
        /^OTEL_EXPORTER_OTLP_HEADERS: "novalue" is not key=value/,
      ],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => traceExportFromEnv(env),
        (error: unknown) => isFaultlineError(error, 'FL_ERR_INVALID_ARGUMENT') && message.test(error.message),
        JSON.stringify(env),
      );
    }
  });
});
