import { describe } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError, isFaultlineError, messageOf } from '../core/errors.js';
import { type JsonProblem, readJson, setProperty } from '../core/json.js';
import { EdnReader, type EdnValue, isKeywordName, keyword, readEdn, writeEdn } from './edn.js';
import {
  type History,
  historyError,
  isProcessId,
  maxNestingDepth,
  nestedDeeperThan,
  type Op,
  type Operation,
  type OpType,
  opTypes,
  type ProcessId,
  pairOperations,
  whereOf,
} from './op.js';

/** The history file formats faultline reads. `jsonl` and `edn` are also written. */
export type HistoryFormat = 'jsonl' | 'edn' | 'jepsen-log';
export const historyFormats: readonly HistoryFormat[] = ['jsonl', 'edn', 'jepsen-log'];

export interface ParseHistoryOptions {
  /** Default: `detectFormat(text)`. */
  readonly format?: HistoryFormat;
  /** Named in error messages and error details. */
  readonly file?: string;
}

export interface ParsedHistory {
  readonly ops: Op[];
  readonly format: HistoryFormat;
  /** Lines of a Jepsen log that were not op lines (other log output); always 0 for jsonl and edn. */
  readonly skippedLines: number;
}

/** An op as written by hand or read from a file: `value` defaults to null, `time` and `index` are filled in. */
export interface OpInput {
  readonly process: ProcessId;
  readonly type: OpType;
  readonly f: string;
  readonly value?: unknown;
  readonly time?: number;
  readonly index?: number;
  readonly [extra: string]: unknown;
}

const CORE_ORDER = ['process', 'type', 'f', 'value', 'time', 'index'];
const CORE_KEYS = new Set([...CORE_ORDER, 'line']);

/**
 * Guesses the format from the first non-blank line: `{"…` is JSON lines, `{:…`, `[`, `#` or `;` is EDN,
 * anything else is a Jepsen log. An empty text is `jsonl` (with no ops). Only a guess: each reader is
 * strict, so text in another format (or no format) is refused by the reader rather than misread.
 */
export function detectFormat(text: string): HistoryFormat {
  // (\s includes U+FEFF: a byte order mark is whitespace here.)
  const match = /\S/.exec(text);
  if (match === null) return 'jsonl';
  const first = match[0];
  if (first === '{') {
    const next = /\S/.exec(text.slice(match.index + 1));
    return next === null || next[0] === '"' || next[0] === '}' ? 'jsonl' : 'edn';
  }
  if (first === '[' || first === '(' || first === '#' || first === ';') return 'edn';
  return 'jepsen-log';
}

/** The text without its leading byte order mark (U+FEFF), if any: parseHistory and decodeHistory both use it. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Reads a history. Every op carries the 1-based `line` it starts on. Throws FL_ERR_INVALID_ARGUMENT
 * naming the file, line (and column) and what was expected. A leading byte order mark is ignored. An
 * empty text is an empty history; a Jepsen log with lines but no op line is refused (it is not a log).
 */
export function parseHistory(input: string, options: ParseHistoryOptions = {}): ParsedHistory {
  const text = withoutBom(input);
  const format = options.format ?? detectFormat(text);
  switch (format) {
    case 'jsonl':
      return { ops: buildOps(readJsonLines(text, options.file), options.file), format, skippedLines: 0 };
    case 'edn':
      return { ops: buildOps(readEdnOps(text, options.file), options.file), format, skippedLines: 0 };
    case 'jepsen-log': {
      const { records, skippedLines } = readLogLines(text, options.file);
      return { ops: buildOps(records, options.file), format, skippedLines };
    }
    default:
      throw new FaultlineError(
        codes.invalidArgument,
        `format: expected one of ${historyFormats.join(', ')}, got ${describe(format)}`,
        {
          details: { field: 'format', expected: historyFormats.join(', ') },
        },
      );
  }
}

/**
 * Builds a history from op literals (for tests and workloads): `index` is the position when absent,
 * `value` null when absent, and `time` as in files (see `parseHistory`). Shapes are checked.
 */
export function buildHistory(inputs: readonly OpInput[]): Op[] {
  return buildOps(
    inputs.map((record) => ({ record, line: undefined })),
    undefined,
  );
}

interface RawOp {
  readonly record: Readonly<Record<string, unknown>>;
  readonly line: number | undefined;
}

function lineError(
  file: string | undefined,
  line: number | undefined,
  message: string,
  details: Record<string, unknown> = {},
): FaultlineError {
  const where = `${file === undefined ? '' : `${file}: `}${line === undefined ? '' : `line ${line}: `}`;
  return new FaultlineError(codes.invalidArgument, `${where}${message}`, {
    details: { ...(file === undefined ? {} : { file }), ...(line === undefined ? {} : { line }), ...details },
  });
}

function fieldError(
  file: string | undefined,
  line: number | undefined,
  field: string,
  got: unknown,
  expected: string,
): FaultlineError {
  const what = got === undefined ? 'nothing' : shorten(describe(got));
  return lineError(file, line, `${field}: expected ${expected}, got ${what}`, { field, expected });
}

function shorten(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Time: a file whose ops carry no `time` gets `time = index` (ns), so history order is real-time order.
 * When only some ops carry it, a missing time repeats the previous op's (0 for the first).
 */
function buildOps(raws: readonly RawOp[], file: string | undefined): Op[] {
  const anyTime = raws.some((raw) => raw.record.time !== undefined);
  let previousTime = 0;
  return raws.map(({ record, line }, position) => {
    const { process, type, f, value, time: rawTime, index } = record;
    if (!isProcessId(process)) {
      throw fieldError(file, line, 'process', process, 'an integer or a name such as "nemesis"');
    }
    if (typeof type !== 'string' || !opTypes.includes(type as OpType)) {
      throw fieldError(file, line, 'type', type, 'one of invoke, ok, fail, info');
    }
    if (typeof f !== 'string' || f === '')
      throw fieldError(file, line, 'f', f, 'a non-empty string such as "read"');
    // A time beyond 2^53 (read exactly, as a bigint) is a wall-clock time such as Go's UnixNano: it becomes
    // the nearest number (at most 128 ns off until 2043). Rounding never reorders times, and the checkers order
    // events by time, then by history order, so no verdict depends on the lost digits.
    const time = typeof rawTime === 'bigint' ? Number(rawTime) : rawTime;
    if (time !== undefined && (typeof time !== 'number' || !Number.isFinite(time) || time < 0)) {
      throw fieldError(file, line, 'time', rawTime, 'a finite number of nanoseconds >= 0');
    }
    if (index !== undefined && (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0)) {
      throw fieldError(file, line, 'index', index, 'an integer >= 0');
    }
    const opTime = time ?? (anyTime ? previousTime : position);
    previousTime = opTime;
    const op: Record<string, unknown> = {
      process,
      type,
      f,
      value: value === undefined ? null : value,
      time: opTime,
      index: index ?? position,
    };
    copyExtras(op, record);
    if (line !== undefined) op.line = line;
    return op as unknown as Op;
  });
}

function splitLines(text: string): string[] {
  return text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map);
}

function readJsonLines(text: string, file: string | undefined): RawOp[] {
  const raws: RawOp[] = [];
  let line = 0;
  // One line is one text: its columns are offsets + 1. Integers past 2^53 stay exact (bigint).
  const options = {
    maxDepth: maxNestingDepth,
    exactIntegers: true,
    textName: 'line',
    where: (offset: number) => `column ${offset + 1}`,
    error: (problem: JsonProblem) => jsonLineError(file, line, problem),
  };
  splitLines(text).forEach((content, i) => {
    line = i + 1;
    if (content.trim() === '') return;
    const parsed = readJson(content, options);
    if (!isPlainObject(parsed)) {
      throw lineError(
        file,
        line,
        `expected an op object {"process": …, "type": …, "f": …}, got ${describe(parsed)}`,
        {
          expected: 'an op object',
        },
      );
    }
    raws.push({ record: parsed, line });
  });
  return raws;
}

/** `file: line L, column C: not valid JSON: …`, with the file, line, column and what was expected. */
function jsonLineError(file: string | undefined, line: number, problem: JsonProblem): FaultlineError {
  const column = problem.offset + 1;
  return new FaultlineError(
    codes.invalidArgument,
    `${file === undefined ? '' : `${file}: `}line ${line}, column ${column}: not valid JSON: ${problem.message}`,
    { details: { ...(file === undefined ? {} : { file }), line, column, expected: problem.expected } },
  );
}

function readEdnOps(text: string, file: string | undefined): RawOp[] {
  const reader = new EdnReader(text, file === undefined ? {} : { file });
  const raws: RawOp[] = [];
  const take = (value: EdnValue, line: number): void => {
    if (!isPlainObject(value)) {
      throw lineError(file, line, `expected an op map {:process …, :type …, :f …}, got ${describe(value)}`, {
        expected: 'an op map',
      });
    }
    raws.push({ record: value, line });
  };
  while (!reader.atEnd()) {
    if (reader.peek() === '[') {
      // A whole history as one vector of op maps: read element by element to keep each op's line.
      const open = reader.where();
      reader.expect('[', '[');
      for (;;) {
        const next = reader.peek();
        if (next === ']') break;
        if (next === undefined) {
          throw reader.error(
            reader.offset,
            `expected "]" to close the vector opened at line ${open.line}, column ${open.column}, got end of input`,
            '"]"',
          );
        }
        const form = reader.readForm();
        take(form.value, form.line);
      }
      reader.expect(']', '"]"');
      continue;
    }
    const form = reader.readForm();
    take(form.value, form.line);
  }
  return raws;
}

// A process (integer or :keyword) followed by a type keyword marks an op line in a Jepsen log.
const LOG_OP = /(?:^|\s)(-?\d+|:[^\s:][^\s]*)[ \t]+:(invoke|ok|fail|info)(?=\s|$)/g;
const LOG_EXAMPLE =
  '"INFO jepsen.util - 0 :invoke :read nil" (a process, :invoke, :ok, :fail or :info, f, the value)';

/**
 * The op of a log line: the first process-and-type pair outside brackets. Jepsen also logs maps and
 * vectors (results, anomalies) that hold ops, and an EDN op map read as a log must not pass for op lines:
 * `{:process 0 :type :invoke …}` has ":type :invoke" inside an open "{".
 */
function findLogOp(content: string): RegExpExecArray | null {
  // One pass over the line: candidates come in increasing order, so the bracket depth up to each one
  // carries over from the previous candidate (rescanning from 0 would be quadratic on a long line).
  let depth = 0;
  let scanned = 0;
  LOG_OP.lastIndex = 0;
  for (let match = LOG_OP.exec(content); match !== null; match = LOG_OP.exec(content)) {
    for (; scanned < match.index; scanned++) {
      const c = content[scanned];
      if (c === '{' || c === '[' || c === '(') depth++;
      else if ((c === '}' || c === ']' || c === ')') && depth > 0) depth--;
    }
    if (depth === 0) return match;
    LOG_OP.lastIndex = match.index + 1;
  }
  return null;
}

/** Whether a line of a Jepsen log is an op line (a process and a type outside brackets). */
export function isLogOpLine(content: string): boolean {
  return findLogOp(content) !== null;
}

function readLogLines(text: string, file: string | undefined): { records: RawOp[]; skippedLines: number } {
  const records: RawOp[] = [];
  let skippedLines = 0;
  let firstSkipped: { line: number; content: string } | undefined;
  splitLines(text).forEach((content, i) => {
    const line = i + 1;
    if (content.trim() === '') return;
    const match = findLogOp(content);
    if (match === null) {
      skippedLines++;
      firstSkipped ??= { line, content };
      return;
    }
    const processToken = match[1] as string;
    const process = processToken.startsWith(':') ? processToken.slice(1) : Number(processToken);
    const reader = new EdnReader(content, {
      start: match.index + match[0].length,
      firstLine: line,
      // The line is the op: its value nests one level less than the op, as in the other formats.
      maxDepth: maxNestingDepth - 1,
      ...(file === undefined ? {} : { file }),
    });
    if (reader.atEnd()) {
      throw reader.error(
        reader.offset,
        `op line has no f after :${match[2]}`,
        'f, then the value, e.g. :read nil',
      );
    }
    const fAt = reader.offset;
    const f = reader.readForm().value;
    if (typeof f !== 'string' || f === '') {
      throw reader.error(fAt, `expected f as a keyword such as :read, got ${describe(f)}`, 'a keyword');
    }
    if (reader.atEnd()) {
      throw reader.error(
        reader.offset,
        `op line has no value after :${f}`,
        'a value (nil when there is none)',
      );
    }
    const value = reader.readForm().value;
    const record: Record<string, unknown> = { process, type: match[2], f, value };
    if (!reader.atEnd()) record.error = parseLogError(reader.rest().trim());
    records.push({ record, line });
  });
  if (records.length === 0 && firstSkipped !== undefined) {
    // Lines, none of them an op: not a Jepsen log (random bytes, prose, another format).
    const looks = looksLike(firstSkipped.content);
    throw lineError(
      file,
      firstSkipped.line,
      `no Jepsen log op line in ${skippedLines} non-blank line${skippedLines === 1 ? '' : 's'}: expected a line such as ${LOG_EXAMPLE}, got ${excerpt(firstSkipped.content)}${looks === undefined ? '' : `, which looks like ${looks}`}`,
      { expected: 'Jepsen log op lines', format: 'jepsen-log' },
    );
  }
  return { records, skippedLines };
}

/** Which other format a line looks like, for hints. */
function looksLike(content: string): string | undefined {
  const text = content.trimStart();
  if (/^\{\s*"/.test(text)) return 'JSON lines (format jsonl)';
  if (/^(?:\{\s*:|\[|\(|#|;)/.test(text)) return 'EDN (format edn)';
  return undefined;
}

/** A line (or value) quoted for a message, cut to a readable length. */
function excerpt(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** The text after the value: one EDN form (`:timed-out` → "timed-out") or else the raw text. */
function parseLogError(text: string): unknown {
  try {
    return readEdn(text);
  } catch (error) {
    if (isFaultlineError(error, codes.invalidArgument)) return text;
    throw error;
  }
}

/**
 * Writes a history, one op per line, in a fixed key order (process, type, f, value, time, index, then
 * extra keys). `line` is not written. Throws (naming the op) on values the format cannot hold rather
 * than writing something that would read back differently.
 */
export function serializeHistory(ops: History, format: 'jsonl' | 'edn'): string {
  let out = '';
  for (const op of ops) {
    if (nestedDeeperThan(op, maxNestingDepth)) {
      throw historyError(
        op,
        `nested deeper than ${maxNestingDepth} levels (counting the op itself), or cyclic: it could not be read back`,
        `at most ${maxNestingDepth} nested levels`,
      );
    }
    const record = recordOf(op);
    if (format === 'jsonl') {
      out += `${jsonOf(record, op, 'op')}\n`;
    } else if (format === 'edn') {
      out += `${ednOp(op, record)}\n`;
    } else {
      throw new FaultlineError(
        codes.invalidArgument,
        `format: expected jsonl or edn, got ${describe(format)}`,
        {
          details: { field: 'format', expected: 'jsonl or edn' },
        },
      );
    }
  }
  return out;
}

/** Written pair by pair so the core keys come first whatever the extra keys (JS puts "0" first). */
function ednOp(op: Op, record: Record<string, unknown>): string {
  const pairs: string[] = [];
  try {
    for (const [key, item] of Object.entries(record)) {
      const name = isKeywordName(key) ? `:${key}` : writeEdn(key);
      let value: unknown = item;
      if (key === 'type' || (key === 'f' && isKeywordName(op.f))) value = keyword(String(item));
      if (key === 'process' && typeof item === 'string' && isKeywordName(item)) value = keyword(item);
      const pair = `${name} ${writeEdn(value)}`;
      if (CORE_KEYS.has(key)) pairs.splice(CORE_ORDER.indexOf(key), 0, pair);
      else pairs.push(pair);
    }
  } catch (error) {
    throw historyError(op, `cannot be written as EDN: ${messageOf(error)}`);
  }
  return `{${pairs.join(', ')}}`;
}

function recordOf(op: Op): Record<string, unknown> {
  const record: Record<string, unknown> = {
    process: op.process,
    type: op.type,
    f: op.f,
    value: op.value === undefined ? null : op.value,
    time: op.time,
    index: op.index,
  };
  copyExtras(record, op);
  return record;
}

/** Copies the non-core fields of `source` that are not undefined onto `target` (a `__proto__` key stays a plain field). */
function copyExtras(target: Record<string, unknown>, source: object): void {
  for (const [key, extra] of Object.entries(source)) {
    if (!CORE_KEYS.has(key) && extra !== undefined) setProperty(target, key, extra);
  }
}

/**
 * The JSON text of a value that reads back as the same value, or throws naming the op and the path:
 * integers beyond ±(2^53 − 1) are written exactly — a bigint as an integer (read back as a bigint), an
 * integer-valued number with a ".0" (read back as a number); a bigint within ±(2^53 − 1) would read back as
 * a number, and NaN, ±Infinity, -0, undefined in arrays, Maps, Sets and class instances have no JSON form.
 */
function jsonOf(value: unknown, op: Op, path: string): string {
  const refuse = (what: string, why = 'which JSON cannot hold'): never => {
    throw historyError(op, `${path} is ${what}, ${why}; write this history as edn`);
  };
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number': {
      if (!Number.isFinite(value)) refuse(String(value));
      if (Object.is(value, -0)) refuse('-0');
      const text = String(value);
      return Number.isInteger(value) && !Number.isSafeInteger(value) && !/[.eE]/.test(text)
        ? `${text}.0`
        : text;
    }
    case 'bigint':
      if (value >= -maxSafeBigint && value <= maxSafeBigint)
        refuse(`the bigint ${value}n`, 'which JSON lines would read back as a number');
      return String(value);
    case 'object':
      break;
    default:
      refuse(`a ${typeof value}`);
  }
  if (Array.isArray(value)) {
    const items: string[] = [];
    value.forEach((item: unknown, i) => {
      if (item === undefined) refuse(`undefined at [${i}]`);
      items.push(jsonOf(item, op, `${path}[${i}]`));
    });
    return `[${items.join(',')}]`;
  }
  const object = value as object;
  const proto: unknown = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null)
    refuse(`a ${object.constructor?.name ?? 'non-plain object'}`);
  const members: string[] = [];
  for (const [key, item] of Object.entries(object)) {
    if (item !== undefined) members.push(`${JSON.stringify(key)}:${jsonOf(item, op, `${path}.${key}`)}`);
  }
  return `{${members.join(',')}}`;
}

const maxSafeBigint = BigInt(Number.MAX_SAFE_INTEGER);

export interface ValidateHistoryOptions {
  /** Named in error messages. */
  readonly file?: string;
  /** Processes whose ops are not invoke/complete pairs (default `['nemesis']`), as in `pairOperations`. */
  readonly ignoreProcesses?: readonly ProcessId[];
}

/**
 * Checks that a history is well formed: each op's shape, dense indexes, times that never decrease, and
 * the invoke/complete discipline. Returns the paired operations. Throws FL_ERR_INVALID_ARGUMENT naming
 * the op's line (or index) and what was expected.
 */
export function validateHistory(ops: History, options: ValidateHistoryOptions = {}): Operation[] {
  try {
    let previous: Op | undefined;
    ops.forEach((op, position) => {
      const { process, type, f, time, index } = op;
      if (index !== position) {
        throw historyError(
          op,
          `index ${describe(index)} at position ${position}`,
          `index ${position} (indexes are 0-based and dense)`,
        );
      }
      if (!isProcessId(process)) {
        throw historyError(
          op,
          `process: expected an integer or a name, got ${describe(process)}`,
          'an integer or a name',
        );
      }
      if (!opTypes.includes(type)) {
        throw historyError(
          op,
          `type: expected one of invoke, ok, fail, info, got ${describe(type)}`,
          'invoke, ok, fail or info',
        );
      }
      if (typeof f !== 'string' || f === '') {
        throw historyError(op, `f: expected a non-empty string, got ${describe(f)}`, 'a non-empty string');
      }
      if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) {
        throw historyError(
          op,
          `time: expected a finite number of nanoseconds >= 0, got ${describe(time)}`,
          'a finite number >= 0',
        );
      }
      if (previous !== undefined && time < previous.time) {
        throw historyError(
          op,
          `time ${time} is earlier than the previous op's ${previous.time} (${whereOf(previous)})`,
          'times that never decrease',
        );
      }
      previous = op;
    });
    return pairOperations(
      ops,
      options.ignoreProcesses === undefined ? {} : { ignoreProcesses: options.ignoreProcesses },
    );
  } catch (error) {
    if (options.file === undefined || !isFaultlineError(error)) throw error;
    throw new FaultlineError(error.code, `${options.file}: ${error.message}`, {
      details: { ...error.details, file: options.file },
    });
  }
}
