import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonErrorOffset } from '../../src/api/json-error.js';

test('jsonErrorOffset points at the first character that cannot continue valid JSON', () => {
  const cases: Array<[string, number]> = [
    ['{bad', 1],
    ['{"name": bad}', 9],
    ['{"a":1,}', 7],
    ['[1 2]', 3],
    ['{"a":1} x', 8],
    ['"abc', 4],
    ['[1,', 3],
    ['{"a" 1}', 5],
    ['["\\x"]', 3],
    ['{"a":"\u0001"}', 6],
    ['01', 1],
    ['  ', 2],
    ['', 0],
    ['['.repeat(200_000), 200_000],
  ];
  for (const [text, offset] of cases)
    assert.equal(jsonErrorOffset(text), offset, JSON.stringify(text.slice(0, 20)));
});

test('jsonErrorOffset accepts what JSON.parse accepts', () => {
  for (const text of [
    '{"a":[1,{"b":null}]}',
    '[1.5e3, -0.25, true, false, null, "\\u00e9\\n"]',
    ' 7 ',
    '"x"',
    '{}',
    '[]',
  ]) {
    JSON.parse(text);
    assert.equal(jsonErrorOffset(text), -1, text);
  }
});
