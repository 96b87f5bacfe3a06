/**
 * Acknowledged-write loss: every write a client was told succeeded before a crash must be visible after
 * recovery. The same idea as the `lost` count of Jepsen's set checker, phrased for a crash/recovery
 * experiment: reads after recovery return the items present, and each is compared with the writes.
 */
import { invalid } from '../core/assert.js';
import type { History, Op, Operation } from '../history/index.js';
import { valueKey } from '../history/index.js';
import type { Anomaly, Checker, CheckResult } from './result.js';
import {
  type BaseCheckOptions,
  clientOperations,
  describeAt,
  describeOp,
  fList,
  formatTime,
  formatValue,
  itemsOf,
  lastOp,
  opsOf,
  pushTo,
  valueError,
} from './safety-support.js';

export interface AckedWritesCheckOptions extends BaseCheckOptions {
  /** f of the writes; the invocation's value is the item written. Default `write`. */
  readonly writeF?: string | readonly string[];
  /** f of the reads; an `ok` value is the array of items present. Default `read`. */
  readonly readF?: string;
  /**
   * Time (ns) recovery finished. Every successful read invoked at or after it is checked. Without it,
   * only the final successful read (the one invoked last) is checked.
   */
  readonly after?: number;
}

const name = 'acked-writes';

/**
 * Checks that each write acknowledged (`ok`) before a checked read began is in that read, that no failed
 * write is present, and that no read returns an item nobody wrote. `info` writes may go either way.
 */
export function checkAckedWrites(history: History, options: AckedWritesCheckOptions = {}): CheckResult {
  const writeFs = fList(options.writeF ?? 'write');
  const readF = options.readF ?? 'read';
  const { after } = options;
  if (after !== undefined && !Number.isFinite(after)) {
    throw invalid('after', `expected a time in nanoseconds, got ${after}`, 'a finite number of nanoseconds');
  }
  const operations = clientOperations(history, name, [...writeFs, readF], options);

  const writes = operations.filter((o) => o.f !== readF);
  const written = new Map<string, Operation[]>();
  for (const write of writes) {
    pushTo(written, valueKey(write.input), write);
  }
  const allReads: { operation: Operation; items: Set<string>; values: readonly unknown[] }[] = [];
  for (const operation of operations) {
    if (operation.f !== readF || operation.type !== 'ok') continue;
    const complete = operation.complete as Op;
    const values = itemsOf(complete.value);
    if (values === undefined) {
      throw valueError(complete, name, `the ok ${readF}'s value`, 'an array or set of the items present');
    }
    allReads.push({ operation, items: new Set(values.map(valueKey)), values });
  }
  const reads =
    after === undefined
      ? allReads.slice(-1) // operations are in invocation order: the last is the final read
      : allReads.filter((r) => r.operation.invoke.time >= after);

  const counts = (): Record<string, number> => ({
    writes: writes.length,
    acknowledged: writes.filter((w) => w.type === 'ok').length,
    failed: writes.filter((w) => w.type === 'fail').length,
    indeterminate: writes.filter((w) => w.type === 'info').length,
    readsChecked: reads.length,
    lost: lost.length,
    failedPresent: anomalies.filter((a) => a.type === 'failed-present').length,
    unexpected: anomalies.filter((a) => a.type === 'unexpected').length,
    recovered,
    unverified,
  });
  const anomalies: Anomaly[] = [];
  const lost: unknown[] = [];
  let recovered = 0;
  let unverified = 0;
  if (reads.length === 0) {
    return {
      checker: name,
      valid: 'unknown',
      anomalies,
      reason:
        after === undefined
          ? `no successful ${readF}: nothing shows which writes survived`
          : `no successful ${readF} invoked at or after recovery (${formatTime(after)})`,
      stats: counts(),
    };
  }

  for (const write of writes) {
    const key = valueKey(write.input);
    if (write.type === 'ok') {
      const acked = write.complete as Op;
      const checked = reads.filter((r) => r.operation.invoke.index > acked.index);
      if (checked.length === 0) {
        unverified++;
        continue;
      }
      const missingFrom = checked.filter((r) => !r.items.has(key));
      const first = missingFrom[0];
      if (first === undefined) continue;
      lost.push(write.input);
      anomalies.push({
        type: 'lost',
        message: `acknowledged write ${formatValue(write.input)} (${describeOp(acked, write.input)}) is missing from ${
          missingFrom.length === 1 ? 'the read' : `${missingFrom.length} reads, first`
        } by ${describeAt(first.operation.complete as Op)}`,
        ops: [...opsOf(write), ...missingFrom.slice(0, 10).map((r) => r.operation.complete as Op)],
        item: write.input,
      });
      continue;
    }
    const seenIn = reads.find((r) => r.items.has(key));
    if (seenIn === undefined) continue;
    if (write.type === 'info') recovered++;
    else if ((written.get(key) ?? []).every((w) => w.type === 'fail')) {
      anomalies.push({
        type: 'failed-present',
        message: `failed write applied: ${formatValue(write.input)} failed (${describeOp(lastOp(write), write.input)}) yet the read by ${describeAt(seenIn.operation.complete as Op)} returned it`,
        ops: [...opsOf(write), seenIn.operation.complete as Op],
        item: write.input,
      });
    }
  }
  const reportedUnexpected = new Set<string>();
  for (const read of reads) {
    for (const value of read.values) {
      const key = valueKey(value);
      if (written.has(key) || reportedUnexpected.has(key)) continue;
      reportedUnexpected.add(key);
      anomalies.push({
        type: 'unexpected',
        message: `item ${formatValue(value)} was never written, yet the read by ${describeAt(read.operation.complete as Op)} returned it`,
        ops: opsOf(read.operation),
        item: value,
      });
    }
  }

  const valid = anomalies.length === 0;
  return {
    checker: name,
    valid,
    anomalies,
    ...(valid ? {} : { counterexample: { lost, firstAnomaly: anomalies[0] } }),
    stats: counts(),
  };
}

/** The acknowledged-write-loss checker as a `Checker` object. */
export function ackedWritesChecker(options: AckedWritesCheckOptions = {}): Checker {
  return { name, check: (history) => checkAckedWrites(history, options) };
}
