// Span expectations: each kind of bound with a case that holds and one that fails (against synthetic span
// records), a failure saying what was expected and what was seen, malformed expectations refused with
// their position, and real runs: one whose expectations hold (a target's own span among them, received
// over OTLP on loopback), one expecting a fault that never happened.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import '../../src/scenario/fault-families.js';
import type { CheckResult } from '../../src/checker/index.js';
import { codes } from '../../src/core/codes.js';
import { type FaultlineEvent, subscribe } from '../../src/core/events.js';
import { readDocument } from '../../src/scenario/document.js';
import { validateScenario } from '../../src/scenario/format.js';
import { runScenario } from '../../src/scenario/runner.js';
import {
  evaluateExpectations,
  type SpanExpectation,
  type SpanRecord,
  type SpanSources,
} from '../../src/telemetry/index.js';
import { freePort, tcpPortFree } from '../support/ports.js';

let nextId = 1;
/** A finished span record; times in ms from 0. */
function span(
  name: string,
  options: {
    parent?: SpanRecord;
    startMs?: number;
    endMs?: number;
    attributes?: SpanRecord['attributes'];
    status?: SpanRecord['status']['code'];
  } = {},
): SpanRecord {
  const id = (nextId++).toString(16).padStart(16, '0');
  return {
    traceId: '0'.repeat(31) + '1',
    spanId: id,
    ...(options.parent === undefined ? {} : { parentSpanId: options.parent.spanId }),
    name,
    startMs: options.startMs ?? 0,
    endMs: options.endMs ?? 10,
    attributes: options.attributes ?? {},
    status: { code: options.status ?? 'unset' },
    events: [],
    scope: 'faultline',
  };
}

const root = span('faultline.run', { startMs: 0, endMs: 1000, status: 'ok' });
const method = span('faultline.phase', {
  parent: root,
  startMs: 100,
  endMs: 600,
  attributes: { 'faultline.phase': 'method' },
});
const checksPhase = span('faultline.phase', {
  parent: root,
  startMs: 700,
  endMs: 800,
  attributes: { 'faultline.phase': 'checks' },
});
const fault = span('faultline.fault', {
  parent: method,
  startMs: 200,
  endMs: 450,
  attributes: {
    'faultline.fault.kind': 'tcp.latency',
    'faultline.fault.label': 'tcp.latency 1200ms',
    'faultline.fault.param.latencyMs': 1200,
    'faultline.fault.outcome': 'healed',
  },
});
const check = span('faultline.check', {
  parent: checksPhase,
  startMs: 700,
  endMs: 750,
  attributes: { 'faultline.check.checker': 'probe-success health', 'faultline.check.valid': 'false' },
  status: 'error',
});
const startup = span('target.startup', { parent: root, startMs: 50, endMs: 52 });
const sources: SpanSources = { run: [root, method, checksPhase, fault, check], targets: [startup] };

function one(expectation: SpanExpectation, from: SpanSources = sources): CheckResult {
  const [result] = evaluateExpectations({ spans: [expectation] }, from);
  assert.ok(result !== undefined);
  return result;
}

function holds(expectation: SpanExpectation, from?: SpanSources): void {
  const result = one(expectation, from);
  assert.equal(result.valid, true, result.anomalies[0]?.message);
}

/** Fails, with a message that contains every one of `parts`; returns it. */
function fails(expectation: SpanExpectation, parts: readonly string[], from?: SpanSources): string {
  const result = one(expectation, from);
  assert.equal(result.valid, false, `expected a failure of ${JSON.stringify(expectation)}`);
  const message = result.anomalies[0]?.message ?? '';
  for (const part of parts) assert.ok(message.includes(part), `"${part}" in: ${message}`);
  return message;
}

describe('span expectations against span records', () => {
  it('a missing span fails naming it, what was expected and the spans seen', () => {
    const message = fails({ name: 'faultline.fault', attributes: { 'faultline.fault.kind': 'tcp.reset' } }, [
      'expected a span faultline.fault with faultline.fault.kind = tcp.reset; saw none',
    ]);
    assert.match(
      message,
      /spans seen: faultline\.run, faultline\.phase ×2, faultline\.fault, faultline\.check/,
    );
    const result = one({ name: 'faultline.fault' });
    assert.equal(result.checker, 'span faultline.fault');
  });

  it('name exactly or by a regular expression', () => {
    holds({ name: 'faultline.fault' });
    holds({ nameMatches: '^faultline\\.(fault|probe)$', count: 1 });
    fails({ nameMatches: '^faultline\\.probe$' }, ['/^faultline\\.probe$/', 'saw none']);
  });

  it('attributes: all must match; anyAttributes: one must', () => {
    holds({
      name: 'faultline.fault',
      attributes: { 'faultline.fault.kind': 'tcp.latency', 'faultline.fault.param.latencyMs': 1200 },
    });
    fails(
      {
        name: 'faultline.fault',
        attributes: { 'faultline.fault.kind': 'tcp.latency', 'faultline.fault.param.latencyMs': 500 },
      },
      ['faultline.fault.kind = tcp.latency and faultline.fault.param.latencyMs = 500', 'saw none'],
    );
    holds({
      name: 'faultline.fault',
      anyAttributes: { 'faultline.fault.kind': 'tcp.reset', 'faultline.fault.param.latencyMs': 1200 },
    });
    fails({ name: 'faultline.fault', anyAttributes: { 'faultline.fault.kind': 'tcp.reset', x: true } }, [
      'faultline.fault.kind = tcp.reset or x = true',
    ]);
  });

  it('status and parent', () => {
    holds({ name: 'faultline.check', status: 'error', parent: 'faultline.phase' });
    holds({ name: 'faultline.run', status: 'ok' });
    fails({ name: 'faultline.check', status: 'ok' }, ['with status ok', 'saw none']);
    fails({ name: 'faultline.fault', parent: 'faultline.run' }, ['under faultline.run', 'saw none']);
  });

  it('count: exact, at least, at most', () => {
    holds({ name: 'faultline.phase', count: 2 });
    fails({ name: 'faultline.phase', count: 3 }, ['expected exactly 3 span(s) faultline.phase; saw 2']);
    holds({ name: 'faultline.phase', minCount: 2, maxCount: 5 });
    fails({ name: 'faultline.phase', maxCount: 1 }, ['exactly 1 span(s)', 'saw 2']);
    fails({ name: 'faultline.phase', minCount: 3 }, ['at least 3 span(s)', 'saw 2']);
    holds({ name: 'faultline.probe', count: 0 });
  });

  it('duration bounds hold for every matching span', () => {
    holds({ name: 'faultline.fault', minDuration: 200, maxDuration: 300 });
    fails({ name: 'faultline.fault', maxDuration: 100 }, ['to last at most 100 ms; saw 250 ms']);
    fails({ name: 'faultline.phase', minDuration: 150 }, ['to last at least 150 ms; saw 100 ms']);
  });

  it('order: after and before another expectation or span name', () => {
    holds({ name: 'faultline.check', after: 'faultline.fault' });
    holds({ name: 'faultline.fault', before: 'faultline.check' });
    fails({ name: 'faultline.fault', after: 'faultline.check' }, [
      'after faultline.check',
      'saw faultline.fault',
    ]);
    fails({ name: 'faultline.check', before: 'faultline.fault' }, ['before faultline.fault']);
    fails({ name: 'faultline.check', after: 'faultline.probe' }, ['saw no faultline.probe']);
    // By another expectation's name: its filters choose the spans (the checks phase only).
    const [, byExpectation] = evaluateExpectations(
      {
        spans: [
          { nameMatches: '^faultline\\.phase$', attributes: { 'faultline.phase': 'checks' } },
          { name: 'faultline.fault', before: '/^faultline\\.phase$/' },
        ],
      },
      sources,
    );
    assert.equal(byExpectation?.valid, true, byExpectation?.anomalies[0]?.message);
  });

  it('exists = false: no span may match', () => {
    holds({ name: 'faultline.fault', attributes: { 'faultline.fault.kind': 'tcp.reset' }, exists: false });
    fails({ name: 'faultline.fault', exists: false }, [
      'expected no span faultline.fault; saw 1',
      'tcp.latency',
    ]);
  });

  it('from = "targets": the spans the targets sent, not the run’s', () => {
    holds({ name: 'target.startup', from: 'targets' });
    fails({ name: 'target.startup' }, ['saw none']);
    fails({ name: 'faultline.run', from: 'targets' }, [
      "from the run's targets",
      'spans seen: target.startup',
    ]);
    fails({ name: 'target.startup', from: 'targets' }, ['no span came from the targets'], {
      run: sources.run,
      targets: [],
    });
  });

  it('faultsHealed: every fault span ended healed', () => {
    const [healed] = evaluateExpectations({ faultsHealed: true }, sources);
    assert.equal(healed?.valid, true);
    assert.equal(healed?.checker, 'span faultsHealed');
    const notHealed = span('faultline.fault', {
      parent: method,
      attributes: { 'faultline.fault.label': 'process.kill app', 'faultline.fault.outcome': 'not-healed' },
    });
    const [failed] = evaluateExpectations(
      { faultsHealed: true },
      { ...sources, run: [...sources.run, notHealed] },
    );
    assert.equal(failed?.valid, false);
    assert.match(failed?.anomalies[0]?.message ?? '', /saw 1 of 2 not: process\.kill app \(not-healed\)/);
  });
});

const scenarioHead = `
[experiment]
name = "expectations"
seed = 3
timeLimit = "20s"
`;

/** Validates `[[expect.spans]]` TOML; returns the error (or undefined). */
function refusal(text: string): { message: string; code: string } | undefined {
  try {
    validateScenario(readDocument('expect.toml', `${scenarioHead}${text}`));
    return undefined;
  } catch (error) {
    return error as { message: string; code: string };
  }
}

describe('malformed span expectations', () => {
  const cases: [string, string, RegExp][] = [
    ['no name', '[[expect.spans]]\ncount = 1\n', /expect\.toml:6:1: expect\.spans\[0\]\.name: is missing/],
    [
      'a bad status',
      '[[expect.spans]]\nname = "x"\nstatus = "fine"\n',
      /expect\.toml:8:10: expect\.spans\[0\]\.status/,
    ],
    [
      'a bad regex',
      '[[expect.spans]]\nnameMatches = "("\n',
      /expect\.toml:7:15: expect\.spans\[0\]\.nameMatches/,
    ],
    [
      'a bad duration',
      '[[expect.spans]]\nname = "x"\nmaxDuration = "soon"\n',
      /expect\.toml:8:15: expect\.spans\[0\]\.maxDuration/,
    ],
    [
      'a list attribute',
      '[[expect.spans]]\nname = "x"\nattributes = { "a.b" = [1] }\n',
      /expect\.toml:8:\d+: expect\.spans\[0\]\.attributes\.a\.b: expected a string, number or boolean/,
    ],
    [
      'a negative count',
      '[[expect.spans]]\nname = "x"\ncount = -1\n',
      /expect\.toml:8:9: expect\.spans\[0\]\.count/,
    ],
    [
      'bounds on spans that must not exist',
      '[[expect.spans]]\nname = "x"\nexists = false\nmaxCount = 2\n',
      /expect\.toml:9:12: expect\.spans\[0\]\.maxCount: bounds spans that must not exist/,
    ],
    [
      'minCount over maxCount',
      '[[expect.spans]]\nname = "x"\nminCount = 3\nmaxCount = 2\n',
      /expect\.toml:8:12: expect\.spans\[0\]\.minCount: is more than maxCount \(2\)/,
    ],
    [
      'an unknown key',
      '[[expect.spans]]\nname = "x"\ncolour = "red"\n',
      /expect\.toml:8:\d+: expect\.spans\[0\]\.colour/,
    ],
    [
      'a bad from',
      '[[expect.spans]]\nname = "x"\nfrom = "elsewhere"\n',
      /expect\.toml:8:8: expect\.spans\[0\]\.from/,
    ],
    [
      'faultsHealed not a boolean',
      '[expect]\nfaultsHealed = "yes"\n',
      /expect\.toml:7:16: expect\.faultsHealed/,
    ],
  ];
  for (const [label, text, expected] of cases)
    it(`${label}: a validation error with its position`, () => {
      const error = refusal(text);
      assert.ok(error !== undefined, 'refused');
      assert.equal(error.code, codes.config);
      assert.match(error.message, expected);
    });

  it('a well-formed section validates, durations in ms', () => {
    const scenario = validateScenario(
      readDocument(
        'expect.toml',
        `${scenarioHead}[expect]\nfaultsHealed = true\n[[expect.spans]]\nname = "faultline.fault"\nmaxDuration = "2s"\nattributes = { "faultline.fault.kind" = "tcp.latency" }\n`,
      ),
    );
    assert.deepEqual(scenario.expect, {
      faultsHealed: true,
      spans: [
        {
          name: 'faultline.fault',
          maxDuration: 2000,
          attributes: { 'faultline.fault.kind': 'tcp.latency' },
          exists: true,
          from: 'run',
        },
      ],
    });
  });
});

const target = fileURLToPath(new URL('fixtures/traced-target.js', import.meta.url));

/** The check events a run publishes, collected while `body` runs. */
async function checkEventsOf<T>(body: () => Promise<T>): Promise<{ value: T; checks: FaultlineEvent[] }> {
  const checks: FaultlineEvent[] = [];
  const unsubscribe = subscribe((event) => checks.push(event), ['check']);
  try {
    return { value: await body(), checks };
  } finally {
    unsubscribe();
  }
}

describe('span expectations in real runs', () => {
  it("hold for a run with a fault, and for a target's own span received over OTLP", async () => {
    const port = await freePort();
    const scenario = validateScenario(
      readDocument(
        'held.toml',
        `
[experiment]
name = "expectations hold"
seed = 5
timeLimit = "60s"
duration = "1200ms"

[targets.app]
type = "process"
argv = ["${process.execPath}", "${target}", "--port", "${port}"]
ready = { type = "http", url = "http://127.0.0.1:${port}/health" }

[targets.front]
type = "tcp-proxy"
upstream = "127.0.0.1:${port}"

[[faults]]
kind = "tcp.latency"
at = "200ms"
for = "500ms"
params = { proxy = "front", latencyMs = 100 }

[expect]
faultsHealed = true

[[expect.spans]]
name = "faultline.fault"
parent = "faultline.phase"
attributes = { "faultline.fault.kind" = "tcp.latency", "faultline.fault.param.latencyMs" = 100 }
count = 1
minDuration = "400ms"
maxDuration = "5s"

[[expect.spans]]
name = "faultline.phase"
attributes = { "faultline.phase" = "checks" }
after = "faultline.fault"

[[expect.spans]]
name = "faultline.check"
status = "error"
exists = false

[[expect.spans]]
name = "target.startup"
from = "targets"
parent = "faultline.run"
anyAttributes = { "target.port" = ${port}, "nope" = 1 }
`,
      ),
    );
    const { value: result, checks } = await checkEventsOf(() => runScenario(scenario));
    assert.equal(result.verdict, 'pass', result.reason);
    const names = result.checks.map((c) => c.checker);
    assert.deepEqual(names, [
      'hermeticity',
      'span faultline.fault',
      'span faultline.phase',
      'span faultline.check',
      'span target.startup',
      'span faultsHealed',
    ]);
    for (const c of result.checks) assert.equal(c.valid, true, `${c.checker}: ${c.anomalies[0]?.message}`);
    // Published as check events: the journal, JUnit and the digest see them.
    const published = checks.map((event) => (event as { checker: string }).checker);
    assert.deepEqual(published, names);
    // The receiver and the target are gone: the hermeticity check held, and the port is free.
    assert.ok(await tcpPortFree(port));
  });

  it('fails when a fault it expects never happened, naming the missing span', async () => {
    const scenario = validateScenario(
      readDocument(
        'missing.toml',
        `
[experiment]
name = "a fault that never happened"
seed = 6
timeLimit = "20s"
duration = "100ms"

[[expect.spans]]
name = "faultline.fault"
attributes = { "faultline.fault.kind" = "tcp.latency" }
`,
      ),
    );
    const result = await runScenario(scenario);
    assert.equal(result.verdict, 'fail');
    assert.match(
      result.reason,
      /^span faultline\.fault: expected a span faultline\.fault with faultline\.fault\.kind = tcp\.latency; saw none \(spans seen: faultline\.phase ×\d+, .*faultline\.run/,
    );
    assert.equal(result.checks.find((c) => c.checker === 'hermeticity')?.valid, true);
  });
});
