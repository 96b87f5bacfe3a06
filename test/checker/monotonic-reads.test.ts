import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkMonotonicReads, monotonicReadsChecker } from '../../src/checker/monotonic-reads.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { HistoryBuilder, type Model, propertyRuns, simulate, stepsArbitrary } from './safety-fixtures.js';

const registerModel: Model<{ version: number }> = {
  initial: () => ({ version: 0 }),
  call: (choice) => (choice < 400 ? { f: 'write', value: null } : { f: 'read', value: null }),
  apply: (state, f) => {
    if (f === 'write') state.version++;
    return f === 'write' ? null : state.version;
  },
};

describe('monotonic-reads checker', () => {
  it('passes when each process reads non-decreasing values (other processes may lag)', () => {
    const h = new HistoryBuilder()
      .call(0, 'read', null, 'ok', 1)
      .call(1, 'read', null, 'ok', 5)
      .call(0, 'read', null, 'ok', 1)
      .call(0, 'read', null, 'ok', 3)
      .call(1, 'read', null, 'fail', 0);
    const result = checkMonotonicReads(h.ops);
    assert.equal(result.valid, true);
    assert.equal(result.checker, 'monotonic-reads');
    assert.equal(result.stats?.processes, 2);
  });

  it('reports a read that goes backwards, with both reads', () => {
    const h = new HistoryBuilder()
      .call(0, 'read', null, 'ok', { version: 4, value: 'x' })
      .call(0, 'write', 'y', 'ok')
      .call(0, 'read', null, 'ok', { version: 2, value: 'w' });
    const result = checkMonotonicReads(h.ops);
    assert.equal(result.valid, false);
    const [anomaly] = result.anomalies;
    assert.equal(anomaly?.type, 'non-monotonic-read');
    assert.equal(
      anomaly?.message,
      'process 0 went backwards: process 0 read ok {"version":2,"value":"w"} at 5ms (line 6) after process 0 read ok {"version":4,"value":"x"} at 1ms (line 2)',
    );
    assert.deepEqual(
      anomaly?.ops?.map((o) => o.line),
      [2, 6],
    );
  });

  it('compares against the newest read so far, and arrays by length', () => {
    const h = new HistoryBuilder()
      .call(0, 'read', null, 'ok', [1, 2, 3])
      .call(0, 'read', null, 'ok', [1])
      .call(0, 'read', null, 'ok', [1, 2]);
    assert.equal(checkMonotonicReads(h.ops).anomalies.length, 2);
  });

  it('uses a custom compare and custom fs', () => {
    const h = new HistoryBuilder()
      .call(0, 'get', null, 'ok', 'b')
      .call(0, 'put', 'x', 'ok')
      .call(0, 'get', null, 'ok', 'a');
    const result = checkMonotonicReads(h.ops, {
      readF: 'get',
      otherF: 'put',
      compare: (a, b) => String(a).localeCompare(String(b)),
    });
    assert.equal(result.valid, false);
    assert.equal(monotonicReadsChecker().name, 'monotonic-reads');
  });

  it('is unknown without reads; throws naming the line for values it cannot order', () => {
    assert.equal(checkMonotonicReads(new HistoryBuilder().call(0, 'write', 1, 'ok').ops).valid, 'unknown');
    const bad = new HistoryBuilder().call(0, 'read', null, 'ok', 'v1');
    assert.throws(
      () => checkMonotonicReads(bad.ops),
      (error: unknown) =>
        isFaultlineError(error) &&
        /^line 2: monotonic-reads checker: the ok read's value is "v1"/.test(error.message) &&
        /compare option/.test(String(error.details.expected)),
    );
  });

  it('property: a linearizable register under random concurrency always gives monotonic reads', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), (steps) => {
        const { history } = simulate(registerModel, steps);
        const result = checkMonotonicReads(history.ops);
        assert.notEqual(result.valid, false, JSON.stringify(result.anomalies.map((a) => a.message)));
      }),
      propertyRuns,
    );
  });

  it('property: a read older than a process’s newest is always caught', () => {
    fc.assert(
      fc.property(stepsArbitrary(4), (steps) => {
        const { history } = simulate(registerModel, steps, { faults: false });
        const reader = history.ops.find((o) => o.f === 'read' && o.type === 'ok');
        fc.pre(reader !== undefined);
        history.call(reader?.process ?? 0, 'read', null, 'ok', -1);
        const result = checkMonotonicReads(history.ops);
        assert.equal(result.valid, false);
        assert.equal(result.anomalies.at(-1)?.later, -1);
      }),
      propertyRuns,
    );
  });
});
