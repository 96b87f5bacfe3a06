import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it('parses units and compound durations into milliseconds', () => {
    const cases: [string | number, number][] = [
      ['250ms', 250],
      ['5s', 5000],
      ['1m30s', 90_000],
      ['1h', 3_600_000],
      ['1.5s', 1500],
      ['500us', 0.5],
      ['500µs', 0.5],
      ['2000000ns', 2],
      ['1h2m3s4ms', 3_723_004],
      [' 10s ', 10_000],
      ['42', 42],
      [0, 0],
      [12.5, 12.5],
    ];
    for (const [input, expected] of cases) assert.equal(parseDuration(input), expected, String(input));
  });

  it('refuses bad input with the field name and what is valid', () => {
    for (const input of ['', 'abc', '5 s', '5x', 's', '-5s', '1m30', Number.NaN, -1]) {
      assert.throws(
        () => parseDuration(input, 'steady.timeout'),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'FL_ERR_INVALID_DURATION');
          assert.match(error.message, /^steady\.timeout: expected a duration such as "250ms"/);
          return true;
        },
      );
    }
  });

  it('formats durations the way people write them', () => {
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(0.5), '500us');
    assert.equal(formatDuration(3_600_000), '1h');
    assert.equal(formatDuration(1500), '1.5s');
  });
});
