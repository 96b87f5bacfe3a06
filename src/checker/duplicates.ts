/**
 * No duplicate application: each diff or message, named by an id, takes effect at most once — the
 * property idempotency keys and exactly-once delivery promise. Jepsen's queue checkers count duplicated
 * dequeues; this is the same multiset count over whatever ops record an application.
 */
import type { History, Op, Operation } from '../history/index.js';
import { valueKey } from '../history/index.js';
import type { Anomaly, Checker, CheckResult } from './result.js';
import {
  type BaseCheckOptions,
  clientOperations,
  describeOp,
  fList,
  formatList,
  formatValue,
  lastOp,
  maxEvidenceOps,
  opsOf,
  valueError,
} from './safety-support.js';

export type ApplicationId = string | number;

export interface NoDuplicatesCheckOptions extends BaseCheckOptions {
  /** f of the ops that record one application. Default `apply`. */
  readonly applyF?: string | readonly string[];
  /**
   * The id of what an op applied, from its value (the invocation's, or the completion's when the
   * invocation has none). Default: the value itself when it is a string or number, else its `id` field.
   * Return undefined for a value of the wrong shape (the checker then throws naming the op).
   */
  readonly idOf?: (value: unknown, op: Op) => ApplicationId | undefined;
  /**
   * Count `info` applications (outcome unknown) as applied. Default false: an id with one `ok` and
   * some `info` applications is only possibly duplicated, and the verdict is `unknown` if nothing worse.
   */
  readonly countInfo?: boolean;
}

const name = 'no-duplicates';

function defaultIdOf(value: unknown): ApplicationId | undefined {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null) {
    const id = (value as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return undefined;
}

/** Checks that no id was applied more than once (`ok` applications; `info` ones per `countInfo`). */
export function checkNoDuplicates(history: History, options: NoDuplicatesCheckOptions = {}): CheckResult {
  const applyFs = fList(options.applyF ?? 'apply');
  const idOf = options.idOf ?? defaultIdOf;
  const countInfo = options.countInfo ?? false;
  const operations = clientOperations(history, name, applyFs, options);

  const byId = new Map<string, { id: ApplicationId; applied: Operation[]; maybe: Operation[] }>();
  let failed = 0;
  for (const operation of operations) {
    if (operation.type === 'fail') {
      failed++;
      continue;
    }
    const useOutput =
      (operation.input === undefined || operation.input === null) && operation.complete !== undefined;
    const source = useOutput ? (operation.complete as Op) : operation.invoke;
    const id = idOf(source.value, source);
    if (typeof id !== 'string' && typeof id !== 'number') {
      throw valueError(
        source,
        name,
        `the ${operation.f}'s value`,
        options.idOf === undefined
          ? 'an id (string or number) or an object with an `id` field'
          : 'a value idOf maps to an id',
      );
    }
    const key = valueKey(id);
    let entry = byId.get(key);
    if (entry === undefined) {
      entry = { id, applied: [], maybe: [] };
      byId.set(key, entry);
    }
    if (operation.type === 'ok' || countInfo) entry.applied.push(operation);
    else entry.maybe.push(operation);
  }

  const anomalies: Anomaly[] = [];
  for (const { id, applied, maybe } of byId.values()) {
    if (applied.length > 1) {
      anomalies.push({
        type: 'duplicated',
        message: `${formatValue(id)} was applied ${applied.length} times: ${applied
          .slice(0, 5)
          .map((o) => describeOp(lastOp(o), o.input ?? o.output))
          .join('; ')}${applied.length > 5 ? '; …' : ''}`,
        ops: applied.flatMap(opsOf).slice(0, maxEvidenceOps),
        id,
        times: applied.length,
      });
    } else if (applied.length + maybe.length > 1) {
      anomalies.push({
        type: 'possibly-duplicated',
        message: `${formatValue(id)} was applied ${applied.length === 1 ? 'once' : 'never for sure'} and ${maybe.length} more time(s) with unknown outcome: ${[
          ...applied,
          ...maybe,
        ]
          .slice(0, 5)
          .map((o) => describeOp(lastOp(o), o.input ?? o.output))
          .join('; ')}`,
        ops: [...applied, ...maybe].flatMap(opsOf).slice(0, maxEvidenceOps),
        id,
        times: applied.length,
        maybe: maybe.length,
      });
    }
  }

  const duplicated = anomalies.filter((a) => a.type === 'duplicated');
  const possible = anomalies.filter((a) => a.type === 'possibly-duplicated');
  const stats = {
    applications: operations.length - failed,
    failed,
    ids: byId.size,
    duplicatedIds: duplicated.length,
    extraApplications: duplicated.reduce((sum, a) => sum + (a.times as number) - 1, 0),
    possiblyDuplicatedIds: possible.length,
  };
  if (duplicated.length > 0) {
    return {
      checker: name,
      valid: false,
      anomalies,
      counterexample: { duplicated: duplicated.map((a) => a.id) },
      stats,
    };
  }
  if (possible.length > 0) {
    return {
      checker: name,
      valid: 'unknown',
      anomalies,
      reason: `applications with unknown outcome leave ${formatList(possible.map((a) => a.id))} possibly applied twice (set countInfo to treat them as applied)`,
      stats,
    };
  }
  return { checker: name, valid: true, anomalies, stats };
}

/** The no-duplicate-application checker as a `Checker` object. */
export function noDuplicatesChecker(options: NoDuplicatesCheckOptions = {}): Checker {
  return { name, check: (history) => checkNoDuplicates(history, options) };
}
