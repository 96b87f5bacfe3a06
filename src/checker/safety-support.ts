/**
 * Shared helpers of the safety checkers (set, counter, queue, acked-writes, duplicates, convergence,
 * monotonic-reads): pairing with shape checks and message formatting (value identity: `value-key.ts`).
 * Pure: no I/O, no ambient time or randomness.
 */
import { invalid } from '../core/assert.js';
import { formatDuration } from '../core/duration.js';
import type { FaultlineError } from '../core/errors.js';
import {
  type History,
  historyError,
  type Op,
  type Operation,
  opTypes,
  type ProcessId,
  pairOperations,
  valueKey,
  whereOf,
} from '../history/index.js';

export { whereOf } from '../history/index.js';

/** Options every safety checker accepts. */
export interface BaseCheckOptions {
  /** Processes whose ops are not client calls (default `['nemesis']`). */
  readonly ignoreProcesses?: readonly ProcessId[];
}

/**
 * Pairs the client calls of `history` and rejects any whose `f` is not one the checker knows, or whose
 * op fields are malformed. `skipF` names functions to drop silently (e.g. `heal` from a non-nemesis process).
 */
export function clientOperations(
  history: History,
  checker: string,
  knownF: readonly string[],
  options: BaseCheckOptions & { skipF?: readonly string[] } = {},
): Operation[] {
  if (!Array.isArray(history)) {
    throw invalid(
      'history',
      `${checker}: expected an array of ops, got ${typeof history}`,
      'an array of ops',
    );
  }
  const ignored = options.ignoreProcesses ?? ['nemesis'];
  for (const op of history) checkOpShape(op, checker);
  const skip = new Set(options.skipF ?? []);
  const kept = history.filter((op) => !skip.has(op.f) || ignored.includes(op.process));
  const known = new Set(knownF);
  const pairs = pairOperations(kept, { ignoreProcesses: ignored });
  for (const pair of pairs) {
    if (!known.has(pair.f)) {
      throw historyError(
        pair.invoke,
        `${checker} checker: unknown f ${JSON.stringify(pair.f)}`,
        `f one of ${knownF.map((f) => JSON.stringify(f)).join(', ')}`,
      );
    }
  }
  return pairs;
}

function checkOpShape(op: Op, checker: string): void {
  if (typeof op !== 'object' || op === null) {
    throw invalid('history', `${checker}: expected an op object, got ${String(op)}`, 'an op object');
  }
  if (!opTypes.includes(op.type)) {
    throw historyError(
      op,
      `${checker} checker: unknown op type ${JSON.stringify(op.type)}`,
      'invoke, ok, fail or info',
    );
  }
  if (typeof op.f !== 'string') {
    throw historyError(op, `${checker} checker: f is ${typeof op.f}`, 'f a string');
  }
  if (typeof op.time !== 'number' || !Number.isFinite(op.time)) {
    throw historyError(
      op,
      `${checker} checker: time is ${String(op.time)}`,
      'time a finite number of nanoseconds',
    );
  }
}

/** The wrong-shape error for a value, naming what the checker expected. */
export function valueError(op: Op, checker: string, what: string, expected: string): FaultlineError {
  return historyError(op, `${checker} checker: ${what} is ${formatValue(op.value)}`, expected);
}

/** The completion op when there is one, else the invocation (for evidence lists). */
export function opsOf(operation: Operation): Op[] {
  return operation.complete === undefined ? [operation.invoke] : [operation.invoke, operation.complete];
}

/** The op that best shows an operation's outcome: its completion, or its invocation if it never completed. */
export function lastOp(operation: Operation): Op {
  return operation.complete ?? operation.invoke;
}

/** Items of a collection read: an array (JSON, an EDN vector) or a Set (an EDN `#{…}`); else undefined. */
export function itemsOf(value: unknown): readonly unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (value instanceof Set) return [...value];
  return undefined;
}

/** JSON would show a Map or Set as `{}`: refuse, so `formatValue` shows the value identity instead. */
function noLossyJson(_key: string, value: unknown): unknown {
  if (value instanceof Map || value instanceof Set) throw new TypeError('no JSON form');
  return value;
}

/** A short rendering of a value for messages (JSON-like, truncated). */
export function formatValue(value: unknown, maxChars = 80): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else if (typeof value === 'bigint') text = `${value}n`;
  else {
    try {
      text = JSON.stringify(value, noLossyJson) ?? String(value);
    } catch {
      // A bigint, Map or Set inside (JSON has none), else a value with no identity (cyclic, too deep).
      try {
        text = valueKey(value);
      } catch {
        text = String(value);
      }
    }
  }
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

/** A list of values for messages, shortened after `max` items. */
export function formatList(values: readonly unknown[], max = 10): string {
  const shown = values.slice(0, max).map((v) => formatValue(v, 40));
  return values.length > max ? `${shown.join(', ')}, … (${values.length} in all)` : shown.join(', ');
}

/** History time (ns) as a person reads it. */
export function formatTime(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  return ns < 0 ? `-${formatDuration(-ns / 1e6)}` : formatDuration(ns / 1e6);
}

/** `process 0 read ok at 5ms (line 40)`: who did what, when and where, without the value. */
export function describeAt(op: Op): string {
  return `process ${String(op.process)} ${op.f}${op.type === 'invoke' ? '' : ` ${op.type}`} at ${formatTime(op.time)} (${whereOf(op)})`;
}

/** `process 3 add 7 at 1.2ms (line 14)`: who did what, with which value, when and where. */
export function describeOp(op: Op, value: unknown = op.value): string {
  return `process ${String(op.process)} ${op.f}${op.type === 'invoke' ? '' : ` ${op.type}`} ${formatValue(value, 40)} at ${formatTime(op.time)} (${whereOf(op)})`;
}

/** Pushes onto the list under `key`, creating it. */
export function pushTo<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list === undefined) lists.set(key, [value]);
  else list.push(value);
}

/** Accepts one f or several (option parsing). */
export function fList(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

/** Evidence lists stay readable: at most this many ops per anomaly. */
export const maxEvidenceOps = 50;
