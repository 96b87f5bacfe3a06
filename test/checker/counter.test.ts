import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkCounter, counterChecker } from '../../src/checker/counter.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { HistoryBuilder, type Model, propertyRuns, simulate, stepsArbitrary } from './safety-fixtures.js';

const counterModel: Model<{ value: number }> = {
  initial: () => ({ value: 0 }),
  call: (choice) => (choice < 600 ? { f: 'add', value: (choice % 11) - 3 } : { f: 'read', value: null }),
  apply: (state, f, value) => {
    if (f === 'add') state.value += value as number;
    return f === 'add' ? value : state.value;
  },
};

describe('counter checker', () => {
  it('passes reads within the bounds, counting concurrent adds as maybe applied', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', 5, 'ok')
      .invoke(1, 'add', 3) // concurrent with the read: may or may not be seen
      .call(0, 'read', null, 'ok', 5)
      .call(2, 'read', null, 'ok', 8)
      .ok(1, 'add', 3)
      .call(0, 'read', null, 'ok', 8);
    const result = checkCounter(h.ops);
    assert.equal(result.valid, true);
    assert.equal(result.checker, 'counter');
    assert.equal(result.stats?.reads, 3);
  });

  it('reports a read below the lower bound with the bounds and the adds behind them', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', 5, 'ok')
      .call(1, 'add', 2, 'ok')
      .call(0, 'read', null, 'ok', 5);
    const result = checkCounter(h.ops);
    assert.equal(result.valid, false);
    const [anomaly] = result.anomalies;
    assert.equal(anomaly?.type, 'read-too-low');
    assert.equal(anomaly?.lower, 7);
    assert.equal(anomaly?.upper, 7);
    assert.match(
      anomaly?.message ?? '',
      /process 0 read ok at 5ms \(line 6\) read 5, below the lowest possible value 7 \(allowed 7\.\.7; read invoked at 4ms, line 5\); 2 add op\(s\)/,
    );
    assert.deepEqual(
      anomaly?.ops?.map((o) => o.line),
      [5, 6, 2, 4],
    );
  });

  it('reports a read above the upper bound (an increment applied twice)', () => {
    const h = new HistoryBuilder().call(0, 'add', 1, 'ok').call(0, 'read', null, 'ok', 2);
    const result = checkCounter(h.ops);
    assert.equal(result.anomalies[0]?.type, 'read-too-high');
    assert.equal(result.anomalies[0]?.upper, 1);
  });

  it('treats negative increments symmetrically', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', 10, 'ok')
      .invoke(1, 'add', -4)
      .call(0, 'read', null, 'ok', 6)
      .call(0, 'read', null, 'ok', 10)
      .call(0, 'read', null, 'ok', 5);
    const result = checkCounter(h.ops);
    assert.deepEqual(
      result.anomalies.map((a) => [a.type, a.value, a.lower, a.upper]),
      [['read-too-low', 5, 6, 10]],
    );
  });

  it('counts info adds as possibly applied forever after, and failed adds never', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', 3, 'info')
      .call(1, 'add', 100, 'fail')
      .call(2, 'read', null, 'ok', 0)
      .call(2, 'read', null, 'ok', 3);
    assert.equal(checkCounter(h.ops).valid, true);
    const applied = new HistoryBuilder().call(1, 'add', 100, 'fail').call(2, 'read', null, 'ok', 100);
    assert.equal(checkCounter(applied.ops).anomalies[0]?.type, 'read-too-high');
  });

  it('honours initial and custom fs', () => {
    const h = new HistoryBuilder().call(0, 'incr', 1, 'ok').call(0, 'get', null, 'ok', 11);
    assert.equal(checkCounter(h.ops, { addF: 'incr', readF: 'get', initial: 10 }).valid, true);
    const checker = counterChecker({ addF: 'incr', readF: 'get', initial: 10 });
    assert.equal(checker.name, 'counter');
    assert.equal((checker.check(h.ops) as { valid: unknown }).valid, true);
  });

  it('is unknown without a successful read', () => {
    const result = checkCounter(new HistoryBuilder().call(0, 'add', 1, 'ok').ops);
    assert.equal(result.valid, 'unknown');
  });

  it('throws naming the line for a non-numeric increment or read', () => {
    const bad = new HistoryBuilder().call(0, 'add', '5', 'ok');
    assert.throws(
      () => checkCounter(bad.ops),
      (error: unknown) =>
        isFaultlineError(error) && /^line 1: counter checker: the add's value is "5"/.test(error.message),
    );
    const badRead = new HistoryBuilder().call(0, 'read', null, 'ok', null);
    assert.throws(() => checkCounter(badRead.ops), /line 2: counter checker: the ok read's value is null/);
  });

  it('property: a correct counter under random concurrency and crashes never fails', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), (steps) => {
        const { history, state } = simulate(counterModel, steps);
        history.call(99, 'read', null, 'ok', state.value);
        const result = checkCounter(history.ops);
        assert.equal(result.valid, true, JSON.stringify(result.anomalies.map((a) => a.message)));
      }),
      propertyRuns,
    );
  });

  it('property: a final read off by more than every increment together is always caught', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), fc.boolean(), (steps, high) => {
        const { history, state } = simulate(counterModel, steps);
        const total = history.ops
          .filter((o) => o.f === 'add' && o.type === 'invoke')
          .reduce((sum, o) => sum + Math.abs(o.value as number), 0);
        history.call(99, 'read', null, 'ok', state.value + (high ? total + 1 : -total - 1));
        const result = checkCounter(history.ops);
        assert.equal(result.valid, false);
        assert.equal(result.anomalies.at(-1)?.type, high ? 'read-too-high' : 'read-too-low');
      }),
      propertyRuns,
    );
  });
});
