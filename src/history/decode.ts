import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import {
  detectFormat,
  type HistoryFormat,
  isLogOpLine,
  type ParsedHistory,
  parseHistory,
  validateHistory,
  withoutBom,
} from './formats.js';
import type { Operation } from './op.js';

export interface DecodeHistoryOptions {
  /** Default: `detectFormat` of the text. */
  readonly format?: HistoryFormat;
  /** Named in error messages and details. */
  readonly file?: string;
}

export interface DecodedHistory extends ParsedHistory {
  /** The invocations paired with their completions (`validateHistory`). */
  readonly operations: Operation[];
  /** True when the format was detected rather than given. */
  readonly detected: boolean;
}

/**
 * A history file's bytes to a well-formed history, refusing anything else — what `faultline check` does
 * before checking. The bytes must be UTF-8 text without NUL characters (a leading byte order mark is
 * ignored), parse in the format (given or detected), hold at least one op, and pass `validateHistory`.
 * A Jepsen log is the exception: its other lines carry raw command output, so only its op lines must be
 * UTF-8 without NUL (a line with U+FFFD — the stand-in for bytes that are not UTF-8 — or NUL is refused
 * when it is an op line). Throws FL_ERR_INVALID_ARGUMENT naming the file, the line (and column, where
 * there is one) and what was expected.
 */
export function decodeHistory(data: Uint8Array, options: DecodeHistoryOptions = {}): DecodedHistory {
  const { file } = options;
  let raw: string;
  // Set when the bytes are not strict text: refused unless the file is a Jepsen log.
  let notText: FaultlineError | undefined;
  try {
    raw = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    notText = invalidUtf8Error(data, file);
    raw = new TextDecoder('utf-8', { ignoreBOM: true }).decode(data);
  }
  // The decoders keep a byte order mark (ignoreBOM); it is dropped here, before the NUL check and format
  // detection, so lines and columns count without it. parseHistory (formats.ts) also drops a leading one,
  // for text handed to it directly; invalidUtf8Error drops it to place its column.
  const text = withoutBom(raw);
  notText ??= nulError(text, file);
  const detected = options.format === undefined;
  const format = options.format ?? detectFormat(text);
  if (notText !== undefined && format !== 'jepsen-log') throw notText;
  let parsed: ParsedHistory;
  try {
    if (notText !== undefined) refuseOpLinesNotText(text, file);
    parsed = parseHistory(text, { format, ...(file === undefined ? {} : { file }) });
  } catch (error) {
    // Bytes that are not text and hold no op line are binary data, not a log: say that instead.
    if (notText !== undefined && error instanceof FaultlineError && error.details.expected === logOpLines)
      throw notText;
    // A detected format is a guess: say so, so that a file in another format is not a mystery.
    if (!detected || !(error instanceof FaultlineError)) throw error;
    throw new FaultlineError(
      error.code,
      `${error.message} (read as ${format}, detected from the first non-blank line)`,
      {
        cause: error,
        details: { ...error.details, format, detected },
      },
    );
  }
  if (parsed.ops.length === 0) {
    // The last line: a final newline ends it rather than starting another.
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0) || 1;
    const got = text.trim() === '' ? (text === '' ? 'an empty file' : 'only blank lines') : 'no op';
    throw inputError(file, lines, undefined, `no operations: expected at least one op, got ${got}`, {
      expected: 'at least one op',
      format,
    });
  }
  const operations = validateHistory(parsed.ops, file === undefined ? {} : { file });
  return { ...parsed, operations, detected };
}

/** `details.expected` of the Jepsen log reader's refusal of a text without op lines. */
const logOpLines = 'Jepsen log op lines';

/**
 * A Jepsen log read leniently (bytes that are not UTF-8 became U+FFFD): refuses the first op line that
 * holds U+FFFD or NUL, naming its line and column (in UTF-16 code units, as the readers count).
 */
function refuseOpLinesNotText(text: string, file: string | undefined): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const content = lines[i] as string;
    const bad = /[\uFFFD\0]/.exec(content);
    if (bad === null || !isLogOpLine(content)) continue;
    const what =
      bad[0] === '\0'
        ? 'a NUL character'
        : 'bytes that are not UTF-8 (or the character U+FFFD that stands for them)';
    throw inputError(
      file,
      i + 1,
      bad.index + 1,
      `${what} in an op line: expected UTF-8 text in op lines (other lines of a Jepsen log may hold any bytes)`,
      { expected: 'UTF-8 text without NUL in op lines', format: 'jepsen-log' },
    );
  }
}

/**
 * The refusal of bytes that are not UTF-8, naming the line and column of the first bad byte. Columns
 * count UTF-16 code units after a byte order mark, as the readers' do; the message also gives the byte
 * offset in the file.
 */
function invalidUtf8Error(data: Uint8Array, file: string | undefined): FaultlineError {
  const offset = Math.max(0, firstInvalidUtf8(data));
  // (lastIndexOf counts a negative start from the end.)
  const lineStart = offset === 0 ? 0 : data.lastIndexOf(0x0a, offset - 1) + 1;
  const line = countNewlines(data, lineStart) + 1;
  // The line up to the bad byte is valid UTF-8: its length in code units places the column.
  const before = new TextDecoder('utf-8', { ignoreBOM: true }).decode(data.subarray(lineStart, offset));
  const column = (lineStart === 0 ? withoutBom(before) : before).length + 1;
  return inputError(
    file,
    line,
    column,
    `not UTF-8 text (byte 0x${(data[offset] ?? 0).toString(16).padStart(2, '0')} at byte ${offset}): expected a text history (JSON lines, EDN or a Jepsen log)`,
    { expected: 'UTF-8 text', byteOffset: offset },
  );
}

/** The refusal of the first NUL character of `text`, naming its line and column; undefined if none. */
function nulError(text: string, file: string | undefined): FaultlineError | undefined {
  const nul = text.indexOf('\0');
  if (nul < 0) return undefined;
  const lineStart = nul === 0 ? 0 : text.lastIndexOf('\n', nul - 1) + 1;
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < nul; i = text.indexOf('\n', i + 1)) line++;
  return inputError(
    file,
    line,
    nul - lineStart + 1,
    'NUL character: expected a text history (JSON lines, EDN or a Jepsen log), not binary data',
    { expected: 'text without NUL characters' },
  );
}

function countNewlines(data: Uint8Array, end: number): number {
  let count = 0;
  for (let i = data.indexOf(0x0a); i >= 0 && i < end; i = data.indexOf(0x0a, i + 1)) count++;
  return count;
}

/** The offset of the first byte that breaks UTF-8 (RFC 3629), or -1. */
function firstInvalidUtf8(data: Uint8Array): number {
  let i = 0;
  while (i < data.length) {
    const c = data[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let continuation: number;
    let low = 0x80;
    let high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) continuation = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      continuation = 2;
      if (c === 0xe0) low = 0xa0;
      if (c === 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      continuation = 3;
      if (c === 0xf0) low = 0x90;
      if (c === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k <= continuation; k++) {
      const next = data[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += continuation + 1;
  }
  return -1;
}

function inputError(
  file: string | undefined,
  line: number,
  column: number | undefined,
  message: string,
  details: Record<string, unknown>,
): FaultlineError {
  const where = `${file === undefined ? '' : `${file}: `}line ${line}${column === undefined ? '' : `, column ${column}`}: `;
  return new FaultlineError(codes.invalidArgument, `${where}${message}`, {
    details: {
      ...(file === undefined ? {} : { file }),
      line,
      ...(column === undefined ? {} : { column }),
      ...details,
    },
  });
}
