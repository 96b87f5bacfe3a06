import type { CheckResult } from '../checker/index.js';
import type { SpanAttributes, SpanAttributeValue, SpanRecord } from './span-record.js';

/**
 * Span expectations (clnrm's model): what spans a run must (or must not) have made, checked against the
 * spans actually finished — the run's own (`from = "run"`) or its targets', received over OTLP
 * (`from = "targets"`). Each expectation is one check result, named `span <name>`, whose failure says
 * what was expected and what was seen.
 */
export interface SpanExpectation {
  /** The span name, exactly; and/or `nameMatches`, a regular expression it must match. */
  readonly name?: string;
  readonly nameMatches?: string;
  /** The name of the span's parent. */
  readonly parent?: string;
  /** Every one of these must be the span's. */
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
  /** At least one of these must be the span's. */
  readonly anyAttributes?: Readonly<Record<string, string | number | boolean>>;
  readonly status?: 'ok' | 'error' | 'unset';
  /** Matching spans: exactly `count`, at least `minCount` (default 1 without count), at most `maxCount`. */
  readonly count?: number;
  readonly minCount?: number;
  readonly maxCount?: number;
  /** Every matching span lasted at least / at most this (ms). */
  readonly minDuration?: number;
  readonly maxDuration?: number;
  /** `false`: no span may match. Default true. */
  readonly exists?: boolean;
  /** Every matching span starts once every span of that expectation (or span name) has ended. */
  readonly after?: string;
  /** Every matching span ends before any span of that expectation (or span name) starts. */
  readonly before?: string;
  /** Whose spans: the run's own (default) or its targets'. */
  readonly from?: 'run' | 'targets';
}

export interface SpanExpectations {
  readonly spans?: readonly SpanExpectation[];
  /** Graph rule: every `faultline.fault` span ended with `faultline.fault.outcome = healed`. */
  readonly faultsHealed?: boolean;
}

export interface SpanSources {
  readonly run: readonly SpanRecord[];
  readonly targets: readonly SpanRecord[];
}

/** Span names listed in a message, at most this many distinct ones. */
const maxListedNames = 12;

/** Each expectation checked against the spans: one check result each, then one per graph rule. */
export function evaluateExpectations(expect: SpanExpectations, sources: SpanSources): CheckResult[] {
  const expectations = expect.spans ?? [];
  const results = expectations.map((expectation) => evaluateOne(expectation, expectations, sources));
  if (expect.faultsHealed === true) results.push(faultsHealed(sources.run));
  return results;
}

/** How an expectation names its spans, in messages and check names. */
export function expectationName(expectation: SpanExpectation): string {
  return expectation.name ?? `/${expectation.nameMatches ?? ''}/`;
}

function evaluateOne(
  expectation: SpanExpectation,
  all: readonly SpanExpectation[],
  sources: SpanSources,
): CheckResult {
  const spans = expectation.from === 'targets' ? sources.targets : sources.run;
  const checker = `span ${expectationName(expectation)}`;
  const wanted = describe(expectation);
  // A target's span may have a run's span as its parent (TRACEPARENT): parents are looked up in both.
  const byId = new Map([...sources.run, ...sources.targets].map((span) => [span.spanId, span]));
  const matching = spans.filter((span) => matches(expectation, span, byId));
  const seen = (): string => seenSpans(spans, expectation.from ?? 'run');
  const fail = (message: string): CheckResult => ({
    checker,
    valid: false,
    anomalies: [{ type: 'span-expectation', message }],
    stats: { matched: matching.length },
  });
  if (expectation.exists === false) {
    if (matching.length === 0) return pass(checker, 0);
    return fail(`expected no span ${wanted}; saw ${matching.length}: ${spanList(matching)}`);
  }
  const min = expectation.count ?? expectation.minCount ?? 1;
  const max = expectation.count ?? expectation.maxCount ?? Number.POSITIVE_INFINITY;
  // count, with minCount and maxCount beside it, is validated to lie within them.
  if (matching.length < min || matching.length > max) {
    const bound =
      min === max
        ? `exactly ${min}`
        : max === Number.POSITIVE_INFINITY
          ? `at least ${min}`
          : `${min} to ${max}`;
    const what = min === 1 && max === Number.POSITIVE_INFINITY ? 'a span' : `${bound} span(s)`;
    const saw = matching.length === 0 ? `none (${seen()})` : `${matching.length}: ${spanList(matching)}`;
    return fail(`expected ${what} ${wanted}; saw ${saw}`);
  }
  for (const span of matching) {
    const ms = span.endMs - span.startMs;
    if (expectation.minDuration !== undefined && ms < expectation.minDuration)
      return fail(
        `expected every span ${wanted} to last at least ${expectation.minDuration} ms; saw ${round(ms)} ms`,
      );
    if (expectation.maxDuration !== undefined && ms > expectation.maxDuration)
      return fail(
        `expected every span ${wanted} to last at most ${expectation.maxDuration} ms; saw ${round(ms)} ms`,
      );
  }
  for (const [relation, other] of [
    ['after', expectation.after],
    ['before', expectation.before],
  ] as const) {
    if (other === undefined) continue;
    const reference = all.find((e) => e !== expectation && expectationName(e) === other);
    const others = spans.filter((span) =>
      reference === undefined ? span.name === other : matches(reference, span, byId),
    );
    if (others.length === 0) return fail(`expected spans ${wanted} ${relation} ${other}; saw no ${other}`);
    const ordered =
      relation === 'after'
        ? (span: SpanRecord) => span.startMs >= Math.max(...others.map((o) => o.endMs))
        : (span: SpanRecord) => span.endMs <= Math.min(...others.map((o) => o.startMs));
    const wrong = matching.find((span) => !ordered(span));
    if (wrong !== undefined) {
      const edge =
        relation === 'after'
          ? `the last ${other} ends at ${round(Math.max(...others.map((o) => o.endMs)) - wrong.startMs)} ms after it starts`
          : `the first ${other} starts ${round(wrong.endMs - Math.min(...others.map((o) => o.startMs)))} ms before it ends`;
      return fail(`expected every span ${wanted} ${relation} ${other}; saw ${spanList([wrong])}: ${edge}`);
    }
  }
  return pass(checker, matching.length);
}

function pass(checker: string, matched: number): CheckResult {
  return { checker, valid: true, anomalies: [], stats: { matched } };
}

function matches(
  expectation: SpanExpectation,
  span: SpanRecord,
  byId: ReadonlyMap<string, SpanRecord>,
): boolean {
  if (expectation.name !== undefined && span.name !== expectation.name) return false;
  if (expectation.nameMatches !== undefined && !new RegExp(expectation.nameMatches).test(span.name))
    return false;
  if (expectation.parent !== undefined) {
    const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
    if (parent?.name !== expectation.parent) return false;
  }
  if (expectation.status !== undefined && span.status.code !== expectation.status) return false;
  const has = ([key, value]: [string, string | number | boolean]): boolean =>
    sameValue(span.attributes[key], value);
  if (expectation.attributes !== undefined && !Object.entries(expectation.attributes).every(has))
    return false;
  if (expectation.anyAttributes !== undefined && !Object.entries(expectation.anyAttributes).some(has))
    return false;
  return true;
}

/** An attribute equals the expected value; numbers and booleans also match their text (`"true"`). */
function sameValue(actual: SpanAttributeValue | undefined, expected: string | number | boolean): boolean {
  if (actual === undefined || Array.isArray(actual)) return false;
  return actual === expected || String(actual) === String(expected);
}

/** `faultline.fault with faultline.fault.kind = tcp.latency, status error`: what an expectation asks. */
function describe(expectation: SpanExpectation): string {
  const parts: string[] = [];
  const pairs = (attributes: SpanAttributes, joiner: string): string =>
    Object.entries(attributes)
      .map(([key, value]) => `${key} = ${String(value)}`)
      .join(joiner);
  if (expectation.attributes !== undefined && Object.keys(expectation.attributes).length > 0)
    parts.push(`with ${pairs(expectation.attributes, ' and ')}`);
  if (expectation.anyAttributes !== undefined && Object.keys(expectation.anyAttributes).length > 0)
    parts.push(`with ${pairs(expectation.anyAttributes, ' or ')}`);
  if (expectation.parent !== undefined) parts.push(`under ${expectation.parent}`);
  if (expectation.status !== undefined) parts.push(`with status ${expectation.status}`);
  if (expectation.from === 'targets') parts.push("from the run's targets");
  return [expectationName(expectation), ...parts].join(' ');
}

/** `spans seen: faultline.run, faultline.phase ×8, …`, the distinct names in order of first sight. */
function seenSpans(spans: readonly SpanRecord[], from: 'run' | 'targets'): string {
  if (spans.length === 0) return from === 'targets' ? 'no span came from the targets' : 'no spans at all';
  return `spans seen: ${countedNames(spans)}`;
}

function countedNames(spans: readonly SpanRecord[]): string {
  const counts = new Map<string, number>();
  for (const span of spans) counts.set(span.name, (counts.get(span.name) ?? 0) + 1);
  const listed = [...counts]
    .slice(0, maxListedNames)
    .map(([name, count]) => (count > 1 ? `${name} ×${count}` : name));
  return counts.size > maxListedNames ? `${listed.join(', ')}, …` : listed.join(', ');
}

/** A few matching spans, with the attributes that tell them apart. */
function spanList(spans: readonly SpanRecord[]): string {
  const shown = spans.slice(0, 3).map((span) => {
    const label =
      span.attributes['faultline.fault.kind'] ??
      span.attributes['faultline.phase'] ??
      span.attributes['faultline.check.checker'] ??
      span.attributes['faultline.probe.name'];
    const ms = round(span.endMs - span.startMs);
    return `${span.name}${label === undefined ? '' : ` (${String(label)})`} ${ms} ms, status ${span.status.code}`;
  });
  return spans.length > 3 ? `${shown.join('; ')}; …` : shown.join('; ');
}

function faultsHealed(spans: readonly SpanRecord[]): CheckResult {
  const checker = 'span faultsHealed';
  const faults = spans.filter((span) => span.name === 'faultline.fault');
  const unhealed = faults.filter((span) => span.attributes['faultline.fault.outcome'] !== 'healed');
  if (unhealed.length === 0) return pass(checker, faults.length);
  const shown = unhealed
    .slice(0, 5)
    .map(
      (span) =>
        `${String(span.attributes['faultline.fault.label'] ?? span.attributes['faultline.fault.kind'])} (${String(span.attributes['faultline.fault.outcome'] ?? 'no outcome')})`,
    );
  return {
    checker,
    valid: false,
    anomalies: [
      {
        type: 'span-expectation',
        message: `expected every faultline.fault span to end healed; saw ${unhealed.length} of ${faults.length} not: ${shown.join(', ')}${unhealed.length > 5 ? ', …' : ''}`,
      },
    ],
    stats: { matched: faults.length },
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
