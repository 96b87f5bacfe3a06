import { codes } from './codes.js';
import { FaultlineError } from './errors.js';
import type { SourcePosition } from './source.js';

/**
 * faultline's one strict JSON reader. It accepts exactly the texts `JSON.parse` accepts (RFC 8259) and
 * reads them into the same values, but does what `JSON.parse` cannot and its callers need:
 *
 * - positions: an error names the offset where the text goes wrong and what would be valid there (V8
 *   leaves the position out of several of its messages); and, when asked (`positions`), the offset of
 *   every value and member name by field path (`proxies[1].toxics[0].toxicity`), so that a check made
 *   later on a value can point at it (`faultline server --config`);
 * - exact integers, when asked (`exactIntegers`): an integer beyond ±(2^53 − 1), written without a
 *   fraction or exponent, is read as a `bigint`, as the EDN reader does. `JSON.parse` rounds it to the
 *   nearest double, so two values that differ only past 2^53 would compare equal (histories);
 * - bounded nesting: more than `maxDepth` nested arrays and objects is an error at the bracket that goes
 *   too deep, never a stack overflow further on (the reader recurses once per level);
 * - duplicate member names, when asked (`duplicateKeys: 'error'`), are an error, reported once the whole
 *   text is known to be JSON so that a syntax error further on comes first; by default the last one wins,
 *   as with `JSON.parse`.
 *
 * A `__proto__` member is an own property, as with `JSON.parse`: objects are plain and no member changes
 * their prototype. The reader does no I/O. Callers: the JSON lines history reader (hot: one call a line,
 * no positions), the HTTP API's request bodies and `faultline server --config`.
 */
export interface JsonReadOptions {
  /** Deepest nesting of arrays and objects accepted. */
  readonly maxDepth: number;
  /** Read integers beyond ±(2^53 − 1) as exact `bigint`s. Default false: a `number`, as `JSON.parse`. */
  readonly exactIntegers?: boolean;
  /** What a member name given twice in one object is: an error, or the last value wins. Default 'last'. */
  readonly duplicateKeys?: 'error' | 'last';
  /** Skip a leading byte order mark (U+FEFF). Default false: it is an error, as with `JSON.parse`. */
  readonly byteOrderMark?: boolean;
  /** Filled with the position of every value by field path: `root`, `root[0]`, `root[0].name`. */
  readonly positions?: Map<string, JsonPosition>;
  /** The path of the top-level value in `positions` and problems. Default `$`. */
  readonly rootPath?: string;
  /** What the text is, in messages: `got end of line`, `the end of the line after the value`. Default `text`. */
  readonly textName?: string;
  /** How a second position is named in a message (`opened at …`, `first at …`). Default `offset N`. */
  readonly where?: (offset: number) => string;
  /** Makes the error thrown for a problem. Default: FL_ERR_INVALID_ARGUMENT naming `where(offset)`. */
  readonly error?: (problem: JsonProblem) => Error;
}

/** Offsets (UTF-16 code units) into the text: of a value, and of its name when it is an object member. */
export type JsonPosition = SourcePosition;

/** Why a text was refused, and where. */
export interface JsonProblem {
  /** `syntax` and `depth` are not JSON (or too deep); `duplicate-key` is JSON `JSON.parse` would take. */
  readonly kind: 'syntax' | 'depth' | 'duplicate-key';
  /** Offset (UTF-16 code units) where the text goes wrong. */
  readonly offset: number;
  /** What is wrong, e.g. `expected ":" after the member name, got "1"`. */
  readonly message: string;
  /** What would be valid there. */
  readonly expected: string;
  /** With `positions`: the field path of the value being read (of the member, for a duplicate). */
  readonly path?: string;
}

/** Reads one JSON value that makes up the whole text (whitespace around it allowed). */
export function readJson(text: string, options: JsonReadOptions): unknown {
  return new JsonReader(text, options).readDocument();
}

/** Assigns a member without letting a `__proto__` key change the object's prototype (as JSON.parse does). */
export function setProperty(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

// Char codes.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const A_VALUE = 'an object, array, string, number, true, false or null';
const A_NUMBER = 'a number such as -1, 0, 2.5 or 1e3';

class JsonReader {
  private pos = 0;
  private readonly maxDepth: number;
  private readonly exactIntegers: boolean;
  private readonly checkDuplicates: boolean;
  /** Path tracking costs a string a value: only when positions are asked for. */
  private readonly positions: Map<string, JsonPosition> | undefined;
  private readonly textName: string;
  /** The first duplicate member name, reported after the text is known to be JSON. */
  private duplicate: JsonProblem | undefined;

  constructor(
    private readonly text: string,
    private readonly options: JsonReadOptions,
  ) {
    this.maxDepth = options.maxDepth;
    this.exactIntegers = options.exactIntegers ?? false;
    this.checkDuplicates = options.duplicateKeys === 'error';
    this.positions = options.positions;
    this.textName = options.textName ?? 'text';
  }

  readDocument(): unknown {
    if (this.options.byteOrderMark === true && this.text.charCodeAt(0) === BOM) this.pos = 1;
    this.skipWhitespace();
    const root = this.positions === undefined ? undefined : (this.options.rootPath ?? '$');
    if (root !== undefined) this.positions?.set(root, { value: this.pos });
    const value = this.readValue(0, root);
    this.skipWhitespace();
    if (this.pos < this.text.length) {
      throw this.fail(
        this.pos,
        `expected the end of the ${this.textName} after the value, got ${this.describeAt(this.pos)}`,
        `one JSON value per ${this.textName}`,
        root,
      );
    }
    if (this.duplicate !== undefined) throw this.raise(this.duplicate);
    return value;
  }

  private fail(
    offset: number,
    message: string,
    expected: string,
    path: string | undefined,
    kind: JsonProblem['kind'] = 'syntax',
  ): Error {
    return this.raise({ kind, offset, message, expected, ...(path === undefined ? {} : { path }) });
  }

  private raise(problem: JsonProblem): Error {
    if (this.options.error !== undefined) return this.options.error(problem);
    const json = problem.kind === 'duplicate-key' ? '' : 'not valid JSON: ';
    return new FaultlineError(
      codes.invalidArgument,
      `${this.where(problem.offset)}: ${json}${problem.message}`,
      {
        details: {
          offset: problem.offset,
          expected: problem.expected,
          ...(problem.path === undefined ? {} : { field: problem.path }),
        },
      },
    );
  }

  private where(offset: number): string {
    return this.options.where === undefined ? `offset ${offset}` : this.options.where(offset);
  }

  /** A character for a message: `"x"`, or `U+0009` for one that does not show. */
  private describeAt(offset: number): string {
    if (offset >= this.text.length) return `end of ${this.textName}`;
    const code = this.text.codePointAt(offset) as number;
    return code < 0x20 || code === 0x7f || code === 0xfffd || code === BOM
      ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
      : JSON.stringify(String.fromCodePoint(code));
  }

  private skipWhitespace(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === SPACE || c === TAB || c === LF || c === CR) pos++;
      else break;
    }
    this.pos = pos;
  }

  /** `path` is the value's field path when positions are kept, else undefined. */
  private readValue(depth: number, path: string | undefined): unknown {
    const start = this.pos;
    const c = this.text[start];
    switch (c) {
      case '{':
        return this.readObject(depth + 1, path);
      case '[':
        return this.readArray(depth + 1, path);
      case '"':
        return this.readString(path);
      case 't':
        return this.readLiteral('true', true, path);
      case 'f':
        return this.readLiteral('false', false, path);
      case 'n':
        return this.readLiteral('null', null, path);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.readNumber(path);
        throw this.fail(start, `expected a value, got ${this.describeAt(start)}`, A_VALUE, path);
    }
  }

  private enter(depth: number, path: string | undefined): void {
    if (depth > this.maxDepth) {
      throw this.fail(
        this.pos,
        `nesting deeper than ${this.maxDepth} levels`,
        `at most ${this.maxDepth} nested arrays and objects`,
        path,
        'depth',
      );
    }
  }

  private readObject(depth: number, path: string | undefined): Record<string, unknown> {
    this.enter(depth, path);
    const open = this.pos;
    this.pos++;
    const object: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return object;
    }
    // Where each name first stood, to report a duplicate; only when duplicates are errors.
    const names = this.checkDuplicates ? new Map<string, number>() : undefined;
    do {
      this.skipWhitespace();
      const keyAt = this.pos;
      if (this.text.charCodeAt(keyAt) !== QUOTE) {
        throw this.fail(
          keyAt,
          `expected a member name in quotes, got ${this.describeAt(keyAt)}`,
          'a "name"',
          path,
        );
      }
      const key = this.readString(path);
      const member = path === undefined ? undefined : path === '' ? key : `${path}.${key}`;
      if (names !== undefined) this.noteName(names, key, keyAt, member);
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') {
        throw this.fail(
          this.pos,
          `expected ":" after the member name, got ${this.describeAt(this.pos)}`,
          '":"',
          member,
        );
      }
      this.pos++;
      this.skipWhitespace();
      if (member !== undefined) this.positions?.set(member, { key: keyAt, value: this.pos });
      setProperty(object, key, this.readValue(depth, member));
    } while (this.another('}', 'object', open, path));
    return object;
  }

  /** After a member or an element: true at "," (another follows), false at the closing bracket. */
  private another(close: '}' | ']', what: string, open: number, path: string | undefined): boolean {
    this.skipWhitespace();
    const next = this.text[this.pos];
    if (next === ',') {
      this.pos++;
      return true;
    }
    if (next === close) {
      this.pos++;
      return false;
    }
    throw this.fail(
      this.pos,
      `expected "," or "${close}" in the ${what} opened at ${this.where(open)}, got ${this.describeAt(this.pos)}`,
      `"," or "${close}"`,
      path,
    );
  }

  private noteName(names: Map<string, number>, key: string, keyAt: number, member: string | undefined): void {
    const first = names.get(key);
    if (first === undefined) {
      names.set(key, keyAt);
    } else if (this.duplicate === undefined) {
      this.duplicate = {
        kind: 'duplicate-key',
        offset: keyAt,
        message: `duplicate key ${JSON.stringify(key)} (first at ${this.where(first)})`,
        expected: 'each key once',
        ...(member === undefined ? {} : { path: member }),
      };
    }
  }

  private readArray(depth: number, path: string | undefined): unknown[] {
    this.enter(depth, path);
    const open = this.pos;
    this.pos++;
    const array: unknown[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return array;
    }
    do {
      this.skipWhitespace();
      let element: string | undefined;
      if (path !== undefined) {
        element = `${path}[${array.length}]`;
        this.positions?.set(element, { value: this.pos });
      }
      array.push(this.readValue(depth, element));
    } while (this.another(']', 'array', open, path));
    return array;
  }

  private readString(path: string | undefined): string {
    const text = this.text;
    const start = this.pos;
    let out = '';
    let i = start + 1;
    let run = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (Number.isNaN(c)) {
        throw this.fail(
          start,
          `unterminated string: expected a closing '"', got end of ${this.textName}`,
          "'\"'",
          path,
        );
      }
      if (c < 0x20) {
        throw this.fail(
          i,
          `unescaped control character ${this.describeAt(i)} in a string`,
          'an escape such as \\n or \\u0000',
          path,
        );
      }
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      out += text.slice(run, i);
      const e = text[i + 1];
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!HEX4.test(hex)) {
          throw this.fail(
            i,
            `bad unicode escape \\u${hex}: expected four hex digits`,
            'four hex digits',
            path,
          );
        }
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      } else {
        const replacement = e === undefined ? undefined : ESCAPES[e];
        if (replacement === undefined) {
          throw this.fail(
            i,
            `bad string escape \\${e ?? ''}: expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`,
            '\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX',
            path,
          );
        }
        out += replacement;
        i += 2;
      }
      run = i;
    }
    this.pos = i + 1;
    return out + text.slice(run, i);
  }

  private readNumber(path: string | undefined): number | bigint {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.text);
    if (match === null) {
      throw this.fail(start, `malformed number starting ${this.describeAt(start)}`, A_NUMBER, path);
    }
    const token = match[0];
    this.pos = start + token.length;
    const next = this.text[this.pos];
    if (next !== undefined && /[\w.+-]/.test(next)) {
      throw this.fail(
        start,
        `malformed number ${JSON.stringify(this.text.slice(start, this.pos + 1))}`,
        A_NUMBER,
        path,
      );
    }
    const n = Number(token);
    // An integer past 2^53 as a double is the nearest representable one, not the one written: keep it exact.
    if (this.exactIntegers && match[1] === undefined && match[2] === undefined && !Number.isSafeInteger(n)) {
      return BigInt(token);
    }
    return n;
  }

  private readLiteral<T>(word: string, value: T, path: string | undefined): T {
    if (!this.text.startsWith(word, this.pos)) {
      throw this.fail(this.pos, `expected a value, got ${this.describeAt(this.pos)}`, A_VALUE, path);
    }
    this.pos += word.length;
    return value;
  }
}
