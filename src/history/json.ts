import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { setProperty } from './edn.js';
import { maxNestingDepth } from './op.js';

/**
 * A strict JSON reader (RFC 8259, the grammar `JSON.parse` accepts) for the lines of a JSON lines history,
 * with two differences that matter to checkers:
 *
 * - an integer beyond ±(2^53 − 1) — written without a fraction or exponent — is read exactly, as a
 *   `bigint` (as the EDN reader does); `JSON.parse` would round it to the nearest double, so two values
 *   that differ only past 2^53 would compare equal. Every other number is a `number`, as with `JSON.parse`.
 * - nesting is bounded (`maxDepth` arrays and objects, default `maxNestingDepth`), so a hostile line is
 *   refused with its line and column instead of exhausting the stack further on.
 *
 * Errors are FL_ERR_INVALID_ARGUMENT naming the file, line and column, and what was expected.
 */
export interface JsonReadOptions {
  /** Named in error messages. */
  readonly file?: string;
  /** The line number of the text (it is one line of a file). Default 1. */
  readonly line?: number;
  /** Deepest nesting of arrays and objects accepted. Default `maxNestingDepth`. */
  readonly maxDepth?: number;
}

// Char codes.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
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

/** Reads one JSON value that makes up the whole text (whitespace around it allowed). */
export function readJson(text: string, options: JsonReadOptions = {}): unknown {
  return new JsonReader(text, options).readDocument();
}

class JsonReader {
  private pos = 0;
  private readonly maxDepth: number;

  constructor(
    private readonly text: string,
    private readonly options: JsonReadOptions,
  ) {
    this.maxDepth = options.maxDepth ?? maxNestingDepth;
  }

  readDocument(): unknown {
    this.skipWhitespace();
    const value = this.readValue(0);
    this.skipWhitespace();
    if (this.pos < this.text.length) {
      throw this.error(
        this.pos,
        `expected the end of the line after the value, got ${this.describeAt(this.pos)}`,
        'one JSON value per line',
      );
    }
    return value;
  }

  private error(offset: number, message: string, expected: string): FaultlineError {
    const line = this.options.line ?? 1;
    const column = offset + 1;
    const file = this.options.file;
    return new FaultlineError(
      codes.invalidArgument,
      `${file === undefined ? '' : `${file}: `}line ${line}, column ${column}: not valid JSON: ${message}`,
      { details: { ...(file === undefined ? {} : { file }), line, column, expected } },
    );
  }

  private describeAt(offset: number): string {
    if (offset >= this.text.length) return 'end of line';
    const code = this.text.codePointAt(offset) as number;
    const char = String.fromCodePoint(code);
    return code < 0x20 || code === 0x7f || code === 0xfffd
      ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
      : JSON.stringify(char);
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

  private readValue(depth: number): unknown {
    const start = this.pos;
    const c = this.text[start];
    switch (c) {
      case '{':
        return this.readObject(depth + 1);
      case '[':
        return this.readArray(depth + 1);
      case '"':
        return this.readString();
      case 't':
        return this.readLiteral('true', true);
      case 'f':
        return this.readLiteral('false', false);
      case 'n':
        return this.readLiteral('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.readNumber();
        throw this.error(
          start,
          `expected a value, got ${this.describeAt(start)}`,
          'an object, array, string, number, true, false or null',
        );
    }
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) {
      throw this.error(
        this.pos,
        `nesting deeper than ${this.maxDepth} levels`,
        `at most ${this.maxDepth} nested arrays and objects`,
      );
    }
  }

  private readObject(depth: number): Record<string, unknown> {
    this.enter(depth);
    const open = this.pos;
    this.pos++;
    const object: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return object;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== QUOTE) {
        throw this.error(
          this.pos,
          `expected a member name in quotes, got ${this.describeAt(this.pos)}`,
          'a "name"',
        );
      }
      const key = this.readString();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') {
        throw this.error(
          this.pos,
          `expected ":" after the member name, got ${this.describeAt(this.pos)}`,
          '":"',
        );
      }
      this.pos++;
      this.skipWhitespace();
      setProperty(object, key, this.readValue(depth));
      this.skipWhitespace();
      const next = this.text[this.pos];
      if (next === ',') {
        this.pos++;
        continue;
      }
      if (next === '}') {
        this.pos++;
        return object;
      }
      throw this.error(
        this.pos,
        `expected "," or "}" in the object opened at column ${open + 1}, got ${this.describeAt(this.pos)}`,
        '"," or "}"',
      );
    }
  }

  private readArray(depth: number): unknown[] {
    this.enter(depth);
    const open = this.pos;
    this.pos++;
    const array: unknown[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return array;
    }
    for (;;) {
      this.skipWhitespace();
      array.push(this.readValue(depth));
      this.skipWhitespace();
      const next = this.text[this.pos];
      if (next === ',') {
        this.pos++;
        continue;
      }
      if (next === ']') {
        this.pos++;
        return array;
      }
      throw this.error(
        this.pos,
        `expected "," or "]" in the array opened at column ${open + 1}, got ${this.describeAt(this.pos)}`,
        '"," or "]"',
      );
    }
  }

  private readString(): string {
    const text = this.text;
    const start = this.pos;
    let out = '';
    let i = start + 1;
    let run = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (Number.isNaN(c)) {
        throw this.error(start, "unterminated string: expected a closing '\"', got end of line", "'\"'");
      }
      if (c < 0x20) {
        throw this.error(
          i,
          `unescaped control character ${this.describeAt(i)} in a string`,
          'an escape such as \\n or \\u0000',
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
          throw this.error(i, `bad unicode escape \\u${hex}: expected four hex digits`, 'four hex digits');
        }
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      } else {
        const replacement = e === undefined ? undefined : ESCAPES[e];
        if (replacement === undefined) {
          throw this.error(
            i,
            `bad string escape \\${e ?? ''}: expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`,
            '\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX',
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

  private readNumber(): number | bigint {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.text);
    if (match === null) {
      throw this.error(
        start,
        `malformed number starting ${this.describeAt(start)}`,
        'a number such as -1, 0, 2.5 or 1e3',
      );
    }
    const token = match[0];
    this.pos = start + token.length;
    const next = this.text[this.pos];
    if (next !== undefined && /[\w.+-]/.test(next)) {
      throw this.error(
        start,
        `malformed number ${JSON.stringify(this.text.slice(start, this.pos + 1))}`,
        'a number such as -1, 0, 2.5 or 1e3',
      );
    }
    const n = Number(token);
    // An integer past 2^53 as a double is the nearest representable one, not the one written: keep it exact.
    if (match[1] === undefined && match[2] === undefined && !Number.isSafeInteger(n)) return BigInt(token);
    return n;
  }

  private readLiteral<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) {
      throw this.error(
        this.pos,
        `expected a value, got ${this.describeAt(this.pos)}`,
        'an object, array, string, number, true, false or null',
      );
    }
    this.pos += word.length;
    return value;
  }
}
