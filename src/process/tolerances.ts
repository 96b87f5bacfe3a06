/**
 * Probe tolerances: what answer a probe accepts (Chaos Toolkit's and Litmus' idea). A status as a code, a
 * class (`"2xx"`) or a list of them; a number within `[min, max]`; a value at a small JSON path that equals,
 * lies in a range or matches a regular expression. Each check returns the failure in words — what came back
 * and what was expected — or undefined when the answer is accepted.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, invalid } from '../core/assert.js';
import { messageOf } from '../core/errors.js';

/** An accepted HTTP status: a code (`200`), a class (`"2xx"`), or a list of them (`[200, 204]`). */
export type StatusTolerance = number | string | readonly (number | string)[];

const statusClass = /^([1-5])xx$/;

/** Checks a status tolerance, naming `field`; returns it as a list. */
export function requireStatus(value: unknown, field: string): (number | string)[] {
  const expected = 'a status code such as 200, a class such as "2xx", or a list of them such as [200, 204]';
  const one = (item: unknown, at: string): number | string => {
    if (typeof item === 'number' && Number.isInteger(item) && item >= 100 && item <= 599) return item;
    if (typeof item === 'string' && statusClass.test(item)) return item;
    throw invalid(
      at,
      `expected a status code (100..599) or a class like "2xx", got ${describe(item)}`,
      expected,
    );
  };
  if (Array.isArray(value)) {
    if (value.length === 0) throw invalid(field, 'expected at least one status', expected);
    return value.map((item, index) => one(item, `${field}[${index}]`));
  }
  return [one(value, field)];
}

/** Whether `status` is one `tolerance` accepts. */
export function statusAccepted(status: number, tolerance: readonly (number | string)[]): boolean {
  return tolerance.some((item) =>
    typeof item === 'number' ? item === status : Math.floor(status / 100) === Number(item[0]),
  );
}

/** `200–299`, `200 or 204`: a tolerance as failure messages say it. */
export function describeStatus(tolerance: readonly (number | string)[]): string {
  const parts = tolerance.map((item) =>
    typeof item === 'number' ? String(item) : `${item[0]}00–${item[0]}99`,
  );
  return parts.length <= 2 ? parts.join(' or ') : `${parts.slice(0, -1).join(', ')} or ${parts.at(-1)}`;
}

/** Checks an exit-code tolerance (a code or a list of codes, 0..255), naming `field`; returns it as a list. */
export function requireExitCodes(value: unknown, field: string): number[] {
  const expected = 'an exit code 0..255, or a list of them such as [0, 1]';
  const one = (item: unknown, at: string): number => {
    if (typeof item === 'number' && Number.isInteger(item) && item >= 0 && item <= 255) return item;
    throw invalid(at, `expected an exit code 0..255, got ${describe(item)}`, expected);
  };
  if (Array.isArray(value)) {
    if (value.length === 0) throw invalid(field, 'expected at least one exit code', expected);
    return value.map((item, index) => one(item, `${field}[${index}]`));
  }
  return [one(value, field)];
}

/** A regular expression from a file's text, compiled now so a bad one is refused naming `field`. */
export function requireRegex(value: unknown, field: string): RegExp {
  if (typeof value !== 'string') {
    throw invalid(field, `expected a regular expression as a string, got ${describe(value)}`, 'a string');
  }
  try {
    return new RegExp(value);
  } catch (error) {
    throw invalid(
      field,
      `not a valid regular expression: ${messageOf(error)}`,
      'a JavaScript regular expression',
    );
  }
}

/** `[min, max]`, numbers with min ≤ max, naming `field`. */
export function requireRange(value: unknown, field: string): readonly [number, number] {
  const expected = '[min, max]: two numbers, min at most max';
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((item) => typeof item === 'number' && Number.isFinite(item))
  ) {
    throw invalid(field, `expected [min, max], got ${describe(value)}`, expected);
  }
  const [min, max] = value as [number, number];
  if (min > max) throw invalid(field, `min ${min} is more than max ${max}`, expected);
  return [min, max];
}

/** A number from a value: a number, or a string holding one (a command's output, a JSON string field). */
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value.trim());
    if (Number.isFinite(parsed)) return parsed;
  }
  return undefined;
}

/** Why `value` (named `what`) is not in `range`, or undefined when it is. */
export function outsideRange(
  what: string,
  value: unknown,
  range: readonly [number, number],
): string | undefined {
  const number = numberOf(value);
  const [min, max] = range;
  if (number === undefined)
    return `${what} = ${clip(JSON.stringify(value) ?? String(value))}, expected a number in ${min}..${max}`;
  return number >= min && number <= max ? undefined : `${what} = ${number}, expected ${min}..${max}`;
}

/** One step of a JSON path: a property name or an array index. */
export type JsonPathStep = string | number;

/**
 * Parses the JSON path subset probes accept: `$`, then any of `.name`, `["name"]` / `['name']`, `[index]` —
 * e.g. `$.queue.depth`, `$.items[0].id`, `$["a b"]`. No wildcards, filters or slices. A bad path is refused
 * naming `field` and the column where it goes wrong.
 */
export function parseJsonPath(path: unknown, field: string): JsonPathStep[] {
  const expected = 'a JSON path such as $.a.b[0].c: $ then .name, ["name"] or [index] steps';
  if (typeof path !== 'string') throw invalid(field, `expected a JSON path, got ${describe(path)}`, expected);
  const bad = (at: number, why: string): Error =>
    invalid(field, `bad JSON path ${JSON.stringify(path)} at character ${at + 1}: ${why}`, expected);
  if (path[0] !== '$') throw bad(0, 'it must start with $');
  const steps: JsonPathStep[] = [];
  let i = 1;
  // Bounded by the path's length: every round consumes at least one character.
  while (i < path.length) {
    if (path[i] === '.') {
      const name = /^[A-Za-z0-9_$-]+/.exec(path.slice(i + 1))?.[0];
      if (name === undefined) throw bad(i + 1, 'expected a name after "."');
      steps.push(name);
      i += 1 + name.length;
    } else if (path[i] === '[') {
      const rest = path.slice(i);
      const index = /^\[(\d+)\]/.exec(rest);
      const quoted = /^\[(?:"((?:[^"\\]|\\.)*)"|'([^'\\]*)')\]/.exec(rest);
      if (index !== null) {
        steps.push(Number(index[1]));
        i += index[0].length;
      } else if (quoted !== null) {
        steps.push(
          quoted[1] !== undefined ? (JSON.parse(`"${quoted[1]}"`) as string) : (quoted[2] as string),
        );
        i += quoted[0].length;
      } else throw bad(i, 'expected [index] or ["name"]');
    } else throw bad(i, `unexpected ${JSON.stringify(path[i])}; expected "." or "["`);
  }
  return steps;
}

/** The value at `steps` in `root`, or `{ missing }` naming the first step that is not there. */
function follow(root: unknown, steps: readonly JsonPathStep[]): { value: unknown } | { missing: string } {
  let value = root;
  let at = '$';
  for (const step of steps) {
    const next =
      typeof step === 'number'
        ? `${at}[${step}]`
        : /^[A-Za-z_$][\w$-]*$/.test(step)
          ? `${at}.${step}`
          : `${at}[${JSON.stringify(step)}]`;
    if (typeof step === 'number') {
      if (!Array.isArray(value) || step >= value.length) return { missing: next };
      value = value[step];
    } else {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, step))
        return { missing: next };
      value = (value as Record<string, unknown>)[step];
    }
    at = next;
  }
  return { value };
}

/** A check on one value of a JSON document: it must equal a value, lie in a range, or match a regex. */
export interface JsonCheck {
  readonly path: string;
  readonly equals?: unknown;
  readonly range?: readonly [number, number];
  readonly matches?: RegExp;
}

/** Validates a JSON check as a file gives it (`matches` a string) naming `field`; returns it with `matches` compiled. */
export function requireJsonCheck(value: unknown, field: string): JsonCheck {
  const expected = '{ path, and one of equals, range = [min, max], matches = "regex" }';
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(field, `expected ${expected}, got ${describe(value)}`, expected);
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (!['path', 'equals', 'range', 'matches'].includes(key))
      throw invalid(`${field}.${key}`, 'unknown parameter; valid: path, equals, range, matches', expected);
  }
  if (object.path === undefined)
    throw invalid(`${field}.path`, 'is required: a JSON path such as $.a.b', expected);
  parseJsonPath(object.path, `${field}.path`);
  const given = (['equals', 'range', 'matches'] as const).filter((key) => object[key] !== undefined);
  if (given.length !== 1) {
    throw invalid(
      field,
      given.length === 0
        ? 'give one of equals, range, matches'
        : `give one of ${given.join(', ')}, not several`,
      expected,
    );
  }
  return {
    path: object.path as string,
    ...(object.equals === undefined ? {} : { equals: object.equals }),
    ...(object.range === undefined ? {} : { range: requireRange(object.range, `${field}.range`) }),
    ...(object.matches === undefined ? {} : { matches: requireRegex(object.matches, `${field}.matches`) }),
  };
}

/** Why the JSON `text` fails `check`, or undefined when it passes. `source` names the text (`body`, `stdout`). */
export function failsJsonCheck(source: string, text: string, check: JsonCheck): string | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return `${source} is not JSON (${messageOf(error)}): ${clip(text)}`;
  }
  const found = follow(document, parseJsonPath(check.path, 'path'));
  if ('missing' in found) return `${check.path}: ${found.missing} is not in the ${source}`;
  const { value } = found;
  const shown = clip(JSON.stringify(value) ?? String(value));
  if (check.range !== undefined) return outsideRange(check.path, value, check.range);
  if (check.matches !== undefined) {
    const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    return check.matches.test(text)
      ? undefined
      : `${check.path} = ${shown}, expected a match of ${check.matches}`;
  }
  return isDeepStrictEqual(value, check.equals)
    ? undefined
    : `${check.path} = ${shown}, expected ${clip(JSON.stringify(check.equals) ?? String(check.equals))}`;
}

/** At most 200 characters of `text`, for messages. */
export function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
