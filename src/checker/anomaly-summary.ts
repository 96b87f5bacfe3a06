/**
 * Anomalies of one kind summarised, so 50,000 `lost` writes read as a few lines: the count, the first
 * and the last in history time, and a sample. The CLI's text and HTML output and the run report use
 * it; only JSON carries every anomaly. Pure: the same anomalies give the same summary.
 */

import type { CheckEventAnomaly, CheckEventSummary } from '../core/events.js';
import type { Op } from '../history/index.js';
import type { Anomaly } from './result.js';

// Check events carry these summaries, so their shape is defined with the events (core/events.ts).
/** One anomaly as a summary names it: its message, and where it is in the history when its ops say. */
export type AnomalyRef = CheckEventAnomaly;
/** Anomalies of one kind: the count, the first and last in history time, a sample. */
export type AnomalySummary = CheckEventSummary;

export interface AnomalySummaryOptions {
  /** How many anomalies of a kind the sample shows (default 5). */
  readonly sampleSize?: number;
}

/** Only `type`, `message` and `ops` are read: a journal's anomalies (no ops) summarise too. */
type AnomalyLike = Pick<Anomaly, 'type' | 'message' | 'ops'>;

/** The anomalies grouped by `type` (in order of each type's first appearance in the list). */
export function summariseAnomalies(
  anomalies: readonly AnomalyLike[],
  options: AnomalySummaryOptions = {},
): AnomalySummary[] {
  const sampleSize = Math.max(1, Math.floor(options.sampleSize ?? 5));
  const byType = new Map<string, AnomalyRef[]>();
  for (const anomaly of anomalies) {
    const list = byType.get(anomaly.type);
    const ref = refOf(anomaly);
    if (list === undefined) byType.set(anomaly.type, [ref]);
    else list.push(ref);
  }
  const summaries: AnomalySummary[] = [];
  for (const [type, refs] of byType) {
    // Stable sort: equal times keep the checker's order, so the summary is deterministic.
    const ordered = refs
      .map((ref, position) => ({ ref, position }))
      .sort(
        (a, b) =>
          (a.ref.timeNs ?? Number.POSITIVE_INFINITY) - (b.ref.timeNs ?? Number.POSITIVE_INFINITY) ||
          a.position - b.position,
      )
      .map(({ ref }) => ref);
    summaries.push({
      type,
      count: ordered.length,
      first: ordered[0] as AnomalyRef,
      last: ordered.at(-1) as AnomalyRef,
      sample: spread(ordered, sampleSize),
    });
  }
  return summaries;
}

function refOf(anomaly: AnomalyLike): AnomalyRef {
  let earliest: Op | undefined;
  for (const op of anomaly.ops ?? []) {
    if (typeof op?.time !== 'number') continue;
    if (earliest === undefined || op.time < earliest.time) earliest = op;
  }
  if (earliest === undefined) return { message: anomaly.message };
  return {
    message: anomaly.message,
    timeNs: earliest.time,
    op: earliest.index,
    ...(earliest.line === undefined ? {} : { line: earliest.line }),
  };
}

/** `size` items evenly spaced over `items`, the first and last included. */
function spread<T>(items: readonly T[], size: number): T[] {
  if (items.length <= size) return [...items];
  if (size === 1) return [items[0] as T];
  const picked: T[] = [];
  for (let i = 0; i < size; i++) picked.push(items[Math.round((i * (items.length - 1)) / (size - 1))] as T);
  return picked;
}

/** `+1.234 s`: history time as a duration from the history's start (`startNs`). */
export function formatSinceStart(timeNs: number, startNs: number): string {
  return `+${((timeNs - startNs) / 1e9).toFixed(3)} s`;
}

/** `op 12 (line 13)`, `line 13` or `op 12`: where an anomaly is, or undefined when its ops do not say. */
export function whereOfRef(ref: AnomalyRef): string | undefined {
  if (ref.op === undefined) return ref.line === undefined ? undefined : `line ${ref.line}`;
  return ref.line === undefined ? `op ${ref.op}` : `op ${ref.op} (line ${ref.line})`;
}

/** `+0.250 s, op 3 (line 4): <message>`: one anomaly of a summary as a line of text. */
export function describeRef(ref: AnomalyRef, startNs: number): string {
  const where = [
    ref.timeNs === undefined ? undefined : formatSinceStart(ref.timeNs, startNs),
    whereOfRef(ref),
  ].filter((part) => part !== undefined);
  return where.length === 0 ? ref.message : `${where.join(', ')}: ${ref.message}`;
}

/**
 * A summary as lines of text (no trailing newline): one anomaly printed whole; more as the count and
 * time window, the first, the last and a sample of where they are.
 */
export function formatAnomalySummary(summary: AnomalySummary, startNs = 0): string[] {
  const { type, count, first, last } = summary;
  if (count === 1) return [`${type}: ${describeRef(first, startNs)}`];
  const window =
    first.timeNs === undefined || last.timeNs === undefined
      ? ''
      : `, from ${formatSinceStart(first.timeNs, startNs)} to ${formatSinceStart(last.timeNs, startNs)}`;
  const where = summary.sample.map(whereOfRef).filter((w) => w !== undefined);
  return [
    `${type}: ${count} anomalies${window}`,
    `  first: ${describeRef(first, startNs)}`,
    `  last:  ${describeRef(last, startNs)}`,
    ...(where.length > 2 ? [`  sample: ${where.join(', ')}`] : []),
  ];
}
