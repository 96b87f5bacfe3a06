/**
 * Convergence: after a partition heals, all replicas must reach the same state within a deadline — the
 * promise of eventually consistent stores and CRDTs (Jepsen's CRDT tests check it with final reads of
 * every node after healing). The history must stop changing the state by the heal, so that there is
 * one state to converge to.
 */
import { invalid } from '../core/assert.js';
import type { History, Op, Operation } from '../history/index.js';
import { valueKey } from '../history/index.js';
import type { Anomaly, Checker, CheckResult } from './result.js';
import {
  type BaseCheckOptions,
  clientOperations,
  describeAt,
  formatTime,
  formatValue,
  maxEvidenceOps,
  valueError,
  whereOf,
} from './safety-support.js';

export type ReplicaId = string | number;

export interface ConvergenceCheckOptions extends BaseCheckOptions {
  /** How long after the heal replicas may take to agree (ns). Required. */
  readonly deadlineNs: number;
  /** When the heal finished (ns). Default: the time of the last op with f `healF` in the history. */
  readonly healedAt?: number;
  /** f of the heal ops (usually the nemesis's). Default `heal`. */
  readonly healF?: string;
  /** f of the reads; an `ok` value is `{ replica, state }`. Default `read`. */
  readonly readF?: string;
  /** Every replica that must converge. Default: every replica read anywhere in the history. */
  readonly replicas?: readonly ReplicaId[];
}

interface Read {
  readonly operation: Operation;
  readonly replica: ReplicaId;
  readonly state: unknown;
  /** Invocation time, ns. */
  readonly time: number;
}

const name = 'convergence';

/**
 * Valid when there is a time t ≤ healedAt + deadlineNs such that every successful read invoked after t
 * returns the same state and every replica was read after t. Reads are ordered by invocation time.
 */
export function checkConvergence(history: History, options: ConvergenceCheckOptions): CheckResult {
  const { deadlineNs } = options;
  if (typeof deadlineNs !== 'number' || !Number.isFinite(deadlineNs) || deadlineNs < 0) {
    throw invalid(
      'deadlineNs',
      `expected a duration in nanoseconds >= 0, got ${String(deadlineNs)}`,
      'a number >= 0',
    );
  }
  if (options.healedAt !== undefined && !Number.isFinite(options.healedAt)) {
    throw invalid('healedAt', `expected a time in nanoseconds, got ${options.healedAt}`, 'a finite number');
  }
  const healF = options.healF ?? 'heal';
  const readF = options.readF ?? 'read';
  const operations = clientOperations(history, name, [readF], { ...options, skipF: [healF] });

  const reads: Read[] = [];
  const declared = options.replicas === undefined ? undefined : new Set<ReplicaId>(options.replicas);
  for (const operation of operations) {
    if (operation.type !== 'ok') continue;
    const complete = operation.complete as Op;
    const value = complete.value as { replica?: unknown; state?: unknown } | null;
    const replica = typeof value === 'object' && value !== null ? value.replica : undefined;
    if (
      (typeof replica !== 'string' && typeof replica !== 'number') ||
      !Object.hasOwn(value ?? {}, 'state')
    ) {
      throw valueError(complete, name, `the ok ${readF}'s value`, '{ replica: string, state: unknown }');
    }
    if (declared !== undefined && !declared.has(replica)) {
      throw valueError(
        complete,
        name,
        'the replica',
        `one of the replicas option: ${[...declared].map(String).join(', ')}`,
      );
    }
    reads.push({ operation, replica, state: value?.state, time: operation.invoke.time });
  }
  reads.sort((a, b) => a.time - b.time || a.operation.invoke.index - b.operation.invoke.index);

  const healedAt = options.healedAt ?? lastHeal(history, healF);
  const replicas = [...(declared ?? new Set(reads.map((r) => r.replica)))];
  const baseStats = { replicas: replicas.length, reads: reads.length, deadlineNs };
  if (healedAt === undefined) {
    return {
      checker: name,
      valid: 'unknown',
      anomalies: [],
      reason: `no heal: the history has no ${JSON.stringify(healF)} op and no healedAt option was given`,
      stats: baseStats,
    };
  }
  const deadline = healedAt + deadlineNs;
  const afterHeal = reads.filter((r) => r.time >= healedAt);
  const stats: Record<string, number> = {
    ...baseStats,
    healedAtNs: healedAt,
    readsAfterHeal: afterHeal.length,
  };
  const lastOfReplica = new Map<ReplicaId, Read>();
  for (const read of reads) lastOfReplica.set(read.replica, read);
  const unread = replicas.filter((r) => !afterHeal.some((read) => read.replica === r));
  if (afterHeal.length === 0 || unread.length > 0) {
    return {
      checker: name,
      valid: 'unknown',
      anomalies: [],
      reason:
        afterHeal.length === 0
          ? `no successful ${readF} after the heal at ${formatTime(healedAt)}`
          : `replica(s) ${unread.map(String).join(', ')} not read after the heal at ${formatTime(healedAt)}`,
      stats,
    };
  }

  // The final state is the last read's; t must come after the last read that disagrees with it.
  const finalState = (reads.at(-1) as Read).state;
  // deepEqual(state, finalState), with the final state's key made once (when first needed).
  let finalKey: string | undefined;
  const agrees = (state: unknown): boolean => {
    if (state === finalState) return true;
    const key = valueKey(state);
    finalKey ??= valueKey(finalState);
    return key === finalKey;
  };
  // Each read's agreement, worked out once.
  const disagreeingReads = reads.filter((r) => !agrees(r.state));
  const disagreeing = new Set(disagreeingReads);
  const lastDisagreement = disagreeingReads.at(-1);
  const since = lastDisagreement?.time ?? Number.NEGATIVE_INFINITY;
  const unreadSince = replicas.filter((r) => !reads.some((read) => read.replica === r && read.time > since));
  if (lastDisagreement !== undefined) stats.lastDisagreementNs = lastDisagreement.time;

  if (lastDisagreement === undefined || (lastDisagreement.time < deadline && unreadSince.length === 0)) {
    return { checker: name, valid: true, anomalies: [], stats };
  }
  const finals = replicas.map((r) => lastOfReplica.get(r) as Read);
  const describeFinals = finals
    .map(
      (r) =>
        `replica ${String(r.replica)}: ${formatValue(r.state, 60)} (${describeAt(r.operation.complete as Op)})`,
    )
    .join('; ');
  const agreeAtEnd = finals.every((r) => !disagreeing.has(r));
  if (lastDisagreement.time < deadline) {
    // The disagreement was before the deadline but some replica was never read again to show it caught up.
    return {
      checker: name,
      valid: 'unknown',
      anomalies: [],
      reason: `the history ends before showing convergence: replica(s) ${unreadSince.map(String).join(', ')} not read after the last disagreement at ${formatTime(lastDisagreement.time)} (deadline ${formatTime(deadline)}); last states: ${describeFinals}`,
      stats,
    };
  }
  const lateDisagreeing = reads.filter((r) => r.time >= deadline && disagreeing.has(r));
  const anomaly: Anomaly = agreeAtEnd
    ? {
        type: 'late-convergence',
        message: `replicas agreed only after the deadline ${formatTime(deadline)} (heal at ${formatTime(healedAt)} + ${formatTime(deadlineNs)}): replica ${String(lastDisagreement.replica)} still read ${formatValue(lastDisagreement.state, 60)} at ${formatTime(lastDisagreement.time)} (${whereOf(lastDisagreement.operation.invoke)}) instead of ${formatValue(finalState, 60)}`,
        ops: lateDisagreeing.slice(-maxEvidenceOps).map((r) => r.operation.complete as Op),
        finalState,
        lastDisagreementNs: lastDisagreement.time,
      }
    : {
        type: 'not-converged',
        message: `replicas did not converge by the deadline ${formatTime(deadline)} (heal at ${formatTime(healedAt)} + ${formatTime(deadlineNs)}); last states: ${describeFinals}`,
        ops: finals.map((r) => r.operation.complete as Op),
        states: Object.fromEntries(finals.map((r) => [String(r.replica), r.state])),
      };
  return {
    checker: name,
    valid: false,
    anomalies: [anomaly],
    counterexample: Object.fromEntries(finals.map((r) => [String(r.replica), r.state])),
    stats,
  };
}

/** The time of the last heal: its completion, or its invocation when it never completed. */
function lastHeal(history: History, healF: string): number | undefined {
  let healedAt: number | undefined;
  let invokedAt: number | undefined;
  for (const op of history) {
    if (op.f !== healF) continue;
    if (op.type === 'invoke') invokedAt = op.time;
    else healedAt = op.time;
  }
  if (invokedAt !== undefined && (healedAt === undefined || invokedAt > healedAt)) return invokedAt;
  return healedAt;
}

/** The convergence checker as a `Checker` object. */
export function convergenceChecker(options: ConvergenceCheckOptions): Checker {
  return { name, check: (history) => checkConvergence(history, options) };
}
