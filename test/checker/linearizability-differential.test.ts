import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkLinearizability } from '../../src/check-driver/index.js';
import { checkBruteForce } from '../../src/checker/brute-force.js';
import { checkLinearizabilitySync } from '../../src/checker/linearizability.js';
import type { Model } from '../../src/checker/model.js';
import { models } from '../../src/checker/models/index.js';
import { searchStrategies } from '../../src/checker/wgl-search.js';
import { Random } from '../../src/core/random.js';
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
});

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
