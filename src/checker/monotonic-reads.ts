/**
 * Monotonic reads (a session guarantee, as in Jepsen's and Elle's session checks): once a process has
 * read a value, its later reads never return an older one.
 */
import type { History, Op, Operation } from '../history/index.js';
import type { Anomaly, Checker, CheckResult } from './result.js';
import {
  type BaseCheckOptions,
  clientOperations,
  describeOp,
  fList,
  formatValue,
  valueError,
} from './safety-support.js';

export interface MonotonicReadsCheckOptions extends BaseCheckOptions {
  /** f of the reads (only `ok` ones are compared). Default `read`. */
  readonly readF?: string;
  /** Other f's in the history to leave alone (e.g. the writes). Default `['write']`. */
  readonly otherF?: string | readonly string[];
  /**
   * Orders two read values: negative when `a` is older than `b`, 0 when as new, positive when newer.
   * Default: numbers numerically, `{ version: number }` objects by version, arrays (append-only lists)
   * by length. Throw (or return NaN) for values that cannot be compared.
   */
  readonly compare?: (a: unknown, b: unknown) => number;
}

const name = 'monotonic-reads';

/** The position a default-comparable read value has in its order, or undefined if it has none. */
function rankOf(value: unknown): number | undefined {
  if (typeof value === 'number' && !Number.isNaN(value)) return value;
  if (Array.isArray(value)) return value.length;
  if (value instanceof Set) return value.size;
  if (typeof value === 'object' && value !== null) {
    const version = (value as { version?: unknown }).version;
    if (typeof version === 'number' && !Number.isNaN(version)) return version;
  }
  return undefined;
}

/** Checks that no process's successful read returns something older than one of its earlier reads. */
export function checkMonotonicReads(history: History, options: MonotonicReadsCheckOptions = {}): CheckResult {
  const readF = options.readF ?? 'read';
  const operations = clientOperations(history, name, [readF, ...fList(options.otherF ?? ['write'])], options);
  const { compare } = options;

  const newest = new Map<Operation['process'], { operation: Operation; value: unknown; rank: number }>();
  const anomalies: Anomaly[] = [];
  let reads = 0;
  for (const operation of operations) {
    if (operation.f !== readF || operation.type !== 'ok') continue;
    reads++;
    const complete = operation.complete as Op;
    const value = complete.value;
    let rank = 0;
    if (compare === undefined) {
      const r = rankOf(value);
      if (r === undefined) {
        throw valueError(
          complete,
          name,
          `the ok ${readF}'s value`,
          'a number, a { version: number } object or an array (or pass a compare option)',
        );
      }
      rank = r;
    }
    const previous = newest.get(operation.process);
    if (previous === undefined) {
      newest.set(operation.process, { operation, value, rank });
      continue;
    }
    const order = compare === undefined ? rank - previous.rank : compare(value, previous.value);
    if (Number.isNaN(order)) {
      throw valueError(
        complete,
        name,
        `the ok ${readF}'s value`,
        `a value compare can order against ${formatValue(previous.value)}`,
      );
    }
    if (order >= 0) {
      newest.set(operation.process, { operation, value, rank });
      continue;
    }
    const earlier = previous.operation.complete as Op;
    anomalies.push({
      type: 'non-monotonic-read',
      message: `process ${String(operation.process)} went backwards: ${describeOp(complete)} after ${describeOp(earlier)}`,
      ops: [earlier, complete],
      process: operation.process,
      earlier: previous.value,
      later: value,
    });
  }

  const stats = { reads, processes: newest.size, nonMonotonic: anomalies.length };
  if (reads === 0)
    return { checker: name, valid: 'unknown', anomalies, reason: `no successful ${readF}`, stats };
  const first = anomalies[0];
  return {
    checker: name,
    valid: first === undefined,
    anomalies,
    ...(first === undefined ? {} : { counterexample: first.ops }),
    stats,
  };
}

/** The monotonic-reads checker as a `Checker` object. */
export function monotonicReadsChecker(options: MonotonicReadsCheckOptions = {}): Checker {
  return { name, check: (history) => checkMonotonicReads(history, options) };
}
