import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { type Op, type Operation, pairOperations } from '../history/index.js';
import type { Model } from './model.js';
import type { CheckResult } from './result.js';

/** Above this many ops (after dropping `fail`s) the permutation search is refused. */
export const bruteForceMaxOps = 14;

/**
 * Linearizability by definition, for small histories: tries every order of the ops that respects
 * real time (an op that returned before another was invoked comes first), with every subset of the
 * `info` ops left out, and asks the model to replay it. Exponential: meant as an oracle for testing
 * `checkLinearizability` (and your own models) on histories of a dozen ops. No partitioning, no memo.
 */
export function checkBruteForce<S>(
  history: readonly Op[],
  model: Model<S>,
  options: { readonly maxOps?: number } = {},
): CheckResult {
  const maxOps = options.maxOps ?? bruteForceMaxOps;
  const paired = pairOperations(history);
  for (const op of paired) model.validate?.(op);
  const ops = paired.filter((op) => op.type !== 'fail');
  const n = ops.length;
  if (n > maxOps || n > 30) {
    throw new FaultlineError(
      codes.invalidArgument,
      `brute-force check of ${n} ops refused (at most ${maxOps})`,
      {
        details: { field: 'history', expected: `at most ${maxOps} ops that did not fail` },
      },
    );
  }
  // before[i]: bitmask of the ops that must precede op i (they returned before it was invoked).
  const before = ops.map((b) => {
    let mask = 0;
    ops.forEach((a, k) => {
      if (a.type === 'ok' && returnsBefore(a, b)) mask |= 1 << k;
    });
    return mask;
  });
  let okMask = 0;
  ops.forEach((op, k) => {
    if (op.type === 'ok') okMask |= 1 << k;
  });
  let orders = 0;
  const place = (placed: number, state: S): boolean => {
    if ((placed & okMask) === okMask) return true; // the info ops not placed never took effect
    for (let k = 0; k < n; k++) {
      const bit = 1 << k;
      if ((placed & bit) !== 0 || ((before[k] as number) & ~placed) !== 0) continue;
      const nextState = model.step(state, ops[k] as Operation);
      if (nextState === undefined) continue;
      orders++;
      if (place(placed | bit, nextState)) return true;
    }
    return false;
  };
  const valid = place(0, model.init());
  const stats = { ops: n, steps: orders };
  if (valid) return { checker: 'linearizability-brute-force', valid: true, anomalies: [], stats };
  return {
    checker: 'linearizability-brute-force',
    valid: false,
    anomalies: [
      { type: 'non-linearizable', message: `no order of the ${n} ops satisfies the ${model.name} model` },
    ],
    stats,
  };
}

/** `a` completed before `b` was invoked, in the history's event order (time, then position). */
function returnsBefore(a: Operation, b: Operation): boolean {
  const complete = a.complete as Op;
  return a.returnTime < b.callTime || (a.returnTime === b.callTime && complete.index < b.invoke.index);
}
