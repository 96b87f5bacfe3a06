import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizability } from '../../src/check-driver/index.js';
import {
  checkLinearizabilitySync,
  type LinearizabilityCounterexample,
} from '../../src/checker/linearizability.js';
import { models } from '../../src/checker/models/index.js';
import type { CheckResult } from '../../src/checker/result.js';
import { Random } from '../../src/core/random.js';
import type { Op } from '../../src/history/op.js';
import { listAppendSpec, simulate } from '../support/checker-simulate.js';
import { call, history, ok } from './linearizability-helpers.js';

/** What must not depend on timing or threads: the verdict, its explanation and its reason. */
function verdictOf(result: CheckResult): unknown {
  return {
    valid: result.valid,
    reason: result.reason,
    messages: result.anomalies.map((anomaly) => anomaly.message),
    counterexample: result.counterexample,
  };
}

/** The key of each op: its invocation's (a completion may carry no value). */
function keysOf(ops: readonly Op[]): unknown[] {
  const open = new Map<Op['process'], unknown>();
  return ops.map((op) => {
    if (op.type === 'invoke') open.set(op.process, (op.value as unknown[])[0]);
    return open.get(op.process);
  });
}

/** A list-append history over 8 keys with a read corrupted on several keys, large and small. */
function manyFailures(): { ops: Op[]; keys: unknown[] } {
  const ops = simulate(listAppendSpec(8), new Random(11, 'determinism'), {
    processes: 16,
    ops: 1600,
    infoProbability: 0.02,
  });
  const keys = keysOf(ops);
  const sizes = new Map<unknown, number>();
  for (const key of keys) sizes.set(key, (sizes.get(key) ?? 0) + 1);
  const bySize = [...sizes].sort((a, b) => a[1] - b[1]).map(([key]) => key);
  // The largest (a worker takes it first) and two the main thread reaches last.
  const victims = new Set([bySize.at(-1), bySize[5], bySize[6]]);
  const done = new Set<unknown>();
  const corrupted = ops.map((op, i) => {
    const key = keys[i];
    if (op.type !== 'ok' || op.f !== 'read' || !victims.has(key) || done.has(key)) return op;
    done.add(key);
    return { ...op, value: [key, [-1]] };
  });
  return { ops: corrupted, keys: [...victims] };
}

describe('linearizability verdicts do not depend on timing or parallelism', () => {
  const { ops } = manyFailures();

  it('reports the same failing partition serial, parallel and pure, every time', async () => {
    const pure = checkLinearizabilitySync(ops, models['list-append']);
    assert.equal(pure.valid, false);
    const expected = verdictOf(pure);
    const serial = await checkLinearizability(ops, models['list-append'], { parallel: false });
    assert.deepEqual(verdictOf(serial), expected);
    for (let round = 0; round < 4; round++) {
      const parallel = await checkLinearizability(ops, models['list-append'], { parallel: true });
      assert.equal(parallel.stats?.workers, 1);
      assert.deepEqual(verdictOf(parallel), expected, `round ${round}`);
    }
    // The first failing partition in the fixed order (smallest first), not whichever finished first.
    const counterexample = pure.counterexample as LinearizabilityCounterexample;
    const keys = keysOf(ops);
    const failing = [...new Set(keys)].map((key) => {
      const own = ops.filter((_, i) => keys[i] === key);
      const result = checkLinearizabilitySync(reindex(own), models['list-append']);
      return { key, valid: result.valid, size: own.filter((op) => op.type !== 'fail').length };
    });
    const smallest = failing
      .filter((entry) => entry.valid === false)
      .sort((a, b) => a.size - b.size || String(a.key).localeCompare(String(b.key)))[0];
    assert.equal(counterexample.partition, String(smallest?.key));
  });

  it('a step budget gives the same unknown, whatever the slicing or threads', async () => {
    const hard = history([
      ...Array.from({ length: 12 }, (_, p) => call(p, 'write', p)),
      call(20, 'read'),
      ok(20, 'read', 99),
      ...Array.from({ length: 12 }, (_, p) => ok(p, 'write', p)),
    ]);
    const pure = checkLinearizabilitySync(hard, models.register, {
      memoise: false,
      maxSteps: 5000,
      readMapped: false,
    });
    assert.equal(pure.valid, 'unknown');
    assert.match(
      pure.reason ?? '',
      /step budget ran out on partition \(whole history\) \(5000 configurations/,
    );
    const driven = await checkLinearizability(hard, models.register, {
      memoise: false,
      maxSteps: 5000,
      readMapped: false,
    });
    assert.deepEqual(verdictOf(driven), verdictOf(pure));
  });

  it('the pure check times out only on the caller`s clock, and says it needs one', () => {
    const hard = history([
      ...Array.from({ length: 14 }, (_, p) => call(p, 'write', p)),
      call(20, 'read'),
      ok(20, 'read', 99),
      ...Array.from({ length: 14 }, (_, p) => ok(p, 'write', p)),
    ]);
    let now = 0;
    const result = checkLinearizabilitySync(hard, models.register, {
      memoise: false,
      readMapped: false,
      timeoutMs: 5000,
      now: () => (now += 1000),
    });
    assert.equal(result.valid, 'unknown');
    assert.match(result.reason ?? '', /time budget ran out/);
    assert.throws(
      () => checkLinearizabilitySync(hard, models.register, { timeoutMs: 10 }),
      /timeoutMs needs now/,
    );
  });
});

/** Ops of one key as a history of their own (dense indexes). */
function reindex(ops: readonly Op[]): Op[] {
  return ops.map((op, index) => ({ ...op, index }));
}
