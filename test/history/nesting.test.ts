// Deeply nested values, built in code rather than read from a file: every walk over op values (pairing,
// writing, the checkers' value identity) refuses them with a clear error instead of exhausting the stack.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizability } from '../../src/check-driver/index.js';
import { valueKey } from '../../src/checker/model.js';
import { registerModel } from '../../src/checker/models/register.js';
import { checkSet, stableKey } from '../../src/checker/safety.js';
import { buildHistory, serializeHistory } from '../../src/history/formats.js';
import { maxNestingDepth, nestedDeeperThan, pairOperations } from '../../src/history/op.js';

/** An array nested `depth` levels deep (built iteratively: any depth). */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const writeOf = (value: unknown) =>
  buildHistory([
    { process: 0, type: 'invoke', f: 'write', value },
    { process: 0, type: 'ok', f: 'write', value },
  ]);

const tooDeep = { code: 'FL_ERR_INVALID_ARGUMENT', message: /nested deeper than 512 levels/ };

describe('nesting of values built in code', () => {
  it('measures nesting iteratively, counting arrays, objects, Maps and Sets, and cycles as too deep', () => {
    assert.equal(nestedDeeperThan(1, 0), false);
    assert.equal(nestedDeeperThan([], 0), true);
    assert.equal(nestedDeeperThan([[{ a: new Map([[1, new Set([[]])]]) }]], 5), true);
    assert.equal(nestedDeeperThan([[{ a: new Map([[1, new Set([[]])]]) }]], 6), false);
    assert.equal(nestedDeeperThan(nested(1_000_000), 1_000_000), false);
    assert.equal(nestedDeeperThan(nested(1_000_000), 999_999), true);
    const cycle: unknown[] = [];
    cycle.push(cycle);
    assert.equal(nestedDeeperThan(cycle, 10_000), true);
  });

  it('pairOperations (so every checker) refuses an op nested deeper than the bound, naming the op', () => {
    assert.equal(pairOperations(writeOf(nested(maxNestingDepth - 1))).length, 1);
    assert.throws(() => pairOperations(writeOf(nested(maxNestingDepth))), {
      message: /^op 0: value nested deeper than 512 levels \(counting the op itself\), or cyclic/,
    });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => pairOperations(writeOf(cycle)), tooDeep);
  });

  it('checkers refuse a deep history with a FaultlineError, not a stack overflow', async () => {
    const history = writeOf(nested(200_000));
    await assert.rejects(checkLinearizability(history, registerModel()), tooDeep);
    assert.throws(() => checkSet(history), tooDeep);
  });

  it('serializeHistory refuses what could not be read back', () => {
    for (const format of ['jsonl', 'edn'] as const) {
      assert.throws(() => serializeHistory(writeOf(nested(200_000)), format), tooDeep);
    }
  });

  it('the value identities refuse deep values themselves, for values that did not come through an op', () => {
    assert.match(valueKey(nested(maxNestingDepth)), /^\[{512}1\]{512}$/);
    assert.throws(() => valueKey(nested(maxNestingDepth + 1)), tooDeep);
    assert.throws(() => valueKey(nested(1_000_000)), tooDeep);
    assert.match(stableKey(nested(maxNestingDepth)), /^\[{512}1\]{512}$/);
    assert.throws(() => stableKey(nested(1_000_000)), {
      code: 'FL_ERR_INVALID_ARGUMENT',
      message: /nested deeper than 512/,
    });
  });

  it('valueKey tells Maps and Sets apart by content (EDN maps with non-keyword keys are Maps)', () => {
    assert.notEqual(valueKey(new Map([[[1], 1]])), valueKey(new Map([[[2], 2]])));
    assert.equal(
      valueKey(
        new Map([
          [1, 'a'],
          [2, 'b'],
        ]),
      ),
      valueKey(
        new Map([
          [2, 'b'],
          [1, 'a'],
        ]),
      ),
    );
    assert.notEqual(valueKey(new Map()), valueKey({}));
    assert.notEqual(valueKey(new Set([1])), valueKey(new Set([2])));
    assert.equal(valueKey(new Set([1, 2])), valueKey(new Set([2, 1])));
    assert.notEqual(valueKey(new Set([1])), valueKey([1]));
  });
});
