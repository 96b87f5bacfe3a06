import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkNoDuplicates, noDuplicatesChecker } from '../../src/checker/duplicates.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { HistoryBuilder, propertyRuns, renumber } from './safety-fixtures.js';

describe('no-duplicates checker', () => {
  it('passes when each id is applied at most once; failed applications do not count', () => {
    const h = new HistoryBuilder()
      .call(0, 'apply', 'm1', 'ok')
      .call(1, 'apply', { id: 'm2', diff: [1] }, 'ok')
      .call(1, 'apply', 'm3', 'fail')
      .call(2, 'apply', 'm3', 'ok');
    const result = checkNoDuplicates(h.ops);
    assert.equal(result.valid, true);
    assert.equal(result.checker, 'no-duplicates');
    assert.equal(result.stats?.ids, 3);
    assert.equal(result.stats?.failed, 1);
  });

  it('reports an id applied twice with all the ops', () => {
    const h = new HistoryBuilder()
      .call(0, 'apply', { id: 7, diff: 'x' }, 'ok')
      .call(1, 'apply', 'other', 'ok')
      .call(1, 'apply', { id: 7, diff: 'x' }, 'ok');
    const result = checkNoDuplicates(h.ops);
    assert.equal(result.valid, false);
    const [anomaly] = result.anomalies;
    assert.equal(anomaly?.type, 'duplicated');
    assert.equal(anomaly?.id, 7);
    assert.deepEqual(
      anomaly?.ops?.map((o) => o.line),
      [1, 2, 5, 6],
    );
    assert.match(
      anomaly?.message ?? '',
      /^7 was applied 2 times: process 0 apply ok \{"id":7,"diff":"x"\} at 1ms \(line 2\); process 1 apply ok/,
    );
    assert.deepEqual(result.counterexample, { duplicated: [7] });
  });

  it('treats info applications as possibly applied: unknown by default, applied with countInfo', () => {
    const h = new HistoryBuilder().call(0, 'apply', 'm1', 'info').call(1000, 'apply', 'm1', 'ok');
    const result = checkNoDuplicates(h.ops);
    assert.equal(result.valid, 'unknown');
    assert.equal(result.anomalies[0]?.type, 'possibly-duplicated');
    assert.match(result.reason ?? '', /"m1" possibly applied twice/);
    assert.equal(checkNoDuplicates(h.ops, { countInfo: true }).valid, false);
    const single = new HistoryBuilder().call(0, 'apply', 'm1', 'info');
    assert.equal(checkNoDuplicates(single.ops).valid, true);
  });

  it('takes the id from the completion when the invocation has none, and honours idOf and applyF', () => {
    const h = new HistoryBuilder()
      .call(0, 'consume', null, 'ok', { key: 'k1' })
      .call(0, 'consume', null, 'ok', { key: 'k1' });
    const result = checkNoDuplicates(h.ops, { applyF: 'consume', idOf: (v) => (v as { key?: string }).key });
    assert.equal(result.valid, false);
    assert.equal(noDuplicatesChecker({ applyF: 'consume' }).name, 'no-duplicates');
  });

  it('throws naming the line for a value with no id and for an unknown f', () => {
    const bad = new HistoryBuilder().call(0, 'apply', { name: 'x' }, 'ok');
    assert.throws(
      () => checkNoDuplicates(bad.ops),
      (error: unknown) =>
        isFaultlineError(error) &&
        /^line 1: no-duplicates checker: the apply's value is \{"name":"x"\}/.test(error.message) &&
        /`id` field/.test(String(error.details.expected)),
    );
    assert.throws(
      () => checkNoDuplicates(new HistoryBuilder().call(0, 'read', null, 'ok').ops),
      /unknown f "read"/,
    );
  });

  it('property: distinct ids applied concurrently pass; repeating any one is caught', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 30 }),
        fc.nat(),
        (ids, pick) => {
          const h = new HistoryBuilder();
          ids.forEach((id, i) => {
            h.invoke(i % 3, 'apply', id).ok(i % 3, 'apply', id);
          });
          assert.equal(checkNoDuplicates(h.ops).valid, true);
          const again = ids[pick % ids.length] as string;
          const ops = renumber([...h.ops, ...new HistoryBuilder().call(5, 'apply', { id: again }, 'ok').ops]);
          const result = checkNoDuplicates(ops);
          assert.deepEqual(
            result.anomalies.map((a) => [a.type, a.id]),
            [['duplicated', again]],
          );
        },
      ),
      propertyRuns,
    );
  });
});
