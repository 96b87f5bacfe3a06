import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkQueue, checkTotalQueue, queueChecker, totalQueueChecker } from '../../src/checker/queue.js';
import { isFaultlineError } from '../../src/core/errors.js';
import type { Op } from '../../src/history/op.js';
import {
  HistoryBuilder,
  type Model,
  propertyRuns,
  renumber,
  simulate,
  stepsArbitrary,
} from './safety-fixtures.js';

const queueModel: Model<number[]> = {
  initial: () => [],
  call: (choice, n) => (choice < 550 ? { f: 'enqueue', value: n } : { f: 'dequeue', value: null }),
  apply: (state, f, value) => {
    if (f !== 'enqueue') return state.shift() ?? null;
    state.push(value as number);
    return value;
  },
};

const typesOf = (ops: readonly Op[], total = true) =>
  (total ? checkTotalQueue(ops) : checkQueue(ops)).anomalies.map((a) => a.type);

describe('queue and total-queue checkers', () => {
  it('pass when every acknowledged element comes out exactly once', () => {
    const h = new HistoryBuilder()
      .call(0, 'enqueue', 'a', 'ok')
      .call(1, 'enqueue', 'b', 'ok')
      .call(0, 'dequeue', null, 'ok', 'a')
      .call(0, 'dequeue', null, 'ok', null) // racing empty read: allowed
      .call(1, 'drain', null, 'ok', ['b']);
    assert.equal(checkQueue(h.ops).valid, true);
    const total = checkTotalQueue(h.ops);
    assert.equal(total.valid, true);
    assert.equal(total.checker, 'total-queue');
    assert.equal(total.stats?.emptyDequeues, 1);
    assert.equal(total.stats?.dequeued, 2);
  });

  it('total-queue reports an acknowledged element never dequeued as lost; queue does not', () => {
    const h = new HistoryBuilder()
      .call(0, 'enqueue', 'a', 'ok')
      .call(1, 'enqueue', 'b', 'ok')
      .call(0, 'dequeue', null, 'ok', 'b');
    const result = checkTotalQueue(h.ops);
    assert.equal(result.valid, false);
    assert.deepEqual(
      result.anomalies.map((a) => [a.type, a.element]),
      [['lost', 'a']],
    );
    assert.match(
      result.anomalies[0]?.message ?? '',
      /element "a" was acknowledged \(process 0 enqueue ok "a" at 1ms \(line 2\)\) but never dequeued/,
    );
    assert.equal(checkQueue(h.ops).valid, true);
  });

  it('with drained: false, an outstanding element makes the verdict unknown', () => {
    const h = new HistoryBuilder().call(0, 'enqueue', 'a', 'ok');
    const result = checkTotalQueue(h.ops, { drained: false });
    assert.equal(result.valid, 'unknown');
    assert.match(result.reason ?? '', /not drained and 1 acknowledged element\(s\) never came out \("a"\)/);
  });

  it('reports duplicated, unexpected, failed-present and premature dequeues', () => {
    const dup = new HistoryBuilder()
      .call(0, 'enqueue', 1, 'ok')
      .call(0, 'dequeue', null, 'ok', 1)
      .call(1, 'dequeue', null, 'ok', 1);
    assert.deepEqual(typesOf(dup.ops), ['duplicated']);
    assert.match(
      checkQueue(dup.ops).anomalies[0]?.message ?? '',
      /element 1 was enqueued 1 time\(s\) but dequeued 2 times: process 0 dequeue ok 1 at 3ms \(line 4\); process 1 dequeue ok 1 at 5ms \(line 6\)/,
    );
    const unexpected = new HistoryBuilder().call(0, 'dequeue', null, 'ok', 42);
    assert.deepEqual(typesOf(unexpected.ops, false), ['unexpected']);
    const failed = new HistoryBuilder().call(0, 'enqueue', 3, 'fail').call(0, 'dequeue', null, 'ok', 3);
    assert.deepEqual(typesOf(failed.ops), ['failed-present']);
    const early = new HistoryBuilder().call(0, 'dequeue', null, 'ok', 9).call(1, 'enqueue', 9, 'ok');
    assert.deepEqual(typesOf(early.ops), ['premature']);
    assert.match(
      checkQueue(early.ops).anomalies[0]?.message ?? '',
      /dequeued \(process 0 dequeue ok 9 at 1ms \(line 2\)\) before any enqueue of it began \(process 1 enqueue 9 at 2ms \(line 3\)\)/,
    );
  });

  it('counts the same value enqueued twice as two elements (multisets)', () => {
    const h = new HistoryBuilder()
      .call(0, 'enqueue', 'x', 'ok')
      .call(0, 'enqueue', 'x', 'ok')
      .call(1, 'drain', null, 'ok', ['x', 'x']);
    assert.equal(checkTotalQueue(h.ops).valid, true);
    const short = new HistoryBuilder()
      .call(0, 'enqueue', 'x', 'ok')
      .call(0, 'enqueue', 'x', 'ok')
      .call(1, 'drain', null, 'ok', ['x']);
    assert.match(
      checkTotalQueue(short.ops).anomalies[0]?.message ?? '',
      /acknowledged 2 times but dequeued only 1 time/,
    );
  });

  it('handles info both ways: info enqueues may or may not come out; info dequeues may have taken an element', () => {
    const recovered = new HistoryBuilder()
      .call(0, 'enqueue', 'a', 'info')
      .call(1, 'enqueue', 'b', 'info')
      .call(2, 'drain', null, 'ok', ['a']);
    const r = checkTotalQueue(recovered.ops);
    assert.equal(r.valid, true);
    assert.equal(r.stats?.recovered, 1);
    const taken = new HistoryBuilder()
      .call(0, 'enqueue', 'a', 'ok')
      .call(1, 'dequeue', null, 'info')
      .call(2, 'drain', null, 'ok', []);
    const t = checkTotalQueue(taken.ops);
    assert.equal(t.valid, 'unknown');
    assert.match(t.reason ?? '', /1 dequeue\(s\) with unknown outcome may have taken them/);
    const tooMany = new HistoryBuilder()
      .call(0, 'enqueue', 'a', 'ok')
      .call(0, 'enqueue', 'b', 'ok')
      .call(1, 'dequeue', null, 'info')
      .call(2, 'drain', null, 'ok', []);
    assert.equal(checkTotalQueue(tooMany.ops).valid, false);
  });

  it('throws naming the line for a drain value that is not an array and for an unknown f', () => {
    const bad = new HistoryBuilder().call(0, 'drain', null, 'ok', 'a');
    assert.throws(
      () => checkTotalQueue(bad.ops),
      (error: unknown) =>
        isFaultlineError(error) &&
        /^line 2: total-queue checker: the ok drain's value is "a"/.test(error.message),
    );
    assert.throws(
      () => checkQueue(new HistoryBuilder().call(0, 'peek', null, 'ok').ops),
      /line 1: queue checker: unknown f "peek"/,
    );
    assert.equal(queueChecker().name, 'queue');
    assert.equal(totalQueueChecker().name, 'total-queue');
  });

  it('property: a correct queue under random concurrency and crashes never fails, and passes without crashes', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), fc.boolean(), (steps, faults) => {
        const { history, state } = simulate(queueModel, steps, { faults });
        history.call(99, 'drain', null, 'ok', [...state]);
        const result = checkTotalQueue(history.ops);
        if (faults)
          assert.notEqual(result.valid, false, JSON.stringify(result.anomalies.map((a) => a.message)));
        else assert.equal(result.valid, true, JSON.stringify(result.anomalies.map((a) => a.message)));
        assert.equal(checkQueue(history.ops).valid, true);
      }),
      propertyRuns,
    );
  });

  it('property: a duplicated delivery or one dropped from the drain is always caught', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), fc.nat(), fc.boolean(), (steps, pick, duplicate) => {
        const { history, state } = simulate(queueModel, steps, { faults: false });
        if (duplicate) {
          const out = history.ops.filter((o) => o.f === 'dequeue' && o.type === 'ok' && o.value !== null);
          fc.pre(out.length > 0);
          const again = out[pick % out.length] as Op;
          history.call(99, 'drain', null, 'ok', [...state, again.value]);
          const result = checkQueue(renumber(history.ops));
          assert.deepEqual(
            result.anomalies.map((a) => [a.type, a.element]),
            [['duplicated', again.value]],
          );
        } else {
          fc.pre(state.length > 0);
          const victim = state[pick % state.length];
          history.call(
            99,
            'drain',
            null,
            'ok',
            state.filter((e) => e !== victim),
          );
          const result = checkTotalQueue(history.ops);
          assert.deepEqual(
            result.anomalies.map((a) => [a.type, a.element]),
            [['lost', victim]],
          );
        }
      }),
      propertyRuns,
    );
  });
});
