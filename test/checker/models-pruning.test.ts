import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizability } from '../../src/check-driver/index.js';
import { checkBruteForce } from '../../src/checker/brute-force.js';
import {
  checkLinearizabilitySync,
  type LinearizabilityCounterexample,
} from '../../src/checker/linearizability.js';
import type { Model } from '../../src/checker/model.js';
import { models } from '../../src/checker/models/index.js';
import { Random } from '../../src/core/random.js';
import { type Operation, pairOperations } from '../../src/history/index.js';
import type { Op } from '../../src/history/op.js';
import { fifoQueueSpec, kvAppendSpec, simulate } from '../support/checker-simulate.js';

/** `[process, type, f, value, time]`: a hand-written event with its own time (so calls can overlap). */
type Event = readonly [number, Op['type'], string, unknown, number];
const events = (list: readonly Event[]): Op[] =>
  list.map(([process, type, f, value, time], index) => ({ process, type, f, value, time, index }));

/** The model as the search would use it: specialised to the ops it steps (no `fail`s). */
function specialised<S>(model: Model<S>, ops: readonly Op[]): Model<S> {
  const forOps = model.forOps as NonNullable<Model<S>['forOps']>;
  return forOps.call(
    model,
    pairOperations(ops).filter((op: Operation) => op.type !== 'fail'),
  );
}

/** The model without its `forOps`, as the search used it before (the plain model, for comparison). */
function plain<S>(model: Model<S>): Model<S> {
  const { forOps: _, ...rest } = model;
  return rest;
}

describe('kv-append against Porcupine’s key-value semantics, by hand', () => {
  // Porcupine's kv model: get returns the key's string ("" when missing), put sets it, append adds to
  // its end. Clients 0–3; times in ms. Key "x":
  //   c0 put "a" [0, 10]   c1 append "b" [5, 20]   c2 get → "ab" [12, 14]   c3 get → "a" [1, 6]
  // c3 may read before the append (after the put, which may take effect at 1–6); c2 reads at 12–14,
  // after the put returned, so the append must precede it: put, (c3 get), append, c2 get. Key "y":
  //   c0 append "1" [30, 31] then c1 get → "1" [32, 33], c2 append "2" [34, 40] and c3 get → "12" [35, 36].
  const base: Event[] = [
    [0, 'invoke', 'put', ['x', 'a'], 0],
    [3, 'invoke', 'get', ['x', null], 1],
    [1, 'invoke', 'append', ['x', 'b'], 5],
    [3, 'ok', 'get', ['x', 'a'], 6],
    [0, 'ok', 'put', ['x', 'a'], 10],
    [2, 'invoke', 'get', ['x', null], 12],
    [2, 'ok', 'get', ['x', 'ab'], 14],
    [1, 'ok', 'append', ['x', 'b'], 20],
    [0, 'invoke', 'append', ['y', '1'], 30],
    [0, 'ok', 'append', ['y', '1'], 31],
    [1, 'invoke', 'get', ['y', null], 32],
    [1, 'ok', 'get', ['y', '1'], 33],
    [2, 'invoke', 'append', ['y', '2'], 34],
    [3, 'invoke', 'get', ['y', null], 35],
    [3, 'ok', 'get', ['y', '12'], 36],
    [2, 'ok', 'append', ['y', '2'], 40],
  ];
  const model = models['kv-append'];

  it('the history is linearizable (and brute force agrees)', async () => {
    const ops = events(base);
    assert.equal((await checkLinearizability(ops, model)).valid, true);
    assert.equal(checkBruteForce(ops, model).valid, true);
  });

  it('c3 reading "b" (the append without the put before it) is not', async () => {
    // "b" would need the append without the put before it, but c2 (after the put returned) read "ab".
    const ops = events(base.map((e) => (e[4] === 6 ? [3, 'ok', 'get', ['x', 'b'], 6] : e)));
    const result = await checkLinearizability(ops, model);
    assert.equal(result.valid, false);
    assert.equal(checkBruteForce(ops, model).valid, false);
    assert.equal((result.counterexample as LinearizabilityCounterexample).partition, '"x"');
    assert.match(result.anomalies[0]?.message ?? '', /kv-append in state \{"x"="a"\}/);
  });

  it('a get of "21" on y (the appends in the other order) is not, and names partition "y"', async () => {
    const ops = events(base.map((e) => (e[4] === 36 ? [3, 'ok', 'get', ['y', '21'], 36] : e)));
    const result = await checkLinearizability(ops, model);
    assert.equal(result.valid, false);
    assert.equal((result.counterexample as LinearizabilityCounterexample).partition, '"y"');
    // "12" fits no further, and the doomed rule already knows at "1" (the search may stop at either).
    const { stateAtFailure } = result.counterexample as LinearizabilityCounterexample;
    assert.ok(['{"y"="1"}', '{"y"="12"}'].includes(stateAtFailure), stateAtFailure);
  });
});

describe('kv-append: doomed gets (forOps)', () => {
  // Ten appends with unknown outcome, then a get whose text no order of them (and no put) produces:
  // the plain model tries every order of every subset; the specialised one sees after any one append
  // that the value no longer starts the text.
  const lines: Event[] = [];
  for (let c = 0; c < 10; c++) lines.push([c, 'invoke', 'append', ['k', `${c}`], c]);
  for (let c = 0; c < 10; c++) lines.push([c, 'info', 'append', ['k', `${c}`], 20 + c]);
  lines.push([10, 'invoke', 'get', ['k', null], 40], [10, 'ok', 'get', ['k', '9x'], 41]);
  const ops = events(lines);

  it('decides at once what the plain model cannot within 200,000 configurations', () => {
    const unpruned = checkLinearizabilitySync(ops, plain(models['kv-append']), { maxSteps: 200_000 });
    assert.equal(unpruned.valid, 'unknown');
    const pruned = checkLinearizabilitySync(ops, specialised(models['kv-append'], ops), {
      maxSteps: 200_000,
    });
    assert.equal(pruned.valid, false);
    assert.ok((pruned.stats?.configurations as number) < 100, JSON.stringify(pruned.stats));
  });

  it('a put whose value starts the text keeps such a get possible', () => {
    const withPut = events([
      ...lines.slice(0, -2),
      [11, 'invoke', 'put', ['k', '9'], 30],
      [11, 'info', 'put', ['k', '9'], 31],
      [10, 'invoke', 'get', ['k', null], 40],
      [10, 'ok', 'get', ['k', '98'], 41],
    ]);
    const pruned = checkLinearizabilitySync(withPut, specialised(models['kv-append'], withPut), {
      maxSteps: 200_000,
    });
    assert.equal(pruned.valid, true);
  });

  it('simulated histories with many info ops are decided at once', () => {
    // 80 ops over 2 keys, 30 % info, 15 % of writes puts: the plain model leaves 5 of these 20 `unknown`
    // at 200,000 configurations (7 with no puts); unseen info appends and puts are what it spends them on.
    for (let seed = 0; seed < 20; seed++) {
      const sim = simulate(kvAppendSpec(2), new Random(seed, 'kv-append'), {
        processes: 5,
        ops: 80,
        infoProbability: 0.3,
      });
      const result = checkLinearizabilitySync(sim, specialised(models['kv-append'], sim), {
        maxSteps: 200_000,
      });
      assert.equal(result.valid, true, `seed ${seed}: ${result.reason ?? ''}`);
    }
  });
});

describe('fifo-queue: the pruning rules (forOps) decide info-heavy histories', () => {
  // 60 ops, 5 clients, 30 % of completions lost (`info`), half of them after the op took effect. The
  // plain model leaves 39 of 100 such histories `unknown` at 2 million configurations.
  const queue = models['fifo-queue'];
  const histories = Array.from({ length: 20 }, (_, seed) =>
    simulate(fifoQueueSpec(), new Random(seed, 'q'), {
      processes: 5,
      ops: 60,
      infoProbability: 0.3,
    }),
  );

  it('every valid one is decided true within 2 million configurations', () => {
    for (const [seed, ops] of histories.entries()) {
      const result = checkLinearizabilitySync(ops, specialised(queue, ops), { maxSteps: 2_000_000 });
      assert.equal(result.valid, true, `seed ${seed}: ${result.reason ?? ''}`);
    }
  });

  it('each with one dequeue returning a value another dequeue returned, or no one enqueued, is false', () => {
    for (const [seed, ops] of histories.entries()) {
      const dequeues = ops.filter((op) => op.type === 'ok' && op.f === 'dequeue' && op.value !== null);
      if (dequeues.length < 2) continue;
      const [victim, other] = [dequeues[dequeues.length - 1] as Op, dequeues[0] as Op];
      for (const value of [other.value, 99_999]) {
        const corrupted = ops.map((op) => (op === victim ? { ...op, value } : op));
        const result = checkLinearizabilitySync(corrupted, specialised(queue, corrupted), {
          maxSteps: 2_000_000,
        });
        assert.equal(result.valid, false, `seed ${seed}, value ${String(value)}: ${result.reason ?? ''}`);
      }
    }
  });

  it('an info enqueue nobody dequeues is taken as never having happened', () => {
    // enqueue 1 (info), enqueue 2, dequeue → 2, dequeue → null: valid only if the lost enqueue never
    // took effect (rule 1 says so at once; the verdict must stay true).
    const ops = events([
      [0, 'invoke', 'enqueue', 1, 0],
      [0, 'info', 'enqueue', 1, 1],
      [1, 'invoke', 'enqueue', 2, 2],
      [1, 'ok', 'enqueue', 2, 3],
      [2, 'invoke', 'dequeue', null, 4],
      [2, 'ok', 'dequeue', 2, 5],
      [3, 'invoke', 'dequeue', null, 6],
      [3, 'ok', 'dequeue', null, 7],
    ]);
    assert.equal(checkLinearizabilitySync(ops, specialised(queue, ops)).valid, true);
    assert.equal(checkBruteForce(ops, queue).valid, true);
  });
});
