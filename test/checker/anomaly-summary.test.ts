import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAnomalySummary, summariseAnomalies } from '../../src/checker/anomaly-summary.js';
import type { Op } from '../../src/history/index.js';

const op = (index: number, time: number): Op => ({
  process: 0,
  type: 'ok',
  f: 'write',
  value: index,
  time,
  index,
  line: index + 1,
});

describe('summariseAnomalies', () => {
  it('groups by type; first and last by history time; an even sample with both ends', () => {
    const anomalies = [
      ...Array.from({ length: 100 }, (_, i) => ({
        type: 'lost',
        message: `lost ${99 - i}`,
        ops: [op(99 - i, (99 - i) * 1e6)],
      })),
      { type: 'duplicated', message: 'dup', ops: [op(200, 5e9)] },
    ];
    const [lost, dup] = summariseAnomalies(anomalies);
    assert.equal(lost?.type, 'lost');
    assert.equal(lost?.count, 100);
    assert.deepEqual(lost?.first, { message: 'lost 0', timeNs: 0, op: 0, line: 1 });
    assert.equal(lost?.last.message, 'lost 99');
    assert.deepEqual(
      lost?.sample.map((ref) => ref.op),
      [0, 25, 50, 74, 99],
    );
    assert.equal(dup?.count, 1);
    assert.deepEqual(formatAnomalySummary(dup!, 1e9), ['duplicated: +4.000 s, op 200 (line 201): dup']);
    assert.deepEqual(formatAnomalySummary(lost!), [
      'lost: 100 anomalies, from +0.000 s to +0.099 s',
      '  first: +0.000 s, op 0 (line 1): lost 0',
      '  last:  +0.099 s, op 99 (line 100): lost 99',
      '  sample: op 0 (line 1), op 25 (line 26), op 50 (line 51), op 74 (line 75), op 99 (line 100)',
    ]);
  });

  it('keeps the listed order for anomalies without ops (a journal holds no ops), and is deterministic', () => {
    const anomalies = [
      { type: 'lost', message: 'a' },
      { type: 'lost', message: 'b' },
      { type: 'lost', message: 'c' },
    ];
    const summary = summariseAnomalies(anomalies, { sampleSize: 2 });
    assert.deepEqual(summary, summariseAnomalies(anomalies, { sampleSize: 2 }));
    assert.equal(summary[0]?.first.message, 'a');
    assert.equal(summary[0]?.last.message, 'c');
    assert.deepEqual(
      summary[0]?.sample.map((ref) => ref.message),
      ['a', 'c'],
    );
    assert.deepEqual(formatAnomalySummary(summary[0]!), ['lost: 3 anomalies', '  first: a', '  last:  c']);
    assert.deepEqual(summariseAnomalies([]), []);
  });
});
