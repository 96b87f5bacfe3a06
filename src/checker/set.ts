/**
 * The set checker. Idea from Jepsen's `checker/set`: compare the elements clients were told were added
 * with what a final read returns. Lost = acknowledged but absent; unexpected = read but never attempted;
 * recovered = an indeterminate (`info`) add that turned out to have happened.
 */
import type { History, Op, Operation } from '../history/index.js';
import { valueKey } from '../history/index.js';
import type { Anomaly, Checker, CheckResult } from './result.js';
import {
  type BaseCheckOptions,
  clientOperations,
  describeAt,
  describeOp,
  formatValue,
  itemsOf,
  lastOp,
  opsOf,
  valueError,
} from './safety-support.js';

export interface SetCheckOptions extends BaseCheckOptions {
  /** f of the ops that add one element (the invocation's value). Default `add`. */
  readonly addF?: string;
  /** f of the ops that read the whole set (an `ok` value is an array of elements). Default `read`. */
  readonly readF?: string;
}

interface AddRecord {
  readonly element: unknown;
  readonly operations: Operation[];
}

const name = 'set';

/**
 * Checks a set history against its final read (the successful read invoked last). Duplicated and
 * unexpected elements are looked for in every successful read; lost and recovered in the final one.
 */
export function checkSet(history: History, options: SetCheckOptions = {}): CheckResult {
  const addF = options.addF ?? 'add';
  const readF = options.readF ?? 'read';
  const operations = clientOperations(history, name, [addF, readF], options);

  const adds = new Map<string, AddRecord>();
  const reads: { operation: Operation; elements: readonly unknown[] }[] = [];
  for (const operation of operations) {
    if (operation.f === addF) {
      const key = valueKey(operation.input);
      const record = adds.get(key);
      if (record === undefined) adds.set(key, { element: operation.input, operations: [operation] });
      else record.operations.push(operation);
    } else if (operation.type === 'ok') {
      const complete = operation.complete as Op;
      const elements = itemsOf(complete.value);
      if (elements === undefined) {
        throw valueError(complete, name, `the ok ${readF}'s value`, `an array or set of the set's elements`);
      }
      reads.push({ operation, elements });
    }
  }

  const anomalies: Anomaly[] = [];
  const counts = { lost: 0, unexpected: 0, duplicated: 0, failedPresent: 0, recovered: 0, unresolved: 0 };
  const reportedUnexpected = new Set<string>();
  for (const { operation, elements } of reads) {
    const read = operation.complete as Op;
    const seen = new Map<string, { element: unknown; times: number }>();
    for (const element of elements) {
      const key = valueKey(element);
      const entry = seen.get(key);
      if (entry === undefined) seen.set(key, { element, times: 1 });
      else entry.times++;
    }
    for (const [key, { element, times }] of seen) {
      if (times > 1) {
        counts.duplicated++;
        anomalies.push({
          type: 'duplicated',
          message: `element ${formatValue(element)} appears ${times} times in the read by ${describeAt(read)}`,
          ops: opsOf(operation),
          element,
          times,
        });
      }
      const record = adds.get(key);
      if (record === undefined && !reportedUnexpected.has(key)) {
        reportedUnexpected.add(key);
        counts.unexpected++;
        anomalies.push({
          type: 'unexpected',
          message: `element ${formatValue(element)} was never added, yet the read by ${describeAt(read)} returned it`,
          ops: opsOf(operation),
          element,
        });
      }
    }
  }

  const final = reads.reduce<(typeof reads)[number] | undefined>(
    (latest, read) =>
      latest === undefined || read.operation.invoke.index > latest.operation.invoke.index ? read : latest,
    undefined,
  );
  const stats = (): Record<string, number> => ({
    attempts: adds.size,
    acknowledged: countType(adds, 'ok'),
    failed: countType(adds, 'fail'),
    indeterminate: countType(adds, 'info'),
    reads: reads.length,
    finalReadSize: final?.elements.length ?? 0,
    ...counts,
  });
  if (final === undefined) {
    return {
      checker: name,
      valid: anomalies.length > 0 ? false : 'unknown',
      anomalies,
      reason: `no successful ${readF}: nothing shows which elements survived`,
      stats: stats(),
    };
  }

  const finalOp = final.operation.complete as Op;
  const finalIndex = final.operation.invoke.index;
  const present = new Set(final.elements.map(valueKey));
  const lostElements: unknown[] = [];
  for (const [key, record] of adds) {
    const oks = record.operations.filter((o) => o.type === 'ok');
    const ackedBefore = oks.filter((o) => (o.complete as Op).index < finalIndex);
    if (present.has(key)) {
      if (oks.length === 0) {
        const failed = record.operations.find((o) => o.type === 'fail');
        if (failed !== undefined && !record.operations.some((o) => o.type === 'info')) {
          counts.failedPresent++;
          anomalies.push({
            type: 'failed-present',
            message: `element ${formatValue(record.element)} is in the final read (${describeAt(finalOp)}) although its add failed: ${describeOp(lastOp(failed), failed.input)}`,
            ops: [...opsOf(failed), finalOp],
            element: record.element,
          });
        } else counts.recovered++;
      }
      continue;
    }
    if (ackedBefore.length > 0) {
      const acked = ackedBefore[0] as Operation;
      counts.lost++;
      lostElements.push(record.element);
      anomalies.push({
        type: 'lost',
        message: `element ${formatValue(record.element)} was acknowledged (${describeOp(acked.complete as Op, acked.input)}) but is missing from the final read (${describeAt(finalOp)})`,
        ops: [...opsOf(acked), finalOp],
        element: record.element,
      });
    } else if (oks.length > 0) counts.unresolved++;
  }

  const valid = anomalies.length === 0;
  return {
    checker: name,
    valid,
    anomalies,
    ...(valid
      ? {}
      : {
          counterexample: {
            lost: lostElements,
            unexpected: anomalies.filter((a) => a.type === 'unexpected').map((a) => a.element),
            duplicated: anomalies.filter((a) => a.type === 'duplicated').map((a) => a.element),
            failedPresent: anomalies.filter((a) => a.type === 'failed-present').map((a) => a.element),
            finalRead: finalOp,
          },
        }),
    stats: stats(),
  };
}

function countType(adds: Map<string, AddRecord>, type: Operation['type']): number {
  let n = 0;
  for (const record of adds.values()) n += record.operations.filter((o) => o.type === type).length;
  return n;
}

/** The set checker as a `Checker` object (for scenario and test wiring). */
export function setChecker(options: SetCheckOptions = {}): Checker {
  return { name, check: (history) => checkSet(history, options) };
}
