/**
 * The one canonical value identity of history values: the EDN reader (duplicate set elements and map
 * keys), the linearizability models (`valueKey`, `inputKey`, states), the safety checkers (set elements,
 * queue items, ids, `deepEqual`) and explanations all use it. Pure: no I/O.
 */
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { EdnSymbol } from './edn-types.js';
import { maxNestingDepth } from './op.js';

/**
 * A canonical, injective text for a value: two values give the same key iff they are the same value
 * under these rules (as JSON would write them, plus what JSON cannot hold):
 *
 * - `undefined` is `null` (as a value, in arrays, Maps and Sets); an object member set to `undefined` is
 *   a missing member, so `{a: undefined}` is `{}` — what a history file round trip makes of them.
 * - Object members in any order; `1` and `"1"` differ; -0 is 0; NaN is NaN.
 * - A bigint (an integer beyond ±(2^53 − 1) read exactly) differs from every number: `1n` is not `1`.
 * - Maps and Sets compare by content, in any order, and differ from objects and arrays.
 * - A `Date` is its time (`Date(ms)`), not an empty object; an EDN symbol differs from a string.
 * - A value nested deeper than `maxNestingDepth` levels, a cyclic value, a function and a symbol have no
 *   identity: FL_ERR_INVALID_ARGUMENT.
 */
export function valueKey(value: unknown): string {
  return keyOf(value, undefined);
}

/**
 * `seen` holds the objects enclosing `value` (its size is the depth), to tell a cycle from sharing; it is
 * made when the first object is met, so a primitive's key allocates none.
 */
function keyOf(value: unknown, enclosing: Set<object> | undefined): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'symbol':
    case 'function':
      throw new FaultlineError(
        codes.invalidArgument,
        `a ${typeof value} has no value identity: expected data (JSON or EDN values, Maps, Sets, Dates)`,
        { details: { expected: 'data, not a function or symbol' } },
      );
    default:
      break;
  }
  if (value === null) return 'null';
  const object = value as object;
  const seen = enclosing ?? new Set<object>();
  if (seen.has(object)) {
    throw new FaultlineError(codes.invalidArgument, 'cyclic value: a value must not contain itself', {
      details: { expected: 'a value without cycles' },
    });
  }
  if (seen.size >= maxNestingDepth) {
    throw new FaultlineError(codes.invalidArgument, `value nested deeper than ${maxNestingDepth} levels`, {
      details: { expected: `at most ${maxNestingDepth} nested arrays, objects, Maps and Sets` },
    });
  }
  if (object instanceof Date) return `Date(${object.getTime()})`;
  if (object instanceof EdnSymbol) return `Symbol(${JSON.stringify(object.name)})`;
  seen.add(object);
  try {
    if (Array.isArray(object)) return `[${object.map((item) => keyOf(item, seen)).join(',')}]`;
    if (object instanceof Map) {
      const entries = [...object].map(([k, v]) => `${keyOf(k, seen)}=>${keyOf(v, seen)}`).sort();
      return `Map{${entries.join(',')}}`;
    }
    if (object instanceof Set) {
      return `Set{${[...object]
        .map((item) => keyOf(item, seen))
        .sort()
        .join(',')}}`;
    }
    const record = object as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${keyOf(record[k], seen)}`).join(',')}}`;
  } finally {
    seen.delete(object);
  }
}

/** Equality under `valueKey`: the same value by the same rules (`deepEqual(x, y)` iff their keys are equal). */
export function deepEqual(a: unknown, b: unknown): boolean {
  return a === b || valueKey(a) === valueKey(b);
}
