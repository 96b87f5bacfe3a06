import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type JsonPosition, type JsonProblem, type JsonReadOptions, readJson } from '../../src/core/json.js';
import { parseHistory } from '../../src/history/formats.js';
import { maxNestingDepth } from '../../src/history/op.js';

/** As the JSON lines history reader calls it (one line is one text). */
const lineOptions: JsonReadOptions = {
  maxDepth: maxNestingDepth,
  exactIntegers: true,
  textName: 'line',
  where: (offset) => `column ${offset + 1}`,
};

function read(text: string, options: Partial<JsonReadOptions> = {}): unknown {
  return readJson(text, { ...lineOptions, ...options });
}

/** The problem `readJson` reports for `text`. */
function problemOf(text: string, options: Partial<JsonReadOptions> = {}): JsonProblem {
  let problem: JsonProblem | undefined;
  assert.throws(() =>
    read(text, {
      ...options,
      error: (p) => {
        problem = p;
        return new Error(p.message);
      },
    }),
  );
  assert.ok(problem !== undefined);
  return problem;
}

function throwsAt(text: string, column: number, pattern: RegExp): void {
  const problem = problemOf(text);
  assert.equal(problem.offset + 1, column, problem.message);
  assert.equal(typeof problem.expected, 'string');
  assert.match(problem.message, pattern);
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
    assert.equal(read('9007199254740991'), 9007199254740991);
    assert.equal(read('-9007199254740991'), -9007199254740991);
    assert.equal(read('9007199254740992'), 9007199254740992n);
    assert.equal(read('9007199254740993'), 9007199254740993n);
    assert.equal(read('-9007199254740993'), -9007199254740993n);
    assert.equal(read('123456789012345678901234567890'), 123456789012345678901234567890n);
    // Written as floats, they stay numbers (as in EDN).
    assert.equal(read('9007199254740993.0'), 9007199254740992);
    assert.equal(read('1e20'), 1e20);
    assert.equal(read('1.5E+3'), 1500);
    assert.ok(Object.is(read('-0'), -0));
    assert.deepStrictEqual(read('{"a":[1,9007199254740993,-2.5]}'), { a: [1, 9007199254740993n, -2.5] });
  });

  it('agrees with JSON.parse on every JSON text, but for the exactness of big integers (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 1, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        assert.deepStrictEqual(rounded(read(text)), JSON.parse(text));
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
          assert.throws(() => read(text), { code: 'FL_ERR_INVALID_ARGUMENT' }, JSON.stringify(text));
        } else {
          assert.deepStrictEqual(rounded(read(text)), expected, JSON.stringify(text));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a "__proto__" member as a plain member, as JSON.parse does', () => {
    const value = read('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('names the offset where the text goes wrong and what was expected', () => {
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
    assert.doesNotThrow(() => read(nest(maxNestingDepth)));
    throwsAt(nest(maxNestingDepth + 1), maxNestingDepth + 1, /nesting deeper than 512 levels/);
    throwsAt(nest(1_000_000), maxNestingDepth + 1, /nesting deeper than 512 levels/);
    throwsAt('{"a":'.repeat(100_000), 5 * maxNestingDepth + 1, /nesting deeper than 512 levels/);
    assert.deepEqual(read('[[[1]]]', { maxDepth: 3 }), [[[1]]]);
    assert.throws(
      () => read('[[[[1]]]]', { maxDepth: 3 }),
      /column 4: not valid JSON: nesting deeper than 3 levels/,
    );
  });

  it('as the JSON lines history reader uses it: file, line, column and what was expected', () => {
    assert.throws(
      () =>
        parseHistory('{"process":0,"type":"invoke","f":"r"}\n{"a" 1}', { file: 'h.jsonl', format: 'jsonl' }),
      (error: Error & { code?: string; details?: Record<string, unknown> }) => {
        assert.equal(error.code, 'FL_ERR_INVALID_ARGUMENT');
        assert.equal(
          error.message,
          'h.jsonl: line 2, column 6: not valid JSON: expected ":" after the member name, got "1"',
        );
        assert.deepEqual(error.details, { file: 'h.jsonl', line: 2, column: 6, expected: '":"' });
        return true;
      },
    );
  });

  it('without exactIntegers, reads every number as JSON.parse does', () => {
    assert.equal(read('9007199254740993', { exactIntegers: false }), 9007199254740992);
    assert.equal(read('-123456789012345678901234567890', { exactIntegers: false }), -1.2345678901234568e29);
  });

  it('keeps the position of every value and member name by path, when asked', () => {
    const positions = new Map<string, JsonPosition>();
    const text = '{"a": [1, {"b": null}],\n "c": "x", "": {}}';
    read(text, { positions, rootPath: 'r' });
    assert.deepEqual(Object.fromEntries(positions), {
      r: { value: 0 },
      'r.a': { key: 1, value: 6 },
      'r.a[0]': { value: 7 },
      'r.a[1]': { value: 10 },
      'r.a[1].b': { key: 11, value: 16 },
      'r.c': { key: 25, value: 30 },
      'r.': { key: 35, value: 39 },
    });
    // A problem names the path of the value being read.
    assert.equal(problemOf('{"a": [1, tru]}', { positions: new Map(), rootPath: 'r' }).path, 'r.a[1]');
    assert.equal(problemOf('{"a": [1]} x', { positions: new Map() }).path, '$');
    assert.equal(problemOf('{"a": [tru]}').path, undefined);
  });

  it('refuses duplicate member names when asked, after the whole text is known to be JSON', () => {
    assert.deepEqual(read('{"a":1,"a":2}'), { a: 2 });
    const duplicate = problemOf('{"a":1,\n"b":{"a":0},"a":2,"a":3}', {
      duplicateKeys: 'error',
      positions: new Map(),
      rootPath: 'r',
    });
    assert.deepEqual(duplicate, {
      kind: 'duplicate-key',
      offset: 20,
      message: 'duplicate key "a" (first at column 2)',
      expected: 'each key once',
      path: 'r.a',
    });
    assert.equal(problemOf('{"a":1,"a":2', { duplicateKeys: 'error' }).kind, 'syntax');
    assert.equal(problemOf('[{"a":1,"a":2}, [[1]]]', { duplicateKeys: 'error', maxDepth: 2 }).kind, 'depth');
  });

  it('skips a leading byte order mark only when asked', () => {
    assert.deepEqual(read('\uFEFF [1]', { byteOrderMark: true }), [1]);
    assert.match(problemOf('\uFEFF[1]').message, /expected a value, got U\+FEFF/);
    assert.match(problemOf('[1]\uFEFF', { byteOrderMark: true }).message, /got U\+FEFF/);
  });

  it('by default throws FL_ERR_INVALID_ARGUMENT naming the offset', () => {
    assert.throws(() => readJson('[1 2]', { maxDepth: 4 }), {
      code: 'FL_ERR_INVALID_ARGUMENT',
      message: 'offset 3: not valid JSON: expected "," or "]" in the array opened at offset 0, got "2"',
      details: { offset: 3, expected: '"," or "]"' },
    });
  });
});
