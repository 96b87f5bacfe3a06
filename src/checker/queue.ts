/**
 * Queue checkers. Ideas from Jepsen's `checker/queue` and `checker/total-queue`: compare the multiset of
 * enqueued elements with the multiset of dequeued ones. `queue` checks only what a partial history can
 * prove (nothing dequeued that was not enqueued, nothing dequeued twice, nothing dequeued before it was
 * enqueued); `total-queue` also requires every acknowledged enqueue to come out, which needs the history
 * to end by draining the queue. Order (FIFO) is the linearizability checker's job, not these.
 */
import type { History, Op, Operation } from '../history/index.js';
import { valueKey } from '../history/index.js';
import type { Anomaly, Checker, CheckResult } from './result.js';
import {
  type BaseCheckOptions,
  clientOperations,
  describeOp,
  formatList,
  formatValue,
  itemsOf,
  lastOp,
  maxEvidenceOps,
  opsOf,
  valueError,
} from './safety-support.js';

export interface QueueCheckOptions extends BaseCheckOptions {
  /** f of the enqueues (the invocation's value is the element). Default `enqueue`. */
  readonly enqueueF?: string;
  /** f of the dequeues (an `ok` value is the element, or null/undefined when the queue was empty). Default `dequeue`. */
  readonly dequeueF?: string;
  /** f of drains (an `ok` value is the array of elements removed). Default `drain`. */
  readonly drainF?: string;
}

export interface TotalQueueCheckOptions extends QueueCheckOptions {
  /**
   * Whether the history ends with the queue drained (dequeued until empty). Only then is an acknowledged
   * enqueue that never came out lost; otherwise the verdict is `unknown` while any is outstanding.
   * Default true.
   */
  readonly drained?: boolean;
}

/** Everything the history says about one element (by value; the same value may be enqueued repeatedly). */
interface ElementRecord {
  readonly element: unknown;
  readonly enqueues: Operation[];
  /** Each dequeue or drain that returned this element, once per occurrence. */
  readonly dequeues: Operation[];
}

/** Checks a queue history for unexpected, duplicated, failed-but-present and premature dequeues. */
export function checkQueue(history: History, options: QueueCheckOptions = {}): CheckResult {
  return check('queue', history, options, undefined);
}

/** `checkQueue` plus lost (acknowledged enqueues never dequeued) and recovered elements. */
export function checkTotalQueue(history: History, options: TotalQueueCheckOptions = {}): CheckResult {
  return check('total-queue', history, options, options.drained ?? true);
}

function check(
  name: string,
  history: History,
  options: QueueCheckOptions,
  drained: boolean | undefined,
): CheckResult {
  const enqueueF = options.enqueueF ?? 'enqueue';
  const dequeueF = options.dequeueF ?? 'dequeue';
  const drainF = options.drainF ?? 'drain';
  const operations = clientOperations(history, name, [enqueueF, dequeueF, drainF], options);

  const elements = new Map<string, ElementRecord>();
  const recordOf = (element: unknown): ElementRecord => {
    const key = valueKey(element);
    let record = elements.get(key);
    if (record === undefined) {
      record = { element, enqueues: [], dequeues: [] };
      elements.set(key, record);
    }
    return record;
  };
  let emptyDequeues = 0;
  let dequeued = 0;
  let maybeDequeues = 0;
  let maybeDrains = 0;
  for (const operation of operations) {
    if (operation.f === enqueueF) {
      recordOf(operation.input).enqueues.push(operation);
    } else if (operation.type === 'info') {
      if (operation.f === drainF) maybeDrains++;
      else maybeDequeues++;
    } else if (operation.type === 'ok') {
      const complete = operation.complete as Op;
      if (operation.f === drainF) {
        const removed = itemsOf(complete.value);
        if (removed === undefined) {
          throw valueError(
            complete,
            name,
            `the ok ${drainF}'s value`,
            'an array or set of the elements removed',
          );
        }
        for (const element of removed) recordOf(element).dequeues.push(operation);
        dequeued += removed.length;
      } else if (complete.value === null || complete.value === undefined) {
        emptyDequeues++;
      } else {
        recordOf(complete.value).dequeues.push(operation);
        dequeued++;
      }
    }
  }

  const anomalies: Anomaly[] = [];
  const lost: unknown[] = [];
  const missingElements: { element: unknown; missing: number; ok: Operation[] }[] = [];
  let recovered = 0;
  let outstanding = 0;
  for (const record of elements.values()) {
    const { element, enqueues, dequeues } = record;
    const ok = enqueues.filter((o) => o.type === 'ok');
    const attempted = enqueues.filter((o) => o.type !== 'fail');
    const failed = enqueues.filter((o) => o.type === 'fail');
    const out = dequeues.length;
    if (out > 0 && attempted.length === 0) {
      const first = dequeues[0] as Operation;
      anomalies.push(
        failed.length > 0
          ? {
              type: 'failed-present',
              message: `element ${formatValue(element)} was dequeued (${describeOp(lastOp(first), element)}) although its enqueue failed (${describeOp(lastOp(failed[0] as Operation), element)})`,
              ops: [...failed.flatMap(opsOf), ...dequeues.flatMap(opsOf)].slice(0, maxEvidenceOps),
              element,
            }
          : {
              type: 'unexpected',
              message: `element ${formatValue(element)} was dequeued (${describeOp(lastOp(first), element)}) but never enqueued`,
              ops: dequeues.flatMap(opsOf).slice(0, maxEvidenceOps),
              element,
            },
      );
      continue;
    }
    if (out > attempted.length) {
      anomalies.push({
        type: 'duplicated',
        message: `element ${formatValue(element)} was enqueued ${attempted.length} time(s) but dequeued ${out} times: ${dequeues
          .slice(0, 5)
          .map((o) => describeOp(lastOp(o), element))
          .join('; ')}`,
        ops: [...attempted.flatMap(opsOf), ...dequeues.flatMap(opsOf)].slice(0, maxEvidenceOps),
        element,
        enqueued: attempted.length,
        dequeued: out,
      });
    }
    const firstEnqueue = attempted[0]?.invoke.index ?? Number.NEGATIVE_INFINITY;
    const early = dequeues.find((o) => (o.complete as Op).index < firstEnqueue);
    if (early !== undefined) {
      anomalies.push({
        type: 'premature',
        message: `element ${formatValue(element)} was dequeued (${describeOp(early.complete as Op, element)}) before any enqueue of it began (${describeOp(attempted[0]?.invoke as Op, element)})`,
        ops: [...opsOf(early), ...attempted.flatMap(opsOf)].slice(0, maxEvidenceOps),
        element,
      });
    }
    if (drained === undefined) continue;
    recovered += Math.max(0, Math.min(out, attempted.length) - ok.length);
    const missing = ok.length - out;
    if (missing <= 0) continue;
    if (!drained) {
      outstanding += missing;
      continue;
    }
    missingElements.push({ element, missing, ok });
  }

  // A dequeue whose outcome is unknown may have taken an element nobody saw: only more missing
  // elements than such dequeues prove a loss.
  const missingTotal = missingElements.reduce((sum, m) => sum + m.missing, 0);
  const mayHaveTaken = maybeDrains > 0 ? Number.POSITIVE_INFINITY : maybeDequeues;
  const explained = missingTotal > 0 && missingTotal <= mayHaveTaken;
  if (!explained) {
    for (const { element, missing, ok } of missingElements) {
      const out = ok.length - missing;
      lost.push(element);
      anomalies.push({
        type: 'lost',
        message: `element ${formatValue(element)} was acknowledged ${ok.length === 1 ? `(${describeOp(ok[0]?.complete as Op, element)})` : `${ok.length} times`} but ${out <= 0 ? 'never dequeued' : `dequeued only ${out} time(s)`}${mayHaveTaken > 0 ? ` (${missingTotal} missing in all; ${mayHaveTaken} dequeue(s) with unknown outcome can explain at most that many)` : ''}`,
        ops: ok.flatMap(opsOf).slice(0, maxEvidenceOps),
        element,
        missing,
      });
    }
  }

  const byType = (type: string) => anomalies.filter((a) => a.type === type).length;
  const stats: Record<string, number> = {
    enqueues: countOf(elements, (r) => r.enqueues.length),
    okEnqueues: countOf(elements, (r) => r.enqueues.filter((o) => o.type === 'ok').length),
    failedEnqueues: countOf(elements, (r) => r.enqueues.filter((o) => o.type === 'fail').length),
    indeterminateEnqueues: countOf(elements, (r) => r.enqueues.filter((o) => o.type === 'info').length),
    dequeued,
    emptyDequeues,
    unexpected: byType('unexpected'),
    duplicated: byType('duplicated'),
    failedPresent: byType('failed-present'),
    premature: byType('premature'),
  };
  if (drained !== undefined) {
    Object.assign(stats, {
      lost: lost.length,
      recovered,
      outstanding,
      indeterminateDequeues: maybeDequeues + maybeDrains,
    });
  }
  if (anomalies.length > 0) {
    const elementsOf = (type: string) => anomalies.filter((a) => a.type === type).map((a) => a.element);
    return {
      checker: name,
      valid: false,
      anomalies,
      counterexample: {
        lost,
        unexpected: elementsOf('unexpected'),
        duplicated: elementsOf('duplicated'),
        failedPresent: elementsOf('failed-present'),
        premature: elementsOf('premature'),
      },
      stats,
    };
  }
  if (outstanding > 0) {
    const pending = [...elements.values()]
      .filter((r) => r.enqueues.filter((o) => o.type === 'ok').length > r.dequeues.length)
      .map((r) => r.element);
    return {
      checker: name,
      valid: 'unknown',
      anomalies,
      reason: `the queue was not drained and ${outstanding} acknowledged element(s) never came out (${formatList(pending)}); they may still be queued`,
      stats,
    };
  }
  if (explained) {
    return {
      checker: name,
      valid: 'unknown',
      anomalies,
      reason: `${missingTotal} acknowledged element(s) never came out (${formatList(missingElements.map((m) => m.element))}), but ${maybeDrains > 0 ? 'a drain' : `${maybeDequeues} dequeue(s)`} with unknown outcome may have taken them`,
      stats,
    };
  }
  return { checker: name, valid: true, anomalies, stats };
}

function countOf(elements: Map<string, ElementRecord>, count: (record: ElementRecord) => number): number {
  let n = 0;
  for (const record of elements.values()) n += count(record);
  return n;
}

/** The queue checker as a `Checker` object. */
export function queueChecker(options: QueueCheckOptions = {}): Checker {
  return { name: 'queue', check: (history) => checkQueue(history, options) };
}

/** The total-queue checker as a `Checker` object. */
export function totalQueueChecker(options: TotalQueueCheckOptions = {}): Checker {
  return { name: 'total-queue', check: (history) => checkTotalQueue(history, options) };
}
