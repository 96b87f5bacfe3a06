import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { setProperty } from '../core/json.js';
import { EdnKeyword, EdnSymbol } from './edn-types.js';
import { maxNestingDepth } from './op.js';
import { valueKey } from './value-key.js';

export { EdnKeyword, EdnSymbol, keyword } from './edn-types.js';

/**
 * A small, complete EDN reader and writer (https://github.com/edn-format/edn), enough for Jepsen's
 * `history.edn` and the values inside log lines. Reading converts EDN to plain JavaScript:
 *
 * | EDN | JavaScript |
 * |---|---|
 * | `nil`, `true`, `false` | `null`, `true`, `false` |
 * | integer (`42`, `42N`) | `number` when safe (|n| ≤ 2^53 − 1), else `bigint` |
 * | float (`1.5`, `1e3`, `1.5M`), ratio (`1/3`), `##Inf`, `##-Inf`, `##NaN` | `number` (M loses precision) |
 * | string, char (`\a`, `\newline`) | `string` (a char is a one-character string) |
 * | keyword (`:write`, `:jepsen/op`) | `string` without the colon (`"write"`, `"jepsen/op"`) |
 * | symbol (`foo`) | `EdnSymbol` |
 * | vector, list | array |
 * | set `#{…}` | `Set` (a duplicate element, by value, is an error) |
 * | map whose keys are all strings or keywords | plain object |
 * | any other map (number, vector, map… keys) | `Map`, so `1` and `"1"` stay different keys |
 * | `#inst "…"`, `#uuid "…"` | the string |
 * | any other tagged literal (`#jepsen.history.Op{…}`) | the tagged value |
 */

export type EdnValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | EdnSymbol
  | EdnValue[]
  | { [key: string]: EdnValue }
  | Map<EdnValue, EdnValue>
  | Set<EdnValue>;

export interface EdnReadOptions {
  /** Named in error messages. */
  readonly file?: string;
  /** The line number of the text's first line (for text cut out of a larger file). Default 1. */
  readonly firstLine?: number;
  /**
   * Most collections (vectors, lists, maps, sets, tagged values, `#_` discards) nested in one another.
   * Default `maxNestingDepth` (512).
   */
  readonly maxDepth?: number;
}

/** One top-level form and where it starts (1-based). */
export interface EdnForm {
  readonly value: EdnValue;
  readonly line: number;
  readonly column: number;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f', '\v', ',']);
const DELIMITERS = new Set([...WHITESPACE, '(', ')', '[', ']', '{', '}', '"', ';']);
const CLOSERS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
const NAMED_CHARS: Readonly<Record<string, string>> = {
  newline: '\n',
  space: ' ',
  tab: '\t',
  return: '\r',
  backspace: '\b',
  formfeed: '\f',
};
const STRING_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  '"': '"',
  '\\': '\\',
};
const INTEGER = /^[+-]?(?:0|[1-9]\d*)N?$/;
const FLOAT = /^[+-]?(?:0|[1-9]\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?M?$/;
const RATIO = /^[+-]?\d+\/\d+$/;
/** Clojure's other integer forms, which `pr` writes in Jepsen histories (`#object[… 0x4e25154f …]`). */
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]+)N?$/;
const RADIX = /^([+-]?)([2-9]|[12]\d|3[0-6])[rR]([0-9a-zA-Z]+)$/;

/** Reads a text of EDN forms; `EdnReader` keeps its position so callers can read forms one at a time. */
export class EdnReader {
  private pos: number;
  private readonly lineStarts: number[];
  private readonly file: string | undefined;
  private readonly firstLine: number;
  private readonly maxDepth: number;

  constructor(
    private readonly text: string,
    options: EdnReadOptions & { start?: number } = {},
  ) {
    this.pos = options.start ?? 0;
    this.file = options.file;
    this.firstLine = options.firstLine ?? 1;
    this.maxDepth = options.maxDepth ?? maxNestingDepth;
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  /** The current offset into the text. */
  get offset(): number {
    return this.pos;
  }

  /** 1-based line and column of an offset. */
  where(offset: number = this.pos): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: this.firstLine + lo, column: offset - (this.lineStarts[lo] as number) + 1 };
  }

  /** Skips whitespace, commas, comments and `#_` discarded forms; true when nothing but those is left. */
  atEnd(): boolean {
    this.skip();
    return this.pos >= this.text.length;
  }

  /** The next significant character (after skipping), or undefined at the end. */
  peek(): string | undefined {
    this.skip();
    return this.text[this.pos];
  }

  /** Consumes one expected character. */
  expect(char: string, what: string): void {
    this.skip();
    if (this.text[this.pos] !== char)
      throw this.error(this.pos, `expected ${what}, got ${this.describeAt(this.pos)}`, what);
    this.pos++;
  }

  /** Reads the next form; throws at the end of input. */
  readForm(): EdnForm {
    this.skip();
    const { line, column } = this.where();
    return { value: this.read(0), line, column };
  }

  /** The rest of the text from the current offset (for callers that take over, e.g. log lines). */
  rest(): string {
    return this.text.slice(this.pos);
  }

  error(offset: number, message: string, expected?: string): FaultlineError {
    const { line, column } = this.where(offset);
    const prefix = this.file === undefined ? '' : `${this.file}: `;
    return new FaultlineError(codes.invalidArgument, `${prefix}line ${line}, column ${column}: ${message}`, {
      details: {
        ...(this.file === undefined ? {} : { file: this.file }),
        line,
        column,
        ...(expected === undefined ? {} : { expected }),
      },
    });
  }

  private describeAt(offset: number): string {
    if (offset >= this.text.length) return 'end of input';
    return JSON.stringify(this.text[offset]);
  }

  /** Skips what is not a form; `depth` is the nesting of what is being read (a `#_` nests one more). */
  private skip(depth = 0): void {
    const text = this.text;
    for (;;) {
      const c = text[this.pos];
      if (c === undefined) return;
      if (WHITESPACE.has(c)) {
        this.pos++;
      } else if (c === ';') {
        const end = text.indexOf('\n', this.pos);
        this.pos = end === -1 ? text.length : end + 1;
      } else if (c === '#' && text[this.pos + 1] === '_') {
        const at = this.pos;
        this.nest(depth, at);
        this.pos += 2;
        this.skip(depth + 1);
        if (this.pos >= text.length)
          throw this.error(at, 'expected a form to discard after #_, got end of input', 'a form');
        this.read(depth + 1);
      } else {
        return;
      }
    }
  }

  /** Refuses to open one more collection inside `depth` enclosing ones when that passes `maxDepth`. */
  private nest(depth: number, at: number): void {
    if (depth >= this.maxDepth) {
      throw this.error(
        at,
        `nesting deeper than ${this.maxDepth} levels`,
        `at most ${this.maxDepth} nested collections`,
      );
    }
  }

  /** Reads one form inside `depth` enclosing collections. */
  private read(depth: number): EdnValue {
    this.skip(depth);
    const start = this.pos;
    const c = this.text[start];
    switch (c) {
      case undefined:
        throw this.error(start, 'expected a form, got end of input', 'a form');
      case '(':
      case '[':
        this.nest(depth, start);
        this.pos++;
        return this.readSequence(c, start, depth);
      case '{':
        this.nest(depth, start);
        this.pos++;
        return toMap(this.readSequence('{', start, depth), start, this);
      case ')':
      case ']':
      case '}':
        throw this.error(start, `unexpected ${JSON.stringify(c)} with no open collection`, 'a form');
      case '"':
        return this.readString();
      case '\\':
        return this.readChar();
      case '#':
        return this.readDispatch(depth);
      default:
        return this.readToken();
    }
  }

  private readSequence(open: string, start: number, depth: number): EdnValue[] {
    const close = CLOSERS[open] as string;
    const items: EdnValue[] = [];
    for (;;) {
      this.skip(depth + 1);
      const c = this.text[this.pos];
      if (c === close) {
        this.pos++;
        return items;
      }
      if (c === undefined || c === ')' || c === ']' || c === '}') {
        const { line, column } = this.where(start);
        throw this.error(
          this.pos,
          `expected ${JSON.stringify(close)} to close the ${open} opened at line ${line}, column ${column}, got ${this.describeAt(this.pos)}`,
          JSON.stringify(close),
        );
      }
      items.push(this.read(depth + 1));
    }
  }

  private readString(): string {
    const start = this.pos;
    const text = this.text;
    let out = '';
    let i = this.pos + 1;
    for (;;) {
      const c = text[i];
      if (c === undefined) {
        throw this.error(start, "unterminated string: expected a closing '\"', got end of input", "'\"'");
      }
      if (c === '"') break;
      if (c !== '\\') {
        // Copy the run up to the next quote or escape in one slice.
        let end = i + 1;
        while (end < text.length && text[end] !== '"' && text[end] !== '\\') end++;
        out += text.slice(i, end);
        i = end;
        continue;
      }
      const e = text[i + 1];
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          throw this.error(i, `bad unicode escape \\u${hex}: expected four hex digits`, 'four hex digits');
        }
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
        continue;
      }
      const replacement = e === undefined ? undefined : STRING_ESCAPES[e];
      if (replacement === undefined) {
        throw this.error(
          i,
          `bad string escape \\${e ?? ''}: expected one of \\n \\t \\r \\b \\f \\" \\\\ \\uXXXX`,
          '\\n \\t \\r \\b \\f \\" \\\\ \\uXXXX',
        );
      }
      out += replacement;
      i += 2;
    }
    this.pos = i + 1;
    return out;
  }

  private readChar(): string {
    const start = this.pos;
    const first = this.text[start + 1];
    if (first === undefined || WHITESPACE.has(first)) {
      throw this.error(start, 'expected a character after \\', 'a character such as \\a or \\newline');
    }
    let end = start + 2;
    while (end < this.text.length && !DELIMITERS.has(this.text[end] as string)) end++;
    const name = this.text.slice(start + 1, end);
    this.pos = end;
    if (name.length === 1) return name;
    const named = NAMED_CHARS[name];
    if (named !== undefined) return named;
    if (/^u[0-9a-fA-F]{4}$/.test(name)) return String.fromCharCode(Number.parseInt(name.slice(1), 16));
    throw this.error(
      start,
      `unknown character \\${name}: expected a single character, \\newline, \\space, \\tab, \\return, \\backspace, \\formfeed or \\uXXXX`,
      'a character',
    );
  }

  private readDispatch(depth: number): EdnValue {
    const start = this.pos;
    const next = this.text[start + 1];
    if (next === '{') {
      this.nest(depth, start);
      this.pos += 2;
      const items = this.readSequence('{', start, depth);
      checkDuplicates(items, start, this, 'set element');
      return new Set(items);
    }
    if (next === '#') {
      this.pos += 2;
      const token = this.takeToken();
      if (token === 'Inf') return Number.POSITIVE_INFINITY;
      if (token === '-Inf') return Number.NEGATIVE_INFINITY;
      if (token === 'NaN') return Number.NaN;
      throw this.error(
        start,
        `unknown symbolic value ##${token}: expected ##Inf, ##-Inf or ##NaN`,
        '##Inf, ##-Inf or ##NaN',
      );
    }
    if (next !== undefined && /[A-Za-z]/.test(next)) {
      this.nest(depth, start);
      this.pos++;
      const tag = this.takeToken();
      this.skip(depth + 1);
      if (this.pos >= this.text.length) {
        throw this.error(start, `expected a form after the tag #${tag}, got end of input`, 'a form');
      }
      const valueAt = this.pos;
      const value = this.read(depth + 1);
      if ((tag === 'inst' || tag === 'uuid') && typeof value !== 'string') {
        throw this.error(valueAt, `#${tag} expects a string`, 'a string');
      }
      return value;
    }
    throw this.error(
      start,
      `unexpected ${JSON.stringify(`#${next ?? ''}`)}: expected #{ (a set), #_ (discard), ##Inf/##NaN or a tag such as #inst`,
      'a set, a discard or a tagged literal',
    );
  }

  private takeToken(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !DELIMITERS.has(this.text[this.pos] as string)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private readToken(): EdnValue {
    const start = this.pos;
    const token = this.takeToken();
    if (token === 'nil') return null;
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (/^[+-]?\d/.test(token)) return this.parseNumber(token, start);
    if (token.startsWith(':')) {
      const name = token.slice(1);
      if (name === '' || name.startsWith(':') || name.startsWith('/') || name.endsWith('/')) {
        throw this.error(start, `malformed keyword ${token}: expected :name or :namespace/name`, ':name');
      }
      return name;
    }
    if (token === '') {
      throw this.error(start, `unexpected ${this.describeAt(start)}: expected a form`, 'a form');
    }
    if (token !== '/' && (token.startsWith('/') || token.endsWith('/') || token.includes('\\'))) {
      throw this.error(start, `malformed symbol ${token}`, 'a symbol such as foo or ns/foo');
    }
    return new EdnSymbol(token);
  }

  private parseNumber(token: string, start: number): number | bigint {
    if (INTEGER.test(token)) {
      const digits = token.endsWith('N') ? token.slice(0, -1) : token;
      const n = Number(digits);
      return Number.isSafeInteger(n) ? n : BigInt(digits.startsWith('+') ? digits.slice(1) : digits);
    }
    const hex = HEX.exec(token);
    if (hex) return exactInteger(hex[1] === '-', BigInt(`0x${hex[2]}`));
    const radix = RADIX.exec(token);
    if (radix) {
      const base = Number(radix[2]);
      let value = 0n;
      for (const digit of (radix[3] as string).toLowerCase()) {
        const d = Number.parseInt(digit, 36);
        if (d >= base)
          throw this.error(
            start,
            `digit ${digit} is not valid in base ${base}: ${token}`,
            `digits below ${base}`,
          );
        value = value * BigInt(base) + BigInt(d);
      }
      return exactInteger(radix[1] === '-', value);
    }
    if (FLOAT.test(token)) return Number(token.endsWith('M') ? token.slice(0, -1) : token);
    if (RATIO.test(token)) {
      const [num, den] = token.split('/') as [string, string];
      if (Number(den) === 0)
        throw this.error(start, `ratio ${token} divides by zero`, 'a non-zero denominator');
      return Number(num) / Number(den);
    }
    throw this.error(
      start,
      `malformed number ${token}: expected an integer (42, 42N, 0x2A, 2r101010), a float (1.5, 1e3, 1.5M) or a ratio (1/3)`,
      'a number',
    );
  }
}

/** An integer as a number when it is safe, else exactly as a bigint (as the decimal forms are read). */
function exactInteger(negative: boolean, magnitude: bigint): number | bigint {
  const value = negative ? -magnitude : magnitude;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

/**
 * Refuses two equal elements (by `valueKey`, the one value identity: `[1 2]` twice is a duplicate). A
 * primitive's identity there is a Set's (SameValueZero: NaN is NaN, -0 is 0, 1 is not "1" nor 1n; the
 * reader makes no `undefined`), and no primitive's key is an object's, so only objects need a key.
 */
function checkDuplicates(items: readonly EdnValue[], start: number, reader: EdnReader, what: string): void {
  const primitives = new Set<unknown>();
  let objectKeys: Set<string> | undefined;
  for (const item of items) {
    let duplicate: boolean;
    if (typeof item === 'object' && item !== null) {
      const key = valueKey(item);
      objectKeys ??= new Set<string>();
      duplicate = objectKeys.has(key);
      objectKeys.add(key);
    } else {
      duplicate = primitives.has(item);
      primitives.add(item);
    }
    if (duplicate) throw reader.error(start, `duplicate ${what} ${writeEdn(item)}`, 'distinct elements');
  }
}

function toMap(items: EdnValue[], start: number, reader: EdnReader): EdnValue {
  if (items.length % 2 !== 0) {
    throw reader.error(
      start,
      `a map needs an even number of forms (key value pairs), got ${items.length}`,
      'key value pairs',
    );
  }
  const keys: EdnValue[] = [];
  for (let i = 0; i < items.length; i += 2) keys.push(items[i] as EdnValue);
  checkDuplicates(keys, start, reader, 'map key');
  // Only string (and keyword) keys make an object: a number key would become a string and meet "1".
  if (keys.every((k) => typeof k === 'string')) {
    const object: { [key: string]: EdnValue } = {};
    keys.forEach((key, i) => {
      setProperty(object, key as string, items[2 * i + 1] as EdnValue);
    });
    return object;
  }
  const map = new Map<EdnValue, EdnValue>();
  for (let i = 0; i < items.length; i += 2) map.set(items[i] as EdnValue, items[i + 1] as EdnValue);
  return map;
}

/** Reads exactly one EDN form. */
export function readEdn(text: string, options: EdnReadOptions = {}): EdnValue {
  const reader = new EdnReader(text, options);
  if (reader.atEnd()) throw reader.error(reader.offset, 'expected a form, got end of input', 'a form');
  const { value } = reader.readForm();
  if (!reader.atEnd()) {
    throw reader.error(
      reader.offset,
      `expected end of input after one form, got ${JSON.stringify(reader.peek())}`,
      'one form',
    );
  }
  return value;
}

/** Reads every top-level form, with where each starts. */
export function readEdnAll(text: string, options: EdnReadOptions = {}): EdnForm[] {
  const reader = new EdnReader(text, options);
  const forms: EdnForm[] = [];
  while (!reader.atEnd()) forms.push(reader.readForm());
  return forms;
}

const KEYWORD_NAME =
  /^(?:[A-Za-z_*!?$%&=<>]|-(?=[A-Za-z_]|$))[\w*!?$%&=<>.+\-']*(?:\/[A-Za-z_*!?$%&=<>][\w*!?$%&=<>.+\-']*)?$/;

/** True when a string can be written as a keyword and read back as the same string. */
export function isKeywordName(name: string): boolean {
  return KEYWORD_NAME.test(name);
}

export interface EdnWriteOptions {
  /** Write object keys as keywords when they are valid keyword names (default true), else as strings. */
  readonly keywordKeys?: boolean;
}

/**
 * Writes a JavaScript value as EDN. Strings become EDN strings (use `keyword()` for keywords); object
 * keys become keywords when they can. `undefined` is `nil` (and object properties holding it are left
 * out, as in JSON). Throws on functions, symbols and cycles.
 */
export function writeEdn(value: unknown, options: EdnWriteOptions = {}): string {
  return write(value, options.keywordKeys ?? true, new Set());
}

function write(value: unknown, keywordKeys: boolean, seen: Set<object>): string {
  if (value === null || value === undefined) return 'nil';
  switch (typeof value) {
    case 'boolean':
      return String(value);
    case 'number':
      return writeNumber(value);
    case 'bigint':
      return `${value}N`;
    case 'string':
      return writeString(value);
    case 'object':
      break;
    default:
      throw new FaultlineError(codes.invalidArgument, `cannot write a ${typeof value} as EDN`, {
        details: { expected: 'null, a boolean, number, bigint, string, array, Set, Map or plain object' },
      });
  }
  if (value instanceof EdnKeyword) return `:${value.name}`;
  if (value instanceof EdnSymbol) return value.name;
  if (value instanceof Date) return `#inst ${writeString(value.toISOString())}`;
  if (seen.has(value)) throw new FaultlineError(codes.invalidArgument, 'cannot write a cyclic value as EDN');
  seen.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((v) => write(v, keywordKeys, seen)).join(' ')}]`;
    if (value instanceof Set) return `#{${[...value].map((v) => write(v, keywordKeys, seen)).join(' ')}}`;
    if (value instanceof Map) {
      const pairs = [...value].map(
        ([k, v]) => `${write(k, keywordKeys, seen)} ${write(v, keywordKeys, seen)}`,
      );
      return `{${pairs.join(', ')}}`;
    }
    const pairs: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const key = keywordKeys && isKeywordName(k) ? `:${k}` : writeString(k);
      pairs.push(`${key} ${write(v, keywordKeys, seen)}`);
    }
    return `{${pairs.join(', ')}}`;
  } finally {
    seen.delete(value);
  }
}

function writeNumber(n: number): string {
  if (Number.isNaN(n)) return '##NaN';
  if (n === Number.POSITIVE_INFINITY) return '##Inf';
  if (n === Number.NEGATIVE_INFINITY) return '##-Inf';
  if (Object.is(n, -0)) return '-0.0';
  const text = String(n);
  // An integer beyond 2^53 would read back as a bigint: write it as a float so it stays a number.
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && !/[.eE]/.test(text)) return `${text}.0`;
  return text;
}

function writeString(s: string): string {
  let out = '"';
  for (const c of s) {
    switch (c) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\r':
        out += '\\r';
        break;
      default: {
        const code = c.charCodeAt(0);
        out += code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, '0')}` : c;
      }
    }
  }
  return `${out}"`;
}
