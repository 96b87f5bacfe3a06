import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readJson } from '../../src/history/json.js';
import { maxNestingDepth } from '../../src/history/op.js';

function throwsAt(text: string, column: number, pattern: RegExp): void {
  assert.throws(
    () => readJson(text, { file: 'h.jsonl', line: 7 }),
    (error: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(error.code, 'FL_ERR_INVALID_ARGUMENT');
      assert.equal(error.details?.file, 'h.jsonl');
      assert.equal(error.details?.line, 7);
      assert.equal(error.details?.column, column, error.message);
      assert.equal(typeof error.details?.expected, 'string');
      assert.match(error.message, new RegExp(`^h\\.jsonl: line 7, column ${column}: not valid JSON: `));
      assert.match(error.message, pattern);
      return true;
    },
  );
}

/** Converts the bigints readJson gives to the numbers JSON.parse gives, for comparing the two. */
function rounded(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(rounded);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, {
        value: rounded(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

describe('readJson', () => {
  it('reads integers beyond ±(2^53 − 1) exactly as bigints, and every other number as a number', () => {
    assert.equal(readJson('9007199254740991'), 9007199254740991);
    assert.equal(readJson('-9007199254740991'), -9007199254740991);
    assert.equal(readJson('9007199254740992'), 9007199254740992n);
    assert.equal(readJson('9007199254740993'), 9007199254740993n);
    assert.equal(readJson('-9007199254740993'), -9007199254740993n);
    assert.equal(readJson('123456789012345678901234567890'), 123456789012345678901234567890n);
    // Written as floats, they stay numbers (as in EDN).
    assert.equal(readJson('9007199254740993.0'), 9007199254740992);
    assert.equal(readJson('1e20'), 1e20);
    assert.equal(readJson('1.5E+3'), 1500);
    assert.ok(Object.is(readJson('-0'), -0));
    assert.deepStrictEqual(readJson('{"a":[1,9007199254740993,-2.5]}'), { a: [1, 9007199254740993n, -2.5] });
  });

  it('agrees with JSON.parse on every JSON text, but for the exactness of big integers (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 1, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        assert.deepStrictEqual(rounded(readJson(text)), JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses exactly what JSON.parse refuses (property)', () => {
    const jsonish = fc.stringMatching(/^[[\]{}",:0-9eE.+\-a-z\\ \t\n]{0,30}$/);
    const mutated = fc
      .tuple(fc.jsonValue(), fc.nat(), fc.string({ maxLength: 3 }))
      .map(([value, at, insert]) => {
        const text = JSON.stringify(value);
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + (at % 2));
      });
    fc.assert(
      fc.property(fc.oneof(jsonish, mutated, fc.string({ maxLength: 20 })), (text) => {
        let expected: unknown;
        let parseFailed = false;
        try {
          expected = JSON.parse(text);
        } catch {
          parseFailed = true;
        }
        if (parseFailed) {
          assert.throws(() => readJson(text), { code: 'FL_ERR_INVALID_ARGUMENT' }, JSON.stringify(text));
        } else {
          assert.deepStrictEqual(rounded(readJson(text)), expected, JSON.stringify(text));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a "__proto__" member as a plain member, as JSON.parse does', () => {
    const value = readJson('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('names the line, the column and what was expected', () => {
    throwsAt('{"a":1,}', 8, /expected a member name in quotes, got "}"/);
    throwsAt('{"a" 1}', 6, /expected ":" after the member name/);
    throwsAt('[1 2]', 4, /expected "," or "\]" in the array opened at column 1, got "2"/);
    throwsAt('{"a":1', 7, /expected "," or "}" in the object opened at column 1, got end of line/);
    throwsAt('"abc', 1, /unterminated string/);
    throwsAt('"a\\qb"', 3, /bad string escape \\q/);
    throwsAt('"\\u12g4"', 2, /bad unicode escape/);
    throwsAt('"a\tb"', 3, /unescaped control character U\+0009/);
    throwsAt('01', 1, /malformed number "01"/);
    throwsAt('1.', 1, /malformed number "1\."/);
    throwsAt('-', 1, /malformed number starting "-"/);
    throwsAt('nul', 1, /expected a value, got "n"/);
    throwsAt('{} x', 4, /expected the end of the line after the value, got "x"/);
    throwsAt('', 1, /expected a value, got end of line/);
    throwsAt('\u00ff', 1, /expected a value, got "ÿ"/);
  });

  it(`bounds nesting at ${maxNestingDepth} arrays and objects, naming the column, at any depth`, () => {
    const nest = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    assert.doesNotThrow(() => readJson(nest(maxNestingDepth)));
    throwsAt(nest(maxNestingDepth + 1), maxNestingDepth + 1, /nesting deeper than 512 levels/);
    throwsAt(nest(1_000_000), maxNestingDepth + 1, /nesting deeper than 512 levels/);
    throwsAt('{"a":'.repeat(100_000), 5 * maxNestingDepth + 1, /nesting deeper than 512 levels/);
    assert.deepEqual(readJson('[[[1]]]', { maxDepth: 3 }), [[[1]]]);
    assert.throws(
      () => readJson('[[[[1]]]]', { maxDepth: 3 }),
      /column 4: not valid JSON: nesting deeper than 3 levels/,
    );
  });
});
