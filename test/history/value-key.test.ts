import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { valueKey as modelValueKey } from '../../src/checker/model.js';
import { deepEqual, stableKey } from '../../src/checker/safety.js';
import { EdnSymbol } from '../../src/history/edn.js';
import { valueKey } from '../../src/history/value-key.js';

const same = (a: unknown, b: unknown): void => {
  assert.equal(valueKey(a), valueKey(b), `${valueKey(a)} vs ${valueKey(b)}`);
  assert.ok(deepEqual(a, b));
};
const different = (a: unknown, b: unknown): void => {
  assert.notEqual(valueKey(a), valueKey(b));
  assert.ok(!deepEqual(a, b));
};
const noIdentity = { code: 'FL_ERR_INVALID_ARGUMENT' };

describe('the one value identity (valueKey, used by the models and the safety checkers)', () => {
  it('is one function under every name it is exported as', () => {
    assert.equal(modelValueKey, valueKey);
    assert.equal(stableKey, valueKey);
  });

  it('pins its semantics: undefined, Date, cycles, Maps, Sets, bigints, symbols', () => {
    // undefined: null as a value and in arrays, Maps and Sets; a missing member in objects (as a file has it).
    same(undefined, null);
    same([undefined], [null]);
    same({ a: undefined }, {});
    same({ a: 1, b: undefined }, { a: 1 });
    different({ a: undefined }, { a: null });
    same(new Map([[1, undefined]]), new Map([[1, null]]));
    // Order of members and of Map and Set entries does not matter; types do.
    same({ b: 1, a: [1, '2'] }, { a: [1, '2'], b: 1 });
    different(1, '1');
    different(['a,b'], ['a', 'b']);
    same(-0, 0);
    same(Number.NaN, Number.NaN);
    same(
      new Map([
        [1, 'a'],
        [2, 'b'],
      ]),
      new Map([
        [2, 'b'],
        [1, 'a'],
      ]),
    );
    different(new Map(), {});
    different(new Map([['a', 1]]), { a: 1 });
    same(new Set([1, 2]), new Set([2, 1]));
    different(new Set([1]), [1]);
    // bigint: exact, and never a number.
    different(1n, 1);
    same(2n ** 64n + 1n, 2n ** 64n + 1n);
    different(2n ** 64n + 1n, 2n ** 64n);
    different(2n ** 64n, Number(2n ** 64n));
    // Date: its time, not an empty object; an EDN symbol is not a string.
    same(new Date(5), new Date(5));
    different(new Date(5), new Date(6));
    different(new Date(5), {});
    different(new Date(0), new Date(0).toISOString());
    same(new EdnSymbol('x'), new EdnSymbol('x'));
    different(new EdnSymbol('x'), 'x');
    different(new EdnSymbol('x'), { name: 'x' });
    // Shared (not cyclic) structure is fine; a cycle has no identity.
    const shared = { v: 1 };
    same([shared, shared], [{ v: 1 }, { v: 1 }]);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.throws(() => valueKey(cyclic), { ...noIdentity, message: /cyclic/ });
    const cyclicMap = new Map<string, unknown>();
    cyclicMap.set('m', [cyclicMap]);
    assert.throws(() => valueKey(cyclicMap), { ...noIdentity, message: /cyclic/ });
    assert.throws(() => valueKey(() => 1), noIdentity);
    assert.throws(() => valueKey([Symbol('s')]), noIdentity);
  });
});
