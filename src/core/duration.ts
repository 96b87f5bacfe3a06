import { describe } from './assert.js';
import { codes } from './codes.js';
import { FaultlineError } from './errors.js';

const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const part = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * Parses a duration such as `"250ms"`, `"5s"`, `"1m30s"`, `"1.5h"` into milliseconds.
 * A bare number is taken as milliseconds. `field` names the input in the error.
 */
export function parseDuration(input: string | number, field = 'duration'): number {
  const expected = 'a duration such as "250ms", "5s", "1m30s" (units ns, us, ms, s, m, h) or milliseconds';
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return input;
    throw invalidDuration(field, String(input), expected);
  }
  if (typeof input !== 'string') throw invalidDuration(field, describe(input), expected);
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  let position = 0;
  part.lastIndex = 0;
  while (position < text.length) {
    part.lastIndex = position;
    const match = part.exec(text);
    if (match === null || match[1] === undefined || match[2] === undefined) {
      throw invalidDuration(field, JSON.stringify(input), expected);
    }
    total += Number(match[1]) * (unitMs[match[2]] as number);
    position = part.lastIndex;
  }
  if (position === 0) throw invalidDuration(field, JSON.stringify(input), expected);
  return total;
}

/** Formats milliseconds the way people write them: `1m30s`, `250ms`, `1.5ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${Number((ms * 1000).toFixed(1))}us`;
  if (ms < 1000) return `${Number(ms.toFixed(2))}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = Number(((ms % 60_000) / 1000).toFixed(3));
  return `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds ? `${seconds}s` : ''}` || '0s';
}

function invalidDuration(field: string, got: string, expected: string): FaultlineError {
  return new FaultlineError(codes.invalidDuration, `${field}: expected ${expected}, got ${got}`, {
    details: { field, expected },
  });
}
