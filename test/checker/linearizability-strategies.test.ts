import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizability } from '../../src/check-driver/index.js';
import { checkLinearizabilitySync } from '../../src/checker/linearizability.js';
import { PartitionSearch } from '../../src/checker/linearizability-core.js';
import { models } from '../../src/checker/models/index.js';
import { Random } from '../../src/core/random.js';
import { pairOperations } from '../../src/history/index.js';
import { chaosHistory, falsifyRead } from '../support/chaos-histories.js';
import { call, history, info, ok } from './linearizability-helpers.js';

/** `pending` clients call `add 1` and time out; then one client adds and reads, the last read `last`. */
function pendingAdds(pending: number, last: number) {
  return history([
    ...Array.from({ length: pending }, (_, p) => call(p, 'add', 1)),
    ...Array.from({ length: pending }, (_, p) => info(p, 'add', 1)),
    call(100, 'read'),
    ok(100, 'read', 3),
    call(100, 'add', 1),
    ok(100, 'add', 1),
    call(100, 'read'),
    ok(100, 'read', last),
  ]);
}

describe('search strategies', () => {
  it('identical pending info ops are placed earliest first: k + 1 counts, not 2^k subsets', () => {
    // 20 pending adds of 1: without the symmetry reduction, proving the last read impossible visits
    // every subset of them (2^20 configurations) and the step budget below runs out.
    for (const strategies of [['definite-first'], ['time-order']] as const) {
      const valid = checkLinearizabilitySync(pendingAdds(20, 15), models.counter, {
        strategies,
        maxSteps: 2000,
      });
      assert.equal(valid.valid, true, strategies[0]);
      const invalid = checkLinearizabilitySync(pendingAdds(20, 22), models.counter, {
        strategies,
        maxSteps: 2000,
      });
      assert.equal(invalid.valid, false, strategies[0]);
      assert.ok((invalid.stats?.configurations ?? 0) < 500, JSON.stringify(invalid.stats));
    }
  });

  it('only identical ops are interchangeable: different inputs are still tried in every subset', () => {
    // adds of 1 and 2 pending; the read of 3 needs one of each, the read of 7 needs both 2s.
    const ops = (last: number) =>
      history([
        call(0, 'add', 1),
        call(1, 'add', 2),
        call(2, 'add', 1),
        call(3, 'add', 2),
        info(0, 'add', 1),
        info(1, 'add', 2),
        info(2, 'add', 1),
        info(3, 'add', 2),
        call(9, 'read'),
        ok(9, 'read', last),
      ]);
    for (const strategies of [['definite-first'], ['time-order']] as const) {
      for (const [last, expected] of [
        [3, true],
        [5, true],
        [6, true],
        [7, false],
        [4, true],
      ] as const) {
        const result = checkLinearizabilitySync(ops(last), models.counter, { strategies });
        assert.equal(result.valid, expected, `${strategies[0]} read ${last}`);
      }
    }
  });

  it('the portfolio says which strategy decided, the same way every time and however it is sliced', async () => {
    const chaos = chaosHistory(new Random(5, 'strategies'), { model: 'counter', ops: 1500, windows: 2 });
    const falsified = falsifyRead(chaos, 'counter', 10);
    for (const ops of [chaos.ops, falsified]) {
      const pure = checkLinearizabilitySync(ops, models.counter);
      assert.notEqual(pure.valid, 'unknown');
      const decided = Object.keys(pure.stats ?? {}).filter((key) => key.startsWith('decidedBy'));
      assert.equal(decided.length, 1, JSON.stringify(pure.stats));
      for (const parallel of [false, true]) {
        const driven = await checkLinearizability(ops, models.counter, { parallel });
        assert.equal(driven.valid, pure.valid);
        assert.deepEqual(driven.counterexample, pure.counterexample);
        assert.equal(driven.stats?.[decided[0] as string], 1);
      }
      // Slices of any length: pause after every round.
      const search = new PartitionSearch(
        pairOperations(ops).filter((op) => op.type !== 'fail' && !(op.type === 'info' && op.f === 'read')),
        models.counter,
        {
          memoise: true,
          maxCacheEntries: 20_000_000,
          maxMemoryBytes: 192 * 2 ** 20,
          maxSteps: Number.POSITIVE_INFINITY,
        },
      );
      let outcome = search.runUntil(() => true);
      for (let round = 0; outcome === undefined && round < 1_000_000; round++)
        outcome = search.runUntil(() => true);
      assert.equal(outcome?.status, pure.valid ? 'linearizable' : 'not-linearizable');
      assert.equal(
        `decidedBy${outcome?.strategy === 'time-order' ? 'TimeOrder' : 'DefiniteFirst'}`,
        decided[0],
      );
    }
  });

  it('a memo entry costs tens of bytes at 10,000 ops, not n/8', () => {
    const chaos = chaosHistory(new Random(1, 'x'), { model: 'counter', ops: 10_000, windows: 1 });
    // The plain counter (no `forOps` pruning), so the memo holds enough entries to measure.
    const { forOps: _pruning, ...plain } = models.counter;
    const result = checkLinearizabilitySync(chaos.ops, plain, { strategies: ['definite-first'] });
    assert.equal(result.valid, true);
    const { maxMemoryBytes = 0, maxCacheEntries = 1 } = result.stats ?? {};
    // A bitset of 10,000 ops is 1,250 bytes; the budget counts chunks and index slack too.
    assert.ok(maxMemoryBytes / maxCacheEntries < 125, `${maxMemoryBytes / maxCacheEntries} bytes per entry`);
  });

  it('strategies must be distinct known names', () => {
    for (const strategies of [[], ['sideways'], ['time-order', 'time-order']]) {
      assert.throws(
        () => checkLinearizabilitySync(pendingAdds(2, 3), models.counter, { strategies } as never),
        /strategies: expected distinct strategies among "definite-first", "time-order"/,
      );
    }
  });
});
