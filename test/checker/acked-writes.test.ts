import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ackedWritesChecker, checkAckedWrites } from '../../src/checker/acked-writes.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { HistoryBuilder, type Model, propertyRuns, simulate, stepsArbitrary } from './safety-fixtures.js';

const storeModel: Model<Set<number>> = {
  initial: () => new Set(),
  call: (_choice, n) => ({ f: 'write', value: n }),
  apply: (state, _f, value) => {
    state.add(value as number);
    return value;
  },
};

describe('acked-writes checker', () => {
  it('passes when every acknowledged write is read after recovery; info writes may go either way', () => {
    const h = new HistoryBuilder()
      .call(0, 'write', 'a', 'ok')
      .call(1, 'write', 'b', 'info')
      .call(2, 'write', 'c', 'info')
      .info('nemesis', 'kill', 'n1')
      .call(3, 'read', null, 'ok', ['a', 'b']);
    const result = checkAckedWrites(h.ops);
    assert.equal(result.valid, true);
    assert.equal(result.checker, 'acked-writes');
    assert.equal(result.stats?.recovered, 1);
  });

  it('reports an acknowledged write missing after recovery as lost', () => {
    const h = new HistoryBuilder()
      .call(0, 'write', 'a', 'ok')
      .call(0, 'write', 'b', 'ok')
      .call(3, 'read', null, 'ok', ['a']);
    const result = checkAckedWrites(h.ops);
    assert.equal(result.valid, false);
    assert.deepEqual(
      result.anomalies.map((a) => [a.type, a.item]),
      [['lost', 'b']],
    );
    assert.equal(
      result.anomalies[0]?.message,
      'acknowledged write "b" (process 0 write ok "b" at 3ms (line 4)) is missing from the read by process 3 read ok at 5ms (line 6)',
    );
  });

  it('reports a failed write that is present as failed-present, and an item nobody wrote as unexpected', () => {
    const h = new HistoryBuilder().call(0, 'write', 'a', 'fail').call(3, 'read', null, 'ok', ['a', 'z']);
    const result = checkAckedWrites(h.ops);
    assert.deepEqual(
      result.anomalies.map((a) => a.type),
      ['failed-present', 'unexpected'],
    );
    assert.match(result.anomalies[0]?.message ?? '', /^failed write applied: "a" failed/);
  });

  it('with after, checks every read from recovery on and ignores reads during the outage', () => {
    const h = new HistoryBuilder()
      .call(0, 'write', 1, 'ok')
      .call(1, 'read', null, 'ok', []) // during the outage (before `after`): not checked
      .at(10_000_000)
      .call(1, 'read', null, 'ok', [1])
      .call(2, 'read', null, 'ok', []); // after recovery: lost again
    const result = checkAckedWrites(h.ops, { after: 9_000_000 });
    assert.equal(result.stats?.readsChecked, 2);
    assert.equal(result.anomalies[0]?.type, 'lost');
    assert.match(result.anomalies[0]?.message ?? '', /missing from the read by process 2 read ok/);
    assert.equal(checkAckedWrites(h.ops, { after: 100_000_000 }).valid, 'unknown');
  });

  it('accepts several write fs and does not check writes acknowledged after the read began', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', 1, 'ok')
      .invoke(1, 'read')
      .call(0, 'append', 2, 'ok')
      .ok(1, 'read', [1]);
    const result = checkAckedWrites(h.ops, { writeF: ['add', 'append'] });
    assert.equal(result.valid, true);
    assert.equal(result.stats?.unverified, 1);
    assert.equal(ackedWritesChecker({ writeF: ['add', 'append'] }).check(h.ops) instanceof Promise, false);
  });

  it('is unknown without a read and throws naming the line for a read that is not an array', () => {
    assert.equal(checkAckedWrites(new HistoryBuilder().call(0, 'write', 1, 'ok').ops).valid, 'unknown');
    const bad = new HistoryBuilder().call(0, 'read', null, 'ok', { items: [] });
    assert.throws(
      () => checkAckedWrites(bad.ops),
      (error: unknown) =>
        isFaultlineError(error) &&
        /^line 2: acked-writes checker: the ok read's value is \{"items":\[\]\}/.test(error.message) &&
        error.details.expected === 'an array or set of the items present',
    );
    assert.throws(
      () => checkAckedWrites(new HistoryBuilder().call(0, 'cas', [1, 2], 'ok').ops),
      /unknown f "cas"/,
    );
  });

  it('property: a correct store with crashes always passes; dropping any acknowledged write is caught', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), fc.nat(), (steps, pick) => {
        const { history, state } = simulate(storeModel, steps);
        const good = new HistoryBuilder();
        good.ops.push(...history.ops);
        good.call(99, 'read', null, 'ok', [...state]);
        assert.equal(checkAckedWrites(good.ops).valid, true);
        const acked = history.ops.filter((o) => o.type === 'ok').map((o) => o.value);
        fc.pre(acked.length > 0);
        const victim = acked[pick % acked.length];
        history.call(
          99,
          'read',
          null,
          'ok',
          [...state].filter((v) => v !== victim),
        );
        const result = checkAckedWrites(history.ops);
        assert.deepEqual(
          result.anomalies.map((a) => [a.type, a.item]),
          [['lost', victim]],
        );
      }),
      propertyRuns,
    );
  });
});
