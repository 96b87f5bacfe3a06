import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkLinearizability } from '../../src/check-driver/index.js';
import type { Model } from '../../src/checker/model.js';
import { models } from '../../src/checker/models/index.js';
import { Random } from '../../src/core/random.js';
import type { Op } from '../../src/history/op.js';
import {
  casRegisterSpec,
  counterSpec,
  fifoQueueSpec,
  kvAppendSpec,
  kvSpec,
  listAppendSpec,
  mutexSpec,
  registerSpec,
  type SimSpec,
  setSpec,
  simulate,
} from '../support/checker-simulate.js';
import { liftArbitrary, liftHistory } from './value-arbitraries.js';

/** A value no simulated client ever writes, adds, appends or enqueues. */
const never = 99_999;

interface Subject {
  readonly model: Model<unknown>;
  readonly spec: SimSpec<never>;
  /** Which completions are reads to corrupt, and how (undefined: the model has no reads). */
  readonly corrupt?: (op: Op) => Op | undefined;
  /** Values must stay numbers (the counter adds them): no structured variant. */
  readonly numbersOnly?: boolean;
  /** Smaller histories for models whose unknown-outcome ops make any WGL search expensive. */
  readonly maxOps?: number;
  readonly maxInfoProbability?: number;
}

const readOf = (f: string, change: (value: unknown) => unknown) => (op: Op) =>
  op.type === 'ok' && op.f === f ? { ...op, value: change(op.value) } : undefined;

const subjects: Record<string, Subject> = {
  register: {
    model: models.register,
    spec: registerSpec() as SimSpec<never>,
    corrupt: readOf('read', () => never),
  },
  'cas-register': {
    model: models['cas-register'],
    spec: casRegisterSpec() as SimSpec<never>,
    corrupt: readOf('read', () => never),
  },
  kv: {
    model: models.kv,
    spec: kvSpec() as SimSpec<never>,
    corrupt: readOf('read', (value) => [(value as unknown[])[0], never]),
  },
  'list-append': {
    model: models['list-append'],
    spec: listAppendSpec() as SimSpec<never>,
    corrupt: readOf('read', (value) => {
      const [key, list] = value as [unknown, unknown[]];
      return [key, [...list, never]];
    }),
  },
  // Puts make every get ambiguous again (the value may have been reset), so info-heavy histories are
  // expensive for the plain model: kept smaller, as for the queue.
  'kv-append': {
    model: models['kv-append'],
    spec: kvAppendSpec() as SimSpec<never>,
    corrupt: readOf('get', (value) => [(value as unknown[])[0], 'never.']),
    maxOps: 30,
    maxInfoProbability: 0.1,
  },
  set: {
    model: models.set,
    spec: setSpec() as SimSpec<never>,
    corrupt: readOf('read', (value) => [...(value as unknown[]), never]),
  },
  counter: {
    model: models.counter,
    spec: counterSpec() as SimSpec<never>,
    corrupt: readOf('read', (v) => (v as number) + 1000),
    numbersOnly: true,
  },
  // A queue with many `info` dequeues/enqueues branches at every step (what did the lost op take?):
  // at 60 ops and 30% info the search often runs out of budget, so keep these histories smaller.
  'fifo-queue': {
    model: models['fifo-queue'],
    spec: fifoQueueSpec() as SimSpec<never>,
    corrupt: readOf('dequeue', () => never),
    maxOps: 30,
    maxInfoProbability: 0.1,
  },
  mutex: { model: models.mutex, spec: mutexSpec() as SimSpec<never> },
};

const shapeOf = (subject: Subject) =>
  fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    processes: fc.integer({ min: 1, max: 5 }),
    ops: fc.integer({ min: 1, max: subject.maxOps ?? 60 }),
    infoProbability: fc.double({ min: 0, max: subject.maxInfoProbability ?? 0.3, noNaN: true }),
    leaveOpen: fc.integer({ min: 0, max: 2 }),
  });

for (const [name, subject] of Object.entries(subjects)) {
  describe(`property: ${name}`, () => {
    const shape = shapeOf(subject);
    it('histories of a real sequential object under random concurrency are linearizable', async () => {
      await fc.assert(
        fc.asyncProperty(shape, async ({ seed, ...options }) => {
          const ops = simulate(subject.spec, new Random(seed, name), options);
          const result = await checkLinearizability(ops, subject.model, {
            parallel: false,
            timeoutMs: 20_000,
          });
          assert.equal(result.valid, true, `${JSON.stringify(result.anomalies)} ${result.reason ?? ''}`);
        }),
        { numRuns: 120, seed: 42 },
      );
    });

    const corrupt = subject.corrupt;
    if (corrupt !== undefined) {
      it('the same histories with one read corrupted are not', async () => {
        await fc.assert(
          fc.asyncProperty(shape, fc.nat(), async ({ seed, ...options }, pick) => {
            const ops = simulate(subject.spec, new Random(seed, name), options);
            const candidates = ops.filter((op) => corrupt(op) !== undefined);
            fc.pre(candidates.length > 0);
            const victim = candidates[pick % candidates.length] as Op;
            const corrupted = ops.map((op) => (op === victim ? (corrupt(op) as Op) : op));
            const result = await checkLinearizability(corrupted, subject.model, {
              parallel: false,
              timeoutMs: 20_000,
            });
            assert.equal(result.valid, false, `corrupted op ${victim.index}`);
            assert.ok(result.counterexample !== undefined);
          }),
          { numRuns: 120, seed: 43 },
        );
      });
    }

    // The same histories over Maps, Sets, nested values and bigints, each occurrence built afresh in
    // another order: the verdict must not move (one value identity, by content).
    if (subject.numbersOnly !== true) {
      const small = shapeOf({ ...subject, maxOps: Math.min(subject.maxOps ?? 60, 30) });
      it('lifted to Map, Set, nested and bigint values, valid and corrupted verdicts stay', async () => {
        await fc.assert(
          fc.asyncProperty(small, liftArbitrary, fc.nat(), async ({ seed, ...options }, lift, pick) => {
            const ops = simulate(subject.spec, new Random(seed, name), options);
            const lifted = liftHistory(ops, lift, { setReadF: name === 'set' ? 'read' : undefined });
            const result = await checkLinearizability(lifted, subject.model, { parallel: false });
            assert.equal(result.valid, true, `${JSON.stringify(result.anomalies)} ${result.reason ?? ''}`);
            const candidates = corrupt === undefined ? [] : ops.filter((op) => corrupt(op) !== undefined);
            if (corrupt === undefined || candidates.length === 0) return;
            const victim = candidates[pick % candidates.length] as Op;
            const corrupted = ops.map((op) => (op === victim ? (corrupt(op) as Op) : op));
            const liftedCorrupted = liftHistory(corrupted, lift, {
              setReadF: name === 'set' ? 'read' : undefined,
            });
            const invalid = await checkLinearizability(liftedCorrupted, subject.model, { parallel: false });
            assert.equal(invalid.valid, false, `corrupted op ${victim.index}`);
          }),
          { numRuns: 25, seed: 44 },
        );
      });
    }
  });
}
