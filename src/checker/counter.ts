/**
 * The counter checker. Idea from Jepsen's `checker/counter`: every successful read must lie between the
 * sum of the increments that had certainly been applied when the read began and the sum of those that
 * could have been applied by the time it ended. Negative increments are handled symmetrically.
 */

import { invalid } from '../core/assert.js';
import type { History, Op, Operation } from '../history/index.js';
import type { Anomaly, Checker, CheckResult } from './result.js';
import {
  type BaseCheckOptions,
  clientOperations,
  describeAt,
  formatTime,
  lastOp,
  maxEvidenceOps,
  opsOf,
  valueError,
  whereOf,
} from './safety-support.js';

export interface CounterCheckOptions extends BaseCheckOptions {
  /** f of the increments (the invocation's value is a finite number, negative allowed). Default `add`. */
  readonly addF?: string;
  /** f of the reads (an `ok` value is a finite number). Default `read`. */
  readonly readF?: string;
  /** The counter's value before the history. Default 0. */
  readonly initial?: number;
}

interface Add {
  readonly operation: Operation;
  readonly delta: number;
  /** Index of the invocation in the history. */
  readonly invokedAt: number;
  /** Index of the ok completion; +Infinity when the outcome is unknown. */
  readonly completedAt: number;
}

/** Prefix sums of the positive and negative parts of adds, in a given order. */
interface Prefix {
  readonly keys: number[];
  readonly positive: number[];
  readonly negative: number[];
}

const name = 'counter';

/** Checks every successful read of a counter against the bounds the concurrent increments allow. */
export function checkCounter(history: History, options: CounterCheckOptions = {}): CheckResult {
  const addF = options.addF ?? 'add';
  const readF = options.readF ?? 'read';
  const initial = options.initial ?? 0;
  if (!Number.isFinite(initial))
    throw invalid('initial', `expected a finite number, got ${initial}`, 'a finite number');
  const operations = clientOperations(history, name, [addF, readF], options);

  const adds: Add[] = [];
  const reads: { operation: Operation; value: number }[] = [];
  let failedAdds = 0;
  for (const operation of operations) {
    if (operation.f === addF) {
      if (typeof operation.input !== 'number' || !Number.isFinite(operation.input)) {
        throw valueError(operation.invoke, name, `the ${addF}'s value`, 'a finite number (the increment)');
      }
      if (operation.type === 'fail') {
        failedAdds++;
        continue;
      }
      adds.push({
        operation,
        delta: operation.input,
        invokedAt: operation.invoke.index,
        completedAt: operation.type === 'ok' ? (operation.complete as Op).index : Number.POSITIVE_INFINITY,
      });
    } else if (operation.type === 'ok') {
      const complete = operation.complete as Op;
      if (typeof complete.value !== 'number' || !Number.isFinite(complete.value)) {
        throw valueError(complete, name, `the ok ${readF}'s value`, 'a finite number (the counter)');
      }
      reads.push({ operation, value: complete.value });
    }
  }

  // Definitely applied: ok adds completed before the read was invoked. Possibly applied: any non-failed
  // add invoked before the read completed. lower = Σdefinite⁺ + Σpossible⁻, upper = Σdefinite⁻ + Σpossible⁺.
  const definite = prefix(
    adds.filter((a) => a.operation.type === 'ok'),
    (a) => a.completedAt,
  );
  const possible = prefix(adds, (a) => a.invokedAt);
  const anomalies: Anomaly[] = [];
  for (const { operation, value } of reads) {
    const readStart = operation.invoke.index;
    const readEnd = (operation.complete as Op).index;
    const d = sumBefore(definite, readStart);
    const p = sumBefore(possible, readEnd);
    const lower = initial + d.positive + p.negative;
    const upper = initial + d.negative + p.positive;
    const slack = 1e-9 * Math.max(1, Math.abs(lower), Math.abs(upper));
    if (value >= lower - slack && value <= upper + slack) continue;
    const tooLow = value < lower;
    // Evidence: the adds that forced the violated bound.
    const behind = adds.filter((a) =>
      tooLow
        ? a.completedAt < readStart
          ? a.delta > 0
          : a.invokedAt < readEnd && a.delta < 0
        : a.completedAt < readStart
          ? a.delta < 0
          : a.invokedAt < readEnd && a.delta > 0,
    );
    const read = operation.complete as Op;
    anomalies.push({
      type: tooLow ? 'read-too-low' : 'read-too-high',
      message: `${describeAt(read)} read ${value}, ${tooLow ? 'below' : 'above'} the ${tooLow ? 'lowest' : 'highest'} possible value ${tooLow ? lower : upper} (allowed ${lower}..${upper}; read invoked at ${formatTime(operation.invoke.time)}, ${whereOf(operation.invoke)}); ${behind.length} ${addF} op(s) make up that bound`,
      ops: [...opsOf(operation), ...behind.slice(0, maxEvidenceOps).map((a) => lastOp(a.operation))],
      value,
      lower,
      upper,
    });
  }

  const stats = {
    adds: adds.length + failedAdds,
    okAdds: adds.filter((a) => a.operation.type === 'ok').length,
    failedAdds,
    indeterminateAdds: adds.filter((a) => a.operation.type === 'info').length,
    reads: reads.length,
    readsTooLow: anomalies.filter((a) => a.type === 'read-too-low').length,
    readsTooHigh: anomalies.filter((a) => a.type === 'read-too-high').length,
  };
  if (reads.length === 0) {
    return {
      checker: name,
      valid: 'unknown',
      anomalies,
      reason: `no successful ${readF}: nothing to check`,
      stats,
    };
  }
  const first = anomalies[0];
  return {
    checker: name,
    valid: first === undefined,
    anomalies,
    ...(first === undefined
      ? {}
      : {
          counterexample: {
            read: (first.ops as Op[])[1],
            value: first.value,
            lower: first.lower,
            upper: first.upper,
          },
        }),
    stats,
  };
}

function prefix(adds: readonly Add[], keyOf: (add: Add) => number): Prefix {
  const sorted = [...adds].sort((a, b) => keyOf(a) - keyOf(b));
  const result: Prefix = { keys: [], positive: [0], negative: [0] };
  for (const add of sorted) {
    result.keys.push(keyOf(add));
    result.positive.push((result.positive.at(-1) as number) + Math.max(0, add.delta));
    result.negative.push((result.negative.at(-1) as number) + Math.min(0, add.delta));
  }
  return result;
}

/** Sums of the adds whose key is below `limit` (binary search over the sorted keys). */
function sumBefore(sums: Prefix, limit: number): { positive: number; negative: number } {
  let lo = 0;
  let hi = sums.keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sums.keys[mid] as number) < limit) lo = mid + 1;
    else hi = mid;
  }
  return { positive: sums.positive[lo] as number, negative: sums.negative[lo] as number };
}

/** The counter checker as a `Checker` object. */
export function counterChecker(options: CounterCheckOptions = {}): Checker {
  return { name, check: (history) => checkCounter(history, options) };
}
