/**
 * Structured values for the checkers' property tests: a history over small numbers is lifted to one
 * over Maps, Sets, nested arrays and objects and bigints, through an injective map — so its verdict
 * must not change. Each occurrence of a value is built afresh with its Sets, Maps and object members
 * in a random order, so a checker that compares by order or by reference (rather than by `valueKey`)
 * gets a different verdict.
 */
import fc from 'fast-check';
import { Random } from '../../src/core/random.js';
import type { Op } from '../../src/history/op.js';

/** Any history value: leaves (with bigints) inside arrays, plain objects, Sets and Maps, a few levels deep. */
export const valueArbitrary: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.oneof(
      fc.integer({ min: -5, max: 5 }),
      fc.string({ maxLength: 3 }),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
      fc.boolean(),
      fc.constant(null),
    ),
    fc.array(tie('value'), { maxLength: 3 }),
    fc
      .array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'long key'), tie('value')), { maxLength: 3 })
      .map((entries) => Object.fromEntries(entries)),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => new Set(items)),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
  ),
})).value;

/** How to lift a number-valued history: a shape around each number, a shared payload, a shuffle seed. */
export interface Lift {
  readonly shape: number;
  readonly payload: unknown;
  readonly seed: number;
  /** Make array reads of the `set` model Sets (as EDN `#{…}` reads are). */
  readonly setReads: boolean;
}

export const liftArbitrary: fc.Arbitrary<Lift> = fc.record({
  shape: fc.nat(4),
  payload: valueArbitrary,
  seed: fc.nat(),
  setReads: fc.boolean(),
});

/** Injective in `n` (every shape holds `n` itself), never null. */
function structured(n: number, lift: Lift): unknown {
  const { payload } = lift;
  switch (lift.shape) {
    case 0:
      return new Map<unknown, unknown>([
        [[n, 'k'], new Set([n, payload])],
        ['payload', payload],
      ]);
    case 1:
      return new Set<unknown>([[n], { big: BigInt(n) * 10n ** 20n, payload }]);
    case 2:
      return { x: [n, { y: new Set([String(n)]) }], z: BigInt(n), payload };
    case 3:
      return [[[n]], payload];
    default:
      return BigInt(n) - 2n ** 64n; // beyond ±2^53: bigints that differ from every number
  }
}

/** A fresh copy of `value` with its Sets, Maps and object members in a random order. */
export function reordered(value: unknown, random: Random): unknown {
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  };
  if (Array.isArray(value)) return value.map((item) => reordered(item, random));
  if (value instanceof Set) return new Set(shuffle([...value].map((item) => reordered(item, random))));
  if (value instanceof Map)
    return new Map(shuffle([...value].map(([k, v]) => [reordered(k, random), reordered(v, random)])));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(shuffle(Object.entries(value).map(([k, v]) => [k, reordered(v, random)])));
  return value;
}

/**
 * The history with every number in its values (not in tuples' structure: arrays stay arrays) replaced
 * by its structured value, built afresh per occurrence; `null` stays `null` (it means "empty" or "none").
 */
export function liftHistory(
  ops: readonly Op[],
  lift: Lift,
  options: { setReadF?: string | undefined } = {},
): Op[] {
  const random = new Random(lift.seed, 'lift');
  const leaves = (value: unknown): unknown =>
    typeof value === 'number'
      ? reordered(structured(value, lift), random)
      : Array.isArray(value)
        ? value.map(leaves)
        : value;
  return ops.map((op) => {
    let value = leaves(op.value);
    if (lift.setReads && op.f === options.setReadF && op.type === 'ok' && Array.isArray(value))
      value = new Set(value);
    return { ...op, value };
  });
}
