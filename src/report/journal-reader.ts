import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { invalid } from '../core/assert.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import type { EventOf } from '../core/events.js';
import type { JournalHeader, JournalVerdict } from './journal.js';
import { parseJournalLine } from './journal-read.js';

/**
 * Reads a run journal line by line into what a report needs, in bounded memory: the ops are aggregated
 * into time buckets (counts and a latency histogram each) as they stream by, never held. Every bad line
 * is an error naming `file:line` and what is wrong with it.
 */

/** Bounds: beyond them the reader keeps counting but stops keeping. */
const maxBuckets = 2048;
const maxFaults = 10_000;
const maxChecks = 1_000;
const maxProbeSegments = 10_000;
/** Latency histogram bins per doubling: a bin's value is within ~4 % of the latencies it holds. */
const binsPerDoubling = 16;

export interface FaultWindow {
  readonly id: number;
  readonly kind: string;
  readonly label: string;
  readonly params: unknown;
  /** Run time (ms since the run started) of the injection and heal; heal undefined when it never healed. */
  readonly injectMs: number;
  healMs?: number;
  healError?: unknown;
}

/** Consecutive samples of one probe with the same outcome. */
export interface ProbeSegment {
  readonly fromMs: number;
  toMs: number;
  readonly ok: boolean;
  samples: number;
  readonly error?: string;
}

/** A check as the journal holds it: the `check` event (its `atMs` made relative to the run's start). */
export type CheckRecord = Omit<EventOf<'check'>, 'type'>;

/** The ops completed in one bucket of run time. */
export interface OpBucket {
  ok: number;
  fail: number;
  info: number;
  /** Latency histogram: bin → count (see latencyOfBin). */
  readonly latency: Map<number, number>;
}

export interface JournalSummary {
  readonly file: string;
  readonly header: JournalHeader;
  /** The verdict record; undefined when the run did not finish (killed before it could write it). */
  readonly verdict: JournalVerdict | undefined;
  readonly lines: number;
  /** Records of types this reader does not know, skipped. */
  readonly skipped: number;
  /** Run time of the run's last record (ms since its start). */
  readonly endMs: number;
  /** Run start on the run clock (atMs of the `run` start): run time = atMs - startAtMs. */
  readonly startAtMs: number;
  /** Where the history's op times start, in run time (the method phase's start). */
  readonly historyOriginMs: number;
  readonly phases: readonly { readonly name: string; readonly fromMs: number; toMs?: number }[];
  readonly faults: readonly FaultWindow[];
  readonly probes: ReadonlyMap<string, readonly ProbeSegment[]>;
  readonly checks: readonly CheckRecord[];
  readonly ops: {
    /** Invocations and completions. */
    readonly records: number;
    readonly ok: number;
    readonly fail: number;
    readonly info: number;
    /** Completions without their invocation (a history that does not pair). */
    readonly unpaired: number;
    /** Bucket width in ms; bucket i covers run time [i·widthMs, (i+1)·widthMs). */
    readonly bucketMs: number;
    readonly buckets: ReadonlyMap<number, OpBucket>;
  };
}

export function latencyBin(latencyNs: number): number {
  return Math.floor(Math.log2(Math.max(1, latencyNs)) * binsPerDoubling);
}

/** The latency (ns) a histogram bin stands for: its geometric middle. */
export function latencyOfBin(bin: number): number {
  return 2 ** ((bin + 0.5) / binsPerDoubling);
}

/** Calls `onRecord` with each validated record and its line number; errors name `file:line`. */
export async function forEachRecord(
  file: string,
  onRecord: (record: Record<string, unknown>, line: number) => void,
): Promise<number> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new FaultlineError(
      'FL_ERR_INVALID_ARGUMENT',
      `${file}: cannot read the journal: ${messageOf(error)}`,
      {
        details: { field: file },
      },
    );
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text === '') continue;
      const { record, known } = parseJournalLine(text, file, line);
      onRecord(known ? (record as unknown as Record<string, unknown>) : { type: '?' }, line);
    }
  } finally {
    lines.close();
    input.destroy();
  }
  return line;
}

/** Reads a journal into a summary (one pass, bounded memory). */
export async function readJournal(file: string): Promise<JournalSummary> {
  let header: JournalHeader | undefined;
  let verdict: JournalVerdict | undefined;
  let skipped = 0;
  let startAtMs: number | undefined;
  let lastAtMs = 0;
  let historyOriginAtMs: number | undefined;
  const phases: { name: string; fromMs: number; toMs?: number }[] = [];
  const faults = new Map<number, FaultWindow>();
  const probes = new Map<string, ProbeSegment[]>();
  const checks: CheckRecord[] = [];
  const invoked = new Map<unknown, number>();
  const ops = { records: 0, ok: 0, fail: 0, info: 0, unpaired: 0 };
  let bucketMs = 10;
  let buckets = new Map<number, OpBucket>();
  let probeSegments = 0;
  // Ops carry no atMs: in a journal cut off mid-method the last op is later than the last timed record.
  let lastOpMs = 0;
  const run = (atMs: number): number => atMs - (startAtMs ?? atMs);

  const addCompletion = (atMs: number, type: 'ok' | 'fail' | 'info', latencyNs: number | undefined): void => {
    let index = Math.floor(Math.max(0, atMs) / bucketMs);
    // Too long a run for the bucket width: double it, merging pairs, until the run fits.
    while (index >= maxBuckets) {
      bucketMs *= 2;
      const merged = new Map<number, OpBucket>();
      for (const [i, bucket] of buckets) mergeInto(merged, i >> 1, bucket);
      buckets = merged;
      index = Math.floor(atMs / bucketMs);
    }
    let bucket = buckets.get(index);
    if (bucket === undefined) {
      bucket = { ok: 0, fail: 0, info: 0, latency: new Map() };
      buckets.set(index, bucket);
    }
    bucket[type]++;
    if (latencyNs !== undefined) {
      const bin = latencyBin(latencyNs);
      bucket.latency.set(bin, (bucket.latency.get(bin) ?? 0) + 1);
    }
  };

  const lines = await forEachRecord(file, (record, line) => {
    const type = record.type as string;
    if (line === 1 || header === undefined) {
      if (type !== 'journal')
        throw invalid(`${file}:${line}`, `expected the "journal" header first, got a "${type}" record`);
      header = record as unknown as JournalHeader;
      return;
    }
    if (typeof record.atMs === 'number') {
      startAtMs ??= record.atMs;
      lastAtMs = Math.max(lastAtMs, record.atMs);
    }
    switch (type) {
      case '?':
        skipped++;
        return;
      case 'journal':
        throw invalid(`${file}:${line}`, 'a second "journal" header: two journals in one file?');
      case 'verdict':
        verdict = record as unknown as JournalVerdict;
        return;
      case 'phase': {
        const atMs = run(record.atMs as number);
        if (record.state === 'start') {
          phases.push({ name: record.name as string, fromMs: atMs });
          if (record.name === 'method') historyOriginAtMs ??= record.atMs as number;
        } else {
          const open = phases.findLast((phase) => phase.name === record.name && phase.toMs === undefined);
          if (open !== undefined) open.toMs = atMs;
        }
        return;
      }
      case 'fault.inject':
        if (faults.size < maxFaults)
          faults.set(record.id as number, {
            id: record.id as number,
            kind: record.kind as string,
            label: record.label as string,
            params: record.params,
            injectMs: run(record.atMs as number),
          });
        return;
      case 'fault.heal': {
        const fault = faults.get(record.id as number);
        // A heal without its inject undoes a setup step (a target stopped): not a fault window.
        if (fault !== undefined && fault.healMs === undefined) {
          fault.healMs = run(record.atMs as number);
          if (record.error !== undefined) fault.healError = record.error;
        }
        return;
      }
      case 'probe': {
        const name = record.name as string;
        const atMs = run(record.atMs as number);
        let segments = probes.get(name);
        if (segments === undefined) {
          segments = [];
          probes.set(name, segments);
        }
        const last = segments.at(-1);
        if (last !== undefined && last.ok === record.ok) {
          last.toMs = atMs;
          last.samples++;
        } else if (probeSegments < maxProbeSegments) {
          probeSegments++;
          segments.push({
            fromMs: atMs,
            toMs: atMs,
            ok: record.ok as boolean,
            samples: 1,
            ...(typeof record.error === 'string' ? { error: record.error } : {}),
          });
        }
        return;
      }
      case 'check':
        if (checks.length < maxChecks)
          checks.push({ ...(record as unknown as CheckRecord), atMs: run(record.atMs as number) });
        return;
      case 'op': {
        ops.records++;
        const op = record.op as { process: unknown; type: string; time: number };
        historyOriginAtMs ??= lastAtMs;
        const atMs = historyOriginAtMs - (startAtMs ?? historyOriginAtMs) + op.time / 1e6;
        if (op.type === 'invoke') {
          invoked.set(op.process, op.time);
          return;
        }
        const type = op.type as 'ok' | 'fail' | 'info';
        ops[type]++;
        const from = invoked.get(op.process);
        if (from === undefined) ops.unpaired++;
        invoked.delete(op.process);
        lastOpMs = Math.max(lastOpMs, atMs);
        addCompletion(atMs, type, from === undefined ? undefined : op.time - from);
        return;
      }
      default:
        return;
    }
  });
  if (header === undefined) throw invalid(file, 'the journal is empty', 'a "journal" header line first');
  const origin = startAtMs ?? 0;
  return {
    file,
    header,
    verdict,
    lines,
    skipped,
    startAtMs: origin,
    endMs: Math.max(lastAtMs - origin, lastOpMs),
    historyOriginMs: (historyOriginAtMs ?? origin) - origin,
    phases,
    faults: [...faults.values()],
    probes,
    checks,
    ops: { ...ops, bucketMs, buckets },
  };
}

function mergeInto(target: Map<number, OpBucket>, index: number, bucket: OpBucket): void {
  const into = target.get(index);
  if (into === undefined) {
    target.set(index, bucket);
    return;
  }
  into.ok += bucket.ok;
  into.fail += bucket.fail;
  into.info += bucket.info;
  for (const [bin, n] of bucket.latency) into.latency.set(bin, (into.latency.get(bin) ?? 0) + n);
}

/** One op of the history as a report draws it: call and return in run time (ms). */
export interface WindowOp {
  readonly process: string;
  readonly f: string;
  readonly value: unknown;
  readonly type: 'ok' | 'fail' | 'info' | 'open';
  readonly index: number;
  readonly callMs: number;
  readonly returnMs: number | undefined;
  readonly error?: string;
}

/**
 * A second pass over the journal: the history's ops (each invocation paired with its completion, times in
 * run ms) that `keep` accepts, at most `limit` of them in completion order; `truncated` when more were.
 * Ops still open at the end are offered last, with `returnMs` undefined.
 */
export async function readOps(
  summary: JournalSummary,
  keep: (op: WindowOp) => boolean,
  limit: number,
): Promise<{ ops: WindowOp[]; truncated: boolean }> {
  const origin = summary.historyOriginMs;
  const open = new Map<unknown, { f: string; value: unknown; index: number; callMs: number }>();
  const ops: WindowOp[] = [];
  let truncated = false;
  const offer = (op: WindowOp): void => {
    if (!keep(op)) return;
    if (ops.length < limit) ops.push(op);
    else truncated = true;
  };
  await forEachRecord(summary.file, (record) => {
    if (record.type !== 'op') return;
    const op = record.op as {
      process: unknown;
      type: string;
      f: string;
      value: unknown;
      time: number;
      index: number;
      error?: string;
    };
    const atMs = origin + op.time / 1e6;
    if (op.type === 'invoke') {
      open.set(op.process, { f: op.f, value: op.value, index: op.index, callMs: atMs });
      return;
    }
    const call = open.get(op.process);
    open.delete(op.process);
    if (call === undefined) return;
    offer({
      process: String(op.process),
      f: op.f,
      // A read's value is known at its return: show the returned value.
      value: op.value ?? call.value,
      type: op.type as 'ok' | 'fail' | 'info',
      index: call.index,
      callMs: call.callMs,
      returnMs: atMs,
      ...(op.error === undefined ? {} : { error: op.error }),
    });
  });
  for (const [process, call] of open) {
    offer({
      process: String(process),
      f: call.f,
      value: call.value,
      type: 'open',
      index: call.index,
      callMs: call.callMs,
      returnMs: undefined,
    });
  }
  return { ops, truncated };
}
