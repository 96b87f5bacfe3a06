import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeHistory } from '../../src/history/decode.js';
import type { HistoryFormat } from '../../src/history/formats.js';

const fixtures = new URL('../../../test/history/fixtures/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, fixtures));
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** decodeHistory refuses `data`: FL_ERR_INVALID_ARGUMENT naming the file, the line (and column) and what was expected. */
function refuses(
  data: Uint8Array,
  where: { line: number; column?: number },
  pattern: RegExp,
  format?: HistoryFormat,
): void {
  assert.throws(
    () => decodeHistory(data, { file: 'h.txt', ...(format === undefined ? {} : { format }) }),
    (error: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(error.code, 'FL_ERR_INVALID_ARGUMENT', error.message);
      assert.equal(error.details?.file, 'h.txt');
      assert.equal(error.details?.line, where.line, error.message);
      assert.equal(error.details?.column, where.column, error.message);
      const at = `line ${where.line}${where.column === undefined ? '' : `, column ${where.column}`}`;
      assert.ok(error.message.startsWith(`h.txt: ${at}: `), error.message);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('decodeHistory', () => {
  it('reads every fixture, pairing its operations', () => {
    for (const [name, format, ops] of [
      ['history.jsonl', 'jsonl', 5],
      ['history.edn', 'edn', 12],
      ['jepsen.log', 'jepsen-log', 10],
    ] as const) {
      const decoded = decodeHistory(fixture(name), { file: name });
      assert.equal(decoded.format, format);
      assert.equal(decoded.detected, true);
      assert.equal(decoded.ops.length, ops);
      assert.ok(decoded.operations.length > 0);
      assert.equal(decodeHistory(fixture(name), { file: name, format }).detected, false);
    }
  });

  it('accepts a byte order mark, CRLF line ends, blank lines and EDN comments', () => {
    const jsonl =
      '\uFEFF{"process":0,"type":"invoke","f":"read"}\r\n\r\n{"process":0,"type":"ok","f":"read","value":1}\r\n';
    assert.equal(decodeHistory(bytes(jsonl)).ops.length, 2);
    const edn =
      '; a comment\n\n{:process 0 :type :invoke :f :read} ; trailing\n#_{:ignored 1}\n{:process 0 :type :ok :f :read}\n';
    assert.equal(decodeHistory(bytes(edn)).ops.length, 2);
  });

  it('refuses a file with no operations, naming what it holds', () => {
    refuses(bytes(''), { line: 1 }, /no operations: expected at least one op, got an empty file/);
    // The last line of the file: a final newline ends it, it does not start another.
    refuses(bytes('\n  \n'), { line: 2 }, /no operations: .*got only blank lines/);
    refuses(bytes('; only a comment\n'), { line: 1 }, /no operations: .*got no op/);
    refuses(bytes('; a comment\n; another'), { line: 2 }, /no operations: .*got no op/);
    refuses(bytes('\n\n\n'), { line: 3 }, /no operations: .*got only blank lines/);
    refuses(bytes('[]'), { line: 1 }, /no operations/);
    for (const format of ['jsonl', 'edn', 'jepsen-log'] as const)
      refuses(bytes(''), { line: 1 }, /no operations/, format);
  });

  it('refuses bytes that are not UTF-8 text, and NUL characters, naming the line and column', () => {
    refuses(
      Uint8Array.of(0xff, 0xfe, 0x00),
      { line: 1, column: 1 },
      /not UTF-8 text \(byte 0xff at byte 0\)/,
    );
    const broken = Uint8Array.of(...bytes('ok\nab'), 0xc3, 0x28);
    refuses(broken, { line: 2, column: 3 }, /not UTF-8 text \(byte 0xc3 at byte 5\)/);
    refuses(Uint8Array.of(...bytes('x\n'), 0xe2, 0x82), { line: 2, column: 1 }, /not UTF-8 text/);
    refuses(
      bytes('{"process":0,"type":"invoke","f":"read"}\n{"a":"\0"}'),
      { line: 2, column: 7 },
      /NUL character/,
    );
  });

  it('reads a Jepsen log whose other lines hold bytes that are not UTF-8 and NUL (raw command output)', () => {
    const log = Uint8Array.of(
      ...bytes('INFO jepsen.core - Running\n'),
      ...bytes('stdout: '),
      0xff,
      0xc3,
      0x28,
      0x00,
      ...bytes(' [garbage {\n'),
      ...bytes('INFO jepsen.util - 0\t:invoke\t:read\tnil\n'),
      0x00,
      0x9f,
      ...bytes('\n'),
      ...bytes('INFO jepsen.util - 0\t:ok\t:read\t4\n'),
    );
    for (const format of [undefined, 'jepsen-log'] as const) {
      const decoded = decodeHistory(log, { file: 'h.txt', ...(format === undefined ? {} : { format }) });
      assert.equal(decoded.format, 'jepsen-log');
      assert.deepEqual(
        decoded.ops.map((op) => [op.type, op.value, op.line]),
        [
          ['invoke', null, 3],
          ['ok', 4, 5],
        ],
      );
      assert.equal(decoded.skippedLines, 3);
    }
    // The fixture with a line of raw bytes added between its op lines reads the same ops.
    const real = fixture('jepsen.log');
    const cut = real.indexOf(0x0a) + 1;
    const mixed = Buffer.concat([
      real.subarray(0, cut),
      Buffer.from([0xfe, 0x00, 0x41, 0x0a]),
      real.subarray(cut),
    ]);
    assert.equal(decodeHistory(mixed).ops.length, 10);
  });

  it('refuses an op line of a Jepsen log holding bytes that are not UTF-8 or NUL, naming its line and column', () => {
    const head = bytes('INFO x - started\nINFO jepsen.util - 0\t:invoke\t:write\t');
    for (const format of [undefined, 'jepsen-log'] as const) {
      refuses(
        Uint8Array.of(...head, 0xff, ...bytes('\nINFO jepsen.util - 0\t:ok\t:write\t1\n')),
        { line: 2, column: 37 },
        /bytes that are not UTF-8 .* in an op line/,
        format,
      );
      refuses(
        Uint8Array.of(...bytes('INFO x\nINFO jepsen.util - 0\t:invoke\t:read\tnil'), 0x00, ...bytes('\n')),
        { line: 2, column: 39 },
        /a NUL character in an op line/,
        format,
      );
    }
    // Not text and no op line at all: binary data, refused as such.
    refuses(Uint8Array.of(0x9f, 0x41, 0x0a), { line: 1, column: 1 }, /not UTF-8 text/, 'jepsen-log');
    // Other formats stay strict: a bad byte anywhere is refused.
    refuses(
      Uint8Array.of(
        ...bytes('{"process":0,"type":"invoke","f":"read"}\n{"process":0,"type":"ok","f":"read"} '),
        0xff,
      ),
      { line: 2, column: 38 },
      /not UTF-8 text/,
    );
  });

  it('counts columns in UTF-16 code units after a byte order mark, as the readers do, for bad bytes and NUL', () => {
    // '"é日😀' is 10 bytes but 5 code units: the bad byte after it is at column 6 (byte 13 of the file).
    const wide = Uint8Array.of(...bytes('{}\n"é日😀'), 0xff);
    for (const format of [undefined, 'jsonl', 'edn'] as const)
      refuses(wide, { line: 2, column: 6 }, /not UTF-8 text \(byte 0xff at byte 13\)/, format);
    // A byte order mark is not a column (the readers drop it too); the byte offset is the file's.
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf, ...bytes('ab'), 0xff);
    refuses(bom, { line: 1, column: 3 }, /not UTF-8 text \(byte 0xff at byte 5\)/, 'jsonl');
    refuses(bytes('\uFEFF{"a":\0}'), { line: 1, column: 6 }, /NUL character/, 'jsonl');
    // The same column as the JSON reader gives for a bad character at the same place.
    refuses(bytes('\uFEFF{"é日😀":x}'), { line: 1, column: 9 }, /not valid JSON/, 'jsonl');
  });

  it('says the format was detected when the text does not parse in it', () => {
    refuses(
      bytes('hello'),
      { line: 1 },
      /no Jepsen log op line .*\(read as jepsen-log, detected from the first non-blank line\)$/,
    );
    refuses(
      bytes('[{"process":0,"type":"invoke","f":"read"}]'),
      { line: 1, column: 21 },
      /malformed keyword .*\(read as edn, detected from the first non-blank line\)$/,
    );
    refuses(bytes('hello'), { line: 1 }, /got "hello"$/, 'jepsen-log');
  });

  it('refuses a history whose calls do not pair up, naming the line', () => {
    refuses(
      bytes('{"process":0,"type":"ok","f":"read"}'),
      { line: 1 },
      /ok for process 0, which has no open call/,
    );
  });
});
