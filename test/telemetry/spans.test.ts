// A real run as OpenTelemetry spans: the span tree the SDK finished, OTLP export in both protocols to a
// real receiver on loopback, a target (a process with the OTel SDK) joining the run's trace through
// TRACEPARENT, no exporter without variables, and an endpoint that refuses or hangs costing only its bound.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import '../../src/scenario/fault-families.js';
import { realClock } from '../../src/core/clock.js';
import { readDocument } from '../../src/scenario/document.js';
import { validateScenario } from '../../src/scenario/format.js';
import { type RunResult, runScenario } from '../../src/scenario/runner.js';
import {
  type OtlpProtocol,
  type SpanRecord,
  startOtlpReceiver,
  startRunTracer,
  type TelemetryEnv,
} from '../../src/telemetry/index.js';
import { freePort, tcpPortFree } from '../support/ports.js';

const target = fileURLToPath(new URL('fixtures/traced-target.js', import.meta.url));

/** The traced target behind a proxy; latency on the proxy turns the health probe red, then green. */
function tracedScenario(port: number, protocol: OtlpProtocol, endpoint: string) {
  return validateScenario(
    readDocument(
      'traced.toml',
      `
[experiment]
name = "traced target"
seed = 12
timeLimit = "60s"
duration = "2500ms"

[targets.app]
type = "process"
argv = ["${process.execPath}", "${target}", "--port", "${port}"]
env = { OTEL_EXPORTER_OTLP_ENDPOINT = "${endpoint}", OTEL_EXPORTER_OTLP_PROTOCOL = "${protocol}" }
ready = { type = "http", url = "http://127.0.0.1:${port}/health" }

[targets.front]
type = "tcp-proxy"
upstream = "127.0.0.1:${port}"

[[steadyState]]
name = "health"
probe = { type = "http", url = "http://\${targets.front.listen}/health" }
when = "continuous"
every = "100ms"
timeout = "600ms"

[[faults]]
kind = "tcp.latency"
at = "300ms"
for = "1500ms"
params = { proxy = "front", latencyMs = 1200 }

[[checks]]
check = "probe-success"
probe = "health"
minPercent = 1
`,
    ),
  );
}

/** A proxy in front of nothing and one latency: a short run with a fault span and no process. */
function smallScenario() {
  return validateScenario(
    readDocument(
      'small.toml',
      `
[experiment]
name = "small"
seed = 5
timeLimit = "30s"
duration = "200ms"

[targets.front]
type = "tcp-proxy"
upstream = "127.0.0.1:9"

[[faults]]
kind = "tcp.latency"
at = "50ms"
for = "100ms"
params = { proxy = "front", latencyMs = 10 }
`,
    ),
  );
}

function one(
  spans: readonly SpanRecord[],
  name: string,
  attributes: Record<string, unknown> = {},
): SpanRecord {
  const found = spans.filter(
    (span) => span.name === name && Object.entries(attributes).every(([k, v]) => span.attributes[k] === v),
  );
  assert.equal(found.length, 1, `one ${name} ${JSON.stringify(attributes)}, found ${found.length}`);
  return found[0] as SpanRecord;
}

/** Runs the traced scenario exporting in `protocol` to a receiver; returns the run's and received spans. */
async function tracedRun(protocol: OtlpProtocol) {
  const receiver = await startOtlpReceiver();
  const port = await freePort();
  const warnings: string[] = [];
  try {
    const env: TelemetryEnv = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
    };
    const tracer = await startRunTracer({ env, warn: (line) => warnings.push(line) });
    let result: RunResult;
    try {
      result = await runScenario(tracedScenario(port, protocol, receiver.url), {
        tracer,
      });
    } finally {
      assert.deepEqual(await tracer.close(), { exported: true });
    }
    const spans = tracer.finishedSpans();
    const received = await receiver.waitForSpans(
      (all) =>
        all.some((span) => span.name === 'target.startup') &&
        spans.every((mine) => all.some((span) => span.spanId === mine.spanId)),
    );
    assert.ok(await tcpPortFree(port), 'the target is stopped');
    return { result, spans, received: [...received], requests: { ...receiver.requests }, warnings };
  } finally {
    await receiver.close();
  }
}

describe('a run as OpenTelemetry spans', () => {
  it('is a span tree: run → phases → a fault from inject to heal, probe changes, a check; exported as http/protobuf; the target joins through TRACEPARENT', async () => {
    const { result, spans, received, requests, warnings } = await tracedRun('http/protobuf');
    assert.equal(result.verdict, 'pass', result.reason);
    assert.deepEqual(warnings, []);

    const root = one(spans, 'faultline.run');
    assert.equal(root.parentSpanId, undefined);
    assert.equal(root.attributes['faultline.scenario'], 'traced target');
    assert.equal(root.attributes['faultline.seed'], 12);
    assert.equal(root.attributes['faultline.run.verdict'], 'pass');
    assert.equal(root.status.code, 'ok');
    assert.ok(
      spans.every((span) => span.traceId === root.traceId),
      'one trace per run',
    );
    assert.equal(root.serviceName, 'faultline');

    const phases = spans.filter((span) => span.name === 'faultline.phase');
    assert.deepEqual(phases.map((span) => span.attributes['faultline.phase']).sort(), [
      'checks',
      'cleanup',
      'heal',
      'method',
      'rollbacks',
      'setup',
      'steady-state-after',
      'steady-state-before',
    ]);
    const method = one(spans, 'faultline.phase', { 'faultline.phase': 'method' });
    assert.equal(one(spans, 'faultline.phase', { 'faultline.phase': 'heal' }).parentSpanId, method.spanId);
    assert.equal(one(spans, 'faultline.phase', { 'faultline.phase': 'setup' }).parentSpanId, root.spanId);

    const fault = one(spans, 'faultline.fault');
    assert.equal(fault.parentSpanId, method.spanId);
    assert.equal(fault.attributes['faultline.fault.kind'], 'tcp.latency');
    assert.equal(fault.attributes['faultline.fault.target'], 'front');
    assert.equal(fault.attributes['faultline.fault.param.proxy'], 'front');
    assert.equal(fault.attributes['faultline.fault.param.latencyMs'], 1200);
    assert.equal(fault.attributes['faultline.fault.outcome'], 'healed');
    // Timed by the events: in force as long as the runner's own record says (inject → heal).
    const [record] = result.injections;
    const recordMs = (record?.healedAtMs ?? 0) - (record?.injectedAtMs ?? 0);
    const faultMs = fault.endMs - fault.startMs;
    assert.ok(
      recordMs > 0 && Math.abs(faultMs - recordMs) < 100,
      `span ${faultMs} ms, record ${recordMs} ms`,
    );
    assert.ok(fault.startMs >= method.startMs && fault.endMs <= method.endMs + 1);

    // Status changes only, not every poll: each change flips the one before; red while the latency holds,
    // green at the end. (A loaded machine may add a red of its own; the fault's red is always there.)
    const probes = spans.filter(
      (span) => span.name === 'faultline.probe' && span.attributes['faultline.probe.name'] === 'health',
    );
    assert.ok(
      spans.some(
        (span) => span.name === 'faultline.probe' && span.attributes['faultline.probe.name'] !== 'health',
      ),
      "the target's ready probe is traced too",
    );
    const changes = probes.map((span) => [
      span.attributes['faultline.probe.previous'],
      span.attributes['faultline.probe.ok'],
    ]);
    assert.equal(changes[0]?.[0], 'none', JSON.stringify(changes));
    for (const [index, [previous, ok]] of changes.entries()) {
      if (index > 0)
        assert.equal(previous, changes[index - 1]?.[1] ? 'ok' : 'failing', JSON.stringify(changes));
      assert.notEqual(previous, ok ? 'ok' : 'failing');
    }
    assert.equal(changes.at(-1)?.[1], true, JSON.stringify(changes));
    assert.ok(changes.length <= 7, `${changes.length} changes in ~25 polls: changes only`);
    const red = probes.find(
      (span) => span.attributes['faultline.probe.ok'] === false && span.endMs >= fault.startMs,
    );
    assert.ok(
      red !== undefined && red.startMs <= fault.endMs,
      'the probe went red while the fault was in force',
    );
    assert.equal(red.status.code, 'error');

    const check = one(spans, 'faultline.check', { 'faultline.check.checker': 'probe-success health' });
    // Every run ends with the hermeticity check: it is a span too.
    one(spans, 'faultline.check', {
      'faultline.check.checker': 'hermeticity',
      'faultline.check.valid': 'true',
    });
    assert.equal(check.attributes['faultline.check.valid'], 'true');
    assert.equal(check.attributes['faultline.check.anomaly_count'], 0);
    assert.equal(check.parentSpanId, one(spans, 'faultline.phase', { 'faultline.phase': 'checks' }).spanId);

    for (const span of spans) assert.ok(span.endMs >= span.startMs, `${span.name} ends after it starts`);
    assert.ok(root.endMs - root.startMs >= 2500, 'the root spans the run');

    // Exported: the receiver decoded the same spans from protobuf, and the target's own span.
    assert.ok(requests.protobuf >= 2 && requests.json === 0, JSON.stringify(requests));
    const exportedFault = received.find((span) => span.spanId === fault.spanId);
    assert.deepEqual(exportedFault, fault);
    const joined = one(received, 'target.startup');
    assert.equal(joined.traceId, root.traceId, "the target's span is in the run's trace");
    assert.equal(joined.parentSpanId, root.spanId, "its parent is the run's root span");
    assert.equal(joined.serviceName, 'traced-target');
    assert.equal(joined.attributes['target.port'], Number(joined.attributes['target.port']));
  });

  it('exports as http/json when the protocol says so', async () => {
    const { result, spans, received, requests } = await tracedRun('http/json');
    assert.equal(result.verdict, 'pass', result.reason);
    assert.ok(requests.json >= 2 && requests.protobuf === 0, JSON.stringify(requests));
    const root = one(spans, 'faultline.run');
    assert.deepEqual(
      received.find((span) => span.spanId === root.spanId),
      root,
    );
    assert.equal(one(received, 'target.startup').parentSpanId, root.spanId);
  });

  it('with no OTEL_* variable set, has no exporter: spans stay in memory and targets still get TRACEPARENT', async () => {
    const tracer = await startRunTracer({ env: {} });
    assert.deepEqual(tracer.export.exporters, []);
    assert.equal(tracer.export.otlp, undefined);
    try {
      const result = await runScenario(smallScenario(), { tracer });
      assert.equal(result.verdict, 'pass', result.reason);
      assert.match(tracer.traceparent() ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    } finally {
      assert.deepEqual(await tracer.close(), { exported: true });
    }
    const spans = tracer.finishedSpans();
    assert.equal(one(spans, 'faultline.fault').attributes['faultline.fault.outcome'], 'healed');
    assert.equal(spans.filter((span) => span.name === 'faultline.phase').length, 8);
  });

  for (const endpoint of ['refuses', 'hangs'] as const) {
    it(`an endpoint that ${endpoint}: the run ends on time and the failed export is said`, async () => {
      const held: Socket[] = [];
      const hanging = createServer((socket) => held.push(socket)); // accepts, never answers
      const port = await freePort();
      if (endpoint === 'hangs')
        await new Promise<void>((resolve) => hanging.listen(port, '127.0.0.1', resolve));
      const warnings: string[] = [];
      try {
        const tracer = await startRunTracer({
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
            OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
          },
          warn: (line) => warnings.push(line),
        });
        const started = realClock.now();
        const result = await runScenario(smallScenario(), { tracer });
        const closed = await tracer.close();
        const elapsedMs = realClock.now() - started;
        assert.equal(result.verdict, 'pass', result.reason);
        assert.equal(closed.exported, false);
        // The run (~0.3 s) plus at most the flush bound (timeout + 0.5 s), with room for a loaded machine.
        assert.ok(elapsedMs < result.elapsedMs + 1500 + 1500, `took ${elapsedMs} ms`);
        assert.equal(warnings.length, 1, warnings.join('\n'));
        assert.match(
          warnings[0] as string,
          new RegExp(`exporting the run's spans to http://127.0.0.1:${port}/v1/traces failed`),
        );
        assert.equal(tracer.finishedSpans().filter((span) => span.name === 'faultline.run').length, 1);
      } finally {
        for (const socket of held) socket.destroy();
        await new Promise<void>((resolve) =>
          hanging.listening ? hanging.close(() => resolve()) : resolve(),
        );
      }
    });
  }
});
