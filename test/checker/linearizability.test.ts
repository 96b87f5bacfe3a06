import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizability } from '../../src/check-driver/index.js';
import type { LinearizabilityCounterexample } from '../../src/checker/linearizability.js';
import type { Model } from '../../src/checker/model.js';
import { models } from '../../src/checker/models/index.js';
import { registerModel } from '../../src/checker/models/register.js';
import { realClock } from '../../src/core/clock.js';
import { Random } from '../../src/core/random.js';
import type { Op } from '../../src/history/op.js';
import { casRegisterSpec, listAppendSpec, simulate } from '../support/checker-simulate.js';
import { call, fail, history, info, ok } from './linearizability-helpers.js';

describe('checkLinearizability: explanations', () => {
  it('names the smallest failing partition, the longest prefix and the unplaced ops', async () => {
    const ops = history([
      // key "a": fine
      call(0, 'write', ['a', 1]),
      ok(0, 'write', ['a', 1]),
      call(1, 'read', ['a', null]),
      ok(1, 'read', ['a', 1]),
      // key "b": stale read after write 2 completed
      call(0, 'write', ['b', 1]),
      ok(0, 'write', ['b', 1]),
      call(0, 'write', ['b', 2]),
      ok(0, 'write', ['b', 2]),
      call(1, 'read', ['b', null]),
      ok(1, 'read', ['b', 1]),
      // key "c": also broken, but bigger
      call(2, 'write', ['c', 1]),
      ok(2, 'write', ['c', 1]),
      call(2, 'write', ['c', 2]),
      ok(2, 'write', ['c', 2]),
      call(2, 'write', ['c', 3]),
      ok(2, 'write', ['c', 3]),
      call(3, 'read', ['c', null]),
      ok(3, 'read', ['c', 1]),
    ]);
    // The search's explanation (the distinct-values algorithm's is tested in read-mapped.test.ts).
    const result = await checkLinearizability(ops, models.kv, { parallel: false, readMapped: false });
    assert.equal(result.valid, false);
    const counterexample = result.counterexample as LinearizabilityCounterexample;
    assert.equal(counterexample.partition, '"b"');
    assert.equal(counterexample.model, 'kv');
    assert.equal(counterexample.ops.length, 3);
    assert.deepEqual(
      counterexample.ops.map((op) => [
        op.id,
        op.f,
        op.type,
        op.callTime,
        op.returnTime,
        op.invokeIndex,
        op.completeIndex,
      ]),
      [
        [0, 'write', 'ok', 4, 5, 4, 5],
        [1, 'write', 'ok', 6, 7, 6, 7],
        [2, 'read', 'ok', 8, 9, 8, 9],
      ],
    );
    assert.equal(counterexample.ops[2]?.description, 'read ["b",null] → ["b",1]');
    assert.deepEqual(counterexample.linearized, [
      { op: 0, stateAfter: '{"b"=1}' },
      { op: 1, stateAfter: '{"b"=2}' },
    ]);
    assert.equal(counterexample.stateAtFailure, '{"b"=2}');
    assert.deepEqual(counterexample.unplaced, [{ op: 2, fits: false }]);
    assert.equal(counterexample.blocking, 2);
    const [anomaly] = result.anomalies;
    assert.equal(anomaly?.type, 'non-linearizable');
    assert.match(
      anomaly?.message ?? '',
      /partition "b".*2 of 3 ops.*read \["b",null\] → \["b",1\] by process 1 \(op 8\)/,
    );
    assert.deepEqual(
      anomaly?.ops?.map((op) => op.index),
      [8, 9],
    );
    assert.doesNotThrow(() => JSON.stringify(result), 'the result is plain data');
  });

  it('info ops have a null return time and fail ops are listed but never placed', async () => {
    const ops = history([
      call(0, 'write', 1),
      info(0, 'write', 1),
      call(1, 'write', 2),
      fail(1, 'write', 2),
      call(2, 'read'),
      ok(2, 'read', 2),
    ]);
    const result = await checkLinearizability(ops, models.register, { readMapped: false });
    assert.equal(result.valid, false);
    const counterexample = result.counterexample as LinearizabilityCounterexample;
    assert.equal(counterexample.partition, null);
    assert.deepEqual(
      counterexample.ops.map((op) => [op.type, op.returnTime]),
      [
        ['info', null],
        ['fail', 3],
        ['ok', 5],
      ],
    );
    assert.deepEqual(counterexample.linearized, [{ op: 0, stateAfter: '1' }]);
    assert.equal(counterexample.initialState, 'null');
    assert.deepEqual(counterexample.unplaced, [{ op: 2, fits: false }]);
  });
});

describe('checkLinearizability: budgets', () => {
  // Many concurrent blind writes and reads that cannot be satisfied: exponential without the memo (for
  // the search: the distinct-values algorithm, off here, decides it at once).
  const hard = (): Op[] => {
    const lines = [];
    for (let p = 0; p < 14; p++) lines.push(call(p, 'write', p));
    lines.push(call(20, 'read'), ok(20, 'read', 99));
    for (let p = 0; p < 14; p++) lines.push(ok(p, 'write', p));
    return history(lines);
  };

  it('a time budget yields unknown with a reason', async () => {
    const result = await checkLinearizability(hard(), models.register, {
      memoise: false,
      timeoutMs: 30,
      readMapped: false,
    });
    assert.equal(result.valid, 'unknown');
    assert.match(result.reason ?? '', /time budget/);
  });

  it('the memo makes the same history quick', async () => {
    const result = await checkLinearizability(hard(), models.register, {
      timeoutMs: 10_000,
      readMapped: false,
    });
    assert.equal(result.valid, false);
  });

  it('a cache budget yields unknown with a reason', async () => {
    const result = await checkLinearizability(hard(), models.register, {
      maxCacheEntries: 100,
      readMapped: false,
    });
    assert.equal(result.valid, 'unknown');
    assert.match(result.reason ?? '', /memory budget/);
  });

  it('an abort signal yields unknown', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const result = await checkLinearizability(hard(), models.register, {
      memoise: false,
      readMapped: false,
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    assert.equal(result.valid, 'unknown');
    assert.equal(result.reason, 'aborted');
  });

  it('a clock that never advances never times out; a jumping one does', async () => {
    let now = 0;
    const clock = { ...realClockLike(), now: () => (now += 1000) };
    const result = await checkLinearizability(hard(), models.register, {
      memoise: false,
      readMapped: false,
      timeoutMs: 5000,
      clock,
    });
    assert.equal(result.valid, 'unknown');
  });

  it('large histories do not overflow the stack', async () => {
    const random = new Random(7, 'large');
    const ops = simulate(casRegisterSpec(3), random, { processes: 3, ops: 20_000, infoProbability: 0 });
    const result = await checkLinearizability(ops, models['cas-register']);
    assert.equal(result.valid, true, result.reason);
  });
});

function realClockLike() {
  return {
    now: () => realClock.now(),
    wallNow: () => realClock.wallNow(),
    setTimeout: realClock.setTimeout.bind(realClock),
    clearTimeout: realClock.clearTimeout.bind(realClock),
    sleep: realClock.sleep.bind(realClock),
  };
}

describe('checkLinearizability: partitions and workers', () => {
  const random = new Random(3, 'parallel');
  const ops = simulate(listAppendSpec(6), random, { processes: 20, ops: 1200, infoProbability: 0.03 });

  it('partitioned, unpartitioned and parallel checks agree', async () => {
    const partitioned = await checkLinearizability(ops, models['list-append'], { parallel: false });
    const parallel = await checkLinearizability(ops, models['list-append'], { parallel: true });
    assert.equal(partitioned.valid, true);
    assert.equal(parallel.valid, true);
    assert.equal(partitioned.stats?.partitions, 6);
    assert.equal(parallel.stats?.workers, 1);
    assert.equal(parallel.stats?.partitionsChecked, 6);
  });

  it('a worker finds the failure and the main thread explains it', async () => {
    const victim = ops.findLast((op) => op.type === 'ok' && op.f === 'read') as Op;
    const corrupted = ops.map((op) =>
      op === victim ? { ...op, value: [(op.value as unknown[])[0], [-1]] } : op,
    );
    const result = await checkLinearizability(corrupted, models['list-append'], { parallel: true });
    assert.equal(result.valid, false);
    const counterexample = result.counterexample as LinearizabilityCounterexample;
    assert.equal(counterexample.partition, String((victim.value as unknown[])[0]));
    assert.ok(counterexample.unplaced.length > 0);
  });

  it('custom models run in the main thread', async () => {
    const custom: Model<string> = { ...registerModel(), name: 'register' };
    const result = await checkLinearizability(ops.slice(0, 0), custom, { parallel: true });
    assert.equal(result.stats?.workers, 0);
  });

  it('partition: false checks the history whole', async () => {
    const small = simulate(listAppendSpec(2), new Random(4), { processes: 3, ops: 60, infoProbability: 0.1 });
    const result = await checkLinearizability(small, models['list-append'], { partition: false });
    assert.equal(result.valid, true);
    assert.equal(result.stats?.partitions, 1);
  });
});
