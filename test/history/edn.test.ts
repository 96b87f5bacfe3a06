import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EdnSymbol, isKeywordName, keyword, readEdn, readEdnAll, writeEdn } from '../../src/history/edn.js';

function throwsAt(text: string, line: number, column: number, pattern: RegExp): void {
  assert.throws(
    () => readEdn(text),
    (error: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(error.code, 'FL_ERR_INVALID_ARGUMENT');
      assert.equal(error.details?.line, line, `line of ${JSON.stringify(text)}: ${error.message}`);
      assert.equal(error.details?.column, column, `column of ${JSON.stringify(text)}: ${error.message}`);
      assert.match(error.message, new RegExp(`^line ${line}, column ${column}: `));
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('readEdn', () => {
  it('reads nil, booleans, integers, floats, ratios and symbolic values', () => {
    assert.equal(readEdn('nil'), null);
    assert.equal(readEdn('true'), true);
    assert.equal(readEdn('false'), false);
    assert.equal(readEdn('42'), 42);
    assert.equal(readEdn('-7'), -7);
    assert.equal(readEdn('+7'), 7);
    assert.equal(readEdn('0'), 0);
    assert.equal(readEdn('42N'), 42);
    assert.equal(readEdn('9007199254740991'), Number.MAX_SAFE_INTEGER);
    assert.equal(readEdn('9007199254740993'), 9007199254740993n);
    assert.equal(readEdn('-123456789012345678901234567890N'), -123456789012345678901234567890n);
    assert.equal(readEdn('1.5'), 1.5);
    assert.equal(readEdn('-2.5e3'), -2500);
    assert.equal(readEdn('1E-2'), 0.01);
    assert.equal(readEdn('3.14M'), 3.14);
    assert.equal(readEdn('7M'), 7);
    assert.equal(readEdn('1.'), 1);
    assert.equal(readEdn('1/4'), 0.25);
    assert.equal(readEdn('-3/2'), -1.5);
    assert.equal(readEdn('##Inf'), Number.POSITIVE_INFINITY);
    assert.equal(readEdn('##-Inf'), Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN(readEdn('##NaN')));
  });

  it('reads strings with every escape, and characters', () => {
    assert.equal(readEdn('"plain"'), 'plain');
    assert.equal(readEdn('"a\\nb\\tc\\"d\\\\e\\rf\\bg\\fh"'), 'a\nb\tc"d\\e\rf\bg\fh');
    assert.equal(readEdn('"\\u00e9\\u2603"'), 'é☃');
    assert.equal(readEdn('"multi\nline"'), 'multi\nline');
    assert.equal(readEdn('"ünïcødé ☃"'), 'ünïcødé ☃');
    assert.equal(readEdn('\\a'), 'a');
    assert.equal(readEdn('\\newline'), '\n');
    assert.equal(readEdn('\\space'), ' ');
    assert.equal(readEdn('\\tab'), '\t');
    assert.equal(readEdn('\\return'), '\r');
    assert.equal(readEdn('\\backspace'), '\b');
    assert.equal(readEdn('\\formfeed'), '\f');
    assert.equal(readEdn('\\u0041'), 'A');
    assert.deepEqual(readEdn('[\\( \\) \\a]'), ['(', ')', 'a']);
  });

  it('reads keywords as strings without the colon and symbols as EdnSymbol', () => {
    assert.equal(readEdn(':write'), 'write');
    assert.equal(readEdn(':timed-out'), 'timed-out');
    assert.equal(readEdn(':jepsen.history/op'), 'jepsen.history/op');
    assert.deepEqual(readEdn('foo'), new EdnSymbol('foo'));
    assert.deepEqual(readEdn('my.ns/foo'), new EdnSymbol('my.ns/foo'));
    assert.deepEqual(readEdn('+'), new EdnSymbol('+'));
    assert.deepEqual(readEdn('/'), new EdnSymbol('/'));
    assert.deepEqual(readEdn('->x'), new EdnSymbol('->x'));
    assert.equal(String(readEdn('nil?')), 'nil?');
  });

  it('reads vectors and lists as arrays, sets as Sets', () => {
    assert.deepEqual(readEdn('[1 2 3]'), [1, 2, 3]);
    assert.deepEqual(readEdn('(1 (2) [3])'), [1, [2], [3]]);
    assert.deepEqual(readEdn('#{:a :b}'), new Set(['a', 'b']));
    assert.deepEqual(readEdn('[]'), []);
    assert.deepEqual(readEdn('()'), []);
    assert.deepEqual(readEdn('#{}'), new Set());
    assert.deepEqual(readEdn('[0 3]'), [0, 3]);
    assert.deepEqual(readEdn('#{[1 2] #{3}}'), new Set([[1, 2], new Set([3])]));
  });

  it('refuses duplicate set elements and map keys by value, compound ones too', () => {
    assert.throws(() => readEdn('#{1 1}'), /duplicate set element 1/);
    assert.throws(() => readEdn('#{[1 2] [1 2]}'), /duplicate set element \[1 2\]/);
    assert.throws(() => readEdn('#{#{1 2} #{2 1}}'), /duplicate set element/);
    assert.throws(() => readEdn('{[1 2] 3, [1 2] 4}'), /duplicate map key \[1 2\]/);
    assert.throws(() => readEdn('{{:a 1} 3, {:a 1} 4}'), /duplicate map key/);
    // 1 and "1" are different values, so not duplicates
    assert.equal((readEdn('#{1 "1"}') as Set<unknown>).size, 2);
  });

  it('reads maps with keyword or string keys as objects and others as Maps', () => {
    assert.deepEqual(readEdn('{:a 1, :b [2 3], "c d" {:e nil}}'), { a: 1, b: [2, 3], 'c d': { e: null } });
    // number keys would become strings in an object and meet "0": a Map keeps them numbers
    assert.deepEqual(
      readEdn('{0 10, 1 20}'),
      new Map([
        [0, 10],
        [1, 20],
      ]),
    );
    assert.deepEqual(readEdn('{}'), {});
    const map = readEdn('{[1 2] :pair, nil :none}');
    assert.ok(map instanceof Map);
    assert.equal(map.size, 2);
    assert.equal(map.get(null), 'none');
    // "1" and 1 would collide as object keys: keep them apart in a Map
    assert.ok(readEdn('{1 :a, "1" :b}') instanceof Map);
    const proto = readEdn('{"__proto__" 1}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.equal(Object.keys(proto)[0], '__proto__');
  });

  it('skips whitespace, commas, comments and discarded forms', () => {
    assert.deepEqual(readEdn(' ,,[1,2 ; a comment\n 3 #_ 4 #_ [5 6] 7] ; trailing\n'), [1, 2, 3, 7]);
    assert.deepEqual(readEdn('#_ #_ 1 2 3'), 3);
    assert.deepEqual(readEdn('{:a 1 #_ :b #_ 2}'), { a: 1 });
  });

  it('reads tagged literals: #inst and #uuid as strings, record tags as the tagged value', () => {
    assert.equal(readEdn('#inst "1985-04-12T23:20:50.52Z"'), '1985-04-12T23:20:50.52Z');
    assert.equal(
      readEdn('#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"'),
      'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
    );
    assert.deepEqual(readEdn('#jepsen.history.Op{:type :ok, :f :read}'), { type: 'ok', f: 'read' });
    assert.deepEqual(readEdn('#myapp/point [1 2]'), [1, 2]);
  });

  it('reads several top-level forms with their positions', () => {
    const forms = readEdnAll('; header\n{:a 1}\n  [2]\n\n:k');
    assert.deepEqual(
      forms.map((f) => [f.line, f.column]),
      [
        [2, 1],
        [3, 3],
        [5, 1],
      ],
    );
    assert.deepEqual(forms[0]?.value, { a: 1 });
    assert.deepEqual(readEdnAll('  ; only a comment\n'), []);
  });

  it('names the line, column and what was expected for malformed input', () => {
    throwsAt('', 1, 1, /expected a form, got end of input/);
    throwsAt('[1 2', 1, 5, /expected "\]" to close the \[ opened at line 1, column 1, got end of input/);
    throwsAt('[1\n 2 }', 2, 4, /expected "\]" to close the \[ opened at line 1, column 1, got "}"/);
    throwsAt('(1 2', 1, 5, /expected "\)"/);
    throwsAt('\n\n  ]', 3, 3, /unexpected "\]" with no open collection/);
    throwsAt('"abc', 1, 1, /unterminated string/);
    throwsAt('\n "a\\qb"', 2, 4, /bad string escape \\q/);
    throwsAt('"\\u12x4"', 1, 2, /bad unicode escape/);
    throwsAt('{:a 1 :b}', 1, 1, /even number of forms/);
    throwsAt('{:a 1 :a 2}', 1, 1, /duplicate map key "a"/);
    throwsAt('#{1 1}', 1, 1, /duplicate set element 1/);
    throwsAt('[1 2x]', 1, 4, /malformed number 2x/);
    throwsAt('012', 1, 1, /malformed number/);
    throwsAt('1/0', 1, 1, /divides by zero/);
    throwsAt(':', 1, 1, /malformed keyword/);
    throwsAt('::auto', 1, 1, /malformed keyword/);
    throwsAt('\\foo', 1, 1, /unknown character \\foo/);
    throwsAt('\\ ', 1, 1, /expected a character/);
    throwsAt('#?(:clj 1)', 1, 1, /expected #\{ \(a set\)/);
    throwsAt('##Foo', 1, 1, /##Inf, ##-Inf or ##NaN/);
    throwsAt('#inst 5', 1, 7, /#inst expects a string/);
    throwsAt('#inst', 1, 1, /expected a form after the tag #inst/);
    throwsAt('[#_]', 1, 4, /unexpected "\]"/);
    throwsAt('1 2', 1, 3, /expected end of input after one form/);
    throwsAt('abc/', 1, 1, /malformed symbol/);
  });

  it('names the file when given one, and respects firstLine', () => {
    assert.throws(
      () => readEdn('[', { file: 'h.edn', firstLine: 10 }),
      /^FaultlineError: h\.edn: line 10, column 2: /,
    );
  });

  it('bounds nesting depth', () => {
    assert.throws(() => readEdn(`${'['.repeat(600)}${']'.repeat(600)}`), /nesting deeper than 512 levels/);
    assert.deepEqual(readEdn('[[[[1]]]]', { maxDepth: 4 }), [[[[1]]]]);
    assert.throws(() => readEdn('[[[[[1]]]]]', { maxDepth: 4 }), /nesting deeper than 4/);
  });
});

describe('writeEdn', () => {
  it('writes each kind of value', () => {
    assert.equal(writeEdn(null), 'nil');
    assert.equal(writeEdn(undefined), 'nil');
    assert.equal(writeEdn(true), 'true');
    assert.equal(writeEdn(3), '3');
    assert.equal(writeEdn(1.5), '1.5');
    assert.equal(writeEdn(-0), '-0.0');
    assert.equal(writeEdn(2 ** 60), '1152921504606847000.0');
    assert.equal(writeEdn(Number.NaN), '##NaN');
    assert.equal(writeEdn(Number.NEGATIVE_INFINITY), '##-Inf');
    assert.equal(writeEdn(12345678901234567890n), '12345678901234567890N');
    assert.equal(writeEdn('a"b\\c\nd\u0001'), '"a\\"b\\\\c\\nd\\u0001"');
    assert.equal(writeEdn(keyword('write')), ':write');
    assert.equal(writeEdn(new EdnSymbol('foo')), 'foo');
    assert.equal(writeEdn([1, 'x', [null]]), '[1 "x" [nil]]');
    assert.equal(writeEdn(new Set([1, 2])), '#{1 2}');
    assert.equal(writeEdn(new Map<unknown, unknown>([[[1], 2]])), '{[1] 2}');
    assert.equal(writeEdn({ a: 1, 'b c': 2, '0': 3, skip: undefined }), '{"0" 3, :a 1, "b c" 2}');
    assert.equal(writeEdn({ a: 1 }, { keywordKeys: false }), '{"a" 1}');
    assert.equal(writeEdn(new Date(0)), '#inst "1970-01-01T00:00:00.000Z"');
  });

  it('refuses what EDN cannot hold', () => {
    assert.throws(() => writeEdn(() => 1), /cannot write a function as EDN/);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.throws(() => writeEdn(cyclic), /cyclic/);
  });

  it('only writes keyword names that read back as the same string', () => {
    for (const name of ['write', 'timed-out', 'jepsen/op', 'a.b', 'x?', '-foo'])
      assert.ok(isKeywordName(name), name);
    for (const name of ['', '0', 'a b', ':a', '-1', 'a/b/c', 'a"', 'a;b', 'é'])
      assert.ok(!isKeywordName(name), name);
  });

  it('round trips JSON-like values through text (property)', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('a', 'timed-out', 'ns/k', '0', '__proto__'));
    const leaf = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.bigInt({ min: 2n ** 60n, max: 2n ** 80n }),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node')),
        fc.dictionary(key, tie('node'), { noNullPrototype: true }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        assert.deepStrictEqual(readEdn(writeEdn(v)), v);
      }),
      { numRuns: 500 },
    );
  });

  it('reads keywords written with keyword() and symbols back', () => {
    assert.deepEqual(readEdn(writeEdn([keyword('a'), new EdnSymbol('b')])), ['a', new EdnSymbol('b')]);
  });
});

describe('Clojure integer forms that pr writes', () => {
  it('reads hex and radix integers, exactly past 2^53, as in #object[… 0x4e25154f …]', () => {
    assert.deepEqual(readEdn('#object[java.lang.Object 0x4e25154f "x"]'), [
      new EdnSymbol('java.lang.Object'),
      0x4e25154f,
      'x',
    ]);
    assert.equal(readEdn('-0x10'), -16);
    assert.equal(readEdn('0x1FN'), 31);
    assert.equal(readEdn('2r1010'), 10);
    assert.equal(readEdn('36rZZ'), 1295);
    assert.equal(readEdn('0xFFFFFFFFFFFFFFFF'), 0xffffffffffffffffn);
    assert.throws(() => readEdn('2r102'), /column 1: digit 2 is not valid in base 2/);
  });
});
