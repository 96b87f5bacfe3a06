import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkLinearizability } from '../../src/check-driver/index.js';
import { bruteForceMaxOps, checkBruteForce } from '../../src/checker/brute-force.js';
import { checkLinearizabilitySync } from '../../src/checker/linearizability.js';
import type { Model } from '../../src/checker/model.js';
import { models } from '../../src/checker/models/index.js';
import { searchStrategies } from '../../src/checker/wgl-search.js';
import { Random } from '../../src/core/random.js';
import { type Operation, pairOperations } from '../../src/history/index.js';
import type { Op } from '../../src/history/op.js';
import { liftArbitrary, liftHistory } from './value-arbitraries.js';

/** Random invocations and completions per model over tiny value domains, so many are (in)valid by a hair. */
const generators: Record<
  string,
  { invoke(r: Random): [string, unknown]; output(r: Random, f: string, input: unknown): unknown }
> = {
  register: {
    invoke: (r) => (r.chance(0.5) ? ['read', null] : ['write', r.int(3)]),
    output: (r, f, input) => (f === 'read' ? (r.chance(0.2) ? null : r.int(3)) : input),
  },
  'cas-register': {
    invoke: (r) =>
      r.pick<[string, unknown]>([
        ['read', null],
        ['write', r.int(3)],
        ['cas', [r.int(3), r.int(3)]],
      ]),
    output: (r, f, input) => (f === 'read' ? (r.chance(0.2) ? null : r.int(3)) : input),
  },
  kv: {
    invoke: (r) =>
      r.pick<[string, unknown]>([
        ['read', [r.int(2), null]],
        ['write', [r.int(2), r.int(3)]],
        ['cas', [r.int(2), [r.int(3), r.int(3)]]],
      ]),
    output: (r, f, input) =>
      f === 'read' ? [(input as unknown[])[0], r.chance(0.2) ? null : r.int(3)] : input,
  },
  'list-append': {
    invoke: (r) => (r.chance(0.5) ? ['read', [r.int(2), null]] : ['append', [r.int(2), r.int(4)]]),
    output: (r, f, input) =>
      f === 'read' ? [(input as unknown[])[0], Array.from({ length: r.int(3) }, () => r.int(4))] : input,
  },
  'kv-append': {
    invoke: (r) =>
      r.pick<[string, unknown]>([
        ['get', [r.int(2), null]],
        ['put', [r.int(2), r.pick(['', 'a', 'ab'])]],
        ['append', [r.int(2), r.pick(['a', 'b'])]],
      ]),
    output: (r, f, input) =>
      f === 'get'
        ? [(input as unknown[])[0], r.pick([null, '', 'a', 'b', 'ab', 'ba', 'aa', 'aab', 'abb'])]
        : input,
  },
  set: {
    invoke: (r) => (r.chance(0.5) ? ['read', null] : ['add', r.int(3)]),
    output: (r, f, input) => (f === 'read' ? [0, 1, 2].filter(() => r.chance(0.5)) : input),
  },
  counter: {
    invoke: (r) => (r.chance(0.5) ? ['read', null] : ['add', 1 + r.int(2)]),
    output: (r, f, input) => (f === 'read' ? r.int(5) : input),
  },
  'fifo-queue': {
    invoke: (r) => (r.chance(0.5) ? ['dequeue', null] : ['enqueue', r.int(3)]),
    output: (r, f, input) => (f === 'dequeue' ? (r.chance(0.25) ? null : r.int(3)) : input),
  },
  mutex: {
    invoke: (r) => (r.chance(0.5) ? ['acquire', null] : ['release', null]),
    output: () => null,
  },
};

/** A random history of at most `events` events over `processes` clients (some calls left open). */
function randomHistory(
  name: string,
  seed: number,
  events: number,
  processes: number,
  infoProbability = 0.12,
): Op[] {
  const generator = generators[name] as (typeof generators)[string];
  const r = new Random(seed, name);
  const open = new Map<number, [string, unknown]>();
  const ops: Op[] = [];
  const push = (process: number, type: Op['type'], f: string, value: unknown) =>
    ops.push({ process, type, f, value, time: ops.length, index: ops.length });
  let next = processes;
  const live = Array.from({ length: processes }, (_, k) => k);
  for (let e = 0; e < events; e++) {
    const slot = r.int(processes);
    const process = live[slot] as number;
    const pending = open.get(process);
    if (pending === undefined) {
      const [f, input] = generator.invoke(r);
      open.set(process, [f, input]);
      push(process, 'invoke', f, input);
      continue;
    }
    open.delete(process);
    const [f, input] = pending;
    const roll = r.next();
    if (roll < infoProbability) {
      push(process, 'info', f, input);
      live[slot] = next++; // Jepsen: a crashed client comes back as a new process
    } else if (roll < infoProbability + 0.08) push(process, 'fail', f, input);
    else push(process, 'ok', f, generator.output(r, f, input));
  }
  return ops;
}

describe('differential: WGL search against brute force', () => {
  for (const name of Object.keys(generators)) {
    it(`${name}: 500 small random histories agree`, async () => {
      const model = models[name as keyof typeof models] as Model<unknown>;
      const verdicts = { true: 0, false: 0 };
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.integer({ min: 1, max: 16 }),
          fc.integer({ min: 1, max: 4 }),
          async (seed, events, processes) => {
            const ops = randomHistory(name, seed, events, processes);
            const expected = checkBruteForce(ops, model).valid;
            const fast = await checkLinearizability(ops, model, { parallel: false });
            const unmemoised = await checkLinearizability(ops, model, { parallel: false, memoise: false });
            const whole = await checkLinearizability(ops, model, { parallel: false, partition: false });
            assert.equal(fast.valid, expected, `memoised, seed ${seed}`);
            assert.equal(unmemoised.valid, expected, `unmemoised, seed ${seed}`);
            assert.equal(whole.valid, expected, `unpartitioned, seed ${seed}`);
            verdicts[String(expected) as 'true' | 'false']++;
          },
        ),
        { numRuns: 500, seed: 7 },
      );
      // The generator must exercise both verdicts for the comparison to mean anything.
      assert.ok(verdicts.true > 50 && verdicts.false > 50, JSON.stringify(verdicts));
    });

    // Counter values are numbers it adds; mutex values are ignored.
    if (name === 'counter' || name === 'mutex') continue;
    it(`${name}: lifted to Map, Set, nested and bigint values, the verdicts of numbers stay`, async () => {
      const model = models[name as keyof typeof models] as Model<unknown>;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 1, max: 4 }),
          liftArbitrary,
          async (seed, events, processes, lift) => {
            const ops = randomHistory(name, seed, events, processes);
            const expected = checkBruteForce(ops, model).valid;
            const lifted = liftHistory(ops, lift, { setReadF: name === 'set' ? 'read' : undefined });
            assert.equal(checkBruteForce(lifted, model).valid, expected, `brute force, seed ${seed}`);
            const fast = await checkLinearizability(lifted, model, { parallel: false });
            assert.equal(fast.valid, expected, `memoised, seed ${seed}`);
          },
        ),
        { numRuns: 150, seed: 8 },
      );
    });
  }

  // Models with `forOps` prune with facts about the partition's ops: the specialised model must give the
  // plain model's verdicts, also when most ops have an unknown outcome (what its rules are about).
  for (const name of Object.keys(generators)) {
    const model = models[name as keyof typeof models] as Model<unknown>;
    const forOps = model.forOps;
    if (forOps === undefined) continue;
    it(`${name}: specialised to the history's ops (forOps), 1000 info-heavy histories agree`, async () => {
      const verdicts = { true: 0, false: 0 };
      await fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.integer({ min: 1, max: 26 }),
          fc.integer({ min: 1, max: 4 }),
          fc.double({ min: 0, max: 0.5, noNaN: true }),
          (seed, events, processes, infoProbability) => {
            const ops = randomHistory(name, seed, events, processes, infoProbability);
            fc.pre(pairOperations(ops).filter((op) => op.type !== 'fail').length <= bruteForceMaxOps);
            const expected = checkBruteForce(ops, model).valid;
            const specialised = forOps.call(model, searchOps(ops, model));
            const whole = checkLinearizabilitySync(ops, specialised, { partition: false });
            const partitioned = checkLinearizabilitySync(ops, specialised);
            assert.equal(whole.valid, expected, `unpartitioned, seed ${seed}`);
            assert.equal(partitioned.valid, expected, `partitioned, seed ${seed}`);
            verdicts[String(expected) as 'true' | 'false']++;
          },
        ),
        { numRuns: 1000, seed: 9 },
      );
      assert.ok(verdicts.true > 50 && verdicts.false > 50, JSON.stringify(verdicts));
    });
  }
});

/**
 * A history whose writes all write distinct values, what chaos workloads generate: many `info` writes,
 * open calls, ties in time, reads of the initial value, of values written later (or never: corrupted).
 * `keys` > 0 makes it a kv history over that many keys.
 */
function distinctHistory(seed: number, events: number, processes: number, keys: number): Op[] {
  const r = new Random(seed, 'distinct');
  const open = new Map<number, [string, unknown]>();
  const ops: Op[] = [];
  let time = 0;
  const push = (process: number, type: Op['type'], f: string, value: unknown) => {
    if (!r.chance(0.3)) time++; // ties: events at the same time are ordered by index
    ops.push({ process, type, f, value, time, index: ops.length });
  };
  const written: number[] = [];
  let serial = 1;
  const key = (): number => r.int(keys);
  const wrap = (k: number, v: unknown): unknown => (keys === 0 ? v : [k, v]);
  let next = processes;
  const live = Array.from({ length: processes }, (_, k) => k);
  for (let e = 0; e < events; e++) {
    const slot = r.int(processes);
    const process = live[slot] as number;
    const pending = open.get(process);
    if (pending === undefined) {
      const k = key();
      const [f, input]: [string, unknown] = r.chance(0.5)
        ? ['write', wrap(k, serial++)]
        : ['read', wrap(k, null)];
      if (f === 'write') written.push(serial - 1);
      open.set(process, [f, input]);
      push(process, 'invoke', f, input);
      continue;
    }
    open.delete(process);
    const [f, input] = pending;
    const roll = r.next();
    if (roll < 0.25) {
      push(process, 'info', f, input);
      live[slot] = next++;
    } else if (roll < 0.3) push(process, 'fail', f, input);
    else if (f === 'write') push(process, 'ok', f, input);
    else {
      const pick = r.next();
      const value =
        pick < 0.2
          ? null // the initial value
          : pick < 0.3
            ? serial + r.int(2) // written later, or never
            : pick < 0.35
              ? 99 // corrupted
              : written.length === 0
                ? null
                : r.pick(written);
      const k = keys === 0 ? 0 : ((input as unknown[])[0] as number);
      push(process, 'ok', f, wrap(k, value));
    }
  }
  return ops;
}

describe('differential: the distinct-values algorithm against brute force and the search', () => {
  const cases = [
    { name: 'register', keys: 0 },
    { name: 'cas-register', keys: 0 },
    { name: 'kv', keys: 3 },
  ] as const;
  for (const { name, keys } of cases) {
    it(`${name}${keys > 0 ? ` over ${keys} keys` : ''}: 1500 histories with distinct writes agree`, () => {
      const model = models[name] as Model<unknown>;
      const verdicts = { true: 0, false: 0 };
      let readMapped = 0;
      for (let seed = 0; seed < 1500; seed++) {
        const ops = distinctHistory(seed, 1 + (seed % 22), 2 + (seed % 3), keys);
        const expected = checkBruteForce(ops, model).valid;
        const fast = checkLinearizabilitySync(ops, model);
        const search = checkLinearizabilitySync(ops, model, { readMapped: false });
        assert.equal(fast.valid, expected, `read-mapped, seed ${seed}: ${JSON.stringify(ops)}`);
        assert.equal(search.valid, expected, `search, seed ${seed}`);
        // Distinct writes: the search is never needed.
        assert.equal(fast.stats?.partitionsSearched, 0, `seed ${seed}: ${fast.decidedBy}`);
        readMapped += fast.stats?.partitionsReadMapped ?? 0;
        verdicts[String(expected) as 'true' | 'false']++;
      }
      // Both verdicts, often: the comparison means something either way.
      assert.ok(verdicts.true > 400 && verdicts.false > 400, JSON.stringify(verdicts));
      assert.ok(readMapped >= 1500, `${readMapped} partitions decided by the distinct-values algorithm`);
    });
  }

  it('times that go backwards in history order (ranked by time, then index) agree too', () => {
    const model = models.register as Model<unknown>;
    const verdicts = { true: 0, false: 0 };
    for (let seed = 0; seed < 800; seed++) {
      const r = new Random(seed, 'jitter');
      const called = new Map<Op['process'], number>();
      // Jittered times, but a completion never before its own invocation.
      const ops = distinctHistory(seed, 1 + (seed % 22), 3, 0).map((op) => {
        let time = Math.max(0, op.time + r.int(5) - 2);
        if (op.type === 'invoke') called.set(op.process, time);
        else time = Math.max(time, called.get(op.process) ?? 0);
        return { ...op, time };
      });
      const expected = checkBruteForce(ops, model).valid;
      assert.equal(checkLinearizabilitySync(ops, model).valid, expected, `seed ${seed}`);
      verdicts[String(expected) as 'true' | 'false']++;
    }
    assert.ok(verdicts.true > 200 && verdicts.false > 200, JSON.stringify(verdicts));
  });

  it('repeated values: the search decides, and the verdicts still agree with brute force', () => {
    const model = models.register as Model<unknown>;
    let searched = 0;
    for (let seed = 0; seed < 300; seed++) {
      const ops = randomHistory('register', seed, 1 + (seed % 16), 3);
      const expected = checkBruteForce(ops, model).valid;
      const result = checkLinearizabilitySync(ops, model);
      assert.equal(result.valid, expected, `seed ${seed}`);
      searched += result.stats?.partitionsSearched ?? 0;
    }
    assert.ok(searched > 50, `${searched} searched`);
  });
});
/** The ops a search steps: no `fail`s, no unknown-outcome reads (every partition's, a superset of one's). */
function searchOps(ops: readonly Op[], model: Model<unknown>): Operation[] {
  return pairOperations(ops).filter(
    (op) => op.type !== 'fail' && !(op.type === 'info' && model.readOnly?.(op) === true),
  );
}
describe('differential: every search strategy alone, and the portfolio, against brute force', () => {
  // Many info ops (40% of completions), where the strategies differ and the symmetry reduction acts.
  const strategies = [...searchStrategies.map((strategy) => [strategy]), [...searchStrategies].reverse()];
  for (const name of Object.keys(generators)) {
    it(`${name}: 400 small histories rich in info ops agree`, () => {
      const model = models[name as keyof typeof models] as Model<unknown>;
      const verdicts = { true: 0, false: 0 };
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.integer({ min: 1, max: 18 }),
          fc.integer({ min: 1, max: 5 }),
          (seed, events, processes) => {
            const ops = randomHistory(name, seed, events, processes, 0.4);
            const expected = checkBruteForce(ops, model).valid;
            for (const chosen of strategies) {
              const result = checkLinearizabilitySync(ops, model, { strategies: chosen });
              assert.equal(result.valid, expected, `${chosen.join('+')}, seed ${seed}`);
            }
            verdicts[String(expected) as 'true' | 'false']++;
          },
        ),
        { numRuns: 400, seed: 13 },
      );
      assert.ok(verdicts.true > 40 && verdicts.false > 40, JSON.stringify(verdicts));
    });
  }
});
