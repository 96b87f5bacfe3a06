import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkSet, setChecker } from '../../src/checker/set.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { HistoryBuilder, type Model, propertyRuns, simulate, stepsArbitrary } from './safety-fixtures.js';
import { liftArbitrary, liftHistory } from './value-arbitraries.js';

const setModel: Model<Set<number>> = {
  initial: () => new Set(),
  call: (choice, n) => (choice < 700 ? { f: 'add', value: n } : { f: 'read', value: null }),
  apply: (state, f, value) => {
    if (f === 'add') state.add(value as number);
    return f === 'add' ? value : [...state].sort((a, b) => a - b);
  },
};

function types(result: ReturnType<typeof checkSet>): string[] {
  return result.anomalies.map((a) => a.type);
}

describe('set checker', () => {
  it('passes when every acknowledged add is in the final read', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', 1, 'ok')
      .call(1, 'add', 2, 'ok')
      .call(0, 'read', null, 'ok', [1, 2]);
    const result = checkSet(h.ops);
    assert.equal(result.valid, true);
    assert.equal(result.checker, 'set');
    assert.deepEqual(result.anomalies, []);
    assert.equal(result.stats?.acknowledged, 2);
    assert.equal(result.stats?.finalReadSize, 2);
  });

  it('reports an acknowledged add missing from the final read as lost, naming element, process and lines', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', 1, 'ok')
      .call(2, 'add', 7, 'ok')
      .call(0, 'read', null, 'ok', [1]);
    const result = checkSet(h.ops);
    assert.equal(result.valid, false);
    assert.deepEqual(types(result), ['lost']);
    const [lost] = result.anomalies;
    assert.equal(lost?.element, 7);
    assert.match(
      lost?.message ?? '',
      /element 7 was acknowledged \(process 2 add ok 7 at 3ms \(line 4\)\) but is missing from the final read \(process 0 read ok at 5ms \(line 6\)\)/,
    );
    assert.deepEqual(
      lost?.ops?.map((o) => o.line),
      [3, 4, 6],
    );
    assert.deepEqual((result.counterexample as { lost: unknown[] }).lost, [7]);
  });

  it('does not call an add lost when it completed after the final read began', () => {
    const h = new HistoryBuilder().invoke(0, 'read').call(1, 'add', 5, 'ok').ok(0, 'read', []);
    const result = checkSet(h.ops);
    assert.equal(result.valid, true);
    assert.equal(result.stats?.unresolved, 1);
  });

  it('reports elements that were never added as unexpected, once each, from any read', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', 1, 'ok')
      .call(0, 'read', null, 'ok', [1, 99])
      .call(0, 'read', null, 'ok', [1, 99]);
    const result = checkSet(h.ops);
    assert.deepEqual(types(result), ['unexpected']);
    assert.match(
      result.anomalies[0]?.message ?? '',
      /element 99 was never added, yet the read by process 0 read ok at 3ms \(line 4\) returned it/,
    );
  });

  it('reports an element read twice in one read as duplicated', () => {
    const h = new HistoryBuilder().call(0, 'add', 'a', 'ok').call(0, 'read', null, 'ok', ['a', 'a']);
    const result = checkSet(h.ops);
    assert.deepEqual(types(result), ['duplicated']);
    assert.match(result.anomalies[0]?.message ?? '', /element "a" appears 2 times/);
    assert.equal(result.anomalies[0]?.times, 2);
  });

  it('counts info adds present in the final read as recovered and absent ones as fine', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', 1, 'info')
      .call(1, 'add', 2, 'info')
      .invoke(2, 'add', 3) // never completes: info too
      .call(0 + 1000, 'read', null, 'ok', [1, 3]);
    const result = checkSet(h.ops);
    assert.equal(result.valid, true);
    assert.equal(result.stats?.recovered, 2);
    assert.equal(result.stats?.indeterminate, 3);
  });

  it('reports a failed add that shows up as failed-present', () => {
    const h = new HistoryBuilder().call(0, 'add', 4, 'fail').call(0, 'read', null, 'ok', [4]);
    const result = checkSet(h.ops);
    assert.deepEqual(types(result), ['failed-present']);
    assert.match(result.anomalies[0]?.message ?? '', /although its add failed/);
  });

  it('compares elements structurally (object key order does not matter)', () => {
    const h = new HistoryBuilder()
      .call(0, 'add', { a: 1, b: [2] }, 'ok')
      .call(0, 'read', null, 'ok', [{ b: [2], a: 1 }]);
    assert.equal(checkSet(h.ops).valid, true);
  });

  it('is unknown without a successful read', () => {
    const h = new HistoryBuilder().call(0, 'add', 1, 'ok').call(0, 'read', null, 'fail');
    const result = checkSet(h.ops);
    assert.equal(result.valid, 'unknown');
    assert.match(result.reason ?? '', /no successful read/);
  });

  it('ignores nemesis ops and honours custom fs', () => {
    const h = new HistoryBuilder()
      .info('nemesis', 'partition', null)
      .call(0, 'insert', 1, 'ok')
      .call(0, 'scan', null, 'ok', [1]);
    assert.equal(checkSet(h.ops, { addF: 'insert', readF: 'scan' }).valid, true);
    assert.equal(setChecker({ addF: 'insert', readF: 'scan' }).name, 'set');
  });

  it('throws a FaultlineError naming the line for a read value that is not an array, or an unknown f', () => {
    const bad = new HistoryBuilder().call(0, 'read', null, 'ok', 5);
    assert.throws(
      () => checkSet(bad.ops),
      (error: unknown) =>
        isFaultlineError(error, 'FL_ERR_INVALID_ARGUMENT') &&
        /^line 2: set checker: the ok read's value is 5/.test(error.message) &&
        error.details.expected === "an array or set of the set's elements",
    );
    const unknownF = new HistoryBuilder().call(0, 'add', 1, 'ok').call(0, 'remove', 1, 'ok');
    assert.throws(() => checkSet(unknownF.ops), /line 3: set checker: unknown f "remove"/);
  });

  it('property: histories of a correct set under random concurrency and crashes never fail', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), (steps) => {
        const { history, state } = simulate(setModel, steps);
        history.call(
          99,
          'read',
          null,
          'ok',
          [...state].sort((a, b) => a - b),
        );
        const result = checkSet(history.ops);
        assert.equal(result.valid, true, JSON.stringify(result.anomalies));
      }),
      propertyRuns,
    );
  });

  it('property: dropping any one acknowledged element from the final read is caught as lost', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), fc.nat(), (steps, pick) => {
        const { history, state } = simulate(setModel, steps);
        const acked = history.ops
          .filter((o) => o.f === 'add' && o.type === 'ok')
          .map((o) => o.value as number);
        fc.pre(acked.length > 0);
        const victim = acked[pick % acked.length] as number;
        history.call(
          99,
          'read',
          null,
          'ok',
          [...state].filter((e) => e !== victim),
        );
        const result = checkSet(history.ops);
        assert.equal(result.valid, false);
        assert.deepEqual(
          result.anomalies.map((a) => [a.type, a.element]),
          [['lost', victim]],
        );
      }),
      propertyRuns,
    );
  });

  it('property: lifted to Map, Set, nested and bigint elements (reads as Sets too), the verdicts stay', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), fc.nat(), liftArbitrary, (steps, pick, lift) => {
        const correct = simulate(setModel, steps);
        correct.history.call(99, 'read', null, 'ok', [...correct.state]);
        const valid = checkSet(liftHistory(correct.history.ops, lift, { setReadF: 'read' }));
        assert.equal(valid.valid, true);
        const { history, state } = simulate(setModel, steps);
        const acked = history.ops
          .filter((o) => o.f === 'add' && o.type === 'ok')
          .map((o) => o.value as number);
        const victim = acked.length === 0 ? undefined : (acked[pick % acked.length] as number);
        if (victim === undefined) return;
        history.call(
          99,
          'read',
          null,
          'ok',
          [...state].filter((e) => e !== victim),
        );
        const lost = checkSet(liftHistory(history.ops, lift, { setReadF: 'read' }));
        assert.deepEqual(
          lost.anomalies.map((a) => a.type),
          ['lost'],
        );
      }),
      propertyRuns,
    );
  });
});
