import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizability } from '../../src/check-driver/index.js';
import { checkBruteForce } from '../../src/checker/brute-force.js';
import type { Model } from '../../src/checker/model.js';
import { valueKey } from '../../src/checker/model.js';
import { casRegisterModel } from '../../src/checker/models/cas-register.js';
import { models } from '../../src/checker/models/index.js';
import { registerModel } from '../../src/checker/models/register.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { call, fail, history, info, type Line, ok } from './linearizability-helpers.js';

interface Case {
  readonly name: string;
  readonly lines: readonly Line[];
  readonly valid: boolean;
}

const cases: Record<string, { readonly model: Model<unknown>; readonly cases: readonly Case[] }> = {
  register: {
    model: models.register,
    cases: [
      { name: 'empty history', lines: [], valid: true },
      { name: 'read of the initial null', lines: [call(0, 'read'), ok(0, 'read', null)], valid: true },
      {
        name: 'sequential write then read',
        lines: [call(0, 'write', 1), ok(0, 'write', 1), call(1, 'read'), ok(1, 'read', 1)],
        valid: true,
      },
      {
        name: 'trap: a read sees a value before its write was invoked',
        lines: [call(0, 'read'), ok(0, 'read', 1), call(1, 'write', 1), ok(1, 'write', 1)],
        valid: false,
      },
      {
        name: 'stale read after the write completed',
        lines: [call(0, 'write', 1), ok(0, 'write', 1), call(1, 'read'), ok(1, 'read', null)],
        valid: false,
      },
      {
        name: 'a read concurrent with a write may see either value',
        lines: [
          call(0, 'write', 1),
          call(1, 'read'),
          ok(1, 'read', 1),
          call(2, 'read'),
          ok(2, 'read', 1),
          ok(0, 'write', 1),
        ],
        valid: true,
      },
      {
        name: 'reads may not flip back: new then old during one write',
        lines: [
          call(0, 'write', 1),
          call(1, 'read'),
          ok(1, 'read', 1),
          call(2, 'read'),
          ok(2, 'read', null),
          ok(0, 'write', 1),
        ],
        valid: false,
      },
      {
        name: 'info write must be allowed to take effect (later read sees it)',
        lines: [call(0, 'write', 1), info(0, 'write', 1), call(1, 'read'), ok(1, 'read', 1)],
        valid: true,
      },
      {
        name: 'info write may never take effect',
        lines: [call(0, 'write', 1), info(0, 'write', 1), call(1, 'read'), ok(1, 'read', null)],
        valid: true,
      },
      {
        name: 'info write must not take effect before it was invoked',
        lines: [call(1, 'read'), ok(1, 'read', 1), call(0, 'write', 1), info(0, 'write', 1)],
        valid: false,
      },
      {
        name: 'info write cannot be undone: seen, then the old value again',
        lines: [
          call(0, 'write', 1),
          info(0, 'write', 1),
          call(1, 'read'),
          ok(1, 'read', 1),
          call(1, 'read'),
          ok(1, 'read', null),
        ],
        valid: false,
      },
      {
        name: 'open call at the end counts as info',
        lines: [call(1, 'read'), call(0, 'write', 2), ok(1, 'read', 2)],
        valid: true,
      },
      {
        name: 'failed write never took effect',
        lines: [call(0, 'write', 1), fail(0, 'write', 1), call(1, 'read'), ok(1, 'read', 1)],
        valid: false,
      },
      {
        name: 'values compare deeply',
        lines: [
          call(0, 'write', { a: [1, 2] }),
          ok(0, 'write'),
          call(1, 'read'),
          ok(1, 'read', { a: [1, 2] }),
        ],
        valid: true,
      },
      {
        name: '1 and "1" differ',
        lines: [call(0, 'write', 1), ok(0, 'write', 1), call(1, 'read'), ok(1, 'read', '1')],
        valid: false,
      },
    ],
  },
  'cas-register': {
    model: models['cas-register'],
    cases: [
      {
        name: 'trap: two concurrent cas 0→1 cannot both succeed',
        lines: [
          call(0, 'write', 0),
          ok(0, 'write', 0),
          call(1, 'cas', [0, 1]),
          call(2, 'cas', [0, 1]),
          ok(1, 'cas', [0, 1]),
          ok(2, 'cas', [0, 1]),
        ],
        valid: false,
      },
      {
        name: 'concurrent cas: one succeeds, one fails',
        lines: [
          call(0, 'write', 0),
          ok(0, 'write', 0),
          call(1, 'cas', [0, 1]),
          call(2, 'cas', [0, 2]),
          ok(1, 'cas', [0, 1]),
          fail(2, 'cas', [0, 2]),
          call(0, 'read'),
          ok(0, 'read', 1),
        ],
        valid: true,
      },
      {
        name: 'concurrent cas chain 0→1→2 in either real-time order',
        lines: [
          call(0, 'write', 0),
          ok(0, 'write', 0),
          call(2, 'cas', [1, 2]),
          call(1, 'cas', [0, 1]),
          ok(2, 'cas', [1, 2]),
          ok(1, 'cas', [0, 1]),
          call(0, 'read'),
          ok(0, 'read', 2),
        ],
        valid: true,
      },
      {
        name: 'ok cas on a value the register never held',
        lines: [call(0, 'write', 0), ok(0, 'write', 0), call(1, 'cas', [5, 1]), ok(1, 'cas', [5, 1])],
        valid: false,
      },
      {
        name: 'info cas must be allowed to take effect',
        lines: [
          call(0, 'write', 0),
          ok(0, 'write', 0),
          call(1, 'cas', [0, 1]),
          info(1, 'cas', [0, 1]),
          call(2, 'read'),
          ok(2, 'read', 1),
        ],
        valid: true,
      },
      {
        name: 'info cas cannot take effect when the old value never held after its call',
        lines: [
          call(0, 'write', 3),
          ok(0, 'write', 3),
          call(1, 'cas', [0, 1]),
          info(1, 'cas', [0, 1]),
          call(2, 'read'),
          ok(2, 'read', 1),
        ],
        valid: false,
      },
    ],
  },
  kv: {
    model: models.kv,
    cases: [
      {
        name: 'keys are independent',
        lines: [
          call(0, 'write', ['x', 1]),
          ok(0, 'write', ['x', 1]),
          call(1, 'read', ['y', null]),
          ok(1, 'read', ['y', null]),
          call(1, 'read', ['x', null]),
          ok(1, 'read', ['x', 1]),
        ],
        valid: true,
      },
      {
        name: 'a stale read on one key',
        lines: [
          call(0, 'write', ['x', 1]),
          ok(0, 'write', ['x', 1]),
          call(0, 'write', ['y', 2]),
          ok(0, 'write', ['y', 2]),
          call(1, 'read', ['y', null]),
          ok(1, 'read', ['y', null]),
        ],
        valid: false,
      },
      {
        name: 'cas per key',
        lines: [
          call(0, 'cas', ['x', [null, 1]]),
          ok(0, 'cas', ['x', [null, 1]]),
          call(1, 'cas', ['y', [null, 2]]),
          ok(1, 'cas', ['y', [null, 2]]),
          call(1, 'read', ['x', null]),
          ok(1, 'read', ['x', 1]),
        ],
        valid: true,
      },
    ],
  },
  'list-append': {
    model: models['list-append'],
    cases: [
      {
        name: 'concurrent appends in either order',
        lines: [
          call(0, 'append', ['k', 1]),
          call(1, 'append', ['k', 2]),
          ok(0, 'append', ['k', 1]),
          ok(1, 'append', ['k', 2]),
          call(2, 'read', ['k', null]),
          ok(2, 'read', ['k', [2, 1]]),
        ],
        valid: true,
      },
      {
        name: 'sequential appends read out of order',
        lines: [
          call(0, 'append', ['k', 1]),
          ok(0, 'append', ['k', 1]),
          call(0, 'append', ['k', 2]),
          ok(0, 'append', ['k', 2]),
          call(2, 'read', ['k', null]),
          ok(2, 'read', ['k', [2, 1]]),
        ],
        valid: false,
      },
      {
        name: 'reads must extend each other',
        lines: [
          call(0, 'append', ['k', 1]),
          call(1, 'append', ['k', 2]),
          call(2, 'read', ['k', null]),
          ok(2, 'read', ['k', [2]]),
          call(2, 'read', ['k', null]),
          ok(2, 'read', ['k', [1, 2]]),
        ],
        valid: false,
      },
      {
        name: 'empty read as null; info append seen later',
        lines: [
          call(0, 'read', ['k', null]),
          ok(0, 'read', ['k', null]),
          call(1, 'append', ['k', 7]),
          info(1, 'append', ['k', 7]),
          call(0, 'read', ['k', null]),
          ok(0, 'read', ['k', [7]]),
        ],
        valid: true,
      },
    ],
  },
  'kv-append': {
    model: models['kv-append'],
    cases: [
      {
        name: 'a missing key reads as "" (or null)',
        lines: [
          call(0, 'get', ['x', null]),
          ok(0, 'get', ['x', '']),
          call(0, 'get', ['x', null]),
          ok(0, 'get', ['x', null]),
        ],
        valid: true,
      },
      {
        name: 'append to a missing key, then put resets',
        lines: [
          call(0, 'append', ['x', 'a']),
          ok(0, 'append', ['x', 'a']),
          call(0, 'append', ['x', 'b']),
          ok(0, 'append', ['x', 'b']),
          call(1, 'get', ['x', null]),
          ok(1, 'get', ['x', 'ab']),
          call(0, 'put', ['x', 'z']),
          ok(0, 'put', ['x', 'z']),
          call(1, 'get', ['x', null]),
          ok(1, 'get', ['x', 'z']),
        ],
        valid: true,
      },
      {
        name: 'appends in the wrong order',
        lines: [
          call(0, 'append', ['x', 'a']),
          ok(0, 'append', ['x', 'a']),
          call(0, 'append', ['x', 'b']),
          ok(0, 'append', ['x', 'b']),
          call(1, 'get', ['x', null]),
          ok(1, 'get', ['x', 'ba']),
        ],
        valid: false,
      },
      {
        name: 'concurrent appends in either order, but one order for every get',
        lines: [
          call(0, 'append', ['x', 'a']),
          call(1, 'append', ['x', 'b']),
          call(2, 'get', ['x', null]),
          ok(2, 'get', ['x', 'ba']),
          call(2, 'get', ['x', null]),
          ok(2, 'get', ['x', 'ab']),
          ok(0, 'append', ['x', 'a']),
          ok(1, 'append', ['x', 'b']),
        ],
        valid: false,
      },
      {
        name: 'an info append may have taken effect, once',
        lines: [
          call(0, 'append', ['x', 'a']),
          info(0, 'append', ['x', 'a']),
          call(1, 'get', ['x', null]),
          ok(1, 'get', ['x', 'a']),
          call(1, 'append', ['x', 'b']),
          ok(1, 'append', ['x', 'b']),
          call(1, 'get', ['x', null]),
          ok(1, 'get', ['x', 'ab']),
        ],
        valid: true,
      },
      {
        name: 'keys are independent',
        lines: [
          call(0, 'put', ['x', 'a']),
          ok(0, 'put', ['x', 'a']),
          call(1, 'get', ['y', null]),
          ok(1, 'get', ['y', 'a']),
        ],
        valid: false,
      },
    ],
  },
  set: {
    model: models.set,
    cases: [
      {
        name: 'read in any element order',
        lines: [
          call(0, 'add', 1),
          ok(0, 'add', 1),
          call(0, 'add', 2),
          ok(0, 'add', 2),
          call(1, 'read'),
          ok(1, 'read', [2, 1]),
        ],
        valid: true,
      },
      {
        name: 'lost element',
        lines: [
          call(0, 'add', 1),
          ok(0, 'add', 1),
          call(0, 'add', 2),
          ok(0, 'add', 2),
          call(1, 'read'),
          ok(1, 'read', [2]),
        ],
        valid: false,
      },
      {
        name: 'concurrent add may or may not be seen',
        lines: [
          call(0, 'add', 1),
          call(1, 'read'),
          ok(1, 'read', []),
          call(1, 'read'),
          ok(1, 'read', [1]),
          ok(0, 'add', 1),
        ],
        valid: true,
      },
    ],
  },
  counter: {
    model: models.counter,
    cases: [
      {
        name: 'concurrent adds: a read may see either subset',
        lines: [
          call(0, 'add', 1),
          call(1, 'add', 2),
          call(2, 'read'),
          ok(2, 'read', 2),
          ok(0, 'add', 1),
          ok(1, 'add', 2),
        ],
        valid: true,
      },
      {
        name: 'a read of an impossible sum',
        lines: [
          call(0, 'add', 1),
          call(1, 'add', 2),
          call(2, 'read'),
          ok(2, 'read', 4),
          ok(0, 'add', 1),
          ok(1, 'add', 2),
        ],
        valid: false,
      },
      {
        name: 'info add may take effect',
        lines: [
          call(0, 'add', 5),
          info(0, 'add', 5),
          call(1, 'read'),
          ok(1, 'read', 5),
          call(1, 'read'),
          ok(1, 'read', 5),
        ],
        valid: true,
      },
      {
        name: 'counter going backwards',
        lines: [
          call(0, 'add', 1),
          ok(0, 'add', 1),
          call(1, 'read'),
          ok(1, 'read', 1),
          call(1, 'read'),
          ok(1, 'read', 0),
        ],
        valid: false,
      },
    ],
  },
  'fifo-queue': {
    model: models['fifo-queue'],
    cases: [
      {
        name: 'first in, first out',
        lines: [
          call(0, 'enqueue', 1),
          ok(0, 'enqueue', 1),
          call(0, 'enqueue', 2),
          ok(0, 'enqueue', 2),
          call(1, 'dequeue'),
          ok(1, 'dequeue', 1),
        ],
        valid: true,
      },
      {
        name: 'out of order',
        lines: [
          call(0, 'enqueue', 1),
          ok(0, 'enqueue', 1),
          call(0, 'enqueue', 2),
          ok(0, 'enqueue', 2),
          call(1, 'dequeue'),
          ok(1, 'dequeue', 2),
        ],
        valid: false,
      },
      {
        name: 'empty dequeue while an element is queued',
        lines: [call(0, 'enqueue', 1), ok(0, 'enqueue', 1), call(1, 'dequeue'), ok(1, 'dequeue', null)],
        valid: false,
      },
      {
        name: 'info dequeue took the head',
        lines: [
          call(0, 'enqueue', 1),
          ok(0, 'enqueue', 1),
          call(0, 'enqueue', 2),
          ok(0, 'enqueue', 2),
          call(1, 'dequeue'),
          info(1, 'dequeue'),
          call(2, 'dequeue'),
          ok(2, 'dequeue', 2),
        ],
        valid: true,
      },
      {
        name: 'duplicate delivery',
        lines: [
          call(0, 'enqueue', 1),
          ok(0, 'enqueue', 1),
          call(1, 'dequeue'),
          ok(1, 'dequeue', 1),
          call(2, 'dequeue'),
          ok(2, 'dequeue', 1),
        ],
        valid: false,
      },
    ],
  },
  mutex: {
    model: models.mutex,
    cases: [
      {
        name: 'acquire, release, acquire',
        lines: [
          call(0, 'acquire'),
          ok(0, 'acquire'),
          call(0, 'release'),
          ok(0, 'release'),
          call(1, 'acquire'),
          ok(1, 'acquire'),
        ],
        valid: true,
      },
      {
        name: 'two holders at once',
        lines: [call(0, 'acquire'), ok(0, 'acquire'), call(1, 'acquire'), ok(1, 'acquire')],
        valid: false,
      },
      {
        name: 'overlapping release lets the second acquire in',
        lines: [
          call(0, 'acquire'),
          ok(0, 'acquire'),
          call(0, 'release'),
          call(1, 'acquire'),
          ok(1, 'acquire'),
          ok(0, 'release'),
        ],
        valid: true,
      },
      {
        name: 'info release may have freed the lock',
        lines: [
          call(0, 'acquire'),
          ok(0, 'acquire'),
          call(0, 'release'),
          info(0, 'release'),
          call(1, 'acquire'),
          ok(1, 'acquire'),
        ],
        valid: true,
      },
    ],
  },
};

for (const [name, { model, cases: list }] of Object.entries(cases)) {
  describe(`model ${name}`, () => {
    for (const testCase of list) {
      it(`${testCase.name} → ${testCase.valid}`, async () => {
        const ops = history(testCase.lines);
        const result = await checkLinearizability(ops, model);
        assert.equal(result.valid, testCase.valid, JSON.stringify(result.anomalies));
        assert.equal(result.checker, 'linearizability');
        assert.equal(checkBruteForce(ops, model).valid, testCase.valid, 'brute force agrees');
        assert.equal((await checkLinearizability(ops, model, { memoise: false })).valid, testCase.valid);
      });
    }
  });
}

describe('model registry', () => {
  it('names every built-in model', () => {
    assert.deepEqual(Object.keys(models).sort(), [
      'cas-register',
      'counter',
      'fifo-queue',
      'kv',
      'kv-append',
      'list-append',
      'mutex',
      'register',
      'set',
    ]);
    for (const [name, model] of Object.entries(models)) assert.equal(model.name, name);
  });

  it('an initial value can be set', async () => {
    const ops = history([call(0, 'read'), ok(0, 'read', 7)]);
    assert.equal((await checkLinearizability(ops, registerModel({ initial: 7 }))).valid, true);
    assert.equal((await checkLinearizability(ops, casRegisterModel({ initial: 7 }))).valid, true);
    assert.equal((await checkLinearizability(ops, models.register)).valid, false);
  });
});

describe('model validation', () => {
  const rejects = async (
    model: Model<unknown>,
    lines: readonly Line[],
    pattern: RegExp,
    expected?: RegExp,
  ) => {
    await assert.rejects(checkLinearizability(history(lines), model), (error: unknown) => {
      assert.ok(isFaultlineError(error, 'FL_ERR_INVALID_ARGUMENT'), String(error));
      assert.match(error.message, pattern);
      if (expected !== undefined) assert.match(String(error.details.expected), expected);
      return true;
    });
  };

  it('unknown f names the op and the valid fs', () =>
    rejects(
      models.register,
      [call(0, 'cas', [1, 2]), ok(0, 'cas', [1, 2])],
      /op 0: .*register.*"cas"/,
      /"read", "write"/,
    ));

  it('a line number from the history file is named', async () => {
    const ops = history([call(0, 'incr'), ok(0, 'incr')]).map((op) => ({ ...op, line: op.index + 10 }));
    await assert.rejects(checkLinearizability(ops, models.counter), /line 10: /);
  });

  it('kv values must be [key, value] tuples', () =>
    rejects(
      models.kv,
      [call(0, 'write', 3), ok(0, 'write', 3)],
      /kv write invoke value 3/,
      /\[key, value\]/,
    ));

  it('cas values must be [old, new]', () =>
    rejects(
      models['cas-register'],
      [call(0, 'cas', 1), ok(0, 'cas', 1)],
      /cas-register cas/,
      /\[old, new\]/,
    ));

  it('a list read must return a list, naming the completion', () =>
    rejects(
      models['list-append'],
      [call(0, 'read', ['k', null]), ok(0, 'read', ['k', 5])],
      /op 1: /,
      /\[key, \[elements…\]\]/,
    ));

  it('kv-append values must be strings, naming the op and the expected shape', async () => {
    await rejects(
      models['kv-append'],
      [call(0, 'append', ['x', 1]), ok(0, 'append', ['x', 1])],
      /op 0: kv-append append invoke value \["x",1\]/,
      /\[key, a string\]/,
    );
    await rejects(
      models['kv-append'],
      [call(0, 'get', ['x', null]), ok(0, 'get', ['x', ['a']])],
      /op 1: kv-append get ok value/,
      /\[key, a string\] \(or \[key, null\] for a missing key\)/,
    );
    await rejects(
      models['kv-append'],
      [call(0, 'put', 'x'), info(0, 'put', 'x')],
      /op 0: .*put/,
      /\[key, a string\]/,
    );
    await rejects(models['kv-append'], [call(0, 'write', ['x', 'a'])], /"write"/, /"get", "put", "append"/);
  });

  it('counter adds must be numbers', () =>
    rejects(models.counter, [call(0, 'add', 'one'), ok(0, 'add', 'one')], /counter add/, /finite number/));

  it('a completion with no invocation is a history error', async () => {
    await assert.rejects(checkLinearizability(history([ok(0, 'read', 1)]), models.register), /no open call/);
  });
});

describe('valueKey', () => {
  it('is deep, order-insensitive for objects, and type-aware', () => {
    assert.equal(valueKey({ b: 1, a: [1, '2'] }), valueKey({ a: [1, '2'], b: 1 }));
    assert.notEqual(valueKey(1), valueKey('1'));
    assert.notEqual(valueKey(['a,b']), valueKey(['a', 'b']));
    assert.equal(valueKey(undefined), valueKey(null));
  });
});
