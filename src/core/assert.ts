import { codes } from './codes.js';
import { FaultlineError } from './errors.js';

/** Validation helpers that throw FL_ERR_INVALID_ARGUMENT naming the field and what is valid. */

export function invalid(field: string, message: string, expected?: string): FaultlineError {
  const details = expected === undefined ? { field } : { field, expected };
  return new FaultlineError(codes.invalidArgument, `${field}: ${message}`, { details });
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function requireNumber(
  value: unknown,
  field: string,
  options: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const { min, max, integer } = options;
  const range = `${integer ? 'an integer' : 'a number'}${min !== undefined ? ` >= ${min}` : ''}${
    max !== undefined ? `${min !== undefined ? ' and' : ''} <= ${max}` : ''
  }`;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(field, `expected ${range}, got ${describe(value)}`, range);
  }
  if (
    (integer && !Number.isInteger(value)) ||
    (min !== undefined && value < min) ||
    (max !== undefined && value > max)
  ) {
    throw invalid(field, `expected ${range}, got ${value}`, range);
  }
  return value;
}

export function requireString(value: unknown, field: string, options: { nonEmpty?: boolean } = {}): string {
  if (typeof value !== 'string')
    throw invalid(field, `expected a string, got ${describe(value)}`, 'a string');
  if (options.nonEmpty && value.length === 0) throw invalid(field, 'must not be empty', 'a non-empty string');
  return value;
}

/** A name that is one segment of an API URL path: non-empty, no "/", and not "." or ".." (URLs fold those away). */
export function requireUrlName(value: unknown, field: string): string {
  const text = requireString(value, field, { nonEmpty: true });
  const valid = 'a name without "/" that is not "." or ".."';
  if (text.includes('/')) throw invalid(field, 'must not contain "/"', valid);
  if (text === '.' || text === '..')
    throw invalid(field, `must not be "${text}": a URL cannot address it`, valid);
  return text;
}

export function requireBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean')
    throw invalid(field, `expected true or false, got ${describe(value)}`, 'a boolean');
  return value;
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, `expected an object, got ${describe(value)}`, 'an object');
  }
  return value as Record<string, unknown>;
}

export function requireOneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    const list = allowed.map((a) => JSON.stringify(a)).join(', ');
    const guess = typeof value === 'string' ? closest(value, allowed) : undefined;
    // A likely typo is named first: the list of what is valid can be long.
    const message =
      guess === undefined
        ? `expected one of ${list}, got ${describe(value)}`
        : `got ${describe(value)}: did you mean ${JSON.stringify(guess)}? Expected one of ${list}`;
    throw invalid(field, message, `one of ${list}`);
  }
  return value as T;
}

/**
 * The one name of `names` a typo of `given` most likely meant: within two edits (one for short names),
 * and nearer than any other. Undefined when none is, or two are as near.
 */
export function closest<T extends string>(given: string, names: readonly T[]): T | undefined {
  const limit = given.length <= 4 ? 1 : 2;
  let best: T | undefined;
  let bestDistance = limit + 1;
  let tied = false;
  for (const name of names) {
    const distance = editDistance(given.toLowerCase(), name.toLowerCase(), limit);
    if (distance < bestDistance) [best, bestDistance, tied] = [name, distance, false];
    else if (distance === bestDistance) tied = true;
  }
  return best !== undefined && !tied ? best : undefined;
}

/** Levenshtein distance (with adjacent swaps counted as one edit), or `limit + 1` once it is past `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (before[j - 2] as number) + 1);
      current.push(d);
    }
    if (Math.min(...current) > limit) return limit + 1;
    [before, previous] = [previous, current];
  }
  return previous[b.length] as number;
}
