import { type AnomalySummary, summariseAnomalies } from '../checker/index.js';
import type { CheckRecord, JournalSummary, OpBucket } from './journal-reader.js';
import { latencyOfBin } from './journal-reader.js';

/** Figures a report shows, derived from a journal summary: the same for HTML, JUnit and JSON. */

export interface Interval {
  /** Run time (ms) the interval starts at; it lasts `intervalMs`. */
  readonly fromMs: number;
  /** Completions per second in the interval, by outcome. */
  readonly okPerSecond: number;
  readonly errorsPerSecond: number;
  /** Latency of the calls completed in it, ms; undefined when none completed. */
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
}

/** At most this many intervals on the timeline: ops are aggregated, never drawn one by one there. */
const maxIntervals = 160;

export function intervals(summary: JournalSummary): { intervalMs: number; intervals: Interval[] } {
  const { bucketMs, buckets } = summary.ops;
  const endMs = Math.max(summary.endMs, ...[...buckets.keys()].map((i) => (i + 1) * bucketMs), 1);
  const per = Math.max(1, Math.ceil(endMs / bucketMs / maxIntervals));
  const intervalMs = per * bucketMs;
  const count = Math.ceil(endMs / intervalMs);
  const result: Interval[] = [];
  for (let i = 0; i < count; i++) {
    let ok = 0;
    let errors = 0;
    const latency = new Map<number, number>();
    for (let j = i * per; j < (i + 1) * per; j++) {
      const bucket: OpBucket | undefined = buckets.get(j);
      if (bucket === undefined) continue;
      ok += bucket.ok;
      errors += bucket.fail + bucket.info;
      for (const [bin, n] of bucket.latency) latency.set(bin, (latency.get(bin) ?? 0) + n);
    }
    result.push({
      fromMs: i * intervalMs,
      okPerSecond: (ok * 1000) / intervalMs,
      errorsPerSecond: (errors * 1000) / intervalMs,
      p50Ms: quantileMs(latency, 0.5),
      p99Ms: quantileMs(latency, 0.99),
    });
  }
  return { intervalMs, intervals: result };
}

function quantileMs(histogram: ReadonlyMap<number, number>, q: number): number | undefined {
  let total = 0;
  for (const n of histogram.values()) total += n;
  if (total === 0) return undefined;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (const bin of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bin) as number;
    if (seen >= rank) return latencyOfBin(bin) / 1e6;
  }
  return undefined;
}

export interface Recovery {
  readonly fault: string;
  readonly kind: string;
  readonly injectMs: number;
  readonly healMs: number | undefined;
  /** What went red after the injection and when it was green again, ms after the injection. */
  readonly recovered: readonly {
    readonly what: string;
    readonly redMs: number;
    readonly greenMs: number | undefined;
  }[];
}

/**
 * Recovery after each fault: for every probe that failed after the injection (before the next fault),
 * when it first failed and when it passed again, in ms after the injection — the time to green the
 * recovery-slo check measures from the heal.
 */
export function recoveries(summary: JournalSummary): Recovery[] {
  const faults = [...summary.faults].sort((a, b) => a.injectMs - b.injectMs);
  return faults.map((fault, i) => {
    const until = faults[i + 1]?.injectMs ?? Number.POSITIVE_INFINITY;
    const recovered: { what: string; redMs: number; greenMs: number | undefined }[] = [];
    for (const [name, segments] of summary.probes) {
      const red = segments.find((s) => !s.ok && s.toMs >= fault.injectMs && s.fromMs < until);
      if (red === undefined) continue;
      const green = segments.find((s) => s.ok && s.fromMs > red.fromMs);
      recovered.push({
        what: `probe ${name}`,
        redMs: Math.max(0, red.fromMs - fault.injectMs),
        greenMs: green === undefined ? undefined : green.fromMs - fault.injectMs,
      });
    }
    return {
      fault: fault.label,
      kind: fault.kind,
      injectMs: fault.injectMs,
      healMs: fault.healMs,
      recovered,
    };
  });
}

/**
 * A check's anomalies summarised by kind (checker/anomaly-summary.ts): from the journal's summaries of
 * every anomaly, or — in a journal written before they were recorded — from the first 20 it holds
 * (`partial` then says the last and the counts may be missing some).
 */
export function anomalySummary(check: CheckRecord): {
  count: number;
  summaries: readonly AnomalySummary[];
  partial: boolean;
  held: number;
} {
  const held = check.anomalies.length;
  if (check.summaries !== undefined)
    return { count: check.anomalyCount, summaries: check.summaries, partial: false, held };
  return {
    count: check.anomalyCount,
    summaries: summariseAnomalies(check.anomalies),
    partial: held < check.anomalyCount,
    held,
  };
}

export type Outcome = 'pass' | 'fail' | 'unknown';

export function checkOutcome(check: CheckRecord): Outcome {
  return check.valid === true ? 'pass' : check.valid === false ? 'fail' : 'unknown';
}

/** The summary JSON of `faultline report --json` (docs/evidence.md, "Reports"). */
export interface ReportJson {
  readonly faultline: string;
  readonly scenario: { readonly file: string; readonly name: string; readonly tags: readonly string[] };
  readonly seed: number;
  readonly replay: string;
  readonly startedAt: string;
  /** The verdict; "unfinished" when the journal has no verdict record (the run was killed). */
  readonly verdict: string;
  readonly reason: string;
  readonly finished: boolean;
  readonly elapsedMs: number;
  readonly ops: { readonly ok: number; readonly fail: number; readonly info: number };
  readonly checks: readonly {
    readonly checker: string;
    readonly valid: true | false | 'unknown';
    readonly reason?: string;
    readonly anomalyCount: number;
    readonly firstAnomalies: readonly string[];
    readonly stats?: Readonly<Record<string, number>>;
  }[];
  readonly faults: readonly {
    readonly id: number;
    readonly kind: string;
    readonly label: string;
    readonly injectMs: number;
    readonly healMs: number | null;
  }[];
  readonly recoveries: readonly Recovery[];
}

export function reportJson(summary: JournalSummary): ReportJson {
  const { header, verdict } = summary;
  return {
    faultline: header.faultline,
    scenario: header.scenario,
    seed: header.seed,
    replay: header.replay,
    startedAt: header.startedAt,
    verdict: verdict?.verdict ?? 'unfinished',
    reason: verdict?.reason ?? 'the journal has no verdict: the run did not finish (killed?)',
    finished: verdict !== undefined,
    elapsedMs: verdict?.elapsedMs ?? summary.endMs,
    ops: { ok: summary.ops.ok, fail: summary.ops.fail, info: summary.ops.info },
    checks: summary.checks.map((check) => ({
      checker: check.checker,
      valid: check.valid,
      ...(check.reason === undefined ? {} : { reason: check.reason }),
      anomalyCount: check.anomalyCount,
      firstAnomalies: check.anomalies.slice(0, 5).map((a) => a.message),
      ...(check.stats === undefined ? {} : { stats: check.stats }),
    })),
    faults: summary.faults.map((f) => ({
      id: f.id,
      kind: f.kind,
      label: f.label,
      injectMs: round(f.injectMs),
      healMs: f.healMs === undefined ? null : round(f.healMs),
    })),
    recoveries: recoveries(summary).map((r) => ({
      ...r,
      injectMs: round(r.injectMs),
      healMs: r.healMs === undefined ? undefined : round(r.healMs),
      recovered: r.recovered.map((x) => ({
        what: x.what,
        redMs: round(x.redMs),
        greenMs: x.greenMs === undefined ? undefined : round(x.greenMs),
      })),
    })),
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
